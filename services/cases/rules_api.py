"""Read-only rules endpoints: the rule packs and what they decide (``shared.rules.decisions``, the same
functions the case workflow calls), for officers and tests."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from shared.auth import Principal, require
from shared.contracts.bounds import Day, Money
from shared.contracts.case_views import RuleDeadline, RuleFine, RuleGuarantee, RulePackRef
from shared.contracts.errors import AUTH_ERRORS, INPUT_ERRORS, error_responses
from shared.rules import decisions
from shared.rules.calendar import calendar_for
from shared.rules.pack import RulePack, available_packs, rule_pack

router = APIRouter(prefix="/v1/rules", tags=["rules"])
Reader = Annotated[Principal, Depends(require("officer", "system"))]
_UNKNOWN = {404: "unknown_jurisdiction: no rule pack for it"}
_NOT_APPLICABLE = {422: "not_applicable: the pack has no such formula, tier or mode"}


def _pack(jurisdiction: str) -> RulePack:
    try:
        return rule_pack(jurisdiction.upper())
    except KeyError:
        raise HTTPException(
            404,
            detail={
                "code": "unknown_jurisdiction",
                "message": f"no rule pack for {jurisdiction}; have {available_packs()}",
            },
        ) from None


@router.get(
    "",
    response_model=list[RulePackRef],
    responses=error_responses(AUTH_ERRORS, INPUT_ERRORS),
    summary="Jurisdictions with a rule pack",
)
async def packs(_: Reader) -> list[dict]:
    return [{"jurisdiction": j, "version": rule_pack(j).version, "name": rule_pack(j).name} for j in available_packs()]


@router.get(
    "/{jurisdiction}",
    response_model=RulePack,
    responses=error_responses(AUTH_ERRORS, INPUT_ERRORS, _UNKNOWN),
    summary="The whole rule pack of a jurisdiction",
)
async def pack(jurisdiction: str, _: Reader) -> dict:
    return _pack(jurisdiction).model_dump(mode="json")


@router.get(
    "/{jurisdiction}/deadline",
    response_model=RuleDeadline,
    responses=error_responses(AUTH_ERRORS, INPUT_ERRORS, _UNKNOWN),
    summary="The N-th working day after a day of service",
)
async def deadline(
    jurisdiction: str,
    _: Reader,
    start: Annotated[Day, Query(description="day of service (does not count)")],
    working_days: Annotated[int, Query(ge=1, le=400)],
) -> dict:
    p = _pack(jurisdiction)
    cal = calendar_for(p.calendar)
    due = decisions.due_date(cal, start, amount=working_days)
    return {
        "jurisdiction": p.jurisdiction,
        "start": start.isoformat(),
        "working_days": working_days,
        "deadline": due.isoformat(),
        "deadline_ends_at": cal.end_of_day(due).isoformat(),
        "timezone": cal.timezone,
        "calendar": p.calendar,
        "provisional": decisions.provisional(cal, start, due),
        "official_through": cal.official_through.isoformat() if cal.official_through else None,
        "counting": "from the day after the day of service; the deadline is the end of the N-th working day",
    }


@router.get(
    "/{jurisdiction}/guarantee",
    response_model=RuleGuarantee,
    responses=error_responses(
        AUTH_ERRORS,
        INPUT_ERRORS,
        _UNKNOWN,
        _NOT_APPLICABLE,
        {422: "currency_mismatch: amounts are in the pack's currency"},
    ),
    summary="Guarantee required for detention",
)
async def guarantee(
    jurisdiction: str,
    _: Reader,
    goods_value: Annotated[Money, Query()],
    mode: Literal["ex_officio", "application", "counter_guarantee"] = "ex_officio",
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> dict:
    p = _pack(jurisdiction)
    if currency is not None and currency != p.currency:
        raise HTTPException(
            422,
            detail={
                "code": "currency_mismatch",
                "message": f"{p.jurisdiction} amounts are in {p.currency}; convert first",
            },
        )
    try:
        amount = decisions.guarantee(p, mode, goods_value)
    except ValueError as exc:
        raise HTTPException(422, detail={"code": "not_applicable", "message": str(exc)}) from exc
    return {
        "jurisdiction": p.jurisdiction,
        "mode": mode,
        "goods_value": str(goods_value),
        "amount": str(amount),
        "currency": p.currency,
        "required": p.guarantee.required,
        "basis": p.guarantee.basis,
    }


@router.get(
    "/{jurisdiction}/fine",
    response_model=RuleFine,
    responses=error_responses(AUTH_ERRORS, INPUT_ERRORS, _UNKNOWN, _NOT_APPLICABLE),
    summary="Fine range for a goods value and tier",
)
async def fine(
    jurisdiction: str,
    _: Reader,
    goods_value: Annotated[Money, Query()],
    tier: Annotated[str | None, Query(max_length=32)] = None,
    repeat: bool = False,
) -> dict:
    p = _pack(jurisdiction)
    try:
        low, high = p.fine_range(goods_value, tier, repeat=repeat)
    except ValueError as exc:
        raise HTTPException(422, detail={"code": "not_applicable", "message": str(exc)}) from exc
    t = p.fine.tiers.get(tier or p.fine.default_tier or "") if p.fine.tiers else None
    return {
        "jurisdiction": p.jurisdiction,
        "goods_value": str(goods_value),
        "tier": tier or p.fine.default_tier,
        "min": str(low),
        "max": str(high),
        "max_exclusive": bool(t and t.max_exclusive),
        "confiscation_only": bool(t and t.confiscation_only),
        "currency": p.currency,
        "basis": p.fine.basis,
    }
