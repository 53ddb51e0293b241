"""The officers' workbench: worklist by urgency, case detail with only the lawful actions, evidence, bulk work,
statistics, and supervisors' approvals of recordation applications."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from services.web import storage
from services.web.apis import ApiError, seg
from services.web.i18n import label, reason
from services.web.models import StoredFile
from services.web.pages import Ctx, Errors, OfficerCtx, SignedInCtx, back, form_of
from shared.rules.calendar import calendar_for

router = APIRouter(prefix="/workbench", include_in_schema=False)

FILTERS = (
    "state",
    "office",
    "jurisdiction",
    "mark",
    "holder",
    "assignee",
    "direction",
    "transport_mode",
    "manifest",
    "q",
)
STATES = (
    "suspended",
    "awaiting_application",
    "detained",
    "undetermined",
    "hearing",
    "seized",
    "failed",
    "released",
    "confiscated",
    "destroyed",
    "forfeited",
    "handed_to_court",
)
DIRECTIONS = ("import", "export", "transit")
TRANSPORT = ("sea", "air", "road", "rail", "post", "express", "other")
FINE_TIERS = ("none", "mitigated", "lighter", "ordinary", "heavier")
PAGE = 50
TERMINAL = {"released", "confiscated", "destroyed", "forfeited", "handed_to_court", "excluded"}


def _params(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:128] for k in FILTERS if request.query_params.get(k)}


@router.get("", response_class=HTMLResponse)
async def worklist(ctx: OfficerCtx) -> HTMLResponse:
    q = ctx.request.query_params
    params: dict[str, Any] = _params(ctx.request)
    mine, closed, unassigned = q.get("mine") == "1", q.get("closed") == "1", q.get("unassigned") == "1"
    try:
        offset = max(0, min(int(q.get("offset", "0")), 100_000))
    except ValueError:
        offset = 0
    error = None
    try:
        data, escalations = await asyncio.gather(
            ctx.api.get(
                "cases",
                "/v1/worklist",
                **params,
                mine=mine,
                include_closed=closed,
                unassigned=unassigned,
                limit=PAGE,
                offset=offset,
            ),
            ctx.api.maybe("cases", "/v1/escalations", default=[]),
        )
    except ApiError as exc:
        data, escalations, error = {"items": [], "total": 0}, [], exc.message
    base = {k: v for k, v in params.items()}
    if mine:
        base["mine"] = "1"
    if closed:
        base["closed"] = "1"
    if unassigned:
        base["unassigned"] = "1"
    return ctx.render(
        "workbench/worklist.html",
        data=data,
        filters=params,
        mine=mine,
        closed=closed,
        unassigned=unassigned,
        offset=offset,
        page=PAGE,
        base=base,
        error=error,
        states=STATES,
        directions=DIRECTIONS,
        transport=TRANSPORT,
        fine_tiers=FINE_TIERS,
        escalations=_open_escalations(escalations or []),
        shown_escalations=ESCALATIONS_SHOWN,
        tz=office_timezone(list(ctx.who.row.offices or [])),
    )


def office_timezone(offices: list[str]) -> str | None:
    """The time zone an officer reads times in: that of its (first) office's country, when a calendar knows it."""
    for office in offices:
        try:
            return calendar_for(office[:2]).timezone
        except KeyError:
            continue
    return None


ESCALATIONS_SHOWN = 20


def _open_escalations(escalations: list[dict]) -> list[dict]:
    """Open escalations, the ones that need a person first: failed cases, refused steps, failing steps, then
    deadlines about to lapse (each group by how long it has waited)."""
    order: dict[str | None, int] = {"case_failed": 0, "step_refused": 1, "step_delayed": 2, "deadline": 3}
    latest: dict[tuple, dict] = {}  # one line per case, kind and step (the latest), however often it was raised
    for e in escalations:
        key = (e.get("case_id"), e.get("kind"), e.get("deadline"))
        if not e.get("resolved_at") and (
            key not in latest or (e.get("escalated_at") or "") >= (latest[key].get("escalated_at") or "")
        ):
            latest[key] = e
    return sorted(latest.values(), key=lambda e: (order.get(e.get("kind"), 4), e.get("escalated_at") or ""))


