"""The legal document of each notice to the rights holder, from the case file as the workflow holds it: which
document the law gives, its facts (the case's goods, rights, amounts and time limits), and the document they
render into, in the jurisdiction's languages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.cases.workflow.documents import _release_reason, document_facts, notice_document
from services.notify.documents import render_html, render_text
from shared.contracts.cases import DispositionResult, NoticeRequest
from shared.contracts.documents import HOLDER_NOTICE_DOCUMENTS, PARTY_NOTICE_DOCUMENTS, DocumentData, applies
from shared.rules import parties
from tests.factories import notice_case_file


def issued(facts, number: str = "CN5300-2026-ZK-000007") -> DocumentData:
    assert facts is not None
    return DocumentData.issue(facts, number=number, issued_on=date(2026, 11, 20))


def test_every_holder_notice_document_is_one_the_law_gives_the_holder() -> None:
    for (notice_kind, jurisdiction), kind in HOLDER_NOTICE_DOCUMENTS.items():
        if kind == "police_referral":  # to the police; the holder's notice carries the copy
            assert applies(kind, jurisdiction, "police"), (notice_kind, jurisdiction)
        else:
            assert applies(kind, jurisdiction, "rights_holder"), (notice_kind, jurisdiction, kind)


def test_every_party_notice_document_is_one_the_law_gives_that_party() -> None:
    for (notice_kind, jurisdiction), kind in PARTY_NOTICE_DOCUMENTS.items():
        assert parties.basis(jurisdiction, notice_kind), (notice_kind, jurisdiction)
        roles = {"CN": ("consignee", "consignor"), "EU": ("declarant", "holder_of_goods"), "US": ("importer",)}
        for role in roles[jurisdiction]:
            assert applies(kind, jurisdiction, role), (notice_kind, jurisdiction, kind, role)


def test_cn_suspension_notice_in_chinese_and_english_with_the_case_data() -> None:
    f = notice_case_file("CN", description="Men's sports shoes <b>NIKE</b>")
    due = f.deadlines["holder_reply"].due_at
    facts = document_facts(f, "suspension", due, None)
    assert facts is not None and facts.kind == "suspension_notice" and facts.office.code == "CN5300"
    assert [d.name for d in facts.deadlines] == ["holder_reply"]
    assert facts.addressee.role == "rights_holder" and facts.addressee.id == "RH-0001"
    assert facts.case.declarant is not None and facts.case.declarant.id == "91440300MA5XXXX1"
    data = issued(facts)
    html, text = render_html(data), render_text(data)
    assert '<html lang="zh-CN">' in html
    assert "中止放行通知书" in text and "Notice of Suspension of Release" in text
    assert "CN5300-2026-ZK-000007" in text and "IPR-CN5300-2026-0000123-RH-0001" in text
    assert "人民币14,910.00元" in text and "CNY 14,910.00" in text  # the guarantee the case computed
    assert "640411" in text and "NIKE" in text and "CN-T-2019-004211" in text
    # the time limit the notice names, in Beijing time: 3 working days from Friday 20 Nov 2026
    assert "2026年11月25日星期三 24:00（北京时间）" in text
    assert "sports shoes &lt;b&gt;NIKE&lt;/b&gt;" in html and "<b>NIKE</b>" not in html


def test_cn_disposal_and_release_notices() -> None:
    f = notice_case_file("CN")
    f.disposal_method = "destruction"
    f.disposition = DispositionResult(
        disposition_id="D-1",
        outcome="confiscation",
        fine_amount=Decimal("2982.00"),
        fine_currency="CNY",
        disposal_method="destruction",
    )
    disposal = issued(document_facts(f, "confiscation", None, None), "CN5300-2026-CZ-000001")
    text = render_text(disposal)
    assert disposal.kind == "disposal_notice" and "侵权货物处置通知书" in text and "销毁" in text
    f.line_status[1] = "released"
    release = issued(
        document_facts(f, "release", None, "no reply from the rights holder within 3 working days"),
        "CN5300-2026-FX-000001",
    )
    assert release.release_reason == "no_reply" and release.case.lines[0].outcome == "released"
    assert "放行通知书" in render_text(release) and "知识产权权利人未在规定期限内申请扣留" in render_text(release)


def test_eu_notice_in_the_member_states_language_and_english() -> None:
    f = notice_case_file("EU")
    facts = document_facts(f, "confirmation_needed", f.deadlines["confirm_and_agree"].due_at, None)
    assert facts is not None and facts.member_state == "DE"
    data = issued(facts, "DE4600-2026-ZK-000001")
    html, text = render_html(data), render_text(data)
    assert '<html lang="de-DE">' in html
    assert "Mitteilung über die Aussetzung der Überlassung / Zurückhaltung von Waren" in text
    assert "Notification of Suspension of Release / Detention of Goods" in text
    assert "IPR-DE4600-2026-0000123-RH-0001" in text and "DE-AFA-2025-00731" in text


def test_us_notice_in_english() -> None:
    f = notice_case_file("US")
    data = issued(document_facts(f, "detention", None, None), "US2704-2026-PL-000001")
    html, text = render_html(data), render_text(data)
    assert data.kind == "disclosure_to_owner" and data.disclosure_stage == "at_detention"
    assert '<html lang="en-US">' in html and "Disclosure of Information to the Mark Owner" in text
    assert "IPR-US2704-2026-0000123-RH-0001" in text and "Mens sports shoes NIKE" in text
    after = issued(document_facts(f, "disclosure", None, None), "US2704-2026-PL-000002")
    assert after.disclosure_stage == "after_importer_window"


def test_notices_the_law_gives_the_holder_no_document_for_carry_none() -> None:
    f = notice_case_file("CN")
    for kind in ("detention", "hearing_right", "lines_changed", "escalation"):
        assert document_facts(f, kind, None, None) is None, kind  # type: ignore[arg-type]


def test_facts_that_cannot_be_put_together_give_no_document_and_no_error() -> None:
    f = notice_case_file("CN")
    f.rules = None  # e.g. a case whose rule pack could not be loaded
    fields = notice_document(f, "suspension", None, None)
    assert "document" not in fields and "rule pack not loaded" in fields["document_note"]
    assert "no legal document for a detention notice" in notice_document(f, "detention", None, None)["document_note"]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("no reply from the rights holder within 3 working days", "no_reply"),
        ("the rights holder stated that no detention is needed", "no_detention_requested"),
        ("detention requested but no sufficient guarantee was posted within 3 working days", "no_guarantee"),
        ("customs determined that the goods do not infringe", "not_infringing"),
        ("CBP determined that the goods are not counterfeit", "not_infringing"),
        ("no court assistance notice within 20 working days of detention", "no_court_notice"),
        ("no application for action within 4 working days", "no_application"),
        ("the rights holder neither confirmed infringement nor started proceedings", "no_confirmation"),
        ("a reason nobody foresaw", "other"),
    ],
)
def test_release_reason_of_the_document(reason: str, expected: str) -> None:
    assert _release_reason(reason) == expected


def test_a_request_from_a_workflow_started_before_documents_is_still_valid() -> None:
    old = {
        "idempotency_key": "IPR-X:notice:suspension",
        "case_id": "IPR-X",
        "kind": "suspension",
        "holder": {"id": "RH-0001", "name": "Nike", "contact_email": "bp@example.com"},
        "subject": "s",
        "body": "b",
    }
    assert NoticeRequest.model_validate(old).document is None
    f = notice_case_file("CN")
    new = NoticeRequest.model_validate({**old, "document": document_facts(f, "suspension", None, None)})
    again = NoticeRequest.model_validate_json(new.model_dump_json())
    assert again.document == new.document and again.document is not None
