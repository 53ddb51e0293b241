"""One answer to every legal question: the decisions the rule packs drive, and what each is measured on.

The case workflow calls these functions, and so does every service that re-checks a decision
(the disposal service checks the fine it is asked to record, the rules endpoints answer officers).
They are pure: the rule pack and the calendar come in as arguments (a running case passes the
snapshot it opened under), so a decision never changes under a running case.

The legal unit is the consignment (the declaration) and the rights holder: a case holds every
suspected line of one declaration whose right belongs to one holder. Each threshold is measured
on the quantity its legal basis names:

- **Guarantee tier** (CN ex officio, application, patent counter-guarantee)
  measured on: value of the holder's goods in the case (all its lines, in RMB)
  legal basis: CN Reg. Art. 14; Measures Art. 23 (ex officio: 100% below RMB 20,000, 50% min. 20,000 up to
    200,000, RMB 100,000 above); application mode and patent counter-guarantee: equal to that value
    (Reg. Art. 14, 19)
- **Fine range and tier**
  measured on: goods of the case found infringing (the lines confiscated; lines found not infringing are
    released and not fined)
  legal basis: CN Penalty Regs Art. 25 (at most 30%), GACC discretion tiers (Ann. 2023 No. 198); goods value
    = dutiable value + duty + taxes (Art. 64)
- **Hearing threshold**
  measured on: the fine proposed on the goods of the case
  legal basis: CN Penalty Regs Art. 49: RMB 100,000 on an entity, RMB 10,000 on an individual
- **US fine cap**
  measured on: genuine retail value (MSRP) of the goods of the case seized
  legal basis: 19 U.S.C. 1526(f), 19 CFR 133.27: once the value if genuine, twice for a repeat infringer
- **Police referral**
  measured on: value of all suspected goods of the consignment and its consignor, every holder together
    (less the lines customs found not infringing)
  legal basis: CN: Criminal Law Art. 213-215, 2004 judicial interpretation (illegal business volume RMB
    50,000); a case-level total misses a crime split across holders
- **EU small consignment**
  measured on: the whole consignment: all its units and its gross weight, every line and holder
  legal basis: Reg. (EU) 608/2013 Art. 2(19), 26: postal or express consignment of at most 3 units or under
    2 kg gross
- **Deadline dates**
  measured on: day of service (not counted) + N working or calendar days, end of the last day
  legal basis: pack ``deadlines``; the jurisdiction's calendar; a date counted over days no official
    schedule covers is provisional (flagged, re-timed on publication)
- **Disposal order**
  measured on: the facts recorded by officers (public welfare use, holder buys, features removable) and the
    right type
  legal basis: CN Reg. Art. 27: public welfare, sale to the holder, auction after removing the infringing
    features (not for counterfeit trademarks), destruction
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from shared.rules.calendar import WorkingCalendar
from shared.rules.pack import DeadlineRule, RulePack

CENT = Decimal("0.01")


# ---------------------------------------------------------------- deadlines


def due_date(
    cal: WorkingCalendar,
    first: date,
    rule: DeadlineRule | None = None,
    *,
    unit: str | None = None,
    amount: int | None = None,
) -> date:
    """The last day of a time limit served on ``first`` (which does not count)."""
    unit = unit or (rule.unit if rule else "working_days")
    amount = amount if amount is not None else (rule.amount if rule else None)
    if amount is None:
        raise ValueError("a deadline needs a rule or an amount")
    if unit == "working_days":
        return cal.add_working_days(first, amount)
    if unit == "calendar_days":
        return first + timedelta(days=amount)
    raise ValueError(f"a case deadline cannot be counted in {unit}")


def provisional(cal: WorkingCalendar, first: date, due: date, unit: str = "working_days") -> bool:
    """A working-day limit counted over a day no official schedule covers is provisional (calendar days never)."""
    return unit == "working_days" and cal.is_provisional_span(first, due)


# ---------------------------------------------------------------- guarantee


def guarantee(pack: RulePack, mode: str, holder_goods_value: Decimal) -> Decimal:
    """The guarantee for the holder's goods in the case (ex officio tiers, application or counter-guarantee)."""
    return pack.guarantee_amount(mode, holder_goods_value)


# ---------------------------------------------------------------- fines


@dataclass(frozen=True)
class FineDecision:
    tier: str | None
    low: Decimal
    high: Decimal
    amount: Decimal


