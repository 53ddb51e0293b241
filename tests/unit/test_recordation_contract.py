"""RecordationV1: a right recorded with customs."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from shared.contracts.recordation import RecordationV1
from tests.factories import example_recordation


def test_example_is_valid() -> None:
    rec = RecordationV1.model_validate(example_recordation())
    assert rec.recordation_id == "CN-T-2019-004211"
    assert rec.status == "active"
    assert rec.valid_from == date(2019, 3, 1) and rec.valid_until == date(2029, 2, 28)
    assert rec.aliases == ["NIKE AIR", "SWOOSH"]
    assert rec.authorized_licensees[0].id == "91440300MA5ZZZZ3"


def test_status_defaults_to_active() -> None:
    data = example_recordation()
    del data["status"]
    assert RecordationV1.model_validate(data).status == "active"


def test_valid_until_equal_to_valid_from_is_allowed() -> None:
    rec = RecordationV1.model_validate(example_recordation(valid_from="2026-01-01", valid_until="2026-01-01"))
    assert rec.valid_from == rec.valid_until


def test_valid_until_before_valid_from_is_refused() -> None:
    with pytest.raises(ValidationError, match="valid_until must not be before valid_from"):
        RecordationV1.model_validate(example_recordation(valid_from="2026-01-02", valid_until="2026-01-01"))


@pytest.mark.parametrize(
    "prefix",
    [
        "6",
        "64A1",
        "64 04",
        "64.04",
        "",
        "12345678901",
        # Non-ASCII "digits": declaration HS codes are ASCII [0-9] only, so such a prefix could never
        # match a declaration line; GenuineValue.hs_prefix (pattern ^[0-9]{2,10}$) already refuses them.
        "\uff16\uff14\uff10\uff14",  # full-width 6404
        "\u0666\u0664\u0660\u0664",  # Arabic-Indic 6404
        "6\u00b2",  # '6' + superscript two
    ],
    ids=[
        "one-digit",
        "letter",
        "space",
        "dot",
        "empty",
        "eleven-digits",
        "fullwidth-6404",
        "arabic-indic-6404",
        "superscript",
    ],
)
def test_bad_goods_hs_prefix_is_refused(prefix: str) -> None:
    data = example_recordation(goods_hs_prefixes=["6401", prefix])
    with pytest.raises(ValidationError):
        RecordationV1.model_validate(data)


@pytest.mark.parametrize("prefix", ["64", "6404", "6404110000"])
def test_good_goods_hs_prefixes(prefix: str) -> None:
    assert RecordationV1.model_validate(example_recordation(goods_hs_prefixes=[prefix])).goods_hs_prefixes == [prefix]


@pytest.mark.parametrize("prefix", ["6", "64A4", "64041100001"])
def test_bad_genuine_value_hs_prefix_is_refused(prefix: str) -> None:
    data = example_recordation(genuine_unit_value=[{"hs_prefix": prefix, "min": 35, "currency": "USD"}])
    with pytest.raises(ValidationError):
        RecordationV1.model_validate(data)


@pytest.mark.parametrize(
    "changes",
    [
        {"goods_hs_prefixes": []},
        {"jurisdiction": "JP"},
        {"right_type": "design"},
        {"status": "suspended"},
        {"aliases": ["NIKE AIR", "   "]},
        {"aliases": [""]},
        {"recordation_id": "ab"},
        {"recordation_id": "bad id"},
        {"valid_until": "2029-02-30"},
        {"unexpected": True},
        {"genuine_unit_value": [{"hs_prefix": "6404", "min": -1, "currency": "USD"}]},
        {"genuine_unit_value": [{"hs_prefix": "6404", "min": 35, "currency": "usd"}]},
    ],
)
def test_invalid_recordations_are_refused(changes: dict) -> None:
    with pytest.raises(ValidationError):
        RecordationV1.model_validate(example_recordation(**changes))


@pytest.mark.parametrize(
    "holder_change",
    [
        {"contact_email": "not-an-email"},
        {"webhook_url": "ftp://rights-holder.example.com/x"},
        {"webhook_url": "not a url"},
        {"phone": "+1 555"},
        {"id": ""},
    ],
)
def test_invalid_holder_is_refused(holder_change: dict) -> None:
    data = example_recordation()
    data["holder"] = {**data["holder"], **holder_change}
    with pytest.raises(ValidationError):
        RecordationV1.model_validate(data)


def test_holder_webhook_is_optional() -> None:
    data = example_recordation()
    data["holder"] = {k: v for k, v in data["holder"].items() if k != "webhook_url"}
    assert RecordationV1.model_validate(data).holder.webhook_url is None
