"""Use cases of the guarantees service: register general guarantees, secure cases, charge costs, settle.

Each use case runs inside the caller's transaction (one per request). Balances change only
under a row lock, and every change leaves an audit entry.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter as Tally
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.guarantees import domain
from services.guarantees.models import AuditEntry, CaseCost, CaseGuarantee, GeneralGuarantee, GuaranteeMovement
from services.guarantees.settings import Settings
from shared.contracts.bounds import MONEY_MAX
from shared.contracts.guarantees import (
    ChargeCostRequest,
    GeneralGuaranteeV1,
    HoldGuaranteeRequest,
    HoldGuaranteeResult,
    SettleGuaranteeRequest,
    SettleGuaranteeResult,
)
from shared.contracts.jurisdictions import SUPPORTED_JURISDICTIONS
from shared.errors import Conflict, NotFound, Refused
from shared.rules.calendar import calendar_for

log = logging.getLogger(__name__)

HOLDS = Counter("ipr_guarantee_holds_total", "Case guarantees held", ["form"])
REFUSALS = Counter("ipr_guarantee_refusals_total", "Case guarantee requests refused", ["form", "code"])
SETTLEMENTS = Counter("ipr_guarantee_settlements_total", "Case guarantees settled", ["form"])
COSTS = Counter("ipr_guarantee_costs_total", "Costs recorded against case guarantees", ["kind"])
CHARGED = Counter("ipr_guarantee_charged_amount_total", "Sum charged to guarantees at settlement", ["currency"])
REFUNDED = Counter("ipr_guarantee_refunded_amount_total", "Sum refunded (or restored) at settlement", ["currency"])
UNPAID = Counter("ipr_guarantee_unpaid_amount_total", "Costs the guarantee could not cover, to claim", ["currency"])
BALANCE = Gauge(
    "ipr_guarantee_general_balance",
    "Balance left on a general guarantee whose letter is valid",
    ["guarantee_id", "holder_id", "currency"],
)
ALERTS = Gauge("ipr_guarantee_alerts", "Open guarantee alerts", ["kind"])
ALERT_KINDS = ("low_balance", "coverage_ending", "letter_expiring", "unpaid_costs", "costs_exceed_guarantee")

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_in(jurisdiction: str, now: datetime | None = None) -> date:
    """Today's date in the jurisdiction's time zone (coverage and letters run by local date)."""
    return calendar_for(jurisdiction).local_date(now or now_utc())


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _str(value: Decimal | None) -> str | None:
    return str(domain.money(value)) if value is not None else None


def _unprocessable(code: str, message: str, details: Any = None) -> Refused:
    return Refused(code, message, details)


MAX_AMOUNT = MONEY_MAX  # the contracts' bound (10^12): far above any guarantee, well within NUMERIC(18, 2)


def check_fields(
    *,
    jurisdiction: str | None = None,
    currency: str | None = None,
    required: dict[str, tuple[str, int]] | None = None,
    optional: dict[str, tuple[str, int]] | None = None,
    amounts: dict[str, Decimal] | None = None,
) -> None:
    """Checks the v1 contracts leave to the service (kept out of the contract so it stays additive)."""
    if jurisdiction is not None and jurisdiction not in SUPPORTED_JURISDICTIONS:
        raise _unprocessable("unknown_jurisdiction", f"jurisdiction {jurisdiction!r} is not supported")
    if currency is not None and not _CURRENCY.match(currency):
        raise _unprocessable("schema_violation", f"currency {currency!r} is not an ISO 4217 code")
    for name, (value, limit) in (required or {}).items():
        if not value or len(value) > limit:
            raise _unprocessable("schema_violation", f"{name} must have 1 to {limit} characters")
    for name, (value, limit) in (optional or {}).items():
        if len(value) > limit:
            raise _unprocessable("schema_violation", f"{name} must have at most {limit} characters")
    for name, amount in (amounts or {}).items():
        if amount > MAX_AMOUNT:
            raise _unprocessable("schema_violation", f"{name} must not exceed {MAX_AMOUNT:,}")


async def _audit(
    session: AsyncSession, *, entity: str, entity_id: str, action: str, actor: str, detail: dict[str, Any], at: datetime
) -> None:
    session.add(AuditEntry(entity=entity, entity_id=entity_id, action=action, actor=actor, detail=detail, at=at))


# ---------------------------------------------------------------- general guarantees


def general_view(g: GeneralGuarantee) -> dict[str, Any]:
    return {
        "guarantee_id": g.guarantee_id,
        "holder_id": g.holder_id,
        "jurisdiction": g.jurisdiction,
        "amount": _str(g.amount),
        "currency": g.currency,
        "balance": _str(g.balance),
        "used": _str(g.amount - g.balance),  # drawn for open cases plus costs charged
        "coverage_from": _iso(g.coverage_from),
        "coverage_until": _iso(g.coverage_until),
        "letter_expires_on": _iso(g.letter_expires_on),
        "issuer": g.issuer,
        "reference": g.reference,
        "registered_by": g.registered_by,
        "registered_at": _iso(g.created_at),
        "updated_at": _iso(g.updated_at),
    }


async def register_general(
    session: AsyncSession, *, body: GeneralGuaranteeV1, settings: Settings, actor: str
) -> tuple[int, dict[str, Any]]:
    """Register a holder's general guarantee with its whole amount as balance."""
    check_fields(jurisdiction=body.jurisdiction, amounts={"amount": body.amount})
    problems = domain.registration_problems(
        jurisdiction=body.jurisdiction,
        amount=body.amount,
        currency=body.currency,
        coverage_from=body.coverage_from,
        coverage_until=body.coverage_until,
        letter_expires_on=body.letter_expires_on,
        cn_min_amount_cny=settings.general_guarantee_min_cny,
    )
    if problems:
        raise _unprocessable(
            problems[0][0], "; ".join(m for _, m in problems), [{"code": c, "message": m} for c, m in problems]
        )
    if await session.get(GeneralGuarantee, body.guarantee_id) is not None:
        raise Conflict("guarantee_exists", f"general guarantee {body.guarantee_id} is already registered")
    now = now_utc()
    amount = domain.money(body.amount)
    g = GeneralGuarantee(
        guarantee_id=body.guarantee_id,
        holder_id=body.holder_id,
        jurisdiction=body.jurisdiction,
        amount=amount,
        currency=body.currency,
        balance=amount,
        coverage_from=body.coverage_from,
        coverage_until=body.coverage_until,
        letter_expires_on=body.letter_expires_on,
        issuer=body.issuer,
        reference=body.reference,
        registered_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(g)
    await _audit(
        session,
        entity="general_guarantee",
        entity_id=g.guarantee_id,
        action="registered",
        actor=actor,
        detail=body.model_dump(mode="json"),
        at=now,
    )
    await session.flush()
    BALANCE.labels(g.guarantee_id, g.holder_id, g.currency).set(float(g.balance))
    return 201, general_view(g)


async def general_details(session: AsyncSession, g: GeneralGuarantee) -> dict[str, Any]:
    """A general guarantee with its draws (and refunds) and its audit history."""
    moves = (
        await session.execute(
            select(GuaranteeMovement)
            .where(GuaranteeMovement.guarantee_id == g.guarantee_id)
            .order_by(GuaranteeMovement.id)
        )
    ).scalars()
    return {
        **general_view(g),
        "draws": [
            {
                "kind": m.kind,
                "case_id": m.case_id,
                "case_guarantee_id": m.case_guarantee_id,
                "amount": _str(m.amount),
                "balance_after": _str(m.balance_after),
                "actor": m.actor,
                "at": _iso(m.at),
            }
            for m in moves
        ],
        "history": await history(session, entity="general_guarantee", entity_id=g.guarantee_id),
    }


async def history(session: AsyncSession, *, entity: str, entity_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id)
        )
    ).scalars()
    return [{"action": r.action, "actor": r.actor, "at": _iso(r.at), "detail": r.detail} for r in rows]


