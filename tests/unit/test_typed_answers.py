"""The answers the services build are the models their OpenAPI documents (``shared/contracts``).

A route that returns a dict has it validated against its ``response_model``, which keeps only the model's keys: a
key a view adds without the model would silently disappear from the answer, and a value outside the model's bounds
would be a 500. Each view function here is fed a realistic record and its answer must have exactly the model's
keys and pass through the model unchanged (timestamps aside: the model writes UTC as ``Z``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from services.disposal import service as disposal
from services.disposal.models import Disposition
from services.guarantees import service as guarantees
from services.guarantees.models import CaseCost, GeneralGuarantee
from services.identity import service as identity
from services.identity.models import Account, AuditEntry, Client, Holder
from services.intake import manifests
from services.intake import service as intake
from services.intake.models import Declaration, ManifestParcel
from services.notify import keys
from services.notify import service as notify
from services.notify.documents import register
from services.notify.models import Delivery, DeliveryAttempt, Notice, NoticeDocument, Reply, SigningKey
from shared.contracts.dispositions import DispositionView
from shared.contracts.guarantee_views import CostView, GeneralGuaranteeView
from shared.contracts.identity import AccountView, AuditEntryView, ClientView, HolderView
from shared.contracts.intake_views import DeclarationAccepted, ParcelView
from shared.contracts.notices import (
    DeliveryView,
    DeliveryWithAttempts,
    NoticeDocumentView,
    NoticeView,
    SigningKeyView,
)

NOW = datetime(2026, 11, 20, 8, 15, 30, 123456, tzinfo=UTC)
CASE = "IPR-CN5300-2026-0000123-RH-0001"


def _normal(value: Any) -> Any:
    """JSON as the model writes it: UTC timestamps end in Z."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T" and value.endswith("+00:00"):
        return value[:-6] + "Z"
    return value


def assert_is(model: Any, answer: dict, *, optional: frozenset[str] = frozenset()) -> None:
    """``answer`` has the model's keys (those in ``optional`` may be absent) and passes through it unchanged."""
    adapter = TypeAdapter(model)
    parsed = adapter.validate_python(answer)
    fields = type(parsed).model_fields if isinstance(parsed, BaseModel) else {}
    assert set(fields) - set(answer) <= optional, f"missing from the answer: {set(fields) - set(answer) - optional}"
    assert set(answer) <= set(fields), f"keys the model would drop: {set(answer) - set(fields)}"
    assert adapter.dump_python(parsed, mode="json", exclude_unset=True) == _normal(answer)


# ---------------------------------------------------------------- identity


def test_identity_views() -> None:
    account = Account(
        account_id="wang.wei",
        display_name="Wang Wei",
        email="wang.wei@customs.example",
        role="officer",
        offices=["CN5300", "CN2200"],
        holder_id=None,
        party_id=None,
        case_id=None,
        locale="zh",
        enabled=True,
        created_at=NOW,
    )
    assert_is(AccountView, identity.account_view(account))
    party = Account(
        account_id="swift.forwarding",
        display_name="Swift Forwarding",
        email=None,
        role="party",
        offices=[],
        holder_id=None,
        party_id="IOR 95-1234567",
        case_id=CASE,
        locale="en",
        enabled=False,
        created_at=None,
    )
    assert_is(AccountView, identity.account_view(party))
    holder = Holder(
        holder_id="RH-0001",
        name="Nike Innovate C.V.",
        verified=True,
        enabled=True,
        verification_note="letter of 2026-01-05",
    )
    assert_is(HolderView, identity.holder_view(holder))
    client = Client(
        client_id="clearance-express",
        name="Express clearance",
        kind="machine",
        role="clearance_system",
        offices=["CN5300"],
        redirect_uris=[],
        first_party=False,
        enabled=True,
    )
    assert_is(ClientView, identity.client_view(client))
    entry = AuditEntry(
        at=NOW,
        actor_sub="zhang.min",
        actor_name="Zhang Min",
        action="account.created",
        target_type="account",
        target_id="wang.wei",
        detail={"role": "officer", "offices": ["CN5300"]},
    )
    assert_is(AuditEntryView, identity.audit_view(entry))


# ---------------------------------------------------------------- intake


def test_intake_views() -> None:
    row = Declaration(declaration_id="CN5300-2026-0000123", revision=2, status="received", received_at=NOW)
    assert_is(DeclarationAccepted, intake.accepted_answer(row))
    assessed = ManifestParcel(
        manifest_id="CN5300-9610-20261120-0007",
        revision=1,
        parcel_no=3,
        consignment_id="CN5300-9610-20261120-0007-P00003",
        waybill_no="SF1234567890",
        status="assessed",
        lane="red",
        suspected=True,
        case_ids=[CASE],
        rejection=None,
        result={"score": 0.92},
        assessed_at=NOW,
    )
    cases = {"CN5300-9610-20261120-0007-P00003": [{"case_id": CASE, "state": "suspended"}]}
    assert_is(ParcelView, manifests._parcel_view(assessed, cases))
    rejected = ManifestParcel(
        manifest_id="CN5300-9610-20261120-0007",
        revision=1,
        parcel_no=4,
        consignment_id="CN5300-9610-20261120-0007-P00004",
        waybill_no=None,
        status="rejected",
        lane=None,
        suspected=None,
        case_ids=None,
        result=None,
        assessed_at=None,
        rejection={
            "code": "order_no_required",
            "message": "9610 needs the order number",
            "details": [{"code": "order_no_required", "msg": "..."}],
        },
    )
    assert_is(ParcelView, manifests._parcel_view(rejected, {}))


# ---------------------------------------------------------------- notify


