"""DeclarationV1: strict validation and the content hash used to tell a replay from a conflict."""

from __future__ import annotations

import copy
from datetime import UTC
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.contracts.declaration import DeclarationV1
from tests.factories import example_declaration


def _reverse_keys(value):
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


def _line(data: dict, i: int = 0) -> dict:
    return data["lines"][i]


def test_example_is_valid() -> None:
    decl = DeclarationV1.model_validate(example_declaration())
    assert decl.declaration_id == "CN5300-2026-0000123"
    assert decl.jurisdiction == "CN"
    assert decl.submitted_at.utcoffset().total_seconds() == 0
    assert [line.line_no for line in decl.lines] == [1, 2]
    assert decl.lines[0].quantity == Decimal(500)
    assert decl.lines[0].line_value == Decimal("2100.00")
    assert decl.lines[1].line_value == Decimal("620.00")


def test_example_declaration_helper_does_not_share_state() -> None:
    a = example_declaration()
    a["lines"][0]["quantity"] = -1
    assert example_declaration()["lines"][0]["quantity"] == 500


def _mutations():
    def set_top(key, value):
        def f(data: dict) -> None:
            data[key] = value

        return f

    def set_line(key, value, i=0):
        def f(data: dict) -> None:
            data["lines"][i][key] = value

        return f

    def dup_line_no(data: dict) -> None:
        data["lines"][1]["line_no"] = data["lines"][0]["line_no"]

    def drop(key):
        def f(data: dict) -> None:
            del data[key]

        return f

    def set_party(party, key, value):
        def f(data: dict) -> None:
            data[party][key] = value

        return f

    return [
        ("unknown jurisdiction", set_top("jurisdiction", "JP")),
        ("lower-case jurisdiction", set_top("jurisdiction", "cn")),
        ("empty jurisdiction", set_top("jurisdiction", "")),
        ("empty lines", set_top("lines", [])),
        ("negative quantity", set_line("quantity", -1)),
        ("zero quantity", set_line("quantity", 0)),
        ("negative unit value", set_line("unit_value", -0.01)),
        ("too many quantity decimals", set_line("quantity", "1.0001")),
        ("duplicate line_no", dup_line_no),
        ("line_no zero", set_line("line_no", 0)),
        ("naive submitted_at", set_top("submitted_at", "2026-11-20T08:15:00")),
        ("unparseable submitted_at", set_top("submitted_at", "yesterday")),
        ("extra top-level field", set_top("priority", "high")),
        ("extra line field", set_line("colour", "red")),
        ("extra party field", set_party("consignor", "vat", "123")),
        ("hs code with letters", set_line("hs_code", "64041A")),
        ("hs code too short", set_line("hs_code", "640")),
        ("hs code with dots", set_line("hs_code", "6404.11")),
        ("hs code too long", set_line("hs_code", "64041100001")),
        ("lower-case origin country", set_top("origin_country", "cn")),
        ("alpha-3 destination country", set_top("destination_country", "USA")),
        ("bad line origin country", set_line("origin_country", "C1")),
        ("bad party country", set_party("consignee", "country", "U")),
        ("bad transit country", set_top("transit_countries", ["DE", "xx"])),
        ("bad currency", set_top("currency", "US")),
        ("bad direction", set_top("direction", "inbound")),
        ("bad transport mode", set_top("transport_mode", "teleport")),
        ("revision zero", set_top("revision", 0)),
        ("bad declaration id", set_top("declaration_id", "-starts-with-dash")),
        ("missing consignor", drop("consignor")),
        ("empty description", set_line("description", "   ")),
    ]