# ---------------------------------------------------------------- case guarantees


def hold_result(cg: CaseGuarantee) -> dict[str, Any]:
    return HoldGuaranteeResult(
        case_guarantee_id=cg.case_guarantee_id,
        status=cg.status,
        amount=domain.money(cg.amount),
        currency=cg.currency,
        drawn_from=cg.drawn_from,
        reason=cg.reason,
    ).model_dump(mode="json")


def _refusal_id(case_id: str, idempotency_key: str) -> str:
    return f"CGR-{hashlib.sha256(f'{case_id}|{idempotency_key}'.encode()).hexdigest()[:20]}"


def held_id_for(case_id: str) -> str:
    return f"CG-{case_id}"


async def _held(session: AsyncSession, case_id: str, *, lock: bool = False) -> CaseGuarantee | None:
    stmt = select(CaseGuarantee).where(CaseGuarantee.case_id == case_id, CaseGuarantee.status == "held")
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def hold(session: AsyncSession, *, request: HoldGuaranteeRequest, actor: str) -> tuple[int, dict[str, Any]]:
    """Secure a case with a cash deposit or bank letter, or by drawing on the holder's general guarantee.

    One held guarantee per case: a further request for a case already secured returns that one.
    A refusal is an answer (200, status ``refused`` with the reason), not an error.
    """
    check_fields(
        jurisdiction=request.jurisdiction,
        currency=request.currency,
        required={"case_id": (request.case_id, 128), "holder_id": (request.holder_id, 64)},
        optional={"reference": (request.reference, 128)},
        amounts={"required_amount": request.required_amount, "amount": request.amount},
    )
    # Requests for the same case (under different keys) take turns.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"case-guarantee:{request.case_id}"))))
    existing = await _held(session, request.case_id)
    if existing is not None:
        return 200, hold_result(existing)
    now = now_utc()
    required = domain.money(request.required_amount)
    posted = domain.money(request.amount)
    cg = CaseGuarantee(
        case_id=request.case_id,
        holder_id=request.holder_id,
        jurisdiction=request.jurisdiction,
        form=request.form,
        currency=request.currency,
        required_amount=required,
        posted_amount=posted,
        reference=request.reference,
        actor=actor,
        created_at=now,
        storage_days=0,
        storage_amount=domain.ZERO,
        costs_amount=domain.ZERO,
        charged=domain.ZERO,
        refunded=domain.ZERO,
        unpaid=domain.ZERO,
    )
    drawn: GeneralGuarantee | None = None
    if request.form == "general_guarantee":
        # Lock all of the holder's guarantees in this jurisdiction, always in the same order.
        rows = list(
            (
                await session.execute(
                    select(GeneralGuarantee)
                    .where(
                        GeneralGuarantee.holder_id == request.holder_id,
                        GeneralGuarantee.jurisdiction == request.jurisdiction,
                    )
                    .order_by(GeneralGuarantee.guarantee_id)
                    .with_for_update()
                )
            ).scalars()
        )
        decision = domain.choose_general_guarantee(
            [
                domain.GeneralGuaranteeTerms(
                    g.guarantee_id, g.currency, g.coverage_from, g.coverage_until, g.letter_expires_on, g.balance
                )
                for g in rows
            ],
            today=today_in(request.jurisdiction, now),
            required=required,
            currency=request.currency,
            holder_id=request.holder_id,
            jurisdiction=request.jurisdiction,
        )
        refusal = None if decision.ok else (decision.code, decision.reason)
        if decision.ok:
            drawn = next(g for g in rows if g.guarantee_id == decision.guarantee_id)
    else:
        refusal = domain.per_case_refusal(posted=posted, required=required, currency=request.currency)

    if refusal is not None:
        cg.case_guarantee_id = _refusal_id(request.case_id, request.idempotency_key)
        cg.status, cg.amount, cg.refusal_code, cg.reason = "refused", domain.ZERO, refusal[0], refusal[1]
        session.add(cg)
        await _audit(
            session,
            entity="case_guarantee",
            entity_id=request.case_id,
            action="refused",
            actor=actor,
            detail={
                "case_guarantee_id": cg.case_guarantee_id,
                "form": cg.form,
                "code": refusal[0],
                "reason": refusal[1],
                "required_amount": str(required),
                "posted_amount": str(posted),
                "currency": cg.currency,
            },
            at=now,
        )
        await session.flush()
        REFUSALS.labels(cg.form, refusal[0]).inc()
        return 200, hold_result(cg)

    cg.case_guarantee_id = held_id_for(request.case_id)
    cg.status = "held"
    if drawn is not None:
        drawn.balance = drawn.balance - required
        if drawn.balance < 0:  # unreachable after the rule above; the CHECK constraint backs it too
            raise Conflict("insufficient_balance", "balance would be negative")
        drawn.updated_at = now
        cg.amount, cg.drawn_from = required, drawn.guarantee_id
        session.add(
            GuaranteeMovement(
                guarantee_id=drawn.guarantee_id,
                case_id=request.case_id,
                case_guarantee_id=cg.case_guarantee_id,
                kind="draw",
                amount=required,
                balance_after=drawn.balance,
                actor=actor,
                at=now,
            )
        )
        await _audit(
            session,
            entity="general_guarantee",
            entity_id=drawn.guarantee_id,
            action="drawn",
            actor=actor,
            detail={
                "case_id": request.case_id,
                "amount": str(required),
                "balance_after": str(domain.money(drawn.balance)),
            },
            at=now,
        )
    else:
        cg.amount = posted
    session.add(cg)
    await _audit(
        session,
        entity="case_guarantee",
        entity_id=request.case_id,
        action="held",
        actor=actor,
        detail={
            "case_guarantee_id": cg.case_guarantee_id,
            "form": cg.form,
            "amount": str(cg.amount),
            "required_amount": str(required),
            "currency": cg.currency,
            "drawn_from": cg.drawn_from,
            "reference": cg.reference,
        },
        at=now,
    )
    await session.flush()
    HOLDS.labels(cg.form).inc()
    if drawn is not None:
        BALANCE.labels(drawn.guarantee_id, drawn.holder_id, drawn.currency).set(float(drawn.balance))
    return 201, hold_result(cg)