# ---------------------------------------------------------------- case detail


async def _case_page(
    ctx: SignedInCtx,
    case_id: str,
    errors: dict | None = None,
    status: int = 200,
    values: dict | None = None,
    issued: dict | None = None,
) -> HTMLResponse:
    api = ctx.api
    try:
        case = await api.get("cases", f"/v1/cases/{seg(case_id)}")
    except ApiError as exc:
        return ctx.render(
            "error.html",
            status=exc.status if exc.status < 500 else 502,
            title=ctx._("Not found") if exc.status == 404 else ctx._("Something went wrong"),
            message=exc.message,
        )
    open_with_parties = case.get("state") not in TERMINAL and case.get("consignee")
    entry, declaration, recordation, notices, escalations, access_codes = await asyncio.gather(
        api.maybe("cases", f"/v1/cases/{seg(case_id)}/workbench"),
        api.maybe("intake", f"/v1/declarations/{seg(case['declaration_id'])}"),
        api.maybe("risk", f"/v1/recordations/{seg(case.get('recordation_id') or '')}")
        if case.get("recordation_id")
        else _none(),
        api.maybe("notify", "/v1/notices", default=[], case_id=case_id),
        api.maybe("cases", "/v1/escalations", default=[]),
        api.maybe("cases", f"/v1/cases/{seg(case_id)}/access-codes", default=[]) if open_with_parties else _none(),
    )
    if recordation is None and entry is not None:
        recordation = await _recordation_of(ctx, case, entry)
    files = (
        (await ctx.session.execute(select(StoredFile).where(StoredFile.case_id == case_id).order_by(StoredFile.id)))
        .scalars()
        .all()
    )
    decl = (declaration or {}).get("declaration") or {}
    line_states = {ln.get("line_no"): ln for ln in case.get("lines") or []}  # consignment cases: each line's status
    held_lines = [n for n, ln in line_states.items() if ln.get("status") in ("held", "seized")]
    line_nos = set(line_states) or {case.get("line_no")}
    lines = [ln for ln in decl.get("lines", []) if ln.get("line_no") in line_nos] or decl.get("lines", [])
    stuck = [
        e for e in _open_escalations(escalations) if e.get("case_id") == case_id and e.get("kind") != "case_failed"
    ]
    tz = case.get("timezone")
    entry = dict(entry or {})
    entry["pending_approval"] = _pending_approval(case, entry)
    actions = _actions(case, entry, ctx)
    opened = next((h.get("detail") or {} for h in case.get("history", []) if h.get("event") == "case_opened"), {})
    errors = dict(errors or {})
    for key in [k for k in errors if k.startswith("_") and k[1:] in ACTIONS and k[1:] not in actions]:
        errors["_form"] = errors.pop(key)  # the form is gone (the case moved on): the reason above the actions
    return ctx.render(
        "workbench/case.html",
        status=status,
        case=case,
        entry=entry,
        decl=decl,
        lines=lines,
        line_states=line_states,
        held_lines=held_lines,
        recordation=recordation,
        notices=notices,
        documents=documents_of(notices),
        files=files,
        stuck=stuck,
        tz=tz,
        actions=actions,
        closed=case.get("state") in TERMINAL,
        targeting=opened,
        timeline=[_describe(ctx.lang, h) for h in case.get("history", [])],
        errors=errors,
        values=values or {},
        fine_tiers=FINE_TIERS,
        guide=(recordation or {}).get("identification_guide") or None,
        guide_files={f.object_key for f in files},
        issued=issued,
        access_codes=[c for c in access_codes or [] if c.get("status") == "valid"],
    )


async def _none() -> None:
    return None


async def _recordation_of(ctx: Ctx, case: dict, entry: dict) -> dict | None:
    history = case.get("history") or []
    opened = next((h for h in history if h.get("event") == "case_opened"), None)
    rid = (opened or {}).get("detail", {}).get("recordation_id")
    return await ctx.api.maybe("risk", f"/v1/recordations/{seg(rid)}") if rid else None


