"""The legal decisions of shared/rules/decisions on the rule packs: guarantee tiers, fines and their tiers,
hearing and police-referral thresholds, the EU small-consignment test, disposal order, deadline dates and
provisional deadlines. Expected values were worked out by hand from the law, not with the code under test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules import decisions
from shared.rules.calendar import calendar_for
from shared.rules.pack import rule_pack

CN, EU, US = rule_pack("CN"), rule_pack("EU"), rule_pack("US")
D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0.00"),
        ("0.01", "0.01"),
        ("12345.675", "12345.68"),  # below 20,000: guarantee = value, rounded half up
        ("18488.40", "18488.40"),  # one line of the 10-line example: 100%
        ("19999.99", "19999.99"),  # last value of the first tier
        ("20000", "20000.00"),  # second tier: 50% = 10,000 but never below 20,000
        ("39999.99", "20000.00"),
        ("40000.02", "20000.01"),
        ("100000", "50000.00"),
        ("184884.00", "92442.00"),  # the 10-line example on the consignment: 50%
        ("199999.99", "100000.00"),  # 99999.995 rounds half up
        ("200000", "100000.00"),  # upper end of the second tier (inclusive)
        ("200000.01", "100000.00"),  # third tier: flat 100,000
        ("987654321.99", "100000.00"),
    ],
)
def test_cn_ex_officio_guarantee_tiers(value: str, expected: str) -> None:
    got = decisions.guarantee(CN, "ex_officio", D(value))
    assert got == D(expected) and str(got) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0.00"),
        ("19999.99", "19999.99"),
        ("250000", "250000.00"),
        ("12345.675", "12345.68"),
        ("1000000", "1000000.00"),
    ],
)
def test_cn_application_and_counter_guarantee_equal_the_goods_value(value: str, expected: str) -> None:
    assert str(decisions.guarantee(CN, "application", D(value))) == expected
    assert str(decisions.guarantee(CN, "counter_guarantee", D(value))) == expected


def test_no_guarantee_in_the_eu_and_the_us() -> None:
    assert decisions.guarantee(EU, "ex_officio", D("50000")) == D("0.00")
    assert decisions.guarantee(US, "ex_officio", D("50000")) == D("0.00")


_values = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(a=_values, b=_values)
def test_property_ex_officio_guarantee_is_monotonic_and_bounded(a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    g_lo, g_hi = decisions.guarantee(CN, "ex_officio", lo), decisions.guarantee(CN, "ex_officio", hi)
    assert g_lo <= g_hi
    for value, g in ((lo, g_lo), (hi, g_hi)):
        assert D(0) <= g <= D("100000.00") and g <= value


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(
        st.decimals(min_value=0, max_value=19_999, places=2, allow_nan=False, allow_infinity=False),
        min_size=2,
        max_size=12,
    )
)
def test_property_one_guarantee_on_the_consignment_never_exceeds_one_per_line(parts: list[Decimal]) -> None:
    whole = decisions.guarantee(CN, "ex_officio", sum(parts, D(0)))
    per_line = sum((decisions.guarantee(CN, "ex_officio", p) for p in parts), D(0))
    assert whole <= per_line


@pytest.mark.parametrize(
    ("value", "tier", "proposed", "amount"),
    [
        ("100000", "ordinary", None, "15000.00"),  # middle of 10-20%
        ("100000", "ordinary", "25000", "19999.99"),  # the tier's upper bound is exclusive
        ("100000", "ordinary", "1000", "10000.00"),
        ("100000", "heavier", "40000", "30000.00"),  # never above 30% of the goods value
        ("14910", "lighter", "5000", "1490.99"),
        ("14910", "mitigated", None, "0.00"),  # confiscation only
        ("100000", None, None, "15000.00"),  # the default tier is ordinary
    ],
)
def test_cn_fine_stays_inside_its_tier(value: str, tier: str | None, proposed: str | None, amount: str) -> None:
    decided = decisions.fine(CN, D(value), tier, D(proposed) if proposed else None)
    assert str(decided.amount) == amount and decided.tier == (tier or "ordinary")


def test_us_fine_cap_is_the_retail_value_twice_for_a_repeat_infringer() -> None:
    assert decisions.us_fine_cap(US, D("60000"), repeat=False) == D("60000.00")
    assert decisions.us_fine_cap(US, D("60000"), repeat=True) == D("120000.00")
    assert decisions.us_fine(US, D("60000"), repeat=False, proposed=D("90000")).amount == D("60000.00")
    assert decisions.us_fine(US, D("60000"), repeat=False, proposed=None).amount == D("0.00")


def test_fines_are_rechecked_against_the_same_rules() -> None:
    decisions.check_fine(CN, outcome="confiscation", goods_value=D("10000"), tier="ordinary", amount=D("1500"))
    decisions.check_fine(US, outcome="forfeiture", goods_value=D("1000"), tier=None, amount=D("2000"), repeat=True)
    decisions.check_fine(CN, outcome="release", goods_value=D("10000"), tier=None, amount=D("0"))
    with pytest.raises(decisions.FineOutsideRules):
        decisions.check_fine(CN, outcome="confiscation", goods_value=D("10000"), tier="ordinary", amount=D("2500"))
    with pytest.raises(decisions.FineOutsideRules):
        decisions.check_fine(US, outcome="forfeiture", goods_value=D("1000"), tier=None, amount=D("1000.01"))
    with pytest.raises(decisions.FineOutsideRules):
        decisions.check_fine(CN, outcome="release", goods_value=D("10000"), tier=None, amount=D("1"))
    with pytest.raises(ValueError, match="national law"):
        decisions.check_fine(EU, outcome="confiscation", goods_value=D("10"), tier=None, amount=D("1"))


@pytest.mark.parametrize(
    ("fine", "individual", "hearing"),
    [("99999.99", False, False), ("100000", False, True), ("9999.99", True, False), ("10000", True, True)],
)
def test_cn_hearing_threshold(fine: str, individual: bool, hearing: bool) -> None:
    assert decisions.hearing_required(CN, D(fine), individual=individual) is hearing


@pytest.mark.parametrize(
    ("value", "referred"), [("49999.99", False), ("50000", True), ("184884", True), ("18488.40", False)]
)
def test_cn_police_referral_threshold(value: str, referred: bool) -> None:
    assert decisions.police_referral(CN, D(value)) is referred


@pytest.mark.parametrize(
    ("mode", "units", "weight", "small"),
    [
        ("post", "3", None, True),  # at most three units
        ("post", "4", None, False),
        ("express", "40", "1.999", True),  # or under 2 kg
        ("express", "40", "2", False),
        ("post", "4", "2.5", False),
        ("air", "1", "0.1", False),  # not post or express
    ],
)
def test_eu_small_consignment_on_the_consignment(mode: str, units: str, weight: str | None, small: bool) -> None:
    assert (
        decisions.small_consignment(
            EU, transport_mode=mode, units=D(units), gross_weight_kg=D(weight) if weight else None
        )
        is small
    )


@pytest.mark.parametrize(
    ("right_type", "facts", "expected"),
    [
        ("trademark", {"usable_for_public_welfare": True, "holder_buys": True}, "public_welfare"),
        ("copyright", {"holder_buys": True}, "sale_to_holder"),
        ("trademark", {"infringing_features_removable": True}, "destruction"),  # no auction of counterfeit marks
        ("copyright", {"infringing_features_removable": True}, "auction_after_removal"),
        ("patent", {}, "destruction"),
    ],
)
def test_cn_disposal_follows_the_legal_order(right_type: str, facts: dict, expected: str) -> None:
    got = decisions.disposal_method(CN, right_type, **facts)
    assert got == expected and decisions.lawful_disposal(CN, got)
    assert not decisions.lawful_disposal(CN, "export_to_third_country")
    assert decisions.disposal_method(US, "trademark") == "forfeiture_destruction"


def test_deadline_dates_and_provisional_flags() -> None:
    cn = calendar_for("CN")
    # Served on Fri 20 Nov 2026: Mon, Tue, Wed.
    assert decisions.due_date(cn, date(2026, 11, 20), CN.deadline("holder_reply")) == date(2026, 11, 25)
    assert decisions.due_date(calendar_for("US"), date(2026, 11, 20), US.deadline("detention_period")) == date(
        2026, 12, 20
    )
    assert not decisions.provisional(cn, date(2026, 11, 20), date(2026, 11, 25))
    assert decisions.provisional(cn, date(2026, 12, 30), date(2027, 1, 6))  # 2027 is not official yet
    assert not decisions.provisional(cn, date(2026, 12, 30), date(2027, 1, 29), "calendar_days")
    # 26 Jan 2028 is Chinese New Year: the provisional 2028 data keep the Spring Festival off.
    due = decisions.due_date(cn, date(2028, 1, 26), amount=3)
    assert due == date(2028, 2, 2) and decisions.provisional(cn, date(2028, 1, 26), due)
    assert cn.official_through == date(2026, 12, 31)