async def charge_cost(session: AsyncSession, *, request: ChargeCostRequest, actor: str) -> tuple[int, dict[str, Any]]:
    """Record a storage, custody or disposal cost against the case's held guarantee (paid at settlement)."""
    check_fields(
        currency=request.currency, optional={"detail": (request.detail, 1024)}, amounts={"amount": request.amount}
    )
    cg = await _held(session, request.case_id, lock=True)
    if cg is None:
        raise NotFound("case_guarantee_not_found", f"no guarantee is held for case {request.case_id}")
    if cg.settled_at is not None:
        raise Conflict(
            "case_guarantee_settled",
            f"the guarantee of case {request.case_id} was settled on "
            f"{cg.settled_at.isoformat()}; costs can no longer be charged",
        )
    if request.currency != cg.currency:
        raise _unprocessable(
            "currency_mismatch", f"the guarantee is in {cg.currency}; the cost is in {request.currency}"
        )
    now = now_utc()
    cost = CaseCost(
        case_guarantee_id=cg.case_guarantee_id,
        case_id=cg.case_id,
        kind=request.kind,
        amount=domain.money(request.amount),
        currency=request.currency,
        detail=request.detail,
        actor=actor,
        at=now,
    )
    session.add(cost)
    await _audit(
        session,
        entity="case_guarantee",
        entity_id=cg.case_id,
        action="cost_charged",
        actor=actor,
        detail={
            "case_guarantee_id": cg.case_guarantee_id,
            "kind": cost.kind,
            "amount": str(cost.amount),
            "currency": cost.currency,
            "detail": cost.detail,
        },
        at=now,
    )
    await session.flush()
    COSTS.labels(cost.kind).inc()
    return 201, {
        "case_id": cg.case_id,
        "case_guarantee_id": cg.case_guarantee_id,
        "cost_id": cost.id,
        **_cost_view(cost),
    }