def _pending_approval(case: dict, entry: dict) -> dict | None:
    """The proposal waiting for a second person, from the case's own history (a running case answers from its
    workflow, so a proposal shows at once); the worklist's record of it when the history says nothing."""
    pending, seen = None, False
    for h in case.get("history") or []:
        if h.get("event") == "approval_requested":
            d = h.get("detail") or {}
            pending, seen = (
                {
                    "kind": d.get("kind") or "decision",
                    "proposed_by": d.get("proposed_by"),
                    "proposed_by_sub": d.get("proposed_by_sub"),
                    "proposed_at": h.get("at"),
                    "outcome": d.get("outcome"),
                    "fine_tier": d.get("fine_tier"),
                    "fine_amount": d.get("fine_amount"),
                    "note": d.get("note"),
                },
                True,
            )
        elif h.get("event") in ("approval_granted", "approval_refused", "approval_lapsed", "approval_withdrawn"):
            pending, seen = None, True
    return pending if seen else entry.get("pending_approval")


ACTIONS = (
    "repair",
    "approval",
    "withdraw",
    "determination",
    "petition_decision",
    "court_notice",
    "hearing",
    "guarantee",
    "paper_answer",
)


def _actions(case: dict, entry: dict, ctx: SignedInCtx) -> list[str]:
    """The forms the case's legal state allows (the cases service checks again and answers 409 otherwise)."""
    state = case.get("state")
    history = case.get("history") or []
    out: list[str] = []
    if state == "failed":
        return ["repair"] if ctx.who.is_supervisor else []
    pending = entry.get("pending_approval")
    if pending and ctx.who.is_supervisor:
        out.append("approval")
    if pending and pending.get("proposed_by_sub") == ctx.who.sub and case.get("proposals_withdrawable"):
        out.append("withdraw")  # its proposer takes it back (another supervisor refuses it otherwise)
    if state == "detained":
        # while a proposed determination waits for approval nobody decides again (the court may still act)
        out += ["court_notice"] if entry.get("pending_approval") else ["determination", "court_notice"]
    elif state == "undetermined":
        out.append("court_notice")
    elif state == "hearing":
        out.append("hearing")
    elif state == "seized" and any(s.get("kind") == "petition" for s in case.get("submissions") or []):
        out.append("petition_decision")  # US: the importer petitioned against the seizure
    elif state == "suspended" and any(h.get("event") == "guarantee_insufficient" for h in history):
        out.append("guarantee")
    if state not in TERMINAL:
        out.append("paper_answer")
    return out


KEY_DETAILS = (
    "decision",
    "outcome",
    "fine_tier",
    "kind",
    "name",
    "due_date",
    "amount",
    "required_guarantee",
    "fine",
    "reason",
    "why",
    "method",
    "to",
)


# A notice's channel status when nothing went out on it (none registered, or notify refused the notice).
_NOT_SENT = ("not_configured", "not_sent")


def _describe(lang: str, h: dict) -> dict:
    d = h.get("detail") or {}
    actor = d.get("actor") if isinstance(d.get("actor"), dict) else None
    who = (
        (actor or {}).get("name")
        or d.get("officer")
        or d.get("by")
        or d.get("replied_by")
        or d.get("submitted_by")
        or d.get("received_by")
    )
    if who in ("delivered",):  # served by delivery, not by a person
        who = label(lang, who)
    bits = []
    for key in KEY_DETAILS:
        value = d.get(key)
        if value in (None, "", [], {}):
            continue
        if key in ("decision", "outcome", "fine_tier", "kind", "name", "method"):
            bits.append(label(lang, value))
        elif key == "due_date":
            bits.append(str(value))
        elif key in ("reason", "why") and isinstance(value, str):
            bits.append(reason(lang, value)[:120])
        elif isinstance(value, (str, int, float)):
            bits.append(str(value)[:120])
    event = h.get("event")
    if event in ("notice_sent", "party_notice_sent") and all(d.get(c) in _NOT_SENT for c in ("email", "webhook")):
        event = event.replace("_sent", "_unsent")  # no channel for the addressee: recorded, nothing went out
    return {
        "at": h.get("at"),
        "event": label(lang, event),
        "state": h.get("state"),
        "who": who,
        "what": " · ".join(bits[:4]),
        "notice_id": d.get("notice_id") if h.get("event") == "notice_sent" else None,
    }


