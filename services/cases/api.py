"""HTTP routes of the cases service: cases from the read model (live ones from their workflow), officers'
instructions as signals, repair of a failed case, escalations.

A case is served from the cases database, which outlives its workflow; while the case runs, its
workflow's query answers (it also holds entries not yet written). An instruction to a case whose
workflow has failed or was terminated answers 409 ``case_failed``; to a closed case 409
``case_closed``; Temporal unreachable answers 503, never 500.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Literal
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from services.cases.failures import FAILED_STATUSES, RepairError, failure_of, mark_failed, now_utc, repair
from services.cases.models import Case, Escalation, Intervention
from services.cases.opening import OpenCaseRequest, build_case
from services.cases.records import is_open, live_view, stored_view
from services.cases.settings import Settings
from shared.approvals import four_eyes
from shared.auth import Principal, require, require_office
from shared.case_opening import lines_revision, start_case
from shared.contracts.access import CaseAccessView, IssuedCaseAccess
from shared.contracts.bounds import CaseId, DeclarationId, Money, Timestamp, TraderId
from shared.contracts.case_views import (
    AnswerAccepted,
    ApprovalAccepted,
    CaseOpened,
    CaseRepairedView,
    CaseSummary,
    CaseView,
    CourtNoticeAccepted,
    DeterminationAccepted,
    DisposalFactsAccepted,
    EscalationResolved,
    EscalationView,
    GuaranteeAccepted,
    HearingAccepted,
    PetitionDecisionAccepted,
    ServiceRecorded,
    SubmissionAccepted,
    WithdrawalAccepted,
)
from shared.contracts.cases import (
    QUERY_STATE,
    SIGNAL_APPROVAL,
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_DISPOSAL_CHOICE,
    SIGNAL_GUARANTEE,
    SIGNAL_HEARING,
    SIGNAL_NOTICE_SERVED,
    SIGNAL_PARTY_SUBMISSION,
    SIGNAL_PETITION_DECISION,
    TERMINAL_STATES,
    ActorRef,
    ApprovalDecision,
    CaseState,
    CaseStateName,
    CourtAction,
    CourtNotice,
    Deadline,
    Determination,
    DeterminationOutcome,
    DisposalChoice,
    FineTier,
    GuaranteeInfo,
    HearingUpdate,
    LineDetermination,
    NoticeServed,
    PartySubmission,
    PetitionDecision,
)
from shared.contracts.errors import AUTH_ERRORS, BODY_ERRORS, INPUT_ERRORS, error_responses
from shared.rules import parties as party_rules
from shared.runtime import RuntimeDep, from_state, session_dep
from shared.service_auth import TokenUnavailable
from shared.temporal import LazyClient

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Session = Annotated[AsyncSession, Depends(session_dep)]
Temporal = Annotated[LazyClient, Depends(from_state("temporal"))]
CasesSettings = Annotated[Settings, Depends(from_state("settings"))]
Http = Annotated[httpx.AsyncClient, Depends(from_state("http"))]
Officer = Annotated[Principal, Depends(require("officer"))]
Reader = Annotated[Principal, Depends(require("officer", "rights_holder", "party"))]
OfficerOrHolder = Annotated[Principal, Depends(require("officer", "rights_holder"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
PartyCaller = Annotated[Principal, Depends(require("party"))]


# The error answers the routes declare (each with the shared error body and the codes it carries).
_AUTH = {**AUTH_ERRORS, **INPUT_ERRORS}
_CASE = {
    404: "case_not_found: no such case, or one the caller may not see",
    409: "case_closed; case_failed: its workflow failed or was ended (a supervisor repairs it first)",
    503: "temporal_unavailable: the workflow service did not answer",
}
_IDENTITY = {
    502: "identity_refused: the identity service refused the request",
    503: "identity_unavailable: the identity service cannot be reached (Retry-After)",
}


def _not_found(case_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "case_not_found", "message": f"no case {case_id}"})


def _failed(row: Case) -> HTTPException:
    failure = row.failure or {}
    return HTTPException(
        409,
        detail={
            "code": "case_failed",
            "message": f"the case workflow has {failure.get('status', 'failed')} "
            f"({failure.get('reason', 'no reason')}); a supervisor repairs it with POST /v1/cases/{row.case_id}/repair",
            "details": {"failure": failure},
        },
    )


def _closed(case_id: str, state: str) -> HTTPException:
    return HTTPException(409, detail={"code": "case_closed", "message": f"case {case_id} is closed ({state})"})


def _unavailable(exc: RPCError) -> HTTPException:
    return HTTPException(
        503,
        detail={"code": "temporal_unavailable", "message": f"the workflow service did not answer: {exc.message}"[:300]},
    )


async def _workflow_state(
    request: Request, session: AsyncSession, row: Case | None, case_id: str
) -> tuple[WorkflowHandle, CaseState] | None:
    """The running workflow of the case and its live state; None if it is not running (closed, gone or failed:
    a failed or terminated one is recorded as such here)."""
    client: Client = await request.app.state.temporal.get()
    handle = client.get_workflow_handle(case_id)
    try:
        desc = await handle.describe()
        if desc.status != WorkflowExecutionStatus.RUNNING:
            if desc.status in FAILED_STATUSES and row is not None:
                failure = await failure_of(handle)
                if failure is not None and await mark_failed(session, case_id, failure, by="cases-service"):
                    await session.commit()
                    await session.refresh(row)
            return None
        return handle, await handle.query(QUERY_STATE, result_type=CaseState)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _state(
    request: Request, session: AsyncSession, case_id: str, who: Principal
) -> tuple[WorkflowHandle, CaseState]:
    """The case to act on: its running workflow and live state, or 404/409 with the reason."""
    row = await session.get(Case, case_id)
    if row is not None:
        _row_visible(row, who)
    if row is not None and row.state == "failed":
        raise _failed(row)
    try:
        live = await _workflow_state(request, session, row, case_id)
    except RPCError as exc:
        raise _unavailable(exc) from exc
    if live is None:
        if row is None:
            raise _not_found(case_id)
        if row.state == "failed":
            raise _failed(row)
        raise _closed(case_id, row.state)
    await _visible(request, live[1], who)
    if live[1].state in TERMINAL_STATES:  # its last steps are being written: closed all the same
        raise _closed(case_id, live[1].state)
    return live


async def _state_if_any(request: Request, session: AsyncSession, case_id: str, who: Principal) -> CaseState | None:
    """The running case of that id, None if there is none; 409 if it is closed or failed."""
    try:
        return (await _state(request, session, case_id, who))[1]
    except HTTPException as exc:
        if exc.status_code == 404:
            return None
        raise


async def _office_of(request: Request, state: CaseState) -> str | None:
    """The customs office of the case (from the workflow; the read model for cases started by older workers)."""
    if state.customs_office:
        return state.customs_office
    async with request.app.state.runtime.sessionmaker() as session:
        row = await session.get(Case, state.case_id)
    return row.customs_office if row is not None else None


async def _visible(request: Request, state: CaseState, who: Principal) -> None:
    """Holders and parties see only their own cases (others are 'not found'); officers only their offices'."""
    if who.role == "rights_holder" and state.holder_id != who.holder_id:
        raise _not_found(state.case_id)  # never confirm that another holder's case exists
    if who.role == "party" and (
        who.party_id not in state.party_ids or (who.case_id is not None and who.case_id != state.case_id)
    ):
        raise _not_found(state.case_id)
    if who.role in ("officer", "supervisor"):
        require_office(who, await _office_of(request, state))


