"""CN guarantee tiers (GACC Measures) and application-mode guarantee."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules import cn


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0.00"),
        ("0.01", "0.01"),
        ("12345.675", "12345.68"),  # below 20,000: guarantee = value, rounded half up
        ("19999.99", "19999.99"),  # last value of the first tier
        ("19999.994", "19999.99"),
        ("19999.995", "20000.00"),  # rounds up, still below the 20,000 threshold -> value
        ("20000", "20000.00"),  # second tier: 50% = 10,000 but never below 20,000
        ("20000.00", "20000.00"),
        ("30000", "20000.00"),
        ("39999.99", "20000.00"),
        ("40000", "20000.00"),  # 50% == floor exactly
        ("40000.02", "20000.01"),
        ("100000", "50000.00"),
        ("123456.789", "61728.39"),  # 61728.3945 -> 61728.39
        ("199999.99", "100000.00"),  # 99999.995 rounds half up
        ("200000", "100000.00"),  # upper end of the second tier (inclusive)
        ("200000.01", "100000.00"),  # third tier: flat 100,000
        ("1000000", "100000.00"),
        ("987654321.99", "100000.00"),
    ],
)
def test_ex_officio_guarantee_tiers(value: str, expected: str) -> None:
    got = cn.ex_officio_guarantee_cny(Decimal(value))
    assert got == Decimal(expected)
    assert str(got) == expected  # always exactly two decimal places


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", "0.00"), ("19999.99", "19999.99"), ("200000.01", "200000.01"), ("250000", "250000.00"),
     ("12345.675", "12345.68"), ("12345.674", "12345.67"), ("1000000", "1000000.00")],
)
def test_application_guarantee_equals_goods_value(value: str, expected: str) -> None:
    got = cn.application_guarantee_cny(Decimal(value))
    assert got == Decimal(expected)
    assert str(got) == expected


def test_rule_constants() -> None:
    assert cn.HOLDER_REPLY_WORKING_DAYS == 3
    assert cn.DETERMINATION_WORKING_DAYS == 30
    assert cn.EX_OFFICIO_RELEASE_WORKING_DAYS == 50
    assert cn.APPLICATION_RELEASE_WORKING_DAYS == 20
    assert cn.MAX_FINE_RATE == Decimal("0.30")


_values = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(a=_values, b=_values)
def test_property_ex_officio_guarantee_is_monotonic_and_bounded(a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    g_lo, g_hi = cn.ex_officio_guarantee_cny(lo), cn.ex_officio_guarantee_cny(hi)
    assert g_lo <= g_hi
    for value, g in ((lo, g_lo), (hi, g_hi)):
        assert Decimal(0) <= g <= Decimal("100000.00")
        assert g <= value  # never more than the goods are worth