def _cost_view(c: CaseCost) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "amount": _str(c.amount),
        "currency": c.currency,
        "detail": c.detail,
        "actor": c.actor,
        "at": _iso(c.at),
    }


async def _costs(session: AsyncSession, cg: CaseGuarantee) -> list[CaseCost]:
    return list(
        (
            await session.execute(
                select(CaseCost).where(CaseCost.case_guarantee_id == cg.case_guarantee_id).order_by(CaseCost.id)
            )
        ).scalars()
    )


def settle_result(cg: CaseGuarantee) -> dict[str, Any]:
    return SettleGuaranteeResult(
        case_guarantee_id=cg.case_guarantee_id,
        charged=domain.money(cg.charged),
        refunded=domain.money(cg.refunded),
        currency=cg.currency,
        storage_days=cg.storage_days,
        unpaid=domain.money(cg.unpaid),
        storage_amount=domain.money(cg.storage_amount),
        costs_amount=domain.money(cg.costs_amount),
    ).model_dump(mode="json")


async def settle(
    session: AsyncSession, *, request: SettleGuaranteeRequest, settings: Settings, actor: str
) -> tuple[int, dict[str, Any]]:
    """The case has ended: charge storage and recorded costs (never more than held), refund the rest."""
    check_fields(required={"outcome": (request.outcome, 64)})
    cg = await _held(session, request.case_id, lock=True)
    if cg is None:
        raise NotFound("case_guarantee_not_found", f"no guarantee is held for case {request.case_id}")
    if cg.settled_at is not None:
        return 200, settle_result(cg)
    now = now_utc()
    costs = await _costs(session, cg)
    rate = settings.storage_rate(cg.jurisdiction, cg.currency)
    days = domain.storage_days(cg.created_at, request.ended_at)
    storage = domain.storage_accrued(
        days, rate or domain.ZERO, actual_storage_recorded=any(c.kind == "storage" for c in costs)
    )
    costs_total = domain.money(sum((c.amount for c in costs), Decimal(0)))
    result = domain.settle(held=cg.amount, storage=storage, costs=costs_total)
    ended = request.ended_at if request.ended_at.tzinfo else request.ended_at.replace(tzinfo=UTC)
    cg.settled_at, cg.outcome, cg.ended_at = now, request.outcome, ended
    cg.storage_days, cg.storage_rate, cg.storage_amount, cg.costs_amount = days, rate, storage, costs_total
    cg.charged, cg.refunded, cg.unpaid = result.charged, result.refunded, result.unpaid
    detail: dict[str, Any] = {
        "case_guarantee_id": cg.case_guarantee_id,
        "outcome": request.outcome,
        "ended_at": ended.isoformat(),
        "storage_days": days,
        "storage_rate": _str(rate),
        "storage": str(storage),
        "costs": str(costs_total),
        "due": str(result.due),
        "charged": str(result.charged),
        "refunded": str(result.refunded),
        "unpaid": str(result.unpaid),
        "currency": cg.currency,
    }
    if rate is None:
        detail["note"] = f"no storage rate is configured for {cg.jurisdiction}/{cg.currency}; no storage accrued"
        log.warning(
            "no storage rate for %s/%s; case %s settled without storage", cg.jurisdiction, cg.currency, cg.case_id
        )
    if cg.drawn_from is not None and result.refunded > 0:
        g = (
            await session.execute(
                select(GeneralGuarantee).where(GeneralGuarantee.guarantee_id == cg.drawn_from).with_for_update()
            )
        ).scalar_one()
        g.balance = g.balance + result.refunded
        g.updated_at = now
        session.add(
            GuaranteeMovement(
                guarantee_id=g.guarantee_id,
                case_id=cg.case_id,
                case_guarantee_id=cg.case_guarantee_id,
                kind="restore",
                amount=result.refunded,
                balance_after=g.balance,
                actor=actor,
                at=now,
            )
        )
        await _audit(
            session,
            entity="general_guarantee",
            entity_id=g.guarantee_id,
            action="restored",
            actor=actor,
            detail={
                "case_id": cg.case_id,
                "amount": str(result.refunded),
                "charged": str(result.charged),
                "balance_after": str(domain.money(g.balance)),
            },
            at=now,
        )
        BALANCE.labels(g.guarantee_id, g.holder_id, g.currency).set(float(g.balance))
        detail["restored_to"] = g.guarantee_id
    await _audit(
        session, entity="case_guarantee", entity_id=cg.case_id, action="settled", actor=actor, detail=detail, at=now
    )
    await session.flush()
    SETTLEMENTS.labels(cg.form).inc()
    CHARGED.labels(cg.currency).inc(float(result.charged))
    REFUNDED.labels(cg.currency).inc(float(result.refunded))
    if result.unpaid > 0:
        UNPAID.labels(cg.currency).inc(float(result.unpaid))
    return 200, settle_result(cg)