def _row_visible(row: Case, who: Principal) -> None:
    """The same rule on the case as the cases database keeps it."""
    if who.role == "rights_holder" and row.holder_id != who.holder_id:
        raise _not_found(row.case_id)
    if who.role == "party" and (
        who.party_id not in {row.declarant_id, row.consignor_id, row.consignee_id}
        or (who.case_id is not None and who.case_id != row.case_id)
    ):
        raise _not_found(row.case_id)
    if who.role in ("officer", "supervisor"):
        require_office(who, row.customs_office)


def _actor(who: Principal) -> ActorRef:
    return ActorRef(**who.actor_ref())


async def _signal(handle: WorkflowHandle, name: str, payload: object) -> None:
    try:
        await handle.signal(name, payload)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _closed(handle.id, "its workflow has ended") from exc
        raise _unavailable(exc) from exc


def _links(request: Request, body: dict) -> dict:
    ui = request.app.state.settings.temporal_ui_url
    case_id = body["case_id"]
    body["links"] = {
        "self": f"/v1/cases/{case_id}",
        "temporal_ui": f"{ui}/namespaces/{request.app.state.settings.temporal_namespace}/workflows/{case_id}"
        if ui
        else None,
    }
    return body


@router.get(
    "",
    response_model=list[CaseSummary],
    responses=error_responses(_AUTH),
    summary="Cases, newest first (a rights holder sees only its own)",
)
async def list_cases(
    session: Session,
    who: Reader,
    state: Annotated[CaseStateName | None, Query()] = None,
    declaration_id: Annotated[DeclarationId | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    stmt = select(Case).order_by(Case.opened_at.desc()).limit(limit)
    if state:
        stmt = stmt.where(Case.state == state)
    if declaration_id:
        stmt = stmt.where(Case.declaration_id == declaration_id)
    if who.role == "rights_holder":
        stmt = stmt.where(Case.holder_id == who.holder_id)
    elif who.role == "party":
        party = who.party_id or "-"
        stmt = stmt.where(or_(Case.declarant_id == party, Case.consignor_id == party, Case.consignee_id == party))
        if who.case_id:
            stmt = stmt.where(Case.case_id == who.case_id)
    elif who.role == "officer":
        stmt = stmt.where(Case.customs_office.in_(sorted(who.offices)))
    return [
        {
            "case_id": c.case_id,
            "state": c.state,
            "jurisdiction": c.jurisdiction,
            "declaration_id": c.declaration_id,
            "line_no": c.line_no,
            "line_nos": c.line_nos or [c.line_no],
            "holder_id": c.holder_id,
            "holder_name": c.holder_name,
            "recordation_id": c.recordation_id,
            "mark": c.mark,
            "description": c.description,
            "goods_value": str(c.goods_value),
            "currency": c.currency,
            "customs_office": c.customs_office,
            "opened_at": c.opened_at.isoformat(),
            "updated_at": c.updated_at.isoformat(),
        }
        for c in (await session.execute(stmt)).scalars()
    ]


@router.get(
    "/{case_id}",
    response_model=CaseView,
    response_model_exclude_unset=True,
    responses=error_responses(_AUTH, {404: _CASE[404]}),
    summary="A case: state, deadlines and history (kept after its workflow has gone)",
)
async def get_case(case_id: CaseId, request: Request, session: Session, who: Reader) -> dict:
    row = await session.get(Case, case_id)
    if row is not None:
        _row_visible(row, who)
    if row is None or is_open(row):
        try:
            live = await _workflow_state(request, session, row, case_id)
        except RPCError:
            live = None  # Temporal unreachable: the database still answers for the case
        if live is not None:
            await _visible(request, live[1], who)
            return _for_reader(_links(request, await live_view(session, row, live[1])), who)
    if row is None:
        raise _not_found(case_id)
    return _for_reader(_links(request, await stored_view(session, row)), who)


# What only customs and the rights holder see: the holder's guarantee (amount, form, issuer, reference).
_HOLDER_ONLY = ("required_guarantee", "required_guarantee_cny", "guarantee_currency", "guarantee_status")


# What customs keeps to itself: why the goods were targeted (the holder's genuine prices, profiles, the score)
# and officers' internal notes (a party learns decisions from the notices and documents addressed to it).
_INTERNAL_DETAIL = frozenset({"reasons", "score", "hits", "profile_hits", "genuine_unit_value", "note", "notes"})
# The holder's guarantee as other entries carry it (the detention records what secured it).
_GUARANTEE_DETAIL = frozenset(
    {
        "guarantee",
        "amount",
        "form",
        "reference",
        "issuer",
        "posted_by",
        "guarantee_id",
        "required_guarantee",
        "required_guarantee_cny",
        "balance",
        "letter_expires_on",
    }
)


def _party_notice_entry(h: dict) -> bool:
    """A history entry about a notice to a party of the case (its sending, service or failure)."""
    detail = h.get("detail")
    return str(h.get("event", "")).startswith("party_notice") or (
        isinstance(detail, dict) and detail.get("party_id") is not None and "notice" in str(h.get("event", ""))
    )


def _for_reader(body: dict, who: Principal) -> dict:
    """A party of the case (declarant, consignor, consignee) sees the case without the holder's guarantee,
    the targeting reasons and officers' internal notes. The rights holder sees it without the notices to the
    parties (their service, their addresses' failures): those are between customs and the party."""
    if who.role == "rights_holder":
        body.pop("party_notices", None)
        body["history"] = [h for h in body.get("history", []) if not _party_notice_entry(h)]
        return body
    if who.role != "party":
        return body
    for key in _HOLDER_ONLY:
        body.pop(key, None)

    def shown(h: dict) -> dict:
        if "guarantee" in str(h.get("event", "")):
            return {**h, "detail": {}}
        detail = h.get("detail")
        hidden = _INTERNAL_DETAIL | (
            _GUARANTEE_DETAIL if str(h.get("event", "")).startswith(("goods_", "holder_")) else frozenset()
        )
        if isinstance(detail, dict) and hidden & detail.keys():
            return {**h, "detail": {k: v for k, v in detail.items() if k not in hidden}}
        return h

    body["history"] = [shown(h) for h in body.get("history", [])]
    return body


class DeterminationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: DeterminationOutcome
    fine_tier: FineTier | None = None
    fine_amount: Money | None = None
    retail_value: Money | None = None
    note: str | None = Field(default=None, max_length=4000)
    lines: list[LineDetermination] = Field(
        default_factory=list,
        max_length=999,
        description='lines whose outcome differs from the case\'s, e.g. [{"line_no": 4, "outcome": "not_infringing"}]',
    )


class PetitionDecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["granted", "denied"]
    note: str | None = Field(default=None, max_length=4000)


class CourtNoticeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=128)
    court: str = Field(min_length=1, max_length=256)
    action: CourtAction
    note: str | None = Field(default=None, max_length=4000)


def _require_state(state: CaseState, allowed: set[str], what: str) -> None:
    if state.state not in allowed:
        raise HTTPException(
            409,
            detail={
                "code": "invalid_case_state",
                "message": f"{what} is possible when the case is {' or '.join(sorted(allowed))}; it is {state.state}",
            },
        )


def _require_open(state: CaseState, what: str) -> None:
    if state.state in TERMINAL_STATES:
        raise HTTPException(
            409,
            detail={"code": "case_closed", "message": f"{what} is not possible: the case is closed ({state.state})"},
        )


@router.post(
    "/{case_id}/determination",
    status_code=202,
    response_model=DeterminationAccepted,
    response_model_exclude_unset=True,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _CASE,
        {
            409: "invalid_case_state: the case is not detained; approval_pending: a proposal waits for a supervisor",
            422: "finding_required (US), line_not_in_case, mixed_outcomes",
        },
    ),
    summary="Customs' determination on a detained case",
)
async def determine(case_id: CaseId, body: DeterminationBody, request: Request, session: Session, who: Officer) -> dict:
    handle, state = await _state(request, session, case_id, who)
    _require_state(state, {"detained"}, "a determination")
    if state.jurisdiction == "US" and body.outcome == "cannot_determine" and state.lines:
        raise HTTPException(
            422,
            detail={
                "code": "finding_required",
                "message": "a US officer either finds the goods "
                "counterfeit (seizure) or not (release); without a finding the goods are "
                "excluded when the detention period ends",
            },
        )
    infringing = body.outcome == "infringing"  # four-eyes: any line found infringing makes it a proposal
    if body.lines:
        held = {ln.line_no for ln in state.lines if ln.status in ("held", "seized")} or {state.line_no}
        unknown = sorted({ln.line_no for ln in body.lines} - held)
        if unknown:
            raise HTTPException(
                422, detail={"code": "line_not_in_case", "message": f"lines {unknown} are not held in case {case_id}"}
            )
        outcome = {n: body.outcome for n in held} | {ln.line_no: ln.outcome for ln in body.lines}
        infringing = "infringing" in outcome.values()
        if len({o for o in outcome.values() if o != "not_infringing"}) > 1:
            raise HTTPException(
                422,
                detail={
                    "code": "mixed_outcomes",
                    "message": "the lines not released must share one outcome (infringing or cannot_determine)",
                },
            )
    if _pending_approval(state) is not None:
        # any determination waits until a supervisor has approved or refused the one proposed: a second officer
        # does not overturn a pending four-eyes decision by deciding otherwise
        raise HTTPException(
            409,
            detail={
                "code": "approval_pending",
                "message": "a proposed confiscation waits for a supervisor's approval; a "
                "supervisor approves or refuses it before anyone decides again",
            },
        )
    await _signal(
        handle, SIGNAL_DETERMINATION, Determination(**body.model_dump(), officer=who.actor, actor=_actor(who))
    )
    answer = {
        "case_id": case_id,
        "accepted": "determination",
        "outcome": body.outcome,
        "lines": [ln.model_dump() for ln in body.lines],
    }
    if infringing:  # four-eyes: a proposal until a second person, a supervisor, approves it
        answer.update(approval="pending", approve_at=f"/v1/cases/{case_id}/approval")
    return answer