def documents_of(notices: list[dict]) -> dict[str, dict]:
    """Each notice's document as sent (notice id -> document), for the links in the timeline."""
    return {
        n["notice_id"]: n["document"]
        for n in notices
        if isinstance(n.get("document"), dict) and n["document"].get("status") == "rendered"
    }


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_detail(case_id: str, ctx: OfficerCtx) -> HTMLResponse:
    return await _case_page(ctx, case_id[:128])


async def _settle(ctx: Ctx, case_id: str, before: dict) -> RedirectResponse:
    """Wait a moment for the case to take the instruction, then show it: the new state, or that it was sent
    (up to 6 s for the workflow to record it, and 2 s more for the state to follow)."""
    grown_at = None
    for i in range(24):
        case = await ctx.api.maybe("cases", f"/v1/cases/{seg(case_id)}")
        if case and case.get("state") != before.get("state"):
            return back(f"/workbench/cases/{case_id}", "moved", state=case["state"])
        if grown_at is None and case and len(case.get("history") or []) > len(before.get("history") or []):
            grown_at = i
        if grown_at is not None and i - grown_at >= 8:
            break
        await asyncio.sleep(0.25)
    return back(f"/workbench/cases/{case_id}", "sent")


async def _case_now(ctx: Ctx, case_id: str) -> dict:
    return await ctx.api.maybe("cases", f"/v1/cases/{seg(case_id)}", default={}) or {}


def _amount(value: str, errors: Errors, name: str, ctx: Ctx) -> str | None:
    if not value:
        return None
    try:
        if Decimal(value) < 0:
            raise InvalidOperation
    except InvalidOperation:
        errors[name] = ctx._("Enter a number.")
        return None
    return value


