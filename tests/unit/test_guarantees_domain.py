"""Guarantee ledger rules: registration checks, which general guarantee is drawn, storage days and charge,
settlement and refund arithmetic, coverage and letter expiry, low-balance alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.guarantees import domain
from services.guarantees.domain import GeneralGuaranteeTerms as Terms
from services.guarantees.settings import Settings

D = Decimal
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MIN_CN = D("200000")


def registration(**over):
    args = dict(
        jurisdiction="CN",
        amount=D("200000"),
        currency="CNY",
        coverage_from=date(2026, 1, 5),
        coverage_until=date(2026, 12, 31),
        letter_expires_on=date(2027, 6, 30),
        cn_min_amount_cny=MIN_CN,
    )
    args.update(over)
    return [code for code, _ in domain.registration_problems(**args)]


# ---------------------------------------------------------------- registration


def test_a_regular_cn_general_guarantee_is_accepted() -> None:
    assert registration() == []
    assert registration(coverage_until=date(2026, 1, 5), letter_expires_on=date(2026, 1, 5)) == []  # one day


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"coverage_until": date(2026, 1, 4)}, "coverage_period_invalid"),
        ({"letter_expires_on": date(2026, 12, 30)}, "letter_expires_before_coverage_ends"),
        ({"amount": D("199999.99")}, "amount_below_minimum"),
        ({"amount": D("199999.994")}, "amount_below_minimum"),  # rounds to 199,999.99
        ({"currency": "USD", "amount": D("1000000")}, "currency_not_allowed"),
    ],
)
def test_registration_problems(over: dict, code: str) -> None:
    assert code in registration(**over)


def test_minimum_is_a_setting_and_inclusive() -> None:
    assert registration(amount=D("200000.00")) == []
    assert registration(amount=D("199999.995")) == []  # rounds to 200,000.00
    assert registration(amount=D("50000"), cn_min_amount_cny=D("50000")) == []
    assert Settings.model_fields["general_guarantee_min_cny"].default == D("200000")


def test_every_problem_is_reported_at_once() -> None:
    got = registration(coverage_until=date(2025, 1, 1), letter_expires_on=date(2024, 1, 1), amount=D("10"))
    assert got == ["coverage_period_invalid", "letter_expires_before_coverage_ends", "amount_below_minimum"]


# ---------------------------------------------------------------- coverage and expiry


G = Terms("GG-1", "CNY", date(2026, 1, 1), date(2026, 12, 31), date(2027, 6, 30), D("200000"))


@pytest.mark.parametrize(
    ("today", "code"),
    [
        (date(2025, 12, 31), "outside_coverage"),
        (date(2026, 1, 1), None),
        (date(2026, 7, 15), None),
        (date(2026, 12, 31), None),
        (date(2027, 1, 1), "outside_coverage"),  # coverage over, letter still valid: no new draws
        (date(2027, 6, 30), "outside_coverage"),
        (date(2027, 7, 1), "letter_expired"),
    ],
)
def test_unusable_reason(today: date, code: str | None) -> None:
    got = domain.unusable_reason(G, today)
    assert (got[0] if got else None) == code
    if got:
        assert "GG-1" in got[1]


REQUIRED = D("20000")


def choose(candidates, *, today=date(2026, 6, 1), required=REQUIRED, currency="CNY"):
    return domain.choose_general_guarantee(
        candidates, today=today, required=required, currency=currency, holder_id="RH-1", jurisdiction="CN"
    )


def test_choose_draws_from_a_covering_guarantee_with_enough_balance() -> None:
    decision = choose([G])
    assert decision.ok and decision.guarantee_id == "GG-1"
    assert choose([G], required=D("200000")).ok  # exactly the balance


@pytest.mark.parametrize(
    ("candidates", "kwargs", "code", "words"),
    [
        ([], {}, "no_general_guarantee", ["no general guarantee", "RH-1", "CN"]),
        ([G], {"currency": "USD"}, "currency_mismatch", ["USD", "GG-1 in CNY"]),
        ([G], {"today": date(2027, 2, 1)}, "outside_coverage", ["2027-02-01", "2026-01-01 to 2026-12-31"]),
        ([G], {"today": date(2027, 8, 1)}, "letter_expired", ["expired on 2027-06-30"]),
        (
            [G],
            {"required": D("200000.01")},
            "insufficient_balance",
            ["balance 200000.00 CNY", "required 200000.01 CNY"],
        ),
    ],
)
def test_choose_refuses_with_a_precise_reason(candidates: list, kwargs: dict, code: str, words: list[str]) -> None:
    decision = choose(candidates, **kwargs)
    assert not decision.ok and decision.guarantee_id is None
    assert decision.code == code
    for word in words:
        assert word in decision.reason


def test_choose_prefers_the_guarantee_that_lapses_first_and_never_splits() -> None:
    later = Terms("GG-2", "CNY", date(2026, 1, 1), date(2027, 3, 31), date(2027, 6, 30), D("500000"))
    low = Terms("GG-0", "CNY", date(2026, 1, 1), date(2026, 6, 30), date(2026, 12, 31), D("1000"))
    assert choose([later, G, low]).guarantee_id == "GG-1"
    assert choose([later, G, low], required=D("300000")).guarantee_id == "GG-2"
    # 1,000 + 200,000 would cover 201,000, but a case is never split across guarantees
    refused = choose([G, low], required=D("201000"))
    assert refused.code == "insufficient_balance" and "GG-1" in refused.reason  # the best balance is named


def test_choose_reports_on_the_most_recent_guarantee_when_none_covers_today() -> None:
    old = Terms("GG-2025", "CNY", date(2025, 1, 1), date(2025, 12, 31), date(2026, 6, 30), D("200000"))
    future = Terms("GG-2027", "CNY", date(2027, 1, 1), date(2027, 12, 31), date(2028, 6, 30), D("200000"))
    decision = choose([old, future], today=date(2026, 9, 1))
    assert decision.code == "outside_coverage" and "GG-2027" in decision.reason
    assert choose([old], today=date(2026, 9, 1)).code == "letter_expired"


def test_a_covering_guarantee_in_another_currency_is_not_used() -> None:
    usd = Terms("GG-USD", "USD", date(2026, 1, 1), date(2026, 12, 31), date(2027, 6, 30), D("900000"))
    assert choose([usd, G], required=D("100")).guarantee_id == "GG-1"


@pytest.mark.parametrize(
    ("posted", "required", "refused"),
    [
        ("20000", "20000", False),
        ("20000.01", "20000", False),
        ("19999.99", "20000", True),
        ("0", "0", False),
        ("14909.995", "14910", False),  # rounds to 14,910.00
    ],
)
def test_per_case_guarantee(posted: str, required: str, refused: bool) -> None:
    got = domain.per_case_refusal(posted=D(posted), required=D(required), currency="CNY")
    assert (got is not None) == refused
    if got:
        assert got[0] == "amount_below_required" and "below the required 20000.00 CNY" in got[1]


# ---------------------------------------------------------------- storage


@pytest.mark.parametrize(
    ("elapsed", "days"),
    [
        (timedelta(0), 1),
        (timedelta(hours=1), 1),
        (timedelta(hours=23, minutes=59, seconds=59), 1),
        (timedelta(days=1), 1),
        (timedelta(days=1, seconds=1), 1),
        (timedelta(days=1, hours=23), 1),
        (timedelta(days=2), 2),
        (timedelta(days=30, hours=5), 30),
        (timedelta(days=-3), 1),  # an end before the start (clock skew) still charges the first day
    ],
)
def test_storage_days_are_whole_days_at_least_one(elapsed: timedelta, days: int) -> None:
    assert domain.storage_days(T0, T0 + elapsed) == days


def test_storage_days_take_naive_instants_as_utc_and_ignore_offsets() -> None:
    assert domain.storage_days(T0, (T0 + timedelta(days=3)).replace(tzinfo=None)) == 3
    shanghai = timezone(timedelta(hours=8))
    assert domain.storage_days(T0, (T0 + timedelta(days=3)).astimezone(shanghai)) == 3


@pytest.mark.parametrize(
    ("days", "rate", "expected"),
    [
        (1, "50", "50.00"),
        (3, "50.00", "150.00"),
        (30, "50", "1500.00"),
        (7, "12.345", "86.42"),
        (0, "50", "0.00"),
    ],
)
def test_storage_charge(days: int, rate: str, expected: str) -> None:
    assert domain.storage_charge(days, D(rate)) == D(expected)


def test_storage_charge_refuses_negatives() -> None:
    with pytest.raises(ValueError):
        domain.storage_charge(-1, D("50"))
    with pytest.raises(ValueError):
        domain.storage_charge(1, D("-50"))


def test_actual_storage_replaces_the_per_day_estimate() -> None:
    assert domain.storage_accrued(10, D("50"), actual_storage_recorded=False) == D("500.00")
    assert domain.storage_accrued(10, D("50"), actual_storage_recorded=True) == D("0.00")


def test_default_storage_rate_is_rmb_50_a_day_placeholder() -> None:
    rates = Settings.model_fields["storage_rates_per_day"].default_factory()
    assert rates == {"CN/CNY": D("50.00")}


# ---------------------------------------------------------------- settlement


@pytest.mark.parametrize(
    ("held", "storage", "costs", "charged", "refunded", "unpaid"),
    [
        ("20000", "150", "100", "250.00", "19750.00", "0.00"),
        ("20000", "0", "0", "0.00", "20000.00", "0.00"),
        ("1000", "800", "200", "1000.00", "0.00", "0.00"),  # exactly used up
        ("1000", "800", "300", "1000.00", "0.00", "100.00"),  # never more than held; the rest to claim
        ("0", "50", "0", "0.00", "0.00", "50.00"),
        ("100.005", "0.004", "0", "0.00", "100.01", "0.00"),  # amounts are to the cent
    ],
)
def test_settle(held: str, storage: str, costs: str, charged: str, refunded: str, unpaid: str) -> None:
    s = domain.settle(held=D(held), storage=D(storage), costs=D(costs))
    assert (s.charged, s.refunded, s.unpaid) == (D(charged), D(refunded), D(unpaid))
    assert s.due == domain.money(D(storage)) + domain.money(D(costs))


def test_settle_refuses_negative_amounts() -> None:
    with pytest.raises(ValueError):
        domain.settle(held=D("-1"), storage=D("0"), costs=D("0"))
    with pytest.raises(ValueError):
        domain.settle(held=D("10"), storage=D("0"), costs=D("-1"))


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(held=money, storage=money, costs=money)
def test_property_settlement_balances(held: Decimal, storage: Decimal, costs: Decimal) -> None:
    s = domain.settle(held=held, storage=storage, costs=costs)
    assert s.charged + s.refunded == held  # every cent held is either charged or refunded
    assert s.charged + s.unpaid == storage + costs  # every cent due is either charged or left to claim
    assert min(s.charged, s.refunded, s.unpaid) >= 0
    assert s.charged <= held
    assert s.unpaid == 0 or s.refunded == 0  # never refund while costs remain unpaid


# ---------------------------------------------------------------- alerts


def low(amount: str, balance: str, currency: str = "CNY", ratio: str = "0.20", floor: str = "100000") -> list[str]:
    return domain.low_balance_reasons(
        amount=D(amount), balance=D(balance), currency=currency, ratio=D(ratio), floor_cny=D(floor)
    )


def test_low_balance_thresholds() -> None:
    assert low("200000", "100000") == []  # at the per-case maximum: still fine
    assert len(low("200000", "99999.99")) == 1  # below RMB 100,000: the next large case would be refused
    assert "100,000" in low("200000", "99999.99")[0]
    assert len(low("1000000", "150000")) == 1 and "20%" in low("1000000", "150000")[0]  # 15% of the amount
    assert len(low("1000000", "50000")) == 2
    assert low("1000000", "200000") == []  # exactly 20%


def test_low_balance_thresholds_can_be_switched_off_and_floor_is_for_cny() -> None:
    assert low("200000", "50000", floor="0") == []
    assert low("1000000", "50000", ratio="0", floor="0") == []
    assert low("500000", "90000", currency="USD") == [low("500000", "90000", currency="USD")[0]]
    assert "20%" in low("500000", "90000", currency="USD")[0]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 1), True),
        (date(2026, 7, 1), True),
        (date(2026, 7, 2), False),
        (date(2026, 5, 31), False),
    ],
)
def test_ending_within(day: date, expected: bool) -> None:
    assert domain.ending_within(day, today=date(2026, 6, 1), within_days=30) is expected


def test_money_rounds_half_up_to_the_cent() -> None:
    assert domain.money(D("0.005")) == D("0.01")
    assert domain.money(D("0.004")) == D("0.00")
    assert domain.money(3) == D("3.00")


# ---------------------------------------------------------------- settings


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    monkeypatch.setenv("OIDC_ISSUER", "https://id.customs.example")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://ipr:pw@127.0.0.1:1/guarantees")
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_settings_defaults_and_storage_rates_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch)
    s = Settings()
    assert s.general_guarantee_min_cny == D("200000")
    assert s.storage_rate("CN", "CNY") == D("50.00") and s.storage_rate("CN", "USD") is None
    assert (s.low_balance_ratio, s.low_balance_floor_cny, s.guarantee_alert_days) == (D("0.20"), D("100000"), 30)
    _env(monkeypatch, STORAGE_RATES_PER_DAY='{"CN/CNY": "80.5", "CN/USD": "11"}', GUARANTEE_ALERT_DAYS="45")
    s = Settings()
    assert s.storage_rate("CN", "CNY") == D("80.5") and s.storage_rate("CN", "USD") == D("11")
    assert s.guarantee_alert_days == 45


@pytest.mark.parametrize("rates", ['{"CN": "50"}', '{"cn/cny": "50"}', '{"CN/CNY": "-1"}'])
def test_settings_refuse_bad_storage_rates(monkeypatch: pytest.MonkeyPatch, rates: str) -> None:
    _env(monkeypatch, STORAGE_RATES_PER_DAY=rates)
    with pytest.raises(ValueError):
        Settings()