@router.post(
    "/{case_id}/petition-decision",
    status_code=202,
    response_model=PetitionDecisionAccepted,
    responses=error_responses(
        _AUTH, BODY_ERRORS, _CASE, {409: "invalid_case_state: the case is not seized; no_petition"}
    ),
    summary="US: decide the importer's petition against seizure (granted: released; denied: forfeited)",
)
async def petition_decision(
    case_id: CaseId, body: PetitionDecisionBody, request: Request, session: Session, who: Officer
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    _require_state(state, {"seized"}, "a petition decision")
    if not any(s.kind == "petition" for s in state.submissions):
        raise HTTPException(409, detail={"code": "no_petition", "message": "no petition was filed in this case"})
    await _signal(
        handle, SIGNAL_PETITION_DECISION, PetitionDecision(**body.model_dump(), officer=who.actor, actor=_actor(who))
    )
    return {"case_id": case_id, "accepted": "petition_decision", "outcome": body.outcome}


def _pending_approval(state: CaseState) -> dict | None:
    """The proposal of the case still waiting for its second person (from the history), or None."""
    pending = None
    for h in state.history:
        if h.event == "approval_requested":
            pending = h.detail
        elif h.event in ("approval_granted", "approval_refused", "approval_lapsed", "approval_withdrawn"):
            pending = None
    return pending


def _waiting_proposal(state: CaseState) -> dict:
    """The proposal waiting for its second person, or 409 ``no_pending_approval``."""
    pending = _pending_approval(state)
    if pending is None:
        raise HTTPException(
            409,
            detail={
                "code": "no_pending_approval",
                "message": "nothing on this case waits for approval (approved, refused, "
                "lapsed with its deadline, withdrawn, or never proposed)",
            },
        )
    return pending


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "refuse"]
    note: str | None = Field(default=None, max_length=1000)