def _delivery(channel: str, **changes: Any) -> Delivery:
    fields: dict[str, Any] = dict(
        id=41,
        notice_id="NTC-0123456789ABCDEF",
        recipient_kind="rights_holder",
        recipient_id="RH-0001",
        recipient_name="Nike Innovate C.V.",
        channel=channel,
        target="ip@nike.example",
        message_id="<a@b>",
        status="delivered",
        detail="250 OK",
        attempts=1,
        next_attempt_at=None,
        served_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    return Delivery(**{**fields, **changes})


def test_notify_views() -> None:
    email = _delivery("email")
    webhook = _delivery(
        "webhook",
        id=42,
        target=None,
        message_id=None,
        status="not_configured",
        served_at=None,
        attempts=0,
        detail="rights_holder RH-0001 has no webhook address registered",
    )
    assert_is(DeliveryView, notify.delivery_view(email))
    attempts = [
        DeliveryAttempt(
            attempt_no=1, started_at=NOW, finished_at=NOW, outcome="accepted", code=250, detail="250 OK", key_ids=None
        ),
        DeliveryAttempt(
            attempt_no=2,
            started_at=NOW,
            finished_at=None,
            outcome=None,
            code=None,
            detail="",
            key_ids=["whk_0123456789abcdef"],
        ),
    ]
    assert_is(DeliveryWithAttempts, notify.delivery_view(webhook, attempts))

    notice = Notice(
        notice_id="NTC-0123456789ABCDEF",
        case_id=CASE,
        kind="suspension",
        holder_id="RH-0001",
        holder_name="Nike Innovate C.V.",
        subject="Suspension of release",
        body="Goods suspended.",
        reply_allowed=True,
        reply_deadline_at=NOW + timedelta(days=3),
        created_at=NOW,
        issued_by="Wang Wei (wang.wei)",
        addressee_kind="rights_holder",
        addressee_id=None,
        addressee_role=None,
    )
    reply = Reply(
        notice_id=notice.notice_id,
        case_id=CASE,
        decision="detain",
        replied_by="Nike brand protection",
        received_at=NOW,
        signalled_at=None,
        content={
            "decision": "detain",
            "statement": None,
            "actor": None,
            "guarantee": {
                "amount": "5000.00",
                "currency": "CNY",
                "form": "cash_deposit",
                "reference": "DEP-1",
                "posted_by": {"sub": "nike.ip", "name": "Nike", "role": "rights_holder"},
            },
        },
    )
    settings = SimpleNamespace(public_url="https://notify.customs.example")
    rendered = NoticeDocument(
        notice_id=notice.notice_id,
        status="rendered",
        number="CN5300-2026-SUS-000012",
        kind="suspension_notice",
        title="Notice of suspension",
        jurisdiction="CN",
        languages=["zh-CN", "en-GB"],
        issued_on=date(2026, 11, 20),
    )
    unrendered = NoticeDocument(
        notice_id=notice.notice_id,
        status="not_rendered",
        kind=None,
        reason="the notice request carries no document facts; sent as plain text",
    )
    for doc in (rendered, unrendered):
        view = notify.notice_view(notice, [email, webhook], reply)
        view["document"] = register.view(doc, settings)
        assert_is(NoticeView, view)
        assert_is(NoticeDocumentView, view["document"])
    assert_is(NoticeView, {**notify.notice_view(notice, [], None), "document": None})

    key = SigningKey(
        key_id="whk_0123456789abcdef",
        created_at=NOW,
        created_by="Nike brand protection (nike.ip)",
        verify_until=NOW + timedelta(hours=24),
        rotated_by="Nike brand protection (nike.ip)",
    )
    assert_is(SigningKeyView, keys.key_view(key, now=NOW))


# ---------------------------------------------------------------- guarantees and disposal


def test_guarantee_views() -> None:
    general = GeneralGuarantee(
        guarantee_id="GG-RH-0001-2026",
        holder_id="RH-0001",
        jurisdiction="CN",
        amount=Decimal("250000.00"),
        currency="CNY",
        balance=Decimal("235090.00"),
        coverage_from=date(2026, 1, 1),
        coverage_until=date(2026, 12, 31),
        letter_expires_on=date(2027, 6, 30),
        issuer="Bank of China",
        reference="LG-2026-001",
        registered_by="Wang Wei (wang.wei)",
        created_at=NOW,
        updated_at=NOW,
    )
    assert_is(GeneralGuaranteeView, guarantees.general_view(general))
    cost = CaseCost(
        kind="storage",
        amount=Decimal("120.00"),
        currency="CNY",
        detail="warehouse, 3 days",
        actor="IPR case worker (case-worker)",
        at=NOW,
    )
    assert_is(CostView, guarantees._cost_view(cost))


@pytest.mark.parametrize(
    ("outcome", "fine", "rate"), [("confiscation", "4473.00", "0.3000"), ("release", "0.00", "0.0000")]
)
def test_disposition_view(outcome: str, fine: str, rate: str) -> None:
    row = Disposition(
        disposition_id=f"DSP-{CASE}",
        case_id=CASE,
        jurisdiction="CN",
        outcome=outcome,
        goods_value=Decimal("14910.00"),
        currency="CNY",
        fine_tier="ordinary",
        fine_rate=Decimal(rate),
        fine_amount=Decimal(fine),
        disposal_method="destruction",
        reason="infringing goods",
        actor="IPR case worker (case-worker) for Wang Wei (wang.wei)",
        decided_at=NOW,
        hearing=None,
        police_referral=False,
        lines=[{"line_no": 1, "outcome": "confiscated", "goods_value": "14910.00"}],
    )
    assert_is(DispositionView, disposal.view(row))
