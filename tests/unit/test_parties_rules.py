"""Who the law gives each party notice to, and which party may answer what (``shared.rules.parties``)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.notify.models import Delivery
from services.notify.service import service_of
from shared.contracts.declaration import DeclarationV1
from shared.rules import parties

D, CR, CE = (SimpleNamespace(id=i, name=n) for i, n in (("D1", "Broker"), ("C1", "Seller"), ("C2", "Buyer")))


def case(jurisdiction: str, direction: str = "import", declarant=D):
    return SimpleNamespace(
        jurisdiction=jurisdiction, direction=direction, declarant=declarant, consignor=CR, consignee=CE
    )


@pytest.mark.parametrize(
    ("jurisdiction", "direction", "declarant", "kind", "expected"),
    [
        ("CN", "import", D, "party_detention", ("consignee", "C2")),
        ("CN", "export", D, "party_detention", ("consignor", "C1")),
        ("CN", "export", D, "hearing_right", ("consignor", "C1")),
        ("CN", "import", D, "penalty_decision", ("consignee", "C2")),
        ("EU", "import", D, "party_detention", ("declarant", "D1")),
        ("EU", "import", None, "party_detention", ("holder_of_goods", "C2")),
        ("US", "import", D, "party_detention", ("importer", "C2")),
        ("EU", "import", D, "hearing_right", None),
    ],
)
def test_addressee_of_each_notice(jurisdiction, direction, declarant, kind, expected) -> None:
    found = parties.addressee(case(jurisdiction, direction, declarant), kind)
    assert (None if found is None else (found[0], found[1].id)) == expected


def test_every_party_notice_names_its_legal_basis() -> None:
    for j, kind in (
        ("CN", "party_detention"),
        ("CN", "hearing_right"),
        ("CN", "penalty_decision"),
        ("EU", "party_detention"),
        ("US", "party_detention"),
    ):
        assert parties.basis(j, kind)


def test_roles_and_answers() -> None:
    eu = case("EU")
    assert parties.roles_of(eu, "D1") == {"declarant"}
    assert parties.roles_of(eu, "C2") == {"consignee", "holder_of_goods"}
    assert parties.answer_problem(eu, "objects_to_destruction", {"declarant"}) is None
    assert parties.answer_problem(eu, "objects_to_destruction", {"consignor"})[0] == "not_your_answer"
    assert parties.answer_problem(eu, "importer_response", {"declarant"})[0] == "answer_not_in_jurisdiction"
    us = case("US")
    assert "importer" in parties.roles_of(us, "C2")
    assert parties.answer_problem(us, "importer_response", parties.roles_of(us, "D1"))[0] == "not_your_answer"
    cn = case("CN", "export")
    assert parties.answer_problem(cn, "hearing_request", parties.roles_of(cn, "C1")) is None
    assert parties.answer_problem(cn, "hearing_request", parties.roles_of(cn, "D1"))[0] == "not_your_answer"


def _delivery(channel: str, status: str, served: bool = False) -> Delivery:
    return Delivery(
        notice_id="N",
        recipient_kind="party",
        recipient_id="D1",
        recipient_name="Broker",
        channel=channel,
        status=status,
        served_at=datetime(2026, 12, 1, tzinfo=UTC) if served else None,
    )


@pytest.mark.parametrize(
    ("email", "webhook", "expected"),
    [
        (("delivered", True), ("not_configured", False), "served"),
        (("undeliverable", False), ("delivered", True), "served"),
        (("undeliverable", False), ("not_configured", False), "undeliverable"),
        (("not_configured", False), ("not_configured", False), "undeliverable"),
        (("retrying", False), ("not_configured", False), "pending"),
        (("undeliverable", False), ("sending", False), "pending"),
    ],
)
def test_a_notice_is_served_when_a_delivery_is_accepted_and_undeliverable_when_every_channel_failed(
    email, webhook, expected
) -> None:
    rows = [_delivery("email", *email), _delivery("webhook", *webhook)]
    assert service_of(rows, "party", "D1") == expected


def test_declaration_1_2_party_contact_email_keeps_the_hash_of_a_declaration_without_it() -> None:
    raw = {
        "declaration_id": "CN5300-H-1",
        "revision": 1,
        "submitted_at": "2026-11-20T08:15:00Z",
        "jurisdiction": "CN",
        "customs_office": "CN5300",
        "direction": "export",
        "procedure": "general_trade",
        "transport_mode": "sea",
        "declarant": {"id": "91440300MA5XXXX1", "name": "Swift"},
        "consignor": {"id": "91440300MA5YYYY2", "name": "Bright", "country": "CN"},
        "consignee": {"id": "US-EIN-12-3456789", "name": "Discount", "country": "US"},
        "origin_country": "CN",
        "destination_country": "US",
        "currency": "USD",
        "lines": [
            {
                "line_no": 1,
                "hs_code": "640411",
                "description": "shoes",
                "brand": "NIKE",
                "quantity": 1,
                "unit": "pair",
                "unit_value": "4.20",
            }
        ],
    }
    plain = DeclarationV1.model_validate(raw)
    with_none = DeclarationV1.model_validate({**raw, "declarant": {**raw["declarant"], "contact_email": None}})
    with_mail = DeclarationV1.model_validate(
        {**raw, "declarant": {**raw["declarant"], "contact_email": "ops@swift.example.cn"}}
    )
    assert plain.content_hash() == with_none.content_hash() != with_mail.content_hash()
    with pytest.raises(ValueError):
        DeclarationV1.model_validate({**raw, "declarant": {**raw["declarant"], "contact_email": "not an address"}})
