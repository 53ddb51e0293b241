"""The rights-holder portal: own cases, notices and replies, guarantees, identification answers, recordations
with their product identification guide, EU applications for action, webhook keys and the delivery log."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from services.web.apis import ApiError, seg
from services.web.models import StoredFile
from services.web.pages import Ctx, Errors, HolderCtx, SignedInCtx, back, form_of
from services.web.workbench import TERMINAL, _describe, documents_of, store_upload

router = APIRouter(prefix="/portal", include_in_schema=False)
RID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")


@router.get("", response_class=HTMLResponse)
async def cases(ctx: HolderCtx) -> HTMLResponse:
    listed = await ctx.api.maybe("cases", "/v1/cases", default=[], limit=100)
    details = await asyncio.gather(*(ctx.api.maybe("cases", f"/v1/cases/{seg(c['case_id'])}") for c in listed[:50]))
    rows = []
    for c, d in zip(listed, [*details, *[None] * max(0, len(listed) - 50)], strict=True):
        pending = [x for x in (d or {}).get("deadlines", []) if x.get("status") == "pending"]
        rows.append(
            {
                **c,
                "state": (d or {}).get("state", c["state"]),
                "next": min(pending, key=lambda x: x["due_at"]) if pending else None,
                "timezone": (d or {}).get("timezone"),
            }
        )
    return ctx.render("portal/cases.html", rows=rows)


async def _case_page(
    ctx: SignedInCtx,
    case_id: str,
    errors: dict | None = None,
    status: int = 200,
    values: dict | None = None,
    new_key: str | None = None,
) -> HTMLResponse:
    try:
        case = await ctx.api.get("cases", f"/v1/cases/{seg(case_id)}")
    except ApiError as exc:
        return ctx.render(
            "error.html", status=404 if exc.status in (403, 404) else 502, title=ctx._("Not found"), message=exc.message
        )
    notices, guarantee = await asyncio.gather(
        ctx.api.maybe("notify", "/v1/notices", default=[], case_id=case_id),
        ctx.api.maybe("guarantees", f"/v1/case-guarantees/{seg(case_id)}"),
    )
    files = (
        (
            await ctx.session.execute(
                select(StoredFile)
                .where(StoredFile.case_id == case_id, StoredFile.holder_id == ctx.who.holder_id)
                .order_by(StoredFile.id)
            )
        )
        .scalars()
        .all()
    )
    history = case.get("history") or []
    state = case.get("state")
    reply_notice = next((n for n in notices if n.get("reply_allowed") and not n.get("reply")), None)
    refused = any(h.get("event") == "guarantee_insufficient" for h in history)
    actions = []
    if state == "suspended" and reply_notice:
        actions.append("reply")
    if state == "suspended" and (
        refused or any(n.get("reply", {}) and (n.get("reply") or {}).get("decision") == "detain" for n in notices)
    ):
        actions.append("guarantee")
    if state == "awaiting_application":
        actions.append("application")
    if state not in TERMINAL and state != "failed":
        actions.append("identification")
    return ctx.render(
        "portal/case.html",
        status=status,
        case=case,
        notices=notices,
        documents=documents_of(notices),
        guarantee=guarantee,
        files=files,
        actions=actions,
        reply_notice=reply_notice,
        errors=errors or {},
        values=values or {},
        timeline=[_describe(ctx.lang, h) for h in history if not h.get("event", "").startswith("deadline_")],
        tz=case.get("timezone"),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_detail(case_id: str, ctx: HolderCtx) -> HTMLResponse:
    return await _case_page(ctx, case_id[:128])


def _money(value: str, errors: Errors, name: str, ctx: Ctx) -> str:
    try:
        amount = Decimal(value)
        if not amount.is_finite() or amount <= 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        if value:
            errors[name] = ctx._("Enter a number.")
        return value
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        errors[name] = ctx._("At most 2 decimals.")
    return value


async def _at_least_required(ctx: Ctx, case_id: str, amount: str, currency: str, errors: Errors) -> None:
    """A guarantee in CNY below what the case requires is refused beside the field at once, not later as a
    refusal notice (the cases service checks again, and converts other currencies)."""
    if "amount" in errors or currency != "CNY":
        return
    case = await ctx.api.maybe("cases", f"/v1/cases/{seg(case_id)}")
    required = (case or {}).get("required_guarantee_cny")
    try:
        short = required is not None and Decimal(amount) < Decimal(str(required))
    except (InvalidOperation, ValueError):
        return
    if short:
        errors["amount"] = ctx._("At least the required guarantee: CNY {amount}.", amount=str(required))


@router.post("/cases/{case_id}/{action}")
async def act(case_id: str, action: str, ctx: HolderCtx) -> Response:
    case_id = case_id[:128]
    form = await form_of(ctx)
    values = {k: str(v)[:4000] for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    errors = Errors()
    try:
        if action == "reply":
            notice_id = errors.need(form, "notice_id", ctx)
            decision = errors.need(form, "decision", ctx)
            body: dict[str, Any] = {"decision": decision, "statement": str(form.get("statement") or "")[:4000] or None}
            if decision == "detain":
                body["guarantee"] = {
                    "amount": _money(errors.need(form, "amount", ctx), errors, "amount", ctx),
                    "currency": errors.need(form, "currency", ctx).upper()[:3],
                    "form": str(form.get("form") or "cash_deposit"),
                    "reference": errors.need(form, "reference", ctx)[:128],
                }
                g = body["guarantee"]
                await _at_least_required(ctx, case_id, g["amount"], g["currency"], errors)
            if errors:
                return await _case_page(
                    ctx, case_id, {**errors, "_reply": ctx._("Check the fields marked below.")}, 422, values
                )
            await ctx.api.post("notify", f"/v1/notices/{seg(notice_id[:64])}/reply", body)
            return back(f"/portal/cases/{case_id}", "replied")
        if action == "guarantee":
            body = {
                "amount": _money(errors.need(form, "amount", ctx), errors, "amount", ctx),
                "currency": errors.need(form, "currency", ctx).upper()[:3],
                "form": str(form.get("form") or "cash_deposit"),
                "reference": errors.need(form, "reference", ctx),
            }
            await _at_least_required(ctx, case_id, body["amount"], body["currency"], errors)
            if errors:
                return await _case_page(
                    ctx, case_id, {**errors, "_guarantee": ctx._("Check the fields marked below.")}, 422, values
                )
            await ctx.api.post("cases", f"/v1/cases/{seg(case_id)}/guarantee", body)
            return back(f"/portal/cases/{case_id}", "sent")
        if action == "application":
            ref = errors.need(form, "reference", ctx)
            if errors:
                return await _case_page(ctx, case_id, errors, 422, values)
            await ctx.api.post(
                "cases",
                f"/v1/cases/{seg(case_id)}/submissions",
                {
                    "party": "holder",
                    "kind": "application_for_action",
                    "reference": ref[:128],
                    "text": str(form.get("text") or "")[:8000] or None,
                },
            )
            return back(f"/portal/cases/{case_id}", "sent")
        if action == "identification":
            await ctx.api.get("cases", f"/v1/cases/{seg(case_id)}")  # its own case, or 404
            stored = await store_upload(
                ctx, form, purpose="holder_answer", owner=case_id, case_id=case_id, holder_id=ctx.who.holder_id
            )
            if stored:
                return await _case_page(ctx, case_id, stored, 422, values)
            return back(f"/portal/cases/{case_id}", "stored")
    except ApiError as exc:
        return await _case_page(
            ctx,
            case_id,
            {**exc.field_errors(ctx._), f"_{action}": exc.page_message(ctx._)},
            422 if exc.status < 500 else 502,
            values,
        )
    return await _case_page(ctx, case_id, {"_form": ctx._("No action is open in this state.")}, 404)


# ---------------------------------------------------------------- guarantees


@router.get("/guarantees", response_class=HTMLResponse)
async def guarantees(ctx: HolderCtx) -> HTMLResponse:
    general = await ctx.api.maybe("guarantees", "/v1/general-guarantees", default=[])
    return ctx.render("portal/guarantees.html", general=general)


# ---------------------------------------------------------------- recordations


@router.get("/recordations", response_class=HTMLResponse)
async def recordations(ctx: HolderCtx) -> HTMLResponse:
    rows = await ctx.api.maybe("risk", "/v1/recordations", default=[])
    return ctx.render("portal/recordations.html", rows=rows)


@router.get("/recordations/new", response_class=HTMLResponse)
async def new_recordation(ctx: HolderCtx) -> HTMLResponse:
    return ctx.render(
        "portal/recordation_form.html", errors={}, values={"jurisdiction": "CN", "right_type": "trademark"}
    )


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.replace("\r", "").split("\n") if ln.strip()]


def _guide(form: FormData, errors: Errors, ctx: Ctx, images: list[dict]) -> dict:
    """The identification guide from its form fields (one item a line; fields of an item split by ';')."""
    prices, routes = [], []
    for ln in _lines(str(form.get("genuine_prices") or "")):
        parts = [p.strip() for p in ln.split(";")]
        try:
            product, market, price, currency = parts
            Decimal(price)
            prices.append({"product": product, "market": market, "price": price, "currency": currency.upper()})
        except (ValueError, InvalidOperation):
            errors["genuine_prices"] = ctx._("Each line needs: {what}.", what="product; market; price; currency")
    for ln in _lines(str(form.get("usual_routes") or "")):
        parts = [p.strip() for p in ln.split(";")] + ["", ""]
        routes.append(
            {
                "origin_country": parts[0].upper() or None,
                "destination_country": parts[1].upper() or None,
                "transport_mode": parts[2].lower() or None,
            }
        )
    return {
        "genuine_features": _lines(str(form.get("genuine_features") or "")),
        "fake_features": _lines(str(form.get("fake_features") or "")),
        "images": images,
        "genuine_prices": prices,
        "usual_routes": routes,
        "contact": str(form.get("contact") or "").strip()[:256] or None,
    }


async def _guide_image(ctx: SignedInCtx, form: FormData, errors: Errors, rid: str) -> list[dict]:
    upload = form.get("image")
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", ""):
        return []
    stored = await store_upload(
        ctx, form, purpose="guide", owner=rid, holder_id=ctx.who.holder_id, recordation_id=rid, field="image"
    )
    if stored:
        errors.update(stored)
        return []
    row: StoredFile = ctx.request.state.stored
    return [
        {
            "object_key": row.object_key,
            "caption": str(form.get("caption") or "")[:256],
            "shows": "genuine",
            "content_type": row.content_type,
        }
    ]


@router.post("/recordations/new")
async def apply(ctx: HolderCtx) -> Response:
    form = await form_of(ctx)
    values = {k: str(v)[:4000] for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    errors = Errors()
    rid = errors.need(form, "recordation_id", ctx)
    if rid and not RID.match(rid):
        errors["recordation_id"] = ctx._("Use 3-64 letters, digits, dots, dashes.")
    title = errors.need(form, "title", ctx)
    reg = errors.need(form, "registration_number", ctx)
    email = errors.need(form, "contact_email", ctx)
    hs = _lines(str(form.get("goods_hs_prefixes") or ""))
    if not hs:
        errors["goods_hs_prefixes"] = ctx._("This field is required.")
    dates = {}
    for name in ("valid_from", "valid_until"):
        value = errors.need(form, name, ctx)
        try:
            dates[name] = date.fromisoformat(value).isoformat() if value else None
        except ValueError:
            errors[name] = ctx._("Enter a date (YYYY-MM-DD).")
    licensees = []
    for ln in _lines(str(form.get("licensees") or "")):
        parts = [p.strip() for p in ln.split(";")]
        if len(parts) != 2 or not all(parts):
            errors["licensees"] = ctx._("Each line needs: {what}.", what="id; name")
        else:
            licensees.append({"id": parts[0], "name": parts[1]})
    if errors:
        return ctx.render(
            "portal/recordation_form.html",
            status=422,
            errors={**errors, "_form": ctx._("Check the fields marked below.")},
            values=values,
        )
    images = await _guide_image(ctx, form, errors, rid)
    guide = _guide(form, errors, ctx, images)
    if errors:
        return ctx.render(
            "portal/recordation_form.html",
            status=422,
            errors={**errors, "_form": ctx._("Check the fields marked below.")},
            values=values,
        )
    me = await ctx.api.maybe("risk", "/v1/recordations", default=[])
    holder_name = next((r["holder"]["name"] for r in me if r.get("holder")), ctx.who.name)
    body = {
        "recordation_id": rid,
        "jurisdiction": str(form.get("jurisdiction") or "CN"),
        "right_type": str(form.get("right_type") or "trademark"),
        "title": title,
        "registration_number": reg,
        "aliases": _lines(str(form.get("aliases") or "")),
        "holder": {"id": ctx.who.holder_id, "name": holder_name, "contact_email": email},
        "goods_hs_prefixes": hs,
        "authorized_licensees": licensees,
        "valid_from": dates["valid_from"],
        "valid_until": dates["valid_until"],
        "status": "pending",
        "identification_guide": guide,
    }
    try:
        await ctx.api.post("risk", "/v1/recordations", body)
    except ApiError as exc:
        return ctx.render(
            "portal/recordation_form.html",
            status=422 if exc.status < 500 else 502,
            errors={**exc.field_errors(ctx._), "_form": exc.page_message(ctx._)},
            values=values,
        )
    return back(f"/portal/recordations/{rid}", "applied")


async def _recordation_page(ctx: Ctx, rid: str, errors: dict | None = None, status: int = 200) -> HTMLResponse:
    try:
        rec = await ctx.api.get("risk", f"/v1/recordations/{seg(rid)}")
    except ApiError as exc:
        return ctx.render("error.html", status=404, title=ctx._("Not found"), message=exc.message)
    return ctx.render(
        "portal/recordation.html",
        status=status,
        rec=rec,
        guide=rec.get("identification_guide") or {},
        errors=errors or {},
    )


@router.get("/recordations/{rid}", response_class=HTMLResponse)
async def recordation(rid: str, ctx: HolderCtx) -> HTMLResponse:
    return await _recordation_page(ctx, rid[:64])


@router.post("/recordations/{rid}/{action}")
async def change(rid: str, action: str, ctx: HolderCtx) -> Response:
    rid = rid[:64]
    form = await form_of(ctx)
    errors = Errors()
    try:
        if action == "guide":
            rec = await ctx.api.get("risk", f"/v1/recordations/{seg(rid)}")
            old = rec.get("identification_guide") or {}
            images = [*(old.get("images") or []), *await _guide_image(ctx, form, errors, rid)]
            guide = _guide(form, errors, ctx, images)
            if errors:
                return await _recordation_page(ctx, rid, errors, 422)
            await ctx.api.post(
                "risk",
                f"/v1/recordations/{seg(rid)}/amend",
                {"changes": {"identification_guide": guide}, "reason": "guide updated by the holder"},
            )
        elif action == "renew":
            await ctx.api.post(
                "risk", f"/v1/recordations/{seg(rid)}/renew", {"reason": "renewal requested by the holder"}
            )
        else:
            return await _recordation_page(ctx, rid, {"_form": ctx._("No action is open in this state.")}, 404)
    except ApiError as exc:
        return await _recordation_page(
            ctx, rid, {**exc.field_errors(ctx._), f"_{action}": exc.page_message(ctx._)}, 422
        )
    return back(f"/portal/recordations/{rid}", "saved")


# ---------------------------------------------------------------- webhooks


@router.get("/webhooks", response_class=HTMLResponse)
async def webhooks(
    ctx: HolderCtx, new_secret: str | None = None, errors: dict | None = None, status: int = 200
) -> HTMLResponse:
    hid = seg(ctx.who.holder_id or "-")
    settings, deliveries = await asyncio.gather(
        ctx.api.maybe("notify", f"/v1/recipients/rights_holder/{hid}/webhook"),
        ctx.api.maybe("notify", "/v1/deliveries", default=[], limit=50),
    )
    return ctx.render(
        "portal/webhooks.html",
        status=status,
        settings=settings,
        deliveries=deliveries,
        new_secret=new_secret,
        errors=errors or {},
    )


@router.post("/webhooks/rotate", response_class=HTMLResponse)
async def rotate(ctx: HolderCtx) -> HTMLResponse:
    form = await form_of(ctx)
    raw = str(form.get("overlap_hours") or "").strip()
    body: dict[str, Any] = {}
    if raw:
        try:
            hours = float(raw)
            if not 0 <= hours <= 168:
                raise ValueError
            body["overlap_hours"] = hours
        except ValueError:
            return await webhooks(ctx, errors={"overlap_hours": "0–168"}, status=422)
    try:
        answer = await ctx.api.post(
            "notify", f"/v1/recipients/rights_holder/{seg(ctx.who.holder_id or '-')}/webhook/rotate-key", body
        )
    except ApiError as exc:
        return await webhooks(ctx, errors={"_form": exc.page_message(ctx._)}, status=422)
    # The secret is shown once, in this answer only (never stored by the pages, never in an address).
    response = await webhooks(ctx, new_secret=answer.get("secret"))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
async def notice(notice_id: str, ctx: HolderCtx) -> HTMLResponse:
    from services.web.workbench import notice_page

    return await notice_page(ctx, notice_id[:64], "/portal/cases/")