def _line_numbers(text: str, errors: Errors, ctx: Ctx) -> list[int]:
    """Line numbers typed as "2, 4" (the cases service checks that the case holds them)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not all(p.isdigit() and 1 <= int(p) <= 9999 for p in parts[:100]) or len(parts) > 100:
        errors["lines_cleared"] = ctx._("Enter line numbers of this case, separated by commas.")
        return []
    return sorted({int(p) for p in parts})


@router.post("/cases/{case_id}/act/{action}")
async def act(case_id: str, action: str, ctx: OfficerCtx) -> Response:
    """One officer's instruction on a case, from its form; errors go back beside the fields."""
    case_id = case_id[:128]
    form = await form_of(ctx)
    errors = Errors()
    values = {k: str(v)[:4000] for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    path, body, service = None, None, "cases"
    if action == "determination":
        outcome = errors.need(form, "outcome", ctx)
        if outcome and outcome not in ("infringing", "not_infringing", "cannot_determine"):
            errors["outcome"] = ctx._("This field is required.")
        tier = str(form.get("fine_tier") or "") or None
        if tier and tier not in FINE_TIERS:
            errors["fine_tier"] = ctx._("This field is required.")
        cleared = _line_numbers(str(form.get("lines_cleared") or ""), errors, ctx)
        body = {
            "outcome": outcome,
            "fine_tier": tier if outcome == "infringing" else None,
            "note": str(form.get("note") or "")[:4000] or None,
            "lines": [{"line_no": n, "outcome": "not_infringing"} for n in cleared],
        }
        path = "determination"
    elif action == "petition_decision":
        decision = str(form.get("petition_outcome") or "")
        if decision not in ("granted", "denied"):
            errors["petition_outcome"] = ctx._("This field is required.")
        body = {"outcome": decision, "note": str(form.get("note") or "")[:4000] or None}
        path = "petition-decision"
    elif action == "court_notice":
        body = {
            "reference": errors.need(form, "reference", ctx),
            "court": errors.need(form, "court", ctx),
            "action": str(form.get("court_action") or "keep_detained_for_court"),
            "note": str(form.get("note") or "")[:4000] or None,
        }
        path = "court-notice"
    elif action == "hearing":
        body = {
            "kind": errors.need(form, "kind", ctx),
            "note": str(form.get("note") or "")[:4000] or None,
            "fine_amount": _amount(str(form.get("fine_amount") or "").strip(), errors, "fine_amount", ctx),
        }
        path = "hearing"
    elif action == "guarantee":
        body = {
            "amount": _amount(errors.need(form, "amount", ctx), errors, "amount", ctx),
            "currency": errors.need(form, "currency", ctx).upper(),
            "form": str(form.get("form") or "cash_deposit"),
            "reference": errors.need(form, "reference", ctx),
        }
        path = "guarantee"
    elif action == "paper_answer":
        body = {
            "party": errors.need(form, "party", ctx),
            "kind": errors.need(form, "kind", ctx),
            "text": str(form.get("text") or "")[:8000] or None,
            "reference": str(form.get("reference") or "")[:128] or None,
        }
        path = "submissions"
    elif action == "service":  # a party's notice served by other means (its time limit starts from then)
        notice = str(form.get("notice") or "")[:64]
        method = str(form.get("method") or "")
        if method not in ("post", "in_person", "fax", "other"):
            errors["method"] = ctx._("This field is required.")
        body = {"method": method, "note": str(form.get("note") or "")[:1000] or None}
        path = f"notices/{seg(notice)}/service"
    elif action == "repair":
        body = {"reason": errors.need(form, "reason", ctx)}
        path = "repair"
    elif action == "approval":
        decision = errors.need(form, "decision", ctx)
        body = {"decision": decision, "note": str(form.get("note") or "")[:1000] or None}
        path = "approval"
    elif action == "withdraw":
        body = {"note": str(form.get("note") or "")[:1000] or None}
        path = "approval/withdraw"
    elif action in ("take", "handover", "release"):
        try:
            if action == "release":
                await ctx.api.call("DELETE", "cases", f"/v1/cases/{seg(case_id)}/assignment")
            else:
                to = str(form.get("assignee_sub") or "").strip()[:64] if action == "handover" else ""
                if action == "handover" and not to:
                    errors["assignee_sub"] = ctx._("This field is required.")
                    return await _case_page(ctx, case_id, errors, 422, values)
                await ctx.api.post(
                    "cases",
                    f"/v1/cases/{seg(case_id)}/assignment",
                    {"assignee_sub": to or None, "note": str(form.get("note") or "")[:1000] or None},
                )
        except ApiError as exc:
            return await _case_page(
                ctx,
                case_id,
                {"assignee_sub" if action == "handover" else "_assign": exc.message},
                409 if exc.status == 409 else 422,
                values,
            )
        return back(f"/workbench/cases/{case_id}", "saved")
    else:
        return await _case_page(ctx, case_id, {"_form": ctx._("No action is open in this state.")}, 404)
    if errors:
        return await _case_page(
            ctx, case_id, {**errors, "_" + action: ctx._("Check the fields marked below.")}, 422, values
        )
    before = await _case_now(ctx, case_id)
    try:
        await ctx.api.post(service, f"/v1/cases/{seg(case_id)}/{path}", body)
    except ApiError as exc:
        fields = exc.field_errors(ctx._)
        return await _case_page(
            ctx, case_id, {**fields, "_" + action: exc.page_message(ctx._)}, 422 if exc.status < 500 else 502, values
        )
    return await _settle(ctx, case_id, before)


@router.get("/cases/{case_id}/access-code")
async def access_code_page(case_id: str) -> RedirectResponse:
    """The page a code was shown on, opened again: the case (a code is shown once only)."""
    return RedirectResponse(f"/workbench/cases/{quote(case_id[:128], safe='')}#parties", status_code=303)


@router.post("/cases/{case_id}/access-code", response_class=HTMLResponse)
async def issue_access_code(case_id: str, ctx: OfficerCtx) -> HTMLResponse:
    """A case access code for a party without an account, shown on the page once (never stored here)."""
    case_id = case_id[:128]
    form = await form_of(ctx)
    party_id = str(form.get("party_id") or "").strip()[:64]
    days_text = str(form.get("valid_days") or "14").strip()[:4]
    values = {"valid_days": days_text}
    if not party_id:
        return await _case_page(ctx, case_id, {"_access_code": ctx._("This field is required.")}, 422, values)
    if not days_text.isdigit() or not 1 <= int(days_text) <= 60:
        return await _case_page(
            ctx, case_id, {"valid_days": ctx._("A whole number of days from 1 to 60.")}, 422, values
        )
    try:
        issued = await ctx.api.post(
            "cases", f"/v1/cases/{seg(case_id)}/access-codes", {"party_id": party_id, "valid_days": int(days_text)}
        )
    except ApiError as exc:
        return await _case_page(
            ctx,
            case_id,
            {"_access_code": exc.page_message(ctx._)},
            exc.status if 400 <= exc.status < 500 else 502,
            values,
        )
    return await _case_page(ctx, case_id, issued=issued)


@router.post("/cases/{case_id}/access-codes/{access_id}/revoke")
async def revoke_access_code(case_id: str, access_id: str, ctx: OfficerCtx) -> Response:
    case_id = case_id[:128]
    await form_of(ctx)
    try:
        await ctx.api.post("cases", f"/v1/cases/{seg(case_id)}/access-codes/{seg(access_id[:32])}/revoke", {})
    except ApiError as exc:
        return await _case_page(
            ctx, case_id, {"_access_code": exc.page_message(ctx._)}, exc.status if 400 <= exc.status < 500 else 502
        )
    return back(f"/workbench/cases/{case_id}#parties", "saved")


@router.post("/escalations/{escalation_id}/resolve")
async def resolve_escalation(escalation_id: str, ctx: OfficerCtx) -> Response:
    """An officer's task done by hand (a refused step carried out, a failing step seen to): recorded with the
    note and who did it. A failed case is not resolved here: a supervisor repairs it."""
    form = await form_of(ctx)
    case_id = str(form.get("case_id") or "").strip()[:128]
    key = f"escalation_{escalation_id[:12]}"
    note = str(form.get("note") or "").strip()
    if not escalation_id.isdigit() or not 1 <= int(escalation_id) < 2**31:
        return ctx.render("error.html", status=404, title=ctx._("Not found"), message=ctx._("No such escalation."))
    if len(note) < 3:
        errors = {key: ctx._("Say what was done (at least 3 characters).")}
        if case_id:
            return await _case_page(ctx, case_id, errors, 422, {key: note})
        return back("/workbench", "need_note", kind="error")
    try:
        await ctx.api.post("cases", f"/v1/escalations/{int(escalation_id)}/resolve", {"note": note[:1000]})
    except ApiError as exc:
        if case_id:
            return await _case_page(ctx, case_id, {key: exc.message}, 409 if exc.status == 409 else 422, {key: note})
        return back("/workbench", "not_resolved", kind="error")
    return back(f"/workbench/cases/{case_id}" if case_id and form.get("from") == "case" else "/workbench", "resolved")


# ---------------------------------------------------------------- evidence


@router.post("/cases/{case_id}/evidence")
async def upload_evidence(case_id: str, ctx: OfficerCtx) -> Response:
    case_id = case_id[:128]
    form = await form_of(ctx)
    try:
        await ctx.api.get("cases", f"/v1/cases/{seg(case_id)}/workbench")  # the officer may act on the case
    except ApiError as exc:
        return await _case_page(ctx, case_id, {"file": exc.message}, exc.status if exc.status < 500 else 502)
    if (await _case_now(ctx, case_id)).get("state") in TERMINAL:
        return await _case_page(
            ctx, case_id, {"file": ctx._("The case is closed; nothing more can be added to it.")}, 409
        )
    errors = await store_upload(ctx, form, purpose="evidence", case_id=case_id, owner=case_id)
    if errors:
        return await _case_page(ctx, case_id, errors, 422, {"note": str(form.get("note") or "")[:1000]})
    return back(f"/workbench/cases/{case_id}#evidence", "stored")


async def store_upload(
    ctx: SignedInCtx,
    form: FormData,
    *,
    purpose: str,
    owner: str,
    case_id: str | None = None,
    holder_id: str | None = None,
    recordation_id: str | None = None,
    field: str = "file",
) -> dict[str, str]:
    """Check and store one uploaded file; answers the errors by field, or nothing when stored."""
    upload = form.get(field)
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
        return {field: ctx._("Choose a file.")}
    settings = ctx.request.app.state.settings
    data = await upload.read(settings.max_upload_bytes + 1)
    try:
        # decoding a large photo takes a while: off the event loop
        mime, name = await asyncio.to_thread(storage.check, data, upload.filename, settings.max_upload_bytes)
    except storage.UploadRefused as exc:
        msg = {
            "file_too_large": "The file is larger than 20 MB.",
            "corrupt_file": "The file is damaged or incomplete: it is not a whole photo or PDF document.",
            "image_too_large": "The image is too large (at most 120 million pixels).",
        }.get(exc.code, "Only photos (JPEG, PNG, WebP) and PDF documents are accepted.")
        return {field: ctx._(msg)}
    key = storage.new_key(purpose, owner, mime)
    try:
        await ctx.request.app.state.store.put(key, data, mime)
    except storage.StoreError as exc:
        return {field: f"{ctx._('Something went wrong')}: {type(exc).__name__}"}
    row = StoredFile(
        object_key=key,
        purpose=purpose,
        case_id=case_id,
        holder_id=holder_id,
        recordation_id=recordation_id,
        filename=name,
        content_type=mime,
        size=len(data),
        sha256=storage.sha256(data),
        note=str(form.get("note") or "")[:1000] or None,
        uploaded_by=f"{ctx.who.name} ({ctx.who.sub})"[:128],
        uploaded_by_sub=ctx.who.sub,
        uploaded_at=datetime.now(UTC),
    )
    ctx.session.add(row)
    await ctx.session.commit()
    ctx.request.state.stored = row
    return {}


# ---------------------------------------------------------------- bulk work


BULK = {"take": None, "infringing": "infringing", "not_infringing": "not_infringing"}


@router.post("/bulk", response_class=HTMLResponse)
async def bulk(ctx: OfficerCtx) -> HTMLResponse:
    """One action on many cases (parcels of a manifest, one holder's cases): each case is sent and recorded on its
    own and refused on its own where its state does not allow it."""
    form = await form_of(ctx)
    ids = [str(v)[:128] for v in form.getlist("case_id")][:500]
    action = str(form.get("action") or "")
    tier = str(form.get("fine_tier") or "") or None
    errors: dict[str, str] = {}
    if not ids:
        errors["case_id"] = ctx._("Select at least one case.")
    if action not in BULK:
        errors["action"] = ctx._("Choose an action.")
    if errors:
        return ctx.render("workbench/bulk.html", status=422, results=[], errors=errors, action=action)
    sem = asyncio.Semaphore(8)

    async def one(case_id: str) -> dict:
        async with sem:
            try:
                if action == "take":
                    await ctx.api.post("cases", f"/v1/cases/{seg(case_id)}/assignment", {})
                else:
                    await ctx.api.post(
                        "cases",
                        f"/v1/cases/{seg(case_id)}/determination",
                        {
                            "outcome": BULK[action],
                            "fine_tier": tier if action == "infringing" else None,
                            "note": str(form.get("note") or "")[:4000] or None,
                        },
                    )
                return {"case_id": case_id, "ok": True, "message": ""}
            except ApiError as exc:
                return {"case_id": case_id, "ok": False, "message": exc.message}

    results = await asyncio.gather(*(one(i) for i in ids))
    return ctx.render(
        "workbench/bulk.html",
        results=results,
        errors={},
        action=action,
        ok=sum(r["ok"] for r in results),
        bad=sum(not r["ok"] for r in results),
    )


# ---------------------------------------------------------------- statistics

DIMENSIONS = ("mark", "holder", "route", "direction", "transport_mode", "office", "period", "jurisdiction")
PERIODS = ("month", "quarter", "year")


def _choice(value: str | None, allowed: tuple[str, ...], default: str) -> str:
    """The value asked for when it is one of those allowed, else the default."""
    return value if value is not None and value in allowed else default


@router.get("/statistics")
async def statistics(ctx: OfficerCtx) -> Response:
    q = ctx.request.query_params
    by = _choice(q.get("by"), DIMENSIONS, "mark")
    period = _choice(q.get("period"), PERIODS, "month")
    params = {"by": by, "period": period, "from": q.get("from", "")[:10], "to": q.get("to", "")[:10]}
    errors: dict[str, str] = {}
    for name, allowed in (("by", DIMENSIONS), ("period", PERIODS)):
        if q.get(name) and q.get(name) not in allowed:  # said, not silently replaced by the default
            errors[name] = ctx._("Choose one of the options.")
    for name in ("from", "to"):
        if params[name]:
            try:
                datetime.strptime(params[name], "%Y-%m-%d")
            except ValueError:
                errors[name] = ctx._("Enter a date (YYYY-MM-DD).")
                params[name] = ""
    if params["from"] and params["to"] and params["from"] > params["to"] and "from" not in errors:
        errors["to"] = ctx._("The end is before the start.")
    try:
        data = await ctx.api.get("cases", "/v1/statistics/seizures", **params)
    except ApiError as exc:
        data, errors["_form"] = {"rows": [], "totals": {}}, exc.message
    if q.get("format") == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow([by, "cases", "lines", "items", "value_cny"])
        for r in data["rows"]:
            w.writerow([_csv_safe(r["key"]), r["cases"], r["lines"], r["items"], r["value_cny"]])
        if data.get("totals"):
            t = data["totals"]
            w.writerow(["total", t["cases"], t["lines"], t["items"], t["value_cny"]])
        name = f"seizures-by-{by}{'-' + params['from'] if params['from'] else ''}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    selections, profiles = await asyncio.gather(
        ctx.api.maybe("cases", "/v1/statistics/selections", default={"profiles": [], "campaigns": []}),
        ctx.api.maybe("risk", "/v1/profiles", default=[]),
    )
    hits = {p.get("profile_id"): p.get("hits", 0) for p in profiles or []}
    rates = []
    for kind in ("profiles", "campaigns"):
        for s in selections.get(kind, []):
            h = hits.get(s["id"]) if kind == "profiles" else None
            rates.append({**s, "kind": kind, "hits": h, "rate": f"{100 * s['seized'] / h:.1f} %" if h else None})
    return ctx.render(
        "workbench/statistics.html",
        data=data,
        by=by,
        period=period,
        params=params,
        errors=errors,
        dimensions=DIMENSIONS,
        periods=PERIODS,
        rates=rates,
    )