def _accrual(cg: CaseGuarantee, costs: list[CaseCost], settings: Settings, now: datetime) -> dict[str, Any]:
    """Costs so far: settled figures once settled, else recorded costs plus storage up to ``now``."""
    if cg.settled_at is not None:
        return {
            "storage_days": cg.storage_days,
            "storage_rate": _str(cg.storage_rate),
            "storage": _str(cg.storage_amount),
            "costs": _str(cg.costs_amount),
            "accrued": _str(cg.storage_amount + cg.costs_amount),
        }
    rate = settings.storage_rate(cg.jurisdiction, cg.currency)
    days = domain.storage_days(cg.created_at, now)
    storage = domain.storage_accrued(
        days, rate or domain.ZERO, actual_storage_recorded=any(c.kind == "storage" for c in costs)
    )
    recorded = domain.money(sum((c.amount for c in costs), Decimal(0)))
    return {
        "storage_days": days,
        "storage_rate": _str(rate),
        "storage": _str(storage),
        "costs": _str(recorded),
        "accrued": _str(storage + recorded),
    }


async def case_details(
    session: AsyncSession, *, case_id: str, settings: Settings, now: datetime | None = None
) -> dict[str, Any] | None:
    """The case's guarantee (the held one, else the latest refusal), its costs so far, settlement and history."""
    rows = list(
        (
            await session.execute(
                select(CaseGuarantee).where(CaseGuarantee.case_id == case_id).order_by(CaseGuarantee.created_at)
            )
        ).scalars()
    )
    if not rows:
        return None
    held = [r for r in rows if r.status == "held"]
    cg = held[0] if held else rows[-1]
    costs = await _costs(session, cg) if cg.status == "held" else []
    accrual = _accrual(cg, costs, settings, now or now_utc()) if cg.status == "held" else None
    headroom = None
    if accrual is not None:
        headroom = _str(cg.amount - Decimal(accrual["accrued"]))
    return {
        "case_id": cg.case_id,
        "case_guarantee_id": cg.case_guarantee_id,
        "holder_id": cg.holder_id,
        "jurisdiction": cg.jurisdiction,
        "form": cg.form,
        "status": cg.status,
        "settled": cg.settled_at is not None,
        "currency": cg.currency,
        "required_amount": _str(cg.required_amount),
        "posted_amount": _str(cg.posted_amount),
        "amount": _str(cg.amount),
        "drawn_from": cg.drawn_from,
        "reference": cg.reference,
        "refusal_code": cg.refusal_code,
        "reason": cg.reason,
        "held_at": _iso(cg.created_at) if held else None,
        "costs": [_cost_view(c) for c in costs],
        "accrued": accrual,
        "headroom": headroom,  # amount held minus costs so far; negative: the guarantee no longer covers them
        "charged": _str(cg.charged),
        "refunded": _str(cg.refunded),
        "unpaid": _str(cg.unpaid),
        "settled_at": _iso(cg.settled_at),
        "outcome": cg.outcome,
        "ended_at": _iso(cg.ended_at),
        "refusals": [
            {
                "case_guarantee_id": r.case_guarantee_id,
                "form": r.form,
                "code": r.refusal_code,
                "reason": r.reason,
                "at": _iso(r.created_at),
            }
            for r in rows
            if r.status == "refused"
        ],
        "history": await history(session, entity="case_guarantee", entity_id=case_id),
    }