@pytest.mark.parametrize(("label", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_invalid_declarations_are_refused(label: str, mutate) -> None:
    data = example_declaration()
    mutate(data)
    with pytest.raises(ValidationError):
        DeclarationV1.model_validate(data)


def test_unknown_jurisdiction_reason_names_supported_ones() -> None:
    with pytest.raises(ValidationError, match="unknown jurisdiction 'JP'; supported: CN, EU, US"):
        DeclarationV1.model_validate(example_declaration(jurisdiction="JP"))


def test_duplicate_line_reason() -> None:
    data = example_declaration()
    data["lines"][1]["line_no"] = 1
    with pytest.raises(ValidationError, match="line_no values must be unique"):
        DeclarationV1.model_validate(data)


def test_naive_timestamp_reason() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        DeclarationV1.model_validate(example_declaration(submitted_at="2026-11-20T08:15:00"))


def test_model_is_frozen() -> None:
    decl = DeclarationV1.model_validate(example_declaration())
    with pytest.raises(ValidationError):
        decl.revision = 2  # type: ignore[misc]


def test_strings_are_stripped() -> None:
    data = example_declaration(customs_office="  CN5300 ")
    _line(data)["brand"] = " NIKE "
    decl = DeclarationV1.model_validate(data)
    assert decl.customs_office == "CN5300"
    assert decl.lines[0].brand == "NIKE"


# --- content_hash -----------------------------------------------------------------------


def _hash(data: dict) -> str:
    return DeclarationV1.model_validate(data).content_hash()


def test_content_hash_is_a_sha256_hex_digest_and_deterministic() -> None:
    h = _hash(example_declaration())
    assert len(h) == 64 and all(c in "0123456789abcdef" for c in h)
    assert h == _hash(example_declaration())


def test_content_hash_is_stable_across_key_order() -> None:
    data = example_declaration()
    reordered = _reverse_keys(copy.deepcopy(data))
    assert list(reordered) != list(data)
    assert list(reordered["lines"][0]) != list(data["lines"][0])
    assert _hash(reordered) == _hash(data)


def test_content_hash_ignores_stripped_whitespace() -> None:
    data = example_declaration()
    _line(data)["description"] = "  " + _line(data)["description"] + "  "
    assert _hash(data) == _hash(example_declaration())


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(revision=2),
        lambda d: d.update(customs_office="CN5301"),
        lambda d: d.update(submitted_at="2026-11-20T08:15:01Z"),
        lambda d: d["lines"][0].update(quantity=501),
        lambda d: d["lines"][0].update(unit_value=4.21),
        lambda d: d["lines"][0].update(brand="NIKF"),
        lambda d: d["lines"][1].update(hs_code="420221"),
        lambda d: d["lines"].reverse(),  # line order is content
        lambda d: d["lines"].pop(),
        lambda d: d["consignee"].update(name="Other LLC"),
        lambda d: d.update(transit_countries=["SG"]),
    ],
)
def test_content_hash_changes_when_content_changes(change) -> None:
    base = example_declaration()
    changed = example_declaration()
    change(changed)
    assert _hash(changed) != _hash(base)


@pytest.mark.parametrize(
    ("label", "change"),
    [
        # Same quantity, JSON number written as 500.0 instead of 500.
        ("quantity 500.0", lambda d: d["lines"][0].update(quantity=500.0)),
        # Same unit value, written as a decimal string with a trailing zero.
        ("unit_value '4.20'", lambda d: d["lines"][0].update(unit_value="4.20")),
        # Same instant, written with the +08:00 offset instead of Z.
        ("submitted_at +08:00", lambda d: d.update(submitted_at="2026-11-20T16:15:00+08:00")),
    ],
    ids=["quantity-500.0-vs-500", "unit_value-4.20-vs-4.2", "submitted_at-plus0800-vs-Z"],
)
def test_content_hash_is_equal_for_equal_declarations(label: str, change) -> None:
    """A replay of the same declaration must not look like a conflict.

    The two payloads validate to models that compare equal (same quantities, same instant),
    so the 'stable digest of the declaration's content' must be equal too.
    """
    base = DeclarationV1.model_validate(example_declaration())
    data = example_declaration()
    change(data)
    replay = DeclarationV1.model_validate(data)
    assert replay == base
    assert replay.submitted_at.astimezone(UTC) == base.submitted_at.astimezone(UTC)
    assert replay.content_hash() == base.content_hash()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("currency", "XYZ", "ISO 4217"),
        ("origin_country", "XX", "ISO 3166-1"),
        ("destination_country", "ZZ", "ISO 3166-1"),
    ],
)
def test_codes_must_exist_not_just_look_right(field: str, value: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        DeclarationV1.model_validate(example_declaration(**{field: value}))