def _csv_safe(value: str) -> str:
    """No spreadsheet formulas from data (a mark or holder name starting with = + - @)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# ---------------------------------------------------------------- recordation applications (supervisors approve)


@router.get("/recordations", response_class=HTMLResponse)
async def recordations(ctx: OfficerCtx) -> HTMLResponse:
    pending = await ctx.api.maybe("risk", "/v1/recordations", default=[], status="pending")
    return ctx.render("workbench/recordations.html", pending=pending, errors={})


@router.post("/recordations/{recordation_id}/{decision}")
async def decide_recordation(recordation_id: str, decision: str, ctx: OfficerCtx) -> Response:
    form = await form_of(ctx)
    if decision not in ("approve", "refuse"):
        return RedirectResponse("/workbench/recordations", status_code=303)
    reason = str(form.get("reason") or "").strip()[:2000]
    body: dict[str, Any] = {"reason": reason or None}
    try:
        await ctx.api.post("risk", f"/v1/recordations/{seg(recordation_id[:64])}/{decision}", body)
    except ApiError as exc:
        pending = await ctx.api.maybe("risk", "/v1/recordations", default=[], status="pending")
        return ctx.render(
            "workbench/recordations.html",
            status=409 if exc.status == 409 else 422,
            pending=pending,
            errors={recordation_id: exc.message},
        )
    return back("/workbench/recordations", "saved")


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
async def notice(notice_id: str, ctx: OfficerCtx) -> HTMLResponse:
    return await notice_page(ctx, notice_id[:64], "/workbench/cases/")


async def notice_page(ctx: Ctx, notice_id: str, case_base: str) -> HTMLResponse:
    """A notice as it was sent, with its deliveries and, where notify keeps them, its documents (HTML, PDF)."""
    try:
        found = await ctx.api.get("notify", f"/v1/notices/{seg(notice_id)}")
    except ApiError as exc:
        return ctx.render("error.html", status=404, title=ctx._("Not found"), message=exc.message)
    # times in the case's own time zone, as on its case page
    case = await ctx.api.maybe("cases", f"/v1/cases/{seg(found['case_id'])}") or {}
    return ctx.render(
        "workbench/notice.html", notice=found, back_to=f"{case_base}{seg(found['case_id'])}", tz=case.get("timezone")
    )