@router.post(
    "/{case_id}/approval",
    status_code=202,
    response_model=ApprovalAccepted,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _CASE,
        {
            403: "approver_not_supervisor, approver_unknown",
            409: "no_pending_approval; same_person: the proposer does not decide on it; proposer_unknown",
        },
    ),
    summary="Approve or refuse a proposed confiscation or a fine concluded at a hearing (four-eyes: a "
    "supervisor who did not propose it)",
)
async def approve(case_id: CaseId, body: ApprovalBody, request: Request, session: Session, who: Supervisor) -> dict:
    handle, state = await _state(request, session, case_id, who)
    pending = _waiting_proposal(state)
    rule = four_eyes(proposer_sub=pending.get("proposed_by_sub"), approver_sub=who.sub, approver_role=who.role)
    if not rule.allowed:
        raise HTTPException(rule.status, detail={"code": rule.code, "message": rule.message})
    await _signal(handle, SIGNAL_APPROVAL, ApprovalDecision(decision=body.decision, note=body.note, actor=_actor(who)))
    return {"case_id": case_id, "accepted": "approval", "decision": body.decision, "by": who.actor}


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000, description="why it is withdrawn (kept in the history)")


@router.post(
    "/{case_id}/approval/withdraw",
    status_code=202,
    response_model=WithdrawalAccepted,
    responses=error_responses(
        _AUTH, BODY_ERRORS, _CASE, {403: "not_your_proposal", 409: "no_pending_approval; withdrawal_not_supported"}
    ),
    summary="Withdraw your own proposal before a supervisor decides on it (four-eyes); the case then "
    "waits for a new determination",
)
async def withdraw_proposal(
    case_id: CaseId, request: Request, session: Session, who: Officer, body: WithdrawBody | None = None
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    pending = _waiting_proposal(state)
    if pending.get("proposed_by_sub") != who.sub:
        raise HTTPException(
            403,
            detail={
                "code": "not_your_proposal",
                "message": "only the person who proposed it withdraws a proposal; a "
                "supervisor who did not propose it refuses it",
            },
        )
    if not state.proposals_withdrawable:
        raise HTTPException(
            409,
            detail={
                "code": "withdrawal_not_supported",
                "message": "this case was started before a proposal could be withdrawn; "
                "ask another supervisor to refuse it",
            },
        )
    await _signal(
        handle,
        SIGNAL_APPROVAL,
        ApprovalDecision(decision="withdraw", note=body.note if body else None, actor=_actor(who)),
    )
    return {"case_id": case_id, "accepted": "withdrawal", "by": who.actor}


@router.post(
    "/{case_id}/court-notice",
    status_code=202,
    response_model=CourtNoticeAccepted,
    responses=error_responses(
        _AUTH, BODY_ERRORS, _CASE, {409: "invalid_case_state: the case is not detained or undetermined"}
    ),
    summary="Enter a court assistance notice",
)
async def court_notice(
    case_id: CaseId, body: CourtNoticeBody, request: Request, session: Session, who: Officer
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    _require_state(state, {"detained", "undetermined"}, "a court assistance notice")
    await _signal(
        handle, SIGNAL_COURT_NOTICE, CourtNotice(**body.model_dump(), received_by=who.actor, actor=_actor(who))
    )
    return {"case_id": case_id, "accepted": "court_notice", "action": body.action}


HOLDER_SUBMISSIONS = {"application_for_action", "confirms_infringement", "proceedings_started", "extension_request"}


@router.post(
    "",
    status_code=201,
    response_model=CaseOpened,
    responses={
        200: {"model": CaseOpened, "description": "the lines joined the holder's open case of the declaration"},
        **error_responses(
            _AUTH,
            BODY_ERRORS,
            {
                403: "forbidden_mode: a rights holder opens cases by application; not_your_right: the "
                "right is recorded by another holder",
                404: "declaration_not_found, recordation_not_found, line_not_found",
                409: "line_in_case: the lines are in the case already; case_closed; case_failed",
                422: "jurisdiction_mismatch, mode_not_available",
                502: "upstream_unreachable, upstream_error: the intake or risk service",
                503: "temporal_unavailable: the workflow service did not answer",
            },
        ),
    },
    summary="Open a case by hand: ex officio (officer) or on application (rights holder); "
    "lines of a holder whose case on the declaration is open join it (200)",
)
async def open_case(
    http_client: Http,
    settings: CasesSettings,
    temporal: Temporal,
    body: OpenCaseRequest,
    request: Request,
    session: Session,
    who: OfficerOrHolder,
) -> JSONResponse:
    if who.role == "rights_holder" and body.mode != "application":
        raise HTTPException(
            403, detail={"code": "forbidden_mode", "message": "a rights holder opens cases only by application"}
        )
    case = await build_case(
        settings, http_client, body, who.actor, source="holder" if who.role == "rights_holder" else "officer"
    )
    if who.role == "rights_holder" and case.holder.id != who.holder_id:
        raise HTTPException(
            403, detail={"code": "not_your_right", "message": "the right is recorded by another holder"}
        )
    if who.role != "rights_holder":
        require_office(who, case.customs_office, "the declaration")
    asked = [ln.line_no for ln in case.lines]
    existing = await _state_if_any(request, session, case.case_id, who)
    if existing is not None:
        present = {ln.line_no for ln in existing.lines if ln.status != "withdrawn"} or {existing.line_no}
        if set(asked) <= present:
            raise HTTPException(
                409, detail={"code": "line_in_case", "message": f"line(s) {asked} are already in case {case.case_id}"}
            )
    client: Client = await temporal.get()
    joined = existing is not None
    revision = lines_revision(case, kind="added" if joined else "revision", by=who.actor)
    if not await start_case(client, case, revision):
        raise HTTPException(
            409,
            detail={"code": "case_closed", "message": f"case {case.case_id} of this declaration and holder is closed"},
        )
    return JSONResponse(
        {
            "case_id": case.case_id,
            "jurisdiction": case.jurisdiction,
            "mode": case.mode,
            "lines": asked,
            "joined_existing_case": joined,
            "links": {"self": f"/v1/cases/{case.case_id}"},
        },
        status_code=200 if joined else 201,
    )


@router.post(
    "/{case_id}/submissions",
    status_code=202,
    response_model=SubmissionAccepted,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _CASE,
        {
            403: "forbidden_submission: a rights holder submits only its own applications, confirmations, "
            "proceedings and extension requests"
        },
    ),
    summary="Record what a party says or does (statements, objections, applications, counter-guarantees)",
)
async def submit(
    case_id: CaseId, body: PartySubmission, request: Request, session: Session, who: OfficerOrHolder
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    if who.role == "rights_holder" and (body.party != "holder" or body.kind not in HOLDER_SUBMISSIONS):
        raise HTTPException(
            403,
            detail={
                "code": "forbidden_submission",
                "message": "a rights holder may submit only its own applications, "
                "confirmations, proceedings and extension requests",
            },
        )
    _require_open(state, "a submission")
    await _signal(
        handle, SIGNAL_PARTY_SUBMISSION, body.model_copy(update={"submitted_by": who.actor, "actor": _actor(who)})
    )
    return {"case_id": case_id, "accepted": "submission", "kind": body.kind}


@router.post(
    "/{case_id}/hearing",
    status_code=202,
    response_model=HearingAccepted,
    response_model_exclude_unset=True,
    responses=error_responses(_AUTH, BODY_ERRORS, _CASE, {409: "invalid_case_state: no hearing; approval_pending"}),
    summary="Record a hearing request, waiver or conclusion",
)
async def hearing(case_id: CaseId, body: HearingUpdate, request: Request, session: Session, who: Officer) -> dict:
    handle, state = await _state(request, session, case_id, who)
    _require_state(state, {"hearing"}, "a hearing update")
    if body.kind == "concluded" and body.fine_amount is not None and _pending_approval(state) is not None:
        raise HTTPException(
            409,
            detail={
                "code": "approval_pending",
                "message": "a concluded fine already waits for a supervisor's approval",
            },
        )
    await _signal(
        handle, SIGNAL_HEARING, body.model_copy(update={"by": who.actor, "actor": _actor(who), "approved_by": None})
    )
    if body.kind == "concluded" and body.fine_amount is not None:  # four-eyes: the fine waits for a supervisor
        return {
            "case_id": case_id,
            "accepted": "hearing",
            "kind": body.kind,
            "approval": "pending",
            "approve_at": f"/v1/cases/{case_id}/approval",
        }
    return {"case_id": case_id, "accepted": "hearing", "kind": body.kind}


@router.post(
    "/{case_id}/disposal-facts",
    status_code=202,
    response_model=DisposalFactsAccepted,
    responses=error_responses(_AUTH, BODY_ERRORS, _CASE),
    summary="Facts deciding the disposal method (public welfare use, holder buys, features removable)",
)
async def disposal_facts(
    case_id: CaseId, body: DisposalChoice, request: Request, session: Session, who: Officer
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    _require_open(state, "recording disposal facts")
    await _signal(handle, SIGNAL_DISPOSAL_CHOICE, body.model_copy(update={"by": who.actor, "actor": _actor(who)}))
    return {"case_id": case_id, "accepted": "disposal_facts"}


@router.post(
    "/{case_id}/guarantee",
    status_code=202,
    response_model=GuaranteeAccepted,
    responses=error_responses(_AUTH, BODY_ERRORS, _CASE, {409: "invalid_case_state: the case is not suspended"}),
    summary="Record a guarantee posted for detention",
)
async def guarantee(
    case_id: CaseId, body: GuaranteeInfo, request: Request, session: Session, who: OfficerOrHolder
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    _require_state(state, {"suspended"}, "a guarantee")
    await _signal(handle, SIGNAL_GUARANTEE, body.model_copy(update={"posted_by": _actor(who)}))
    return {"case_id": case_id, "accepted": "guarantee", "required_cny": str(state.required_guarantee_cny)}


class PartyAnswerBody(BaseModel):
    """A party's answer in its case: what it says (the party and its role come from its token and the case)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal[
        "agrees_to_destruction",
        "objects_to_destruction",
        "non_infringement_statement",
        "hearing_request",
        "hearing_waiver",
        "importer_response",
    ]
    text: str | None = Field(default=None, max_length=8000)
    reference: str | None = Field(default=None, max_length=128, description="e.g. the evidence's reference")


def _window_closed(state: CaseState, names: tuple[str, ...]) -> Deadline | None:
    """The first of the answer's deadlines that has already closed (met by another answer, lapsed, or past)."""
    now = now_utc()
    for d in state.deadlines:
        if d.name in names and (d.status in ("lapsed", "cancelled") or d.due_at <= now):
            return d
    return None


@router.post(
    "/{case_id}/answers",
    status_code=202,
    response_model=AnswerAccepted,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _CASE,
        {
            403: "not_your_answer and the other refusals of the party's role (shared.rules.parties)",
            409: "answers_not_taken; answer_window_closed (details: the deadline); answer_not_expected",
        },
    ),
    summary="A party of the case answers through its own account: consent or objection to destruction (EU), "
    "non-infringement statement or hearing request (CN), importer's response (US)",
)
async def party_answer(
    case_id: CaseId, body: PartyAnswerBody, request: Request, session: Session, who: PartyCaller
) -> dict:
    """The caller must be a party of the case (else 404); its role in the case must be the one the law gives the
    answer to (403 ``not_your_answer``); an answer after its window is 409 ``answer_window_closed`` with the
    deadline. Officers record answers received on paper at ``/submissions`` and ``/hearing``."""
    handle, state = await _state(request, session, case_id, who)
    parties = SimpleNamespace(
        jurisdiction=state.jurisdiction,
        direction=state.direction or "import",
        declarant=state.declarant,
        consignor=state.consignor,
        consignee=state.consignee,
    )
    if state.consignor is None or state.consignee is None:
        raise HTTPException(
            409,
            detail={
                "code": "answers_not_taken",
                "message": "this case predates answers by parties; ask customs to record your answer",
            },
        )
    roles = party_rules.roles_of(parties, who.party_id or "")
    problem = party_rules.answer_problem(parties, body.kind, roles)
    if problem is not None:
        raise HTTPException(403, detail={"code": problem[0], "message": problem[1]})
    rule = party_rules.ANSWERS[body.kind]
    closed = _window_closed(state, rule.deadlines)
    if closed is not None:
        raise HTTPException(
            409,
            detail={
                "code": "answer_window_closed",
                "message": f"the time for {body.kind.replace('_', ' ')} ended at {closed.due_at.isoformat()}",
                "details": {"deadline": closed.name, "due_at": closed.due_at.isoformat(), "status": closed.status},
            },
        )
    if state.state not in rule.states:
        raise HTTPException(
            409,
            detail={
                "code": "answer_not_expected",
                "message": f"{body.kind.replace('_', ' ')} is taken while the case is "
                f"{' or '.join(sorted(rule.states))}; it is {state.state}",
            },
        )
    role = sorted(roles & rule.roles)[0]
    actor = _actor(who)
    if body.kind in ("hearing_request", "hearing_waiver"):
        await _signal(
            handle,
            SIGNAL_HEARING,
            HearingUpdate(
                kind="requested" if body.kind == "hearing_request" else "waived",
                note=body.text,
                by=who.actor,
                actor=actor,
            ),
        )
    else:
        party = (
            "declarant"
            if role in ("declarant", "holder_of_goods") and body.kind.endswith("destruction")
            else ("importer" if role == "importer" else role)
        )
        await _signal(
            handle,
            SIGNAL_PARTY_SUBMISSION,
            PartySubmission(
                party=party,
                kind=body.kind,
                text=body.text,
                reference=body.reference,
                submitted_by=who.actor,
                actor=actor,
            ),
        )
    return {"case_id": case_id, "accepted": "answer", "kind": body.kind, "as": role, "basis": rule.basis}


class ServiceBody(BaseModel):
    """How and when an officer served a party's notice by other means."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["in_person", "post", "fax", "other"]
    served_at: Timestamp | None = Field(default=None, description="when it was served (default: now; never later)")
    note: str | None = Field(default=None, max_length=1000)


@router.post(
    "/{case_id}/notices/{notice}/service",
    status_code=202,
    response_model=ServiceRecorded,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _CASE,
        {
            404: "notice_not_found",
            409: "already_served",
            422: "invalid_served_at: without a time zone or in the future",
        },
    ),
    summary="Record that a party's notice was served on paper (officers): the party's time limit runs "
    "from that service",
)
async def record_service(
    case_id: CaseId,
    notice: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")],
    body: ServiceBody,
    request: Request,
    session: Session,
    who: Officer,
) -> dict:
    handle, state = await _state(request, session, case_id, who)
    found = next((n for n in state.party_notices if notice in (n.key, n.notice_id)), None)
    if found is None:
        raise HTTPException(
            404, detail={"code": "notice_not_found", "message": f"case {case_id} has no notice {notice} to a party"}
        )
    if found.status == "served":
        raise HTTPException(
            409,
            detail={
                "code": "already_served",
                "message": f"the notice was served at {found.served_at.isoformat() if found.served_at else '?'}",
            },
        )
    if body.served_at is not None and (body.served_at.tzinfo is None or body.served_at > now_utc()):
        raise HTTPException(
            422,
            detail={
                "code": "invalid_served_at",
                "message": "served_at must carry a timezone and must not be in the future",
            },
        )
    await _signal(
        handle,
        SIGNAL_NOTICE_SERVED,
        NoticeServed(notice=found.key, method=body.method, served_at=body.served_at, note=body.note, actor=_actor(who)),
    )
    return {
        "case_id": case_id,
        "accepted": "service",
        "notice": found.key,
        "notice_id": found.notice_id,
        "party_id": found.party_id,
        "by": who.actor,
    }


class AccessCodeBody(BaseModel):
    """Which party of the case gets a case access code, and how long it may be used."""

    model_config = ConfigDict(extra="forbid")
    party_id: TraderId = Field(
        description="the declarant, consignor, consignee or importer, as the declaration names it"
    )
    valid_days: int = Field(
        default=14,
        ge=1,
        le=60,
        strict=True,
        description="calendar days (the code lapses with the case's "
        "party windows in practice; an officer can revoke it earlier)",
    )


class AccessRevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


# The role a code names when a party holds several in the case (the answers take every role it holds).
_ACCESS_ROLE_ORDER = ("importer", "holder_of_goods", "consignee", "consignor", "declarant")
AccessId = Annotated[str, Path(pattern=r"^CA-[0-9A-F]{16}$")]


async def _identity(request: Request, method: str, path: str, body: dict | None = None) -> dict | list:
    """A call to the identity service as the cases service's own client; its refusals are passed on as 502."""
    url = f"{request.app.state.settings.identity_url.rstrip('/')}/v1/{path}"
    try:
        r = await request.app.state.http.request(method, url, json=body)
    except (httpx.HTTPError, TokenUnavailable) as exc:
        raise HTTPException(
            503,
            detail={
                "code": "identity_unavailable",
                "message": f"the identity service cannot be reached: {type(exc).__name__}",
            },
            headers={"Retry-After": "5"},
        ) from exc
    if r.status_code == 404:
        raise HTTPException(404, detail={"code": "case_access_not_found", "message": "no such case access code"})
    if r.status_code >= 300:
        raise HTTPException(
            502,
            detail={
                "code": "identity_refused",
                "message": f"the identity service answered {r.status_code}: {r.text[:300]}",
            },
        )
    return r.json()


class IssuedAccessCode(IssuedCaseAccess):
    roles: list[Literal["declarant", "consignor", "consignee", "importer", "holder_of_goods"]] = Field(
        max_length=5, description="every role the party holds in the case"
    )


@router.post(
    "/{case_id}/access-codes",
    status_code=201,
    response_model=IssuedAccessCode,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _CASE,
        _IDENTITY,
        {
            404: "party_not_found: not a party of the case",
            409: "answers_not_taken: the case predates answers by parties",
        },
    ),
    summary="Issue a case access code for a party of the case without an account (officers): the party "
    "exchanges it for a short-lived token bound to this case; the code is in this answer only",
)
async def issue_access_code(
    case_id: CaseId, body: AccessCodeBody, request: Request, session: Session, who: Officer
) -> dict:
    """404 unless the party is a party of the case (declarant, consignor, consignee, importer, holder of the
    goods). A new code for the same party replaces the earlier one. The party exchanges the code at the
    provider's token endpoint (grant type ``urn:ipr:params:oauth:grant-type:case-access-code``, client
    ``case-access``) and then reads the case and its notices and answers as that party."""
    _, state = await _state(request, session, case_id, who)
    if state.consignor is None or state.consignee is None:
        raise HTTPException(
            409,
            detail={
                "code": "answers_not_taken",
                "message": "this case predates answers by parties; record their answers on paper",
            },
        )
    parties = SimpleNamespace(
        jurisdiction=state.jurisdiction,
        direction=state.direction or "import",
        declarant=state.declarant,
        consignor=state.consignor,
        consignee=state.consignee,
    )
    party_id = body.party_id
    roles = party_rules.roles_of(parties, party_id)
    if not roles:
        raise HTTPException(
            404, detail={"code": "party_not_found", "message": f"{party_id} is not a party of case {case_id}"}
        )
    role = next(r for r in _ACCESS_ROLE_ORDER if r in roles)
    party = next(p for p in (state.consignee, state.consignor, state.declarant) if p is not None and p.id == party_id)
    valid_days = body.valid_days
    issued = await _identity(
        request,
        "POST",
        "case-access",
        {
            "case_id": case_id,
            "party_id": party_id,
            "party_role": role,
            "display_name": party.name[:128],
            "valid_days": valid_days,
            "issued_by": who.actor,
        },
    )
    assert isinstance(issued, dict)
    session.add(
        Intervention(
            case_id=case_id,
            at=now_utc(),
            event="case_access_issued",
            by=who.actor,
            detail={
                "access_id": issued["access_id"],
                "party_id": party_id,
                "roles": sorted(roles),
                "expires_at": issued["expires_at"],
                "replaced": issued.get("replaced", []),
            },
        )
    )
    await session.commit()
    return {**issued, "roles": sorted(roles)}


@router.get(
    "/{case_id}/access-codes",
    response_model=list[CaseAccessView],
    responses=error_responses(_AUTH, _CASE, _IDENTITY),
    summary="The case access codes issued for the case's parties (officers; never the codes themselves)",
)
async def list_access_codes(case_id: CaseId, request: Request, session: Session, who: Officer) -> list:
    return await _access_codes(request, session, case_id, who)


async def _access_codes(request: Request, session: AsyncSession, case_id: str, who: Principal) -> list:
    """The case's access codes at the identity service, once the officer may see the case (open or closed)."""
    row = await session.get(Case, case_id)
    if row is None:
        await _state(request, session, case_id, who)  # 404 or the running case's visibility
    else:
        _row_visible(row, who)
    found = await _identity(request, "GET", f"case-access?case_id={quote(case_id, safe='')}")
    assert isinstance(found, list)
    return found


@router.post(
    "/{case_id}/access-codes/{access_id}/revoke",
    response_model=CaseAccessView,
    responses=error_responses(_AUTH, BODY_ERRORS, _CASE, _IDENTITY, {404: "case_access_not_found"}),
    summary="Revoke a party's case access code (officers): no new tokens from the next request on",
)
async def revoke_access_code(
    case_id: CaseId,
    access_id: AccessId,
    request: Request,
    session: Session,
    who: Officer,
    body: AccessRevokeBody | None = None,
) -> dict:
    codes = await _access_codes(request, session, case_id, who)
    found = next((c for c in codes if isinstance(c, dict) and c.get("access_id") == access_id), None)
    if found is None:
        raise HTTPException(
            404, detail={"code": "case_access_not_found", "message": f"case {case_id} has no access code {access_id}"}
        )
    if found.get("status") == "revoked":
        return found  # revoked before: nothing changes, nothing more to record
    reason = body.reason if body else None
    revoked = await _identity(
        request, "POST", f"case-access/{access_id}/revoke", {"revoked_by": who.actor, "reason": reason}
    )
    assert isinstance(revoked, dict)
    session.add(
        Intervention(
            case_id=case_id,
            at=now_utc(),
            event="case_access_revoked",
            by=who.actor,
            detail={"access_id": access_id, "party_id": revoked["party_id"], "reason": reason},
        )
    )
    await session.commit()
    return revoked


class RepairBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=1000, description="why the case is repaired (kept in its history)")


@router.post(
    "/{case_id}/repair",
    response_model=CaseRepairedView,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        {
            404: _CASE[404],
            409: "not_repairable: the workflow has not failed, is gone, or Temporal refused",
            503: _CASE[503],
        },
    ),
    summary="Reset a failed or terminated case workflow to its last good point (supervisors; recorded with who did it)",
)
async def repair_case(
    temporal: Temporal, runtime: RuntimeDep, case_id: CaseId, body: RepairBody, session: Session, who: Supervisor
) -> dict:
    row = await session.get(Case, case_id)
    if row is None:
        raise _not_found(case_id)
    _row_visible(row, who)
    await session.rollback()  # the repair writes in its own transaction
    client: Client = await temporal.get()
    try:
        done = await repair(client, runtime.sessionmaker, case_id, by=who.actor, reason=body.reason)
    except RepairError as exc:
        raise HTTPException(409, detail={"code": "not_repairable", "message": str(exc)}) from exc
    except RPCError as exc:
        raise _unavailable(exc) from exc
    return {"case_id": case_id, "repaired": True, **done}