# ---------------------------------------------------------------- alerts and metrics


async def alerts(session: AsyncSession, *, settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """What needs an officer's attention: low balances, coverage or letters ending soon, unpaid or uncovered costs."""
    now = now or now_utc()
    found: list[dict[str, Any]] = []
    within = settings.guarantee_alert_days
    for g in (await session.execute(select(GeneralGuarantee).order_by(GeneralGuarantee.guarantee_id))).scalars():
        today = today_in(g.jurisdiction, now)
        if today > g.letter_expires_on:
            continue  # lapsed: history, nothing to act on
        base = {
            "guarantee_id": g.guarantee_id,
            "holder_id": g.holder_id,
            "currency": g.currency,
            "amount": _str(g.amount),
            "balance": _str(g.balance),
        }
        terms = domain.GeneralGuaranteeTerms(
            g.guarantee_id, g.currency, g.coverage_from, g.coverage_until, g.letter_expires_on, g.balance
        )
        if domain.unusable_reason(terms, today) is None:
            for reason in domain.low_balance_reasons(
                amount=g.amount,
                balance=g.balance,
                currency=g.currency,
                ratio=settings.low_balance_ratio,
                floor_cny=settings.low_balance_floor_cny,
            ):
                found.append({"kind": "low_balance", **base, "message": f"{g.guarantee_id}: {reason}"})
        if domain.ending_within(g.coverage_until, today=today, within_days=within):
            days = domain.days_until(g.coverage_until, today)
            found.append(
                {
                    "kind": "coverage_ending",
                    **base,
                    "on": _iso(g.coverage_until),
                    "days_left": days,
                    "message": f"coverage of {g.guarantee_id} ends on {g.coverage_until} ({days} days)",
                }
            )
        if domain.ending_within(g.letter_expires_on, today=today, within_days=within):
            days = domain.days_until(g.letter_expires_on, today)
            found.append(
                {
                    "kind": "letter_expiring",
                    **base,
                    "on": _iso(g.letter_expires_on),
                    "days_left": days,
                    "message": f"the letter of {g.guarantee_id} expires on {g.letter_expires_on} ({days} days)",
                }
            )
    unpaid = (
        await session.execute(
            select(CaseGuarantee)
            .where(CaseGuarantee.status == "held", CaseGuarantee.unpaid > 0)
            .order_by(CaseGuarantee.settled_at)
        )
    ).scalars()
    for cg in unpaid:
        found.append(
            {
                "kind": "unpaid_costs",
                "case_id": cg.case_id,
                "case_guarantee_id": cg.case_guarantee_id,
                "holder_id": cg.holder_id,
                "currency": cg.currency,
                "unpaid": _str(cg.unpaid),
                "message": f"case {cg.case_id}: {domain.money(cg.unpaid)} {cg.currency} of costs exceed the "
                "guarantee; claim them from the holder or the guarantor",
            }
        )
    open_cases = list(
        (
            await session.execute(
                select(CaseGuarantee).where(CaseGuarantee.status == "held", CaseGuarantee.settled_at.is_(None))
            )
        ).scalars()
    )
    if open_cases:
        recorded: dict[str, list[CaseCost]] = {cg.case_guarantee_id: [] for cg in open_cases}
        for c in (
            await session.execute(select(CaseCost).where(CaseCost.case_guarantee_id.in_(list(recorded))))
        ).scalars():
            recorded[c.case_guarantee_id].append(c)
        for cg in sorted(open_cases, key=lambda c: c.created_at):
            accrual = _accrual(cg, recorded[cg.case_guarantee_id], settings, now)
            if Decimal(accrual["accrued"]) > cg.amount:
                found.append(
                    {
                        "kind": "costs_exceed_guarantee",
                        "case_id": cg.case_id,
                        "case_guarantee_id": cg.case_guarantee_id,
                        "holder_id": cg.holder_id,
                        "currency": cg.currency,
                        "amount": _str(cg.amount),
                        "accrued": accrual["accrued"],
                        "message": f"case {cg.case_id}: costs so far {accrual['accrued']} {cg.currency} "
                        f"exceed the guarantee of {domain.money(cg.amount)} {cg.currency}",
                    }
                )
    return found


async def refresh_metrics(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Recompute the balance and alert gauges from the database (every replica reports the same figures)."""
    now = now_utc()
    async with sessionmaker() as session:
        rows = list((await session.execute(select(GeneralGuarantee))).scalars())
        found = await alerts(session, settings=settings, now=now)
    live: set[tuple[str, ...]] = set()
    for g in rows:
        if today_in(g.jurisdiction, now) <= g.letter_expires_on:
            labels = (g.guarantee_id, g.holder_id, g.currency)
            live.add(labels)
            BALANCE.labels(*labels).set(float(g.balance))
    names = ("guarantee_id", "holder_id", "currency")
    for stale in {tuple(s.labels[n] for n in names) for m in BALANCE.collect() for s in m.samples}:
        if stale not in live:
            try:
                BALANCE.remove(*stale)
            except KeyError:
                pass
    set_alert_gauges(found)


def set_alert_gauges(found: list[dict[str, Any]]) -> None:
    counts = Tally(a["kind"] for a in found)
    for kind in ALERT_KINDS:
        ALERTS.labels(kind).set(counts.get(kind, 0))
