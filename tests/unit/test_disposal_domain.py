"""Disposal rules: the fine (max 30% of goods value) and the order of disposal methods."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.disposal.domain import DISPOSAL_ORDER, MAX_FINE_RATE, disposal_method, fine_for
from shared.rules import cn


@pytest.mark.parametrize(
    ("value", "rate", "expected"),
    [
        ("1000", "0.30", "300.00"),  # the cap itself is allowed
        ("1000", "0", "0.00"),
        ("0", "0.30", "0.00"),
        ("2100.00", "0.10", "210.00"),
        ("10.05", "0.15", "1.51"),  # 1.5075 -> 1.51
        ("0.05", "0.10", "0.01"),  # 0.005 -> rounds half up to 0.01
        ("0.04", "0.10", "0.00"),  # 0.004 -> 0.00
        ("33.33", "0.30", "10.00"),  # 9.999 -> 10.00
        ("14910.00", "0.25", "3727.50"),
        ("12345.67", "0.3", "3703.70"),  # 3703.701
    ],
)
def test_fine_for(value: str, rate: str, expected: str) -> None:
    got = fine_for(Decimal(value), Decimal(rate))
    assert got == Decimal(expected)
    assert str(got) == expected


@pytest.mark.parametrize("rate", ["0.31", "0.3000001", "1", "-0.01", "-1"])
def test_fine_rate_outside_zero_to_thirty_percent_is_refused(rate: str) -> None:
    with pytest.raises(ValueError):
        fine_for(Decimal("1000"), Decimal(rate))


@pytest.mark.parametrize("value", ["-0.01", "-1000"])
def test_negative_goods_value_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        fine_for(Decimal(value), Decimal("0.10"))


def test_max_fine_rate_matches_cn_rule_pack() -> None:
    assert MAX_FINE_RATE == Decimal("0.30") == cn.MAX_FINE_RATE


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    rate=st.decimals(min_value=0, max_value=Decimal("0.30"), places=4, allow_nan=False, allow_infinity=False),
)
def test_property_fine_never_exceeds_thirty_percent(value: Decimal, rate: Decimal) -> None:
    fine = fine_for(value, rate)
    assert Decimal(0) <= fine <= (value * Decimal("0.30")).quantize(Decimal("0.01")) + Decimal("0.01")
    assert abs(fine - value * rate) <= Decimal("0.005")


def test_disposal_order() -> None:
    assert DISPOSAL_ORDER == ("public_welfare", "sale_to_holder", "auction_after_removal", "destruction")


@pytest.mark.parametrize(
    ("right_type", "welfare", "holder_buys", "expected"),
    [
        ("trademark", True, True, "public_welfare"),  # first option wins over everything
        ("trademark", True, False, "public_welfare"),
        ("copyright", True, True, "public_welfare"),
        ("patent", True, False, "public_welfare"),
        ("trademark", False, True, "sale_to_holder"),
        ("copyright", False, True, "sale_to_holder"),
        ("patent", False, True, "sale_to_holder"),
        ("trademark", False, False, "destruction"),  # counterfeit marks: auction is skipped
        ("copyright", False, False, "auction_after_removal"),
        ("patent", False, False, "auction_after_removal"),
    ],
)
def test_disposal_method(right_type: str, welfare: bool, holder_buys: bool, expected: str) -> None:
    got = disposal_method(right_type, usable_for_public_welfare=welfare, holder_buys=holder_buys)
    assert got == expected
    assert got in DISPOSAL_ORDER


def test_disposal_method_defaults() -> None:
    assert disposal_method("trademark") == "destruction"
    assert disposal_method("copyright") == "auction_after_removal"


@pytest.mark.parametrize("right_type", ["trademark", "copyright", "patent"])
def test_disposal_method_picks_earliest_lawful_option(right_type: str) -> None:
    # Whatever is lawful, the result must come no later in DISPOSAL_ORDER than any other lawful option.
    for welfare in (False, True):
        for buys in (False, True):
            got = disposal_method(right_type, usable_for_public_welfare=welfare, holder_buys=buys)
            lawful = [m for m, ok in (("public_welfare", welfare), ("sale_to_holder", buys)) if ok]
            if lawful:
                assert DISPOSAL_ORDER.index(got) <= min(DISPOSAL_ORDER.index(m) for m in lawful)
            if right_type == "trademark":
                assert got != "auction_after_removal"
