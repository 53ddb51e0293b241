"""Pure rules of the guarantee ledger: registration checks, which general guarantee may be drawn,
storage accrual, settlement arithmetic and the alerts an officer should see. No I/O here.

Sources (DOMAIN.md 1.5 and 1.6): a CN general guarantee is a bank letter lodged with GACC of at
least RMB 200,000 covering requests to 31 December, the letter valid to 30 June of the next year
(GACC Announcement 2006 No. 31); the holder pays the actual storage, custody and disposal costs,
taken from the guarantee, and what the guarantee cannot cover is claimed from the holder or the
guarantor (Reg. Art. 25); the rest is refunded after the case ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DAY = timedelta(days=1)


def money(value: Decimal | int | str) -> Decimal:
    """An amount rounded to the cent (half up), as every amount in the ledger is stored."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- registration


def registration_problems(
    *,
    jurisdiction: str,
    amount: Decimal,
    currency: str,
    coverage_from: date,
    coverage_until: date,
    letter_expires_on: date,
    cn_min_amount_cny: Decimal,
) -> list[tuple[str, str]]:
    """Why a general guarantee cannot be registered, as (code, message) pairs; empty when it can."""
    problems: list[tuple[str, str]] = []
    if coverage_until < coverage_from:
        problems.append(
            ("coverage_period_invalid", f"coverage_until {coverage_until} is before coverage_from {coverage_from}")
        )
    if letter_expires_on < coverage_until:
        problems.append(
            (
                "letter_expires_before_coverage_ends",
                f"the letter expires on {letter_expires_on}, before coverage ends on {coverage_until}",
            )
        )
    if jurisdiction == "CN":
        if currency != "CNY":
            problems.append(("currency_not_allowed", f"a CN general guarantee is lodged in CNY, not {currency}"))
        elif money(amount) < cn_min_amount_cny:
            problems.append(
                (
                    "amount_below_minimum",
                    f"a CN general guarantee must be at least RMB {money(cn_min_amount_cny):,}; "
                    f"got RMB {money(amount):,}",
                )
            )
    return problems


# ---------------------------------------------------------------- drawing on a general guarantee


@dataclass(frozen=True)
class GeneralGuaranteeTerms:
    """What the draw rule needs to know about one registered general guarantee."""

    guarantee_id: str
    currency: str
    coverage_from: date
    coverage_until: date
    letter_expires_on: date
    balance: Decimal


def unusable_reason(g: GeneralGuaranteeTerms, today: date) -> tuple[str, str] | None:
    """Why ``g`` cannot secure a case today (letter or coverage), or None when its dates allow it."""
    if today > g.letter_expires_on:
        return "letter_expired", f"the letter of general guarantee {g.guarantee_id} expired on {g.letter_expires_on}"
    if today < g.coverage_from or today > g.coverage_until:
        return "outside_coverage", (
            f"{today} is outside the coverage period of general guarantee {g.guarantee_id} "
            f"({g.coverage_from} to {g.coverage_until})"
        )
    return None


@dataclass(frozen=True)
class DrawDecision:
    guarantee_id: str | None
    code: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.guarantee_id is not None and self.code is None


def choose_general_guarantee(
    candidates: list[GeneralGuaranteeTerms],
    *,
    today: date,
    required: Decimal,
    currency: str,
    holder_id: str,
    jurisdiction: str,
) -> DrawDecision:
    """The general guarantee to draw ``required`` from, or the most precise reason why none can be used.

    Among the holder's guarantees in the jurisdiction, one in the same currency whose coverage
    includes today, whose letter has not expired and whose balance covers the whole amount; the
    one whose coverage ends first is used first (it lapses first). A case is never split across
    guarantees.
    """
    if not candidates:
        return DrawDecision(
            None, "no_general_guarantee", f"no general guarantee is registered for holder {holder_id} in {jurisdiction}"
        )
    same_currency = [g for g in candidates if g.currency == currency]
    if not same_currency:
        others = ", ".join(sorted({f"{g.guarantee_id} in {g.currency}" for g in candidates}))
        return DrawDecision(
            None,
            "currency_mismatch",
            f"the required amount is in {currency}; holder {holder_id} has general guarantees "
            f"only in other currencies ({others})",
        )
    usable = [g for g in same_currency if unusable_reason(g, today) is None]
    if not usable:
        # Report on the most recent guarantee: the one the holder most likely meant.
        latest = max(same_currency, key=lambda g: (g.coverage_until, g.guarantee_id))
        code, reason = unusable_reason(latest, today)  # type: ignore[misc]
        return DrawDecision(None, code, reason)
    sufficient = sorted((g for g in usable if g.balance >= required), key=lambda g: (g.coverage_until, g.guarantee_id))
    if not sufficient:
        best = max(usable, key=lambda g: (g.balance, g.guarantee_id))
        return DrawDecision(
            None,
            "insufficient_balance",
            f"balance {money(best.balance)} {currency} of general guarantee {best.guarantee_id} "
            f"is below the required {money(required)} {currency}",
        )
    return DrawDecision(sufficient[0].guarantee_id)