def fine(pack: RulePack, goods_value: Decimal, tier: str | None, proposed: Decimal | None = None) -> FineDecision:
    """CN-style fine on the goods of the case: the officer's amount kept inside the tier (middle of it by
    default); a tier whose upper bound is exclusive ends one cent below it."""
    name = tier or pack.fine.default_tier
    low, high = pack.fine_range(goods_value, name)
    assert name is not None
    t = pack.fine.tiers[name]
    amount = proposed if proposed is not None else ((low + high) / 2).quantize(CENT, ROUND_HALF_UP)
    amount = min(max(amount, low), high)
    if t.max_exclusive and amount >= high and high > 0:
        amount = high - CENT
    return FineDecision(tier=name, low=low, high=high, amount=amount)


def us_fine_cap(pack: RulePack, retail_value: Decimal, *, repeat: bool) -> Decimal:
    """US: the civil fine is at most the genuine retail value of the goods seized (twice for a repeat)."""
    return pack.fine_range(retail_value, None, repeat=repeat)[1]


def us_fine(pack: RulePack, retail_value: Decimal, *, repeat: bool, proposed: Decimal | None) -> FineDecision:
    cap = us_fine_cap(pack, retail_value, repeat=repeat)
    return FineDecision(tier=None, low=Decimal("0.00"), high=cap, amount=min(proposed or Decimal("0.00"), cap))


class FineOutsideRules(ValueError):
    """A fine a service was asked to record lies outside the jurisdiction's rules."""


def check_fine(
    pack: RulePack, *, outcome: str, goods_value: Decimal, tier: str | None, amount: Decimal, repeat: bool = False
) -> None:
    """Re-check a decided fine: none but for confiscation (CN) or forfeiture (US), and inside the rules."""
    if outcome not in ("confiscation", "forfeiture"):
        if amount:
            raise FineOutsideRules(f"no fine goes with the outcome {outcome}")
        return
    if outcome == "forfeiture":
        low, high = Decimal(0), us_fine_cap(pack, goods_value, repeat=repeat)
    else:
        low, high = pack.fine_range(goods_value, tier)
    if not low <= amount <= high:
        raise FineOutsideRules(
            f"fine {amount} {pack.currency} is outside {low}..{high} for tier "
            f"{tier or pack.fine.default_tier} of goods value {goods_value}"
        )


def hearing_required(pack: RulePack, fine_amount: Decimal, *, individual: bool) -> bool:
    """CN: the party may ask for a hearing before a fine of this size (Penalty Regs Art. 49)."""
    name = "hearing_fine_threshold_individual" if individual else "hearing_fine_threshold_entity"
    return fine_amount >= Decimal(str(pack.setting(name)))


# ---------------------------------------------------------------- consignment thresholds


def police_referral_threshold(pack: RulePack) -> Decimal:
    return Decimal(str(pack.setting("police_referral_goods_value")))


def police_referral(pack: RulePack, consignment_suspected_value: Decimal) -> bool:
    """Referral to the police as a suspected crime, on the suspected goods of the whole consignment."""
    return consignment_suspected_value >= police_referral_threshold(pack)


def small_consignment(
    pack: RulePack, *, transport_mode: str | None, units: Decimal, gross_weight_kg: Decimal | None
) -> bool:
    """EU: a postal or express consignment of at most 3 units or under 2 kg gross, counted on the consignment."""
    if transport_mode not in ("post", "express"):
        return False
    few = units <= Decimal(str(pack.setting("small_consignment_max_units")))
    max_kg = Decimal(str(pack.setting("small_consignment_max_gross_kg")))
    light = gross_weight_kg is not None and gross_weight_kg < max_kg
    return few or light


# ---------------------------------------------------------------- disposal


def disposal_method(
    pack: RulePack,
    right_type: str,
    *,
    usable_for_public_welfare: bool = False,
    holder_buys: bool = False,
    infringing_features_removable: bool = False,
) -> str:
    """The first lawful option in the pack's order for the facts recorded (CN Reg. Art. 27)."""
    for option in pack.disposal_order:
        if option == "public_welfare" and usable_for_public_welfare:
            return option
        if option == "sale_to_holder" and holder_buys:
            return option
        if (
            option == "auction_after_removal"
            and infringing_features_removable
            and (right_type != "trademark" or pack.setting("auction_allowed_for_counterfeit_trademarks"))
        ):
            return option
        if option in ("destruction", "forfeiture_destruction"):
            return option
    return pack.disposal_order[-1]


def lawful_disposal(pack: RulePack, method: str) -> bool:
    return method in pack.disposal_order
