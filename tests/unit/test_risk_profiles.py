"""Targeting profiles: validation of the data officers write, and how the compiled conditions match."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.risk.profiles import ProfileSet, TargetingProfileV1
from shared.contracts.declaration import DeclarationV1
from tests.factories import example_declaration

ON = date(2026, 11, 20)


def profile(*conditions: dict, **changes) -> TargetingProfileV1:
    data = {
        "profile_id": "P-SHOES-1",
        "name": "cheap sports shoes by express",
        "owner": "officer.wang",
        "weight": 0.3,
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "conditions": list(conditions) or [{"field": "line.hs_code", "op": "prefix", "value": "6404"}],
    }
    data.update(changes)
    return TargetingProfileV1.model_validate(data)


def decl(**changes) -> DeclarationV1:
    return DeclarationV1.model_validate(example_declaration(**changes))


def matches(p: TargetingProfileV1, d: DeclarationV1 | None = None, line: int = 0, on: date = ON) -> bool:
    d = d or decl()
    return [x.profile_id for x in ProfileSet([p]).matching(d, d.lines[line], on)] == [p.profile_id]


@pytest.mark.parametrize(
    ("condition", "line", "expected"),
    [
        ({"field": "line.hs_code", "op": "prefix", "value": "6404"}, 0, True),
        ({"field": "line.hs_code", "op": "prefix", "value": ["4202", "6404"]}, 1, True),
        ({"field": "line.hs_code", "op": "not_prefix", "value": "64"}, 0, False),
        ({"field": "line.unit_value", "op": "lt", "value": 5}, 0, True),
        ({"field": "line.unit_value", "op": "ge", "value": 5}, 0, False),
        ({"field": "line.value", "op": "gt", "value": 2000}, 0, True),  # 500 x 4.20
        ({"field": "line.quantity", "op": "le", "value": 10}, 0, False),
        ({"field": "line.description", "op": "contains", "value": "sports shoes"}, 0, True),
        ({"field": "line.description", "op": "contains", "value": "sport"}, 0, False),  # whole words only
        ({"field": "line.description", "op": "contains_any", "value": ["sandals", "handbags"]}, 1, True),
        ({"field": "line.description", "op": "not_contains", "value": "handbags"}, 1, False),
        ({"field": "line.brand", "op": "absent"}, 1, True),
        ({"field": "line.brand", "op": "present"}, 0, True),
        ({"field": "line.brand", "op": "eq", "value": "nike"}, 0, True),  # text: normalised
        ({"field": "direction", "op": "eq", "value": "export"}, 0, True),
        ({"field": "transport_mode", "op": "in", "value": ["post", "express"]}, 0, False),
        ({"field": "destination_country", "op": "not_in", "value": ["US"]}, 0, False),
        ({"field": "consignor.id", "op": "eq", "value": "91440300MA5YYYY2"}, 0, True),
        ({"field": "consignee.name", "op": "contains", "value": "discount footwear"}, 0, True),
        ({"field": "transit_countries", "op": "empty"}, 0, True),
        ({"field": "transit_countries", "op": "any_in", "value": ["AE", "HK"]}, 0, False),
        ({"field": "lines.count", "op": "eq", "value": 2}, 0, True),
        ({"field": "customs_office", "op": "prefix", "value": "CN53"}, 0, True),
    ],
)
def test_conditions(condition: dict, line: int, expected: bool) -> None:
    assert matches(profile(condition), line=line) is expected


def test_all_conditions_must_hold() -> None:
    p = profile(
        {"field": "line.hs_code", "op": "prefix", "value": "6404"},
        {"field": "transport_mode", "op": "eq", "value": "express"},
    )
    assert not matches(p)
    assert matches(p, decl(transport_mode="express"))


def test_transit_route_condition() -> None:
    p = profile({"field": "transit_countries", "op": "contains", "value": "AE"})
    assert matches(p, decl(transit_countries=["AE"]))
    assert not matches(p)


def test_validity_period_offices_jurisdiction_and_active_flag() -> None:
    p = profile(valid_from="2026-11-21")
    assert not matches(p) and matches(p, on=date(2026, 11, 21))
    assert not matches(profile(valid_until="2026-11-19"))
    assert matches(profile(customs_offices=["CN5300"])) and not matches(profile(customs_offices=["CN2200"]))
    assert len(ProfileSet([profile(active=False)])) == 0


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "line.colour", "op": "eq", "value": "red"}, "unknown field"),
        ({"field": "line.unit_value", "op": "contains", "value": "5"}, "does not apply"),
        ({"field": "line.unit_value", "op": "lt", "value": "cheap"}, "number"),
        ({"field": "line.unit_value", "op": "lt", "value": True}, "number"),
        ({"field": "line.hs_code", "op": "prefix", "value": "64a"}, "digits"),
        ({"field": "transport_mode", "op": "in", "value": "post"}, "list"),
        ({"field": "transport_mode", "op": "in", "value": []}, "list"),
        ({"field": "line.brand", "op": "present", "value": "x"}, "takes no value"),
        ({"field": "line.brand", "op": "contains"}, "needs a value"),
        ({"field": "line.description", "op": "contains", "value": "  "}, "non-empty"),
    ],
)
def test_invalid_conditions_are_refused_with_a_reason(condition: dict, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        profile(condition)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"weight": 1.5},
        {"weight": 0},
        {"valid_until": "2025-01-01"},
        {"owner": ""},
        {"conditions": []},
        {"profile_id": "bad id"},
        {"jurisdiction": "XX"},
        {"unknown": 1},
    ],
)
def test_invalid_profiles_are_refused(changes: dict) -> None:
    with pytest.raises(ValidationError):
        profile(**changes)


def test_negative_weight_for_trusted_flows_is_allowed() -> None:
    assert profile(weight=-0.2).weight == -0.2