escalations_router = APIRouter(prefix="/v1/escalations", tags=["escalations"])


@escalations_router.get(
    "",
    response_model=list[EscalationView],
    responses=error_responses(_AUTH),
    summary="Escalations: deadlines about to lapse, refused or failing steps, failed cases",
)
async def escalations(session: Session, who: Officer, include_resolved: bool = False) -> list[dict]:
    """``state`` is the case's state when it was escalated; ``case_state`` its state now (the read model)."""
    stmt = (
        select(Escalation, Case.state)
        .outerjoin(Case, Case.case_id == Escalation.case_id)
        .order_by(Escalation.due_at)
        .limit(500)
    )
    if who.role == "officer":  # supervisors see every office's escalations
        stmt = stmt.where(Case.customs_office.in_(sorted(who.offices)))
    if not include_resolved:
        stmt = stmt.where(Escalation.resolved_at.is_(None))
    return [
        {
            "id": e.id,
            "case_id": e.case_id,
            "kind": e.kind,
            "deadline": e.deadline,
            "due_at": e.due_at.isoformat(),
            "escalated_at": e.escalated_at.isoformat(),
            "state": e.state,
            "case_state": now or e.state,
            "reason": e.reason,
            "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
            "resolution": e.resolution,
            "resolved_by": e.resolved_by,
        }
        for e, now in (await session.execute(stmt)).all()
    ]


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=3, max_length=1000, description="what was done by hand")


