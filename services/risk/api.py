"""HTTP routes of the risk service: the recordation registry and its lifecycle, targeting profiles, and
side-effect-free assessment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk import lifecycle, pipeline, quotas, recordations, targeting
from services.risk.campaigns import CampaignV1
from services.risk.live_registry import Registry
from services.risk.models import Campaign, Recordation, TargetingProfile
from services.risk.pipeline import AssessmentPipeline
from services.risk.profiles import TargetingProfileV1
from services.risk.settings import Settings
from shared.auth import Principal, require
from shared.contracts.bounds import CampaignId, Day, HolderId, ProfileId, RecordationId, TraderId, Version
from shared.contracts.declaration import DeclarationV1, Jurisdiction
from shared.contracts.errors import error_responses
from shared.contracts.recordation import RecordationAsRecorded, RecordationV1, RecordationView, RecordationWithHistory
from shared.contracts.risk_views import (
    Assessment,
    CampaignReport,
    CampaignView,
    CampaignWithHistory,
    Capacity,
    ProfilesImported,
    ProfileView,
    RedQuotaSet,
    TraderHistory,
)
from shared.contracts.text import Text
from shared.runtime import from_state, session_dep
from shared.web import replayed

router = APIRouter()
Session = Annotated[AsyncSession, Depends(session_dep)]
LiveRegistry = Annotated[Registry, Depends(from_state("registry"))]
RiskSettings = Annotated[Settings, Depends(from_state("settings"))]
Assessor = Annotated[AssessmentPipeline, Depends(from_state("pipeline"))]
Officer = Annotated[Principal, Depends(require("officer"))]
Reader = Annotated[Principal, Depends(require("officer", "system", "rights_holder"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
OfficerOrHolder = Annotated[Principal, Depends(require("officer", "rights_holder"))]

# Error answers: every route checks the caller (401, 403) and its parameters (422); a body may also be malformed
# JSON (400), too large (413) or not JSON (415).
_READ = (401, 403, 422)
_WRITE = (400, 401, 403, 413, 415, 422)
# A recordation is answered with exactly the keys it is stored with (response_model_exclude_unset): a field added to
# the contract after a version was recorded stays absent from that version, as it always was.


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)
    expected_version: Version | None = Field(default=None, description="Refuse with 409 if the record moved on")


class ReasonedCommand(Command):
    reason: str = Field(min_length=3, max_length=2000)


class ExpireCommand(Command):
    lapsed_right: bool = Field(default=False, description="End it before its last valid day: the right lapsed")


class AmendCommand(Command):
    changes: dict[str, Any] = Field(
        description="New values of amendable fields (aliases, licensees, genuine "
        "values, known infringers, ports, goods, holder contact...)"
    )


def _not_found(rid: str) -> HTTPException:
    return HTTPException(404, detail={"code": "recordation_not_found", "message": f"no recordation {rid}"})


async def _holders_own(session: AsyncSession, recordation_id: str, who: Principal) -> None:
    row = await session.get(Recordation, recordation_id)
    if row is None or row.holder_id != who.holder_id:
        raise _not_found(recordation_id)


async def _after_registry_write(live: Registry) -> None:
    await live.reload()


# ---------------------------------------------------------------- recordations


@router.post(
    "/v1/recordations",
    status_code=201,
    tags=["recordations"],
    response_model=RecordationView,
    responses={
        **replayed(RecordationView),
        **error_responses(*_WRITE, 409, e409="recorded already with other content"),
    },
    summary="Record a right (idempotent per recordation id); a new application is 'pending'. A rights "
    "holder applies for its own rights only, always as 'pending' (a supervisor approves: four eyes)",
)
async def create(body: RecordationV1, session: Session, live: LiveRegistry, who: OfficerOrHolder) -> JSONResponse:
    if who.role == "rights_holder":
        if body.holder.id != who.holder_id:
            raise HTTPException(
                403, detail={"code": "not_your_holder", "message": "a rights holder applies only for rights it holds"}
            )
        if body.status != "pending":
            raise HTTPException(
                422,
                detail={
                    "code": "application_is_pending",
                    "message": "a rights holder's application is recorded as 'pending' until customs approves it",
                },
            )
    async with session.begin():
        status, payload = await recordations.create_recordation(session, rec=body, actor=who.actor, actor_sub=who.sub)
    await _after_registry_write(live)
    return JSONResponse(payload, status_code=status)


@router.get(
    "/v1/recordations/{recordation_id}",
    tags=["recordations"],
    response_model=RecordationWithHistory,
    response_model_exclude_unset=True,
    responses=error_responses(*_READ, 404),
    summary="A recordation with its version history (who changed what, when and why)",
)
async def get_one(recordation_id: RecordationId, session: Session, who: Reader) -> dict:
    row = await session.get(Recordation, recordation_id)
    if row is None or (who.role == "rights_holder" and row.holder_id != who.holder_id):
        raise _not_found(recordation_id)  # a holder never learns of another holder's records
    return {**recordations.recordation_view(row), "history": await recordations.history_of(session, recordation_id)}


@router.get(
    "/v1/recordations/{recordation_id}/versions/{version}",
    tags=["recordations"],
    response_model=RecordationAsRecorded,
    response_model_exclude_unset=True,
    responses=error_responses(*_READ, 404),
    summary="One earlier version of a recordation, as it was",
)
async def get_version(recordation_id: RecordationId, version: Version, session: Session, _: Officer) -> dict:
    found = await recordations.version_of(session, recordation_id, version)
    if found is None:
        raise HTTPException(
            404,
            detail={"code": "version_not_found", "message": f"recordation {recordation_id} has no version {version}"},
        )
    return found


@router.get(
    "/v1/recordations",
    tags=["recordations"],
    response_model=list[RecordationView],
    response_model_exclude_unset=True,
    responses=error_responses(*_READ),
    summary="Recordations, optionally by jurisdiction, holder, status (a rights holder sees only its own)",
)
async def list_all(
    session: Session,
    who: Reader,
    jurisdiction: Jurisdiction | None = None,
    holder_id: HolderId | None = None,
    status: Literal["pending", "active", "expired", "revoked", "refused"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    stmt = select(Recordation).order_by(Recordation.recordation_id).limit(limit)
    if who.role == "rights_holder":
        holder_id = who.holder_id or "-"
    if jurisdiction:
        stmt = stmt.where(Recordation.jurisdiction == jurisdiction)
    if holder_id:
        stmt = stmt.where(Recordation.holder_id == holder_id)
    if status:
        stmt = stmt.where(Recordation.status == status)
    return [recordations.recordation_view(r) for r in (await session.execute(stmt)).scalars()]


_CHANGE = error_responses(
    *_WRITE,
    404,
    409,
    e409="the transition is not allowed from the recordation's status, "
    "outside its window, or the recordation moved on (expected_version)",
)


async def _command(
    live: Registry, session: AsyncSession, rid: str, command: str, who: Principal, body: Command, **kw: Any
) -> dict:
    async with session.begin():
        view = await recordations.change_recordation(
            session,
            recordation_id=rid,
            command=command,
            actor=who.actor,
            actor_sub=who.sub,
            actor_role=who.role,
            reason=body.reason,
            expected_version=body.expected_version,
            **kw,
        )
    await _after_registry_write(live)
    return view


@router.post(
    "/v1/recordations/{recordation_id}/approve",
    tags=["recordations"],
    response_model=RecordationView,
    response_model_exclude_unset=True,
    responses=_CHANGE,
    summary="Approve a pending application (a supervisor who did not propose it: four eyes); the "
    "10-year term starts today",
)
async def approve(
    recordation_id: RecordationId, body: Command, session: Session, live: LiveRegistry, who: Supervisor
) -> dict:
    return await _command(live, session, recordation_id, "approve", who, body)


@router.post(
    "/v1/recordations/{recordation_id}/refuse",
    tags=["recordations"],
    response_model=RecordationView,
    response_model_exclude_unset=True,
    responses=_CHANGE,
    summary="Refuse a pending application, with the reason (supervisor)",
)
async def refuse(
    recordation_id: RecordationId, body: ReasonedCommand, session: Session, live: LiveRegistry, who: Supervisor
) -> dict:
    return await _command(live, session, recordation_id, "refuse", who, body)


@router.post(
    "/v1/recordations/{recordation_id}/amend",
    tags=["recordations"],
    response_model=RecordationView,
    response_model_exclude_unset=True,
    responses=_CHANGE,
    summary="Amend the amendable fields of a pending or active recordation (new version)",
)
async def amend(
    recordation_id: RecordationId, body: AmendCommand, session: Session, live: LiveRegistry, who: OfficerOrHolder
) -> dict:
    if who.role == "rights_holder":
        await _holders_own(session, recordation_id, who)
        row = await session.get(Recordation, recordation_id)
        status = row.status if row is not None else None  # read before the rollback expires the row
        await session.rollback()
        if status != "pending" and set(body.changes) - lifecycle.HOLDER_AMENDABLE_ACTIVE:
            raise HTTPException(
                403,
                detail={
                    "code": "amendment_needs_customs",
                    "message": "on an active recordation a rights holder changes its "
                    "identification guide only; other changes go through customs",
                },
            )
    return await _command(live, session, recordation_id, "amend", who, body, changes=body.changes)


@router.post(
    "/v1/recordations/{recordation_id}/renew",
    tags=["recordations"],
    response_model=RecordationView,
    response_model_exclude_unset=True,
    responses=_CHANGE,
    summary="Renew inside the window before expiry (CN: 6 months); adds the statutory term (CN: 10 years)",
)
async def renew(
    recordation_id: RecordationId, body: Command, session: Session, live: LiveRegistry, who: OfficerOrHolder
) -> dict:
    if who.role == "rights_holder":
        await _holders_own(session, recordation_id, who)
        await session.rollback()
    return await _command(live, session, recordation_id, "renew", who, body)


@router.post(
    "/v1/recordations/{recordation_id}/expire",
    tags=["recordations"],
    response_model=RecordationView,
    response_model_exclude_unset=True,
    responses=_CHANGE,
    summary="Mark expired: after its last valid day, or earlier if the underlying right lapsed",
)
async def expire(
    recordation_id: RecordationId, body: ExpireCommand, session: Session, live: LiveRegistry, who: Officer
) -> dict:
    return await _command(live, session, recordation_id, "expire", who, body, lapsed_right=body.lapsed_right)


@router.post(
    "/v1/recordations/{recordation_id}/revoke",
    tags=["recordations"],
    response_model=RecordationView,
    response_model_exclude_unset=True,
    responses=_CHANGE,
    summary="Revoke, with the reason (supervisor; CN Reg. Art. 9, 11)",
)
async def revoke(
    recordation_id: RecordationId, body: ReasonedCommand, session: Session, live: LiveRegistry, who: Supervisor
) -> dict:
    return await _command(live, session, recordation_id, "revoke", who, body)


# ---------------------------------------------------------------- targeting profiles


@router.put(
    "/v1/profiles/{profile_id}",
    tags=["profiles"],
    status_code=201,
    response_model=ProfileView,
    responses={
        200: {
            "model": ProfileView,
            "description": "the profile existed: its new version, or the same content again (nothing changed)",
        },
        **error_responses(*_WRITE),
    },
    summary="Create a targeting profile or store a new version; in force at once, no restart",
)
async def put_profile(
    live: LiveRegistry, profile_id: ProfileId, body: TargetingProfileV1, session: Session, who: Officer
) -> JSONResponse:
    if body.profile_id != profile_id:
        raise HTTPException(
            422, detail={"code": "profile_id_mismatch", "message": "profile_id in the body must match the path"}
        )
    async with session.begin():
        status, view = await targeting.put_profile(session, profile=body, actor=who.actor)
    await live.reload_profiles()
    return JSONResponse(view, status_code=status)


@router.post(
    "/v1/profiles/import",
    tags=["profiles"],
    response_model=ProfilesImported,
    responses=error_responses(
        *_WRITE, e422="a profile does not match the contract: none was stored (details name each one)"
    ),
    summary="Load a set of profiles at once (all valid or none stored), e.g. from a reviewed file",
)
async def import_profiles(live: LiveRegistry, body: list[dict[str, Any]], session: Session, who: Officer) -> dict:
    parsed, errors = [], []
    for i, raw in enumerate(body):
        try:
            parsed.append(TargetingProfileV1.model_validate(raw))
        except ValidationError as exc:
            errors.append(
                {
                    "index": i,
                    "profile_id": raw.get("profile_id") if isinstance(raw, dict) else None,
                    "errors": [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
                }
            )
    if errors:
        raise HTTPException(
            422, detail={"code": "invalid_profiles", "message": "no profile was stored", "details": errors}
        )
    async with session.begin():
        results = [await targeting.put_profile(session, profile=p, actor=who.actor) for p in parsed]
    await live.reload_profiles()
    return {
        "stored": len(results),
        "created": sum(1 for s, _ in results if s == 201),
        "profiles": [v["profile_id"] for _, v in results],
    }


@router.get(
    "/v1/profiles",
    tags=["profiles"],
    response_model=list[ProfileView],
    responses=error_responses(*_READ),
    summary="Targeting profiles with their hit counts",
)
async def list_profiles(session: Session, _: Officer, active: bool | None = None) -> list[dict]:
    stmt = select(TargetingProfile).order_by(TargetingProfile.profile_id)
    if active is not None:
        stmt = stmt.where(TargetingProfile.active.is_(active))
    return [targeting.profile_view(r) for r in (await session.execute(stmt)).scalars()]


@router.get(
    "/v1/profiles/{profile_id}",
    tags=["profiles"],
    response_model=ProfileView,
    responses=error_responses(*_READ, 404),
    summary="One targeting profile with its hit count",
)
async def get_profile(profile_id: ProfileId, session: Session, _: Officer) -> dict:
    row = await session.get(TargetingProfile, profile_id)
    if row is None:
        raise HTTPException(404, detail={"code": "profile_not_found", "message": f"no profile {profile_id}"})
    return targeting.profile_view(row)


@router.delete(
    "/v1/profiles/{profile_id}",
    tags=["profiles"],
    response_model=ProfileView,
    responses=error_responses(*_READ, 404),
    summary="Deactivate a profile (kept for audit)",
)
async def delete_profile(live: LiveRegistry, profile_id: ProfileId, session: Session, who: Officer) -> dict:
    async with session.begin():
        view = await targeting.deactivate_profile(session, profile_id=profile_id, actor=who.actor)
    await live.reload_profiles()
    return view


# ---------------------------------------------------------------- assessment


@router.post(
    "/v1/assess",
    tags=["assessment"],
    response_model=Assessment,
    responses=error_responses(*_WRITE),
    summary="Score a declaration now, without storing it or opening cases",
)
async def assess(
    live: LiveRegistry, settings: RiskSettings, assessor: Assessor, body: DeclarationV1, _: Officer
) -> JSONResponse:
    context = live.context()
    assessed, _cases, _hits = pipeline.assess(body, live.index, assessor.scoring, settings.fx_rates_to_cny, context)
    if live.models is not None:  # learning: the champion beside the rules, as on the topic
        live.models.apply([(body, assessed)], live.index, settings.fx_rates_to_cny, context.red_threshold_for)
    # already JSON: answered as it is, not validated again (a hot path)
    return JSONResponse(
        {
            "declaration_id": assessed.declaration_id,
            "revision": assessed.revision,
            "lines": [line.model_dump(mode="json", exclude={"case_id"}) for line in assessed.lines],
        }
    )


@router.get(
    "/v1/capacity",
    tags=["assessment"],
    response_model=Capacity,
    responses=error_responses(*_READ),
    summary="Red capacity and current red threshold per office",
)
async def capacity(live: LiveRegistry, session: Session, _: Officer) -> dict:
    gov = live.capacity
    return {
        "default_share": gov.default_share if gov else None,
        "base_red_threshold": gov.base if gov else None,
        "offices": gov.snapshot() if gov else {},
        "registry": {"active_recordations": live.index.size, "indexed_terms": live.index.terms},
        "profiles_in_force": len(live.profiles),
        "red_quotas": await quotas.red_quotas_view(session),
    }


class TraderQuery(BaseModel):
    """A trader named as its registry writes it (it may hold a space, ``/`` or ``:``, so it is never a path)."""

    model_config = ConfigDict(extra="forbid")
    trader_id: TraderId


@router.post(
    "/v1/traders/history",
    tags=["assessment"],
    response_model=TraderHistory,
    responses=error_responses(*_WRITE),
    summary="A trader's earlier cases that ended in confiscation, destruction or forfeiture",
)
async def trader_history(live: LiveRegistry, body: TraderQuery, _: Reader) -> dict:
    n = live.history.confiscations(body.trader_id)
    return {"trader_id": body.trader_id, "infringing_cases": n, "repeat_infringer": n > 0}


class RedQuotaCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_day: int = Field(
        ge=0,
        le=1_000_000,
        description="Lines red on their score alone an office examines a day "
        "(suspected lines and the random control sample are red whatever the quota)",
    )
    reason: Text = Field(min_length=3, max_length=2000)


@router.put(
    "/v1/capacity/{customs_office}/red-quota",
    tags=["assessment"],
    response_model=RedQuotaSet,
    responses=error_responses(*_WRITE),
    summary="Set an office's daily red quota (supervisor): one counter per office and day that every risk "
    "replica draws on; lines beyond it go to documentary check with the reason",
)
async def put_red_quota(
    customs_office: Annotated[str, Path(min_length=2, max_length=16, pattern=r"^[A-Z0-9]+$")],
    body: RedQuotaCommand,
    session: Session,
    who: Supervisor,
) -> dict:
    async with session.begin():
        return await quotas.set_red_quota(
            session, office=customs_office, per_day=body.per_day, reason=body.reason, actor=who.actor
        )


# ---------------------------------------------------------------- campaigns


class SwitchCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


@router.put(
    "/v1/campaigns/{campaign_id}",
    tags=["campaigns"],
    status_code=201,
    response_model=CampaignView,
    responses={
        200: {
            "model": CampaignView,
            "description": "the campaign existed: its new version, or the same content again (nothing changed)",
        },
        **error_responses(*_WRITE),
    },
    summary="Create a targeting campaign or store a new version; in force at once on every replica",
)
async def put_campaign(
    live: LiveRegistry, campaign_id: CampaignId, body: CampaignV1, session: Session, who: Officer
) -> JSONResponse:
    if body.campaign_id != campaign_id:
        raise HTTPException(
            422, detail={"code": "campaign_id_mismatch", "message": "campaign_id in the body must match the path"}
        )
    async with session.begin():
        status, view = await targeting.put_campaign(session, campaign=body, actor=who.actor)
    await live.reload_campaigns()
    return JSONResponse(view, status_code=status)


@router.post(
    "/v1/campaigns/{campaign_id}/switch-on",
    tags=["campaigns"],
    response_model=CampaignView,
    responses=error_responses(*_WRITE, 404),
    summary="Switch a campaign on",
)
async def switch_on(
    live: LiveRegistry, campaign_id: CampaignId, body: SwitchCommand, session: Session, who: Officer
) -> dict:
    async with session.begin():
        view = await targeting.switch_campaign(
            session, campaign_id=campaign_id, on=True, actor=who.actor, reason=body.reason
        )
    await live.reload_campaigns()
    return view


@router.post(
    "/v1/campaigns/{campaign_id}/switch-off",
    tags=["campaigns"],
    response_model=CampaignView,
    responses=error_responses(*_WRITE, 404),
    summary="Switch a campaign off (kept, with its hits and history)",
)
async def switch_off(
    live: LiveRegistry, campaign_id: CampaignId, body: SwitchCommand, session: Session, who: Officer
) -> dict:
    async with session.begin():
        view = await targeting.switch_campaign(
            session, campaign_id=campaign_id, on=False, actor=who.actor, reason=body.reason
        )
    await live.reload_campaigns()
    return view


@router.get(
    "/v1/campaigns",
    tags=["campaigns"],
    response_model=list[CampaignView],
    responses=error_responses(*_READ),
    summary="Targeting campaigns",
)
async def list_campaigns(session: Session, _: Officer, active: bool | None = None) -> list[dict]:
    stmt = select(Campaign).order_by(Campaign.campaign_id)
    if active is not None:
        stmt = stmt.where(Campaign.active.is_(active))
    return [targeting.campaign_view(r) for r in (await session.execute(stmt)).scalars()]


@router.get(
    "/v1/campaigns/{campaign_id}",
    tags=["campaigns"],
    response_model=CampaignWithHistory,
    responses=error_responses(*_READ, 404),
    summary="One campaign with its totals and its history (who switched it on and off, when, why)",
)
async def get_campaign(campaign_id: CampaignId, session: Session, _: Officer) -> dict:
    row = await session.get(Campaign, campaign_id)
    if row is None:
        raise HTTPException(404, detail={"code": "campaign_not_found", "message": f"no campaign {campaign_id}"})
    report = await targeting.campaign_report(
        session, campaign_id=campaign_id, date_from=None, date_to=None, period="month", office=None
    )
    return {
        **targeting.campaign_view(row),
        "totals": report["totals"],
        "history": await targeting.campaign_history(session, campaign_id),
    }


@router.get(
    "/v1/campaigns/{campaign_id}/report",
    tags=["campaigns"],
    response_model=CampaignReport,
    responses=error_responses(*_READ, 404, e422="a parameter does not match the contract, or 'to' is before 'from'"),
    summary="What a campaign hit: consignments, lines, suspected lines and cases opened, by office and period",
)
async def campaign_report(
    campaign_id: CampaignId,
    session: Session,
    _: Officer,
    date_from: Annotated[Day | None, Query(alias="from", description="First day (consignment date)")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="Last day")] = None,
    period: Literal["day", "week", "month"] = "month",
    office: Annotated[str | None, Query(max_length=16)] = None,
) -> dict:
    if date_from and date_to and date_to < date_from:
        raise HTTPException(422, detail={"code": "period_reversed", "message": "'to' is before 'from'"})
    return await targeting.campaign_report(
        session, campaign_id=campaign_id, date_from=date_from, date_to=date_to, period=period, office=office
    )