def per_case_refusal(*, posted: Decimal, required: Decimal, currency: str) -> tuple[str, str] | None:
    """A cash deposit or bank letter secures the case only when it covers the required amount."""
    if money(posted) < money(required):
        return "amount_below_required", (
            f"posted {money(posted)} {currency} is below the required {money(required)} {currency}"
        )
    return None


# ---------------------------------------------------------------- storage and settlement


def _utc(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def storage_days(held_at: datetime, ended_at: datetime) -> int:
    """Whole days the goods were held: complete 24-hour periods from ``held_at`` to ``ended_at``, at least 1.

    A naive instant is taken as UTC. The day the goods come in is always charged, so an end
    before the start (clock skew) or within the first day still counts as one day.
    """
    elapsed = _utc(ended_at) - _utc(held_at)
    return max(1, elapsed // DAY)


def storage_charge(days: int, rate_per_day: Decimal) -> Decimal:
    """Days x the per-day rate, to the cent."""
    if days < 0 or rate_per_day < 0:
        raise ValueError("days and rate must not be negative")
    return money(Decimal(days) * rate_per_day)


def storage_accrued(days: int, rate_per_day: Decimal, *, actual_storage_recorded: bool) -> Decimal:
    """Storage to charge on top of the recorded costs.

    The per-day rate is an estimate (DOMAIN 1.6: no published tariff). Once the warehouse's
    actual storage cost has been recorded against the case (a cost of kind ``storage``), the
    holder pays that instead, never both.
    """
    return ZERO if actual_storage_recorded else storage_charge(days, rate_per_day)


@dataclass(frozen=True)
class Settlement:
    due: Decimal  # storage + recorded costs
    charged: Decimal  # taken from the guarantee: never more than it holds
    refunded: Decimal  # what the guarantee holds beyond the charge
    unpaid: Decimal  # what the guarantee could not cover: to claim from the holder or guarantor


def settle(*, held: Decimal, storage: Decimal, costs: Decimal) -> Settlement:
    """Charge what is due up to the amount held, refund the rest, record any shortfall as unpaid."""
    held, storage, costs = money(held), money(storage), money(costs)
    if held < 0 or storage < 0 or costs < 0:
        raise ValueError("amounts must not be negative")
    due = storage + costs
    charged = min(due, held)
    return Settlement(due=due, charged=charged, refunded=held - charged, unpaid=due - charged)


# ---------------------------------------------------------------- alerts


def low_balance_reasons(
    *,
    amount: Decimal,
    balance: Decimal,
    currency: str,
    ratio: Decimal,
    floor_cny: Decimal,
) -> list[str]:
    """Why a general guarantee's balance is low, if it is.

    Two thresholds, either of which raises the alert: below ``ratio`` of the registered amount
    (default 20%), and, for a guarantee in CNY, below the largest amount one ex officio case can
    require (RMB 100,000 for goods above RMB 200,000): from then on a single large case is
    refused. Set either threshold to 0 to switch it off.
    """
    reasons = []
    threshold = money(amount * ratio)
    if ratio > 0 and balance < threshold:
        reasons.append(
            f"balance {money(balance)} {currency} is below {ratio:.0%} of the amount ({threshold} {currency})"
        )
    if currency == "CNY" and floor_cny > 0 and balance < floor_cny:
        reasons.append(
            f"balance {money(balance)} CNY is below RMB {money(floor_cny):,}, the most one ex officio case can require"
        )
    return reasons


def days_until(day: date, today: date) -> int:
    return (day - today).days


def ending_within(day: date, *, today: date, within_days: int) -> bool:
    """``day`` lies between today and ``within_days`` days ahead (inclusive)."""
    return 0 <= days_until(day, today) <= within_days