@escalations_router.post(
    "/{escalation_id}/resolve",
    response_model=EscalationResolved,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        {
            404: "escalation_not_found",
            409: "escalation_resolved; repair_needed: a failed case is repaired; service_not_recorded: a party's "
            "undelivered notice is resolved by recording its service",
        },
    ),
    summary="Mark an officer's task done (a refused step carried out by hand); recorded with who did it",
)
async def resolve_escalation(
    escalation_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ResolveBody, session: Session, who: Officer
) -> dict:
    e = await session.get(Escalation, escalation_id, with_for_update=True)
    if e is None:
        raise HTTPException(404, detail={"code": "escalation_not_found", "message": f"no escalation {escalation_id}"})
    row = await session.get(Case, e.case_id)
    if row is not None:
        require_office(who, row.customs_office)
    if e.resolved_at is not None:
        raise HTTPException(
            409,
            detail={
                "code": "escalation_resolved",
                "message": f"already resolved ({e.resolution}) at {e.resolved_at.isoformat()}",
            },
        )
    if e.kind == "case_failed":
        raise HTTPException(
            409,
            detail={
                "code": "repair_needed",
                "message": "a failed case is resolved by repairing it (POST /v1/cases/{id}/repair)",
            },
        )
    if e.deadline.startswith("serve_notice:") and (row is None or row.state not in TERMINAL_STATES):
        # A party's notice not delivered: its time limit runs only from service, so the task ends when the
        # service is recorded (which resolves it), not by a note that it was done.
        key = e.deadline.removeprefix("serve_notice:")
        raise HTTPException(
            409,
            detail={
                "code": "service_not_recorded",
                "message": f"record how and when the notice was served instead "
                f"(POST /v1/cases/{e.case_id}/notices/{key}/service, or the form on the case page): "
                "the party's time limit starts from its service",
            },
        )
    at = now_utc()
    e.resolved_at, e.resolution, e.resolved_by = at, "done_by_hand", who.actor
    session.add(
        Intervention(
            case_id=e.case_id,
            at=at,
            event="escalation_resolved",
            by=who.actor,
            detail={"escalation_id": e.id, "kind": e.kind, "step": e.deadline, "note": body.note},
        )
    )
    await session.commit()
    return {"id": e.id, "case_id": e.case_id, "resolved_at": at.isoformat(), "resolved_by": who.actor}
