"""Parcel-manifest contract 1.0 and declaration contract 1.1: the good example, each violation, the stream parser."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.intake.manifest_stream import ManifestFormatError, ManifestStream
from shared.contracts.declaration import DeclarationV1
from shared.contracts.parcels import (
    MAX_PARCEL_LINES,
    ManifestHeaderV1,
    ManifestV1,
    ParcelRecordV1,
    ParcelV1,
    consignment_id,
    content_hash,
    parcel_problems,
    to_declaration,
)
from tests.factories import example_declaration, example_manifest, manifest_parcel, parcel_manifest


def test_example_manifest_is_valid_and_each_parcel_is_a_declaration() -> None:
    m = ManifestV1.model_validate(example_manifest())
    assert m.supervision_mode == "9610" and m.parcel_count == len(m.parcels) == 3
    assert m.parcels[0].declared_value == Decimal("8.40")
    d = to_declaration(m, m.parcels[1])
    assert d.declaration_id == "CN5300-9610-20261120-0007-P00002" == consignment_id(m.manifest_id, 2)
    assert d.destination_country == "DE"  # the parcel's own destination wins over the manifest's
    assert d.waybill_no == "SF1234567890002" and d.seller.id == "SHOP-10077" and d.platform.id == "PLAT-0042"
    assert d.lines[0].declared_ip_status == "no_brand"
    # the consignment is a valid declaration 1.1
    assert DeclarationV1.model_validate(d.model_dump()) == d


def test_a_1_0_declaration_keeps_its_content_hash() -> None:
    plain = DeclarationV1.model_validate(example_declaration())
    assert plain.supervision_mode is None and plain.lines[0].declared_ip_status is None
    # the hash of a 1.0 declaration, computed before the 1.1 fields existed
    assert plain.content_hash() == "03d0ab353f7e911921c33be634cd0163154a74745d61214e8a82c0d609ff4e96"
    marked = DeclarationV1.model_validate(
        example_declaration(supervision_mode="9710", business_model="B2B", platform={"id": "P1", "name": "B2B Mall"})
    )
    assert marked.content_hash() != plain.content_hash()


def _header_mutations():
    return [
        ("unknown field", lambda m: m.update(extra=1)),
        ("unknown mode", lambda m: m.update(supervision_mode="9999")),
        ("CN mode in the EU", lambda m: m.update(jurisdiction="EU")),
        ("B2B mode on B2C", lambda m: m.update(supervision_mode="9810")),
        ("9710 on import", lambda m: m.update(supervision_mode="9710", business_model="B2B", direction="import")),
        ("9610 without platform", lambda m: m.update(platform=None)),
        ("EU H7 on export", lambda m: m.update(jurisdiction="EU", supervision_mode="H7")),
        ("over the parcel limit", lambda m: m.update(parcel_count=10_001)),
        ("no parcels declared", lambda m: m.update(parcel_count=0)),
        ("naive time", lambda m: m.update(submitted_at="2026-11-20T06:30:00")),
        ("unknown jurisdiction", lambda m: m.update(jurisdiction="XX")),
        ("bad manifest id", lambda m: m.update(manifest_id="bad id/1")),
        ("long manifest id", lambda m: m.update(manifest_id="M" * 49)),
        ("unknown business model", lambda m: m.update(business_model="D2C")),
        ("bad currency", lambda m: m.update(currency="ABC")),
        ("missing carrier", lambda m: m.pop("carrier")),
    ]


@pytest.mark.parametrize(("what", "mutate"), _header_mutations(), ids=[w for w, _ in _header_mutations()])
def test_each_header_violation_is_refused(what: str, mutate) -> None:
    data = example_manifest()
    data.pop("parcels")
    mutate(data)
    with pytest.raises(ValidationError):
        ManifestHeaderV1.model_validate(data)


def _parcel_mutations():
    def line(**kw):
        return lambda p: p["lines"][0].update(**kw)

    return [
        ("negative quantity", line(quantity=-1)),
        ("negative unit value", line(unit_value=-1)),
        ("bad HS code", line(hs_code="64A4")),
        ("unknown IP status", line(declared_ip_status="maybe")),
        ("unknown line field", line(colour="red")),
        ("no lines", lambda p: p.update(lines=[])),
        (
            "too many lines",
            lambda p: p.update(lines=[{**p["lines"][0], "line_no": i} for i in range(1, MAX_PARCEL_LINES + 2)]),
        ),
        ("duplicate line_no", lambda p: p.update(lines=[p["lines"][0], dict(p["lines"][0])])),
        ("negative declared value", lambda p: p.update(declared_value=-0.01)),
        ("parcel_no 0", lambda p: p.update(parcel_no=0)),
        ("parcel_no over the limit", lambda p: p.update(parcel_no=10_001)),
        ("bad waybill", lambda p: p.update(waybill_no="WB 1")),
        ("missing consignee", lambda p: p.pop("consignee")),
        ("unknown parcel field", lambda p: p.update(insurance=1)),
        ("bad destination", lambda p: p.update(destination_country="XX")),
    ]


@pytest.mark.parametrize(("what", "mutate"), _parcel_mutations(), ids=[w for w, _ in _parcel_mutations()])
def test_each_parcel_violation_is_refused(what: str, mutate) -> None:
    parcel = manifest_parcel(1)
    mutate(parcel)
    with pytest.raises(ValidationError):
        ParcelV1.model_validate(parcel)


def test_rules_that_need_the_header() -> None:
    header = ManifestHeaderV1.model_validate({k: v for k, v in example_manifest().items() if k != "parcels"})
    assert parcel_problems(header, ParcelV1.model_validate(manifest_parcel(1))) == []
    no_order = ParcelV1.model_validate(manifest_parcel(1, order_no=None))
    assert [c for c, _ in parcel_problems(header, no_order)] == ["order_no_required"]
    b2b = ParcelV1.model_validate(manifest_parcel(1, business_model="B2B"))
    assert parcel_problems(header, b2b) == []  # 9610 admits any business model
    no_dest = header.model_copy(update={"destination_country": None})
    nowhere = ParcelV1.model_validate(manifest_parcel(1, consignee={"id": "B1", "name": "Buyer"}))
    assert [c for c, _ in parcel_problems(no_dest, nowhere)] == ["destination_unknown"]
    postal = header.model_copy(update={"supervision_mode": "postal", "platform": None})
    assert parcel_problems(postal, no_order) == []  # postal items need no order


def test_whole_manifest_checks_count_and_uniqueness() -> None:
    m = parcel_manifest("M-1", 3)
    ManifestV1.model_validate(m)
    for mutate in (
        lambda x: x.update(parcel_count=4),
        lambda x: x["parcels"][2].update(parcel_no=1),
        lambda x: x["parcels"][2].update(waybill_no=x["parcels"][0]["waybill_no"]),
    ):
        bad = parcel_manifest("M-1", 3)
        mutate(bad)
        with pytest.raises(ValidationError):
            ManifestV1.model_validate(bad)


def test_a_parcel_record_stays_far_below_the_brokers_message_limit() -> None:
    header = {k: v for k, v in example_manifest().items() if k != "parcels"}
    big_line = {
        "line_no": 1,
        "hs_code": "6404110000",
        "description": "鞋" * 1024,
        "brand": "B" * 256,
        "model": "M" * 256,
        "quantity": 1,
        "unit": "pair",
        "unit_value": 1,
        "gross_weight_kg": 1,
        "origin_country": "CN",
        "declared_ip_status": "no_brand",
    }
    parcel = manifest_parcel(
        1,
        lines=[{**big_line, "line_no": i} for i in range(1, MAX_PARCEL_LINES + 1)],
        consignee={"id": "X" * 64, "name": "N" * 256, "country": "US"},
    )
    record = ParcelRecordV1.model_validate({"manifest": header, "parcel": parcel})
    size = len(record.model_dump_json().encode())
    assert size < 512 * 1024, size  # the largest possible parcel is under half of 1 MB


def test_content_hash_ignores_how_numbers_and_key_order_are_written() -> None:
    a = manifest_parcel(1)
    b = json.loads(json.dumps(a), parse_float=Decimal)
    b["declared_value"] = Decimal("7.000")
    a["declared_value"] = 7
    assert content_hash(ParcelV1.model_validate(a)) == content_hash(ParcelV1.model_validate(b))
    assert content_hash({"x": 1, "y": [1.50]}) == content_hash({"y": [Decimal("1.5")], "x": Decimal("1.0")})


def _parse(body: bytes, size: int) -> list[tuple[str, object]]:
    stream = ManifestStream()
    out = []
    for i in range(0, len(body), size):
        out += stream.feed(body[i : i + size])
        out += stream.feed(b"")  # servers end with an empty piece: it must not end the document
    return out + stream.close()


@pytest.mark.parametrize("size", [1, 3, 64, 4096, 1 << 20])
def test_stream_gives_the_header_then_each_parcel_whatever_the_pieces(size: int) -> None:
    body = json.dumps(parcel_manifest("M-S", 5)).encode()
    out = _parse(body, size)
    assert [k for k, _ in out] == ["header", "parcel", "parcel", "parcel", "parcel", "parcel", "end"]
    header = out[0][1]
    assert header["manifest_id"] == "M-S" and header["carrier"]["id"] == "CARRIER-SF"
    assert [p["parcel_no"] for k, p in out if k == "parcel"] == [1, 2, 3, 4, 5]
    assert isinstance(out[1][1]["lines"][0]["unit_value"], Decimal)  # never a float


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[1, 2]", "not_a_manifest"),
        (b'{"manifest_id": "M", "parcels": 5}', "not_a_manifest"),
        (b'{"parcels": [], "manifest_id": "M"}', "header_after_parcels"),
        (
            b'{"manifest_id": "M", "parcel_count": 1, "parcels": [{"parcel_no": 1}], "currency": "USD"}',
            "header_after_parcels",
        ),
        (b'{"manifest_id": "M", "parcel_count": 1, "parcels": [{"parcel_no": 1}], "parcels": []}', "not_a_manifest"),
        (b'{"manifest_id": "M", "parcel_count": 1, "parcels": [{"parcel_no": 1}]} {}', "malformed_json"),
        (b'{"manifest_id": "M", "parcels": [{"parcel_no": 1}', "malformed_json"),
        (b'{"manifest_id": "M", "parcels": [}', "malformed_json"),
        (b'{"manifest_id": "M"}', "parcels_missing"),
    ],
)
def test_stream_refuses_what_is_not_a_manifest(body: bytes, code: str) -> None:
    with pytest.raises(ManifestFormatError) as err:
        _parse(body, 7)
    assert err.value.code == code


def test_stream_hands_over_a_non_object_parcel_for_rejection() -> None:
    out = _parse(b'{"manifest_id": "M", "parcels": [7, {"parcel_no": 2}, "x"]}', 5)
    assert [v for k, v in out if k == "parcel"] == [7, {"parcel_no": 2}, "x"]
