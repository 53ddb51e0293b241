"""What a party of a case reads of it: never the holder's guarantee, the targeting reasons or officers' notes."""

from __future__ import annotations

from services.cases.api import _for_reader
from shared.auth import Principal


def _case() -> dict:
    return {
        "case_id": "IPR-D1-RH-0001",
        "state": "detained",
        "required_guarantee_cny": "14910.00",
        "guarantee_status": "held",
        "history": [
            {"event": "case_opened", "detail": {"score": 1.0, "reasons": ["brand"], "mark": "NIKE"}},
            {"event": "holder_replied", "detail": {"decision": "detain", "guarantee": {"amount": "14910"}}},
            {"event": "guarantee_received", "detail": {"amount": "14910", "reference": "BOC-LG-001"}},
            {
                "event": "goods_detained",
                "detail": {
                    "amount": "14910",
                    "form": "bank_letter",
                    "reference": "BOC-LG-001",
                    "posted_by": {"sub": "nike.ip"},
                    "hold_id": "HOLD-1",
                },
            },
            {"event": "customs_determined", "detail": {"outcome": "infringing", "note": "photos checked"}},
        ],
    }


def test_a_party_reads_the_case_without_the_holders_guarantee_or_customs_notes() -> None:
    party = Principal(sub="case-access:CA-1", role="party", party_id="C2", case_id="IPR-D1-RH-0001")
    seen = _for_reader(_case(), party)
    assert "required_guarantee_cny" not in seen and "guarantee_status" not in seen
    details = {h["event"]: h["detail"] for h in seen["history"]}
    assert details["case_opened"] == {"mark": "NIKE"}
    assert details["holder_replied"] == {"decision": "detain"}
    assert details["guarantee_received"] == {}
    assert details["goods_detained"] == {"hold_id": "HOLD-1"}
    assert details["customs_determined"] == {"outcome": "infringing"}
    text = str(seen)
    assert "BOC-LG-001" not in text and "14910" not in text and "nike.ip" not in text


def test_customs_and_the_holder_read_it_whole() -> None:
    for who in (
        Principal(sub="wang.wei", role="officer", offices=frozenset({"CN5300"})),
        Principal(sub="nike.ip", role="rights_holder", holder_id="RH-0001"),
    ):
        assert _for_reader(_case(), who) == _case()


def test_the_holder_does_not_read_the_notices_to_the_parties() -> None:
    case = _case()
    case["party_notices"] = [{"key": "party_detention", "party_id": "C2", "status": "undeliverable"}]
    case["history"] += [
        {"event": "party_notice_sent", "detail": {"kind": "party_detention", "party_id": "C2", "email": "x"}},
        {"event": "party_notice_undeliverable", "detail": {"kind": "party_detention", "party_id": "C2"}},
        {"event": "notice_served_on_paper", "detail": {"key": "party_detention", "party_id": "C2", "method": "post"}},
        {"event": "notice_sent", "detail": {"kind": "suspension", "notice_id": "NTC-1"}},  # the holder's own
    ]
    holder = Principal(sub="nike.ip", role="rights_holder", holder_id="RH-0001")
    seen = _for_reader(case, holder)
    assert "party_notices" not in seen
    assert [h["event"] for h in seen["history"]][-2:] == ["customs_determined", "notice_sent"]
    officer = Principal(sub="wang.wei", role="officer", offices=frozenset({"CN5300"}))
    assert len(_for_reader(_case() | {"history": case["history"]}, officer)["history"]) == len(case["history"])
