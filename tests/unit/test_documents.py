"""Legal documents: every notice and decision renders in its jurisdiction's languages with the case's data.

Golden checks on the fields a customs officer signs for (number, case id, title in the right language,
the deadline's last day in the jurisdiction's calendar, amounts with currency, legal basis); untrusted
text is escaped; the PDF carries the Chinese text in an embedded CJK font (read back with poppler's
``pdftotext`` and ``pdffonts``, installed by ``make deps-test``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import date
from decimal import Decimal

import pytest

from services.notify.documents import (
    KIND_CODES,
    DocumentNotApplicable,
    document_number,
    legal_bases,
    parse_document_number,
    render_html,
    render_pdf,
    render_text,
)
from services.notify.documents.legal import UnsupportedJurisdiction, chinese_number, cite, cite_all
from shared.contracts.documents import DOCUMENT_ADDRESSEES, DOCUMENT_KINDS, DocumentData, DocumentDeadline, applies
from shared.rules.pack import rule_pack
from tests.unit.document_samples import ALL_SAMPLES, SCRIPT, case_facts, deadline, sample

# The title of each sample in its authoritative language, as a customs officer would file it.
PRIMARY_TITLES = {
    ("suspension_notice", "CN"): "中止放行通知书",
    ("suspension_notice", "EU"): "Mitteilung über die Aussetzung der Überlassung",
    ("party_detention_notice", "CN"): "海关扣留凭单",
    ("party_detention_notice", "EU"): "Mitteilung über die Aussetzung der Überlassung",
    ("party_detention_notice", "US"): "Notice of Detention",
    ("reply_reminder", "CN"): "答复期限提醒",
    ("reply_reminder", "EU"): "Erinnerung an den Fristablauf",
    ("reply_reminder", "US"): "Reminder: Time Limit Ending",
    ("guarantee_refused", "CN"): "担保不予接受通知书",
    ("cannot_determine", "CN"): "不能认定侵权通知书",
    ("hearing_right", "CN"): "行政处罚告知单（听证权利告知）",
    ("penalty_decision", "CN"): "行政处罚决定书",
    ("release_notice", "CN"): "放行通知书",
    ("release_notice", "EU"): "Mitteilung über die Überlassung der Waren",
    ("release_notice", "US"): "Notice of Release",
    ("disposal_notice", "CN"): "侵权货物处置通知书",
    ("destruction_notice", "EU"): "Mitteilung über die Vernichtung von Waren",
    ("disclosure_to_owner", "US"): "Disclosure of Information to the Mark Owner",
    ("seizure_notice", "US"): "Notice of Seizure",
    ("court_handover", "CN"): "协助执行人民法院裁定通知书",
    ("court_handover", "EU"): "Mitteilung über die Zurückhaltung der Waren für das gerichtliche Verfahren",
    ("police_referral", "CN"): "涉嫌犯罪案件移送书",
}
# The English title that stands beside it (CN, EU) or alone (US).
ENGLISH_TITLES = {
    ("suspension_notice", "CN"): "Notice of Suspension of Release",
    ("party_detention_notice", "CN"): "Customs Detention Receipt",
    ("penalty_decision", "CN"): "Decision on Administrative Penalty",
    ("hearing_right", "CN"): "Notice of Proposed Administrative Penalty and of the Right to a Hearing",
    ("suspension_notice", "EU"): "Notification of Suspension of Release / Detention of Goods",
    ("destruction_notice", "EU"): "Notification of Destruction of Goods",
}


def visible(html: str) -> str:
    """The text of an HTML page as a reader sees it (tags dropped, whitespace collapsed, entities kept)."""
    body = html.split("<body", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_every_kind_has_an_addressee_table_and_a_sample() -> None:
    assert set(DOCUMENT_ADDRESSEES) == set(DOCUMENT_KINDS)
    assert set(PRIMARY_TITLES) == set(ALL_SAMPLES)
    assert {k for k, _ in ALL_SAMPLES} == set(DOCUMENT_KINDS)


@pytest.mark.parametrize(("kind", "jurisdiction"), ALL_SAMPLES)
def test_document_renders_in_its_languages(kind: str, jurisdiction: str) -> None:
    data = sample(kind, jurisdiction)
    html, text = render_html(data), render_text(data)
    page = visible(html)
    for out in (page, text):
        assert data.number in out
        assert data.case.case_id in out
        assert data.case.declaration_id in out
        assert PRIMARY_TITLES[(kind, jurisdiction)] in out
        assert data.addressee.name in out
        for line in data.case.lines:
            assert line.hs_code in out
        for right in data.case.rights:
            assert right.mark in out and right.recordation_id in out
    assert f'<html lang="{ {"CN": "zh-CN", "EU": "de-DE", "US": "en-US"}[jurisdiction] }">' in html
    if jurisdiction in ("CN", "EU"):  # bilingual: the authoritative language first, English alongside
        english = ENGLISH_TITLES.get((kind, jurisdiction))
        if english:
            assert english in text and text.index(PRIMARY_TITLES[(kind, jurisdiction)]) < text.index(english)
        assert "Legal basis" in text and "Remedies" in text
    # Every deadline shows its last day in the jurisdiction's own language and time zone.
    for dl in data.deadlines:
        tz = {"CN": "北京时间", "EU": "Europe/Berlin", "US": "America/New_York"}[jurisdiction]
        assert tz in text and f"{dl.due_date.day}" in text
    # Every legal basis of its deadlines (the rule pack's references) is cited in the document.
    bases = legal_bases(data)
    for dl in data.deadlines:
        for ref in (dl.basis or "").split(";"):
            if ref.strip():
                assert ref.strip() in bases


def test_cn_suspension_notice_golden() -> None:
    data = sample("suspension_notice", "CN")
    html, text = render_html(data), render_text(data)
    assert data.number == "CN5300-2026-ZK-000123"
    # Served Tue 29 Sep 2026; National Day week 1-7 Oct is not counted: the 3rd working day is Fri 9 Oct.
    assert data.deadline("holder_reply").due_date == date(2026, 10, 9)
    for out in (visible(html), text):
        assert "2026年10月9日星期五 24:00（北京时间）" in out
        assert "Friday, 9 October 2026, 24:00 (Asia/Shanghai time)" in out
        assert "2026-10-09 16:00 UTC" in out
        assert "人民币20,000.00元" in out and "CNY 20,000.00" in out
        assert "NIKE（耐克）" in out and "NIKE (耐克)" in out
        assert "海关总署备案T2019-004211号" in out  # the recordation id in its Chinese form
        assert "人民币26,352.00元" in out  # goods value in CNY beside the declared USD
    assert text.index("本关在监管中发现") < text.index("Customs has found")  # Chinese first
    assert "《知识产权海关保护条例》第十六条、第十四条、第二十五条、第二十八条" in text
    assert "Reg. Art. 16" in text and "Measures Art. 22" in text  # the pack's holder_reply basis


def test_cn_penalty_decision_golden() -> None:
    data = sample("penalty_decision", "CN")
    text = render_text(data)
    assert data.addressee.role == "consignor"  # to the party fined, not the rights holder
    assert "行政处罚决定书" in text and "Decision on Administrative Penalty" in text
    assert "没收侵权货物" in text and "人民币3,952.80元" in text and "CNY 3,952.80" in text
    assert "一般处罚" in text and "discretion tier: ordinary" in text
    assert "六十日内向上一级海关申请行政复议" in text and "六个月内" in text
    assert "within 60 days" in text and "within 6 months" in text
    assert "《海关行政处罚实施条例》第二十五条第一款" in text
    assert "《行政复议法》第二十条" in text and "《行政诉讼法》第四十六条" in text
    assert "15日内" in text and "within 15 days" in text


def test_cn_hearing_right_goes_to_the_party_with_the_tier_range() -> None:
    text = render_text(sample("hearing_right", "CN"))
    assert "人民币2,635.20元至人民币5,270.40元" in text
    assert "听证" in text and "ask for a hearing" in text
    with pytest.raises(DocumentNotApplicable, match="not to rights_holder"):
        render_text(sample("hearing_right", "CN", addressee={"role": "rights_holder", "name": "Nike"}))


def test_eu_documents_golden() -> None:
    data = sample("suspension_notice", "EU")
    text = render_text(data)
    # Served Thu 2 Apr 2026; Good Friday and Easter Monday are not counted: 10th working day is Mon 20 Apr.
    assert data.deadline("confirm_and_agree").due_date == date(2026, 4, 20)
    assert "Montag, 20. April 2026, 24:00 Uhr (Ortszeit Europe/Berlin)" in text
    assert "Monday, 20 April 2026, 24:00 (Europe/Berlin time)" in text
    assert "2026-04-20 22:00 UTC" in text
    assert "Art. 23 Abs. 1 VO (EU) Nr. 608/2013" in text and "Art. 23(1) of Regulation (EU) No 608/2013" in text
    assert text.index("Die Zollbehörde") < text.index("Customs have suspended")
    notice = render_text(sample("party_detention_notice", "EU"))
    assert "gilt dies als Zustimmung zur Vernichtung" in notice and "deemed to have agreed" in notice
    assert "Einspruch" in notice and "innerhalb eines Monats" in notice
    destroyed = render_text(sample("destruction_notice", "EU"))
    assert "48,00 EUR" in destroyed and "EUR 48.00" in destroyed
    small = render_text(
        sample(
            "party_detention_notice",
            "EU",
            destruction_procedure="small_consignment",
            deadlines=[deadline("EU", "small_consignment_declarant", date(2026, 4, 2))],
        )
    )
    assert "Kleinsendung" in small and "Art. 26 Abs. 4 VO (EU) Nr. 608/2013" in small


def test_us_documents_golden() -> None:
    data = sample("party_detention_notice", "US")
    text = render_text(data)
    # Served Fri 20 Nov 2026; Thanksgiving (26 Nov) is not a business day: the 7th is Wed 2 Dec.
    assert data.deadline("importer_response").due_date == date(2026, 12, 2)
    assert "Wednesday, December 2, 2026, 24:00 (America/New_York time)" in text
    assert "2026-12-03 05:00 UTC" in text
    assert "USD 1,560.00" in text and "USD 1,760.00" in text
    assert "19 CFR 133.21(b)(3)" in text and "seven business days" in text
    seizure = render_text(sample("seizure_notice", "US"))
    assert "Notice of Seizure" in seizure and "USD 2,290,000.00" in seizure
    assert "Wednesday, January 13, 2027" in seizure and "19 CFR 171.2(b)(1)" in seizure
    assert "petition for relief" in seizure
    disclosure = render_text(sample("disclosure_to_owner", "US", disclosure_stage="after_seizure"))
    assert "Ningbo Oriental Watch" in disclosure and "Luxe Deals Importing LLC" in disclosure


def test_untrusted_text_is_escaped_in_html_and_plain_in_text() -> None:
    facts = case_facts("CN", description_1=SCRIPT).model_copy(update={})
    data = sample(
        "suspension_notice",
        "CN",
        case=facts,
        note="<b>officer</b> & co",
        addressee={"role": "rights_holder", "name": "<img src=x onerror=alert(1)>"},
    )
    html = render_html(data)
    assert "<script>" not in html and "<img src=x" not in html and "<b>officer" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;officer&lt;/b&gt; &amp; co" in html
    text = render_text(data)
    assert SCRIPT in text  # a text/plain body shows the text as it was written
    assert "<b>officer</b> & co" in text


def test_lists_keep_their_numbers_in_the_e_mail_body() -> None:
    text = render_text(sample("penalty_decision", "CN"))
    assert "\n1. 没收侵权货物；\n2. 处罚款人民币3,952.80元" in text
    assert "\n1. the infringing goods are confiscated;\n2. a fine of CNY 3,952.80" in text


def test_deadline_from_a_case_deadline() -> None:
    from shared.contracts.cases import Deadline

    dl = deadline("CN", "holder_reply", date(2026, 9, 29))
    case_dl = Deadline(
        name="holder_reply",
        working_days=3,
        start=dl.start,
        due_date=dl.due_date,
        due_at=dl.due_at,
        basis="Reg. Art. 16; Measures Art. 22",
    )
    assert DocumentDeadline.from_case_deadline(case_dl) == dl


def test_the_recordations_chinese_marks_reach_the_document() -> None:
    from shared.contracts.cases import chinese_marks
    from shared.contracts.documents import RightRef
    from tests.factories import case_input

    marks = chinese_marks("NIKE", ["NIKE AIR", "耐克", "耐吉", "SWOOSH"])
    assert marks == ["耐克", "耐吉"]
    case = case_input(marks_zh=marks)
    right = RightRef.from_case(case, registration_number="G1234567")
    assert right.mark == "NIKE" and right.mark_zh == "耐克、耐吉" and right.holder_name == "Nike Innovate C.V."
    facts = case_facts("CN").model_copy(update={"rights": [right]})
    text = render_text(sample("suspension_notice", "CN", case=facts))
    assert "NIKE（耐克、耐吉）" in text and "NIKE (耐克、耐吉)" in text
    # a recordation without Chinese marks prints the Latin mark alone; a case input of before has none
    assert RightRef.from_case(case_input()).mark_zh is None
    assert chinese_marks("李宁", ["LI-NING"]) == ["李宁"]


def test_provisional_deadline_is_flagged() -> None:
    late = deadline("CN", "holder_reply", date(2028, 1, 24))
    assert late.provisional
    text = render_text(sample("suspension_notice", "CN", deadlines=[late]))
    assert "按临时假日安排计算" in text and "provisional holiday calendar" in text


def test_police_referral_states_the_consignment_value_against_the_threshold() -> None:
    text = render_text(sample("police_referral", "CN"))
    assert "人民币186,460.00元" in text and "达到人民币50,000.00元的追诉标准" in text
    assert "CNY 186,460.00, reaches the prosecution threshold of CNY 50,000.00" in text


def test_multi_line_consignment_lists_every_line_and_the_total() -> None:
    data = sample("party_detention_notice", "CN")
    text = render_text(data)
    assert len(data.case.lines) == 3
    assert "640411" in text and "610910" in text and "650500" in text
    assert "USD 3,660.00" in text and "3,660.00美元（USD）" in text


def test_documents_the_law_does_not_give_are_refused() -> None:
    with pytest.raises(DocumentNotApplicable, match="US law gives no penalty_decision"):
        render_html(sample("penalty_decision", "CN").model_copy(update={"jurisdiction": "US"}))
    with pytest.raises(DocumentNotApplicable):
        render_html(sample("seizure_notice", "US", addressee={"role": "consignor", "name": "X"}))
    assert applies("hearing_right", "CN", "consignor") and not applies("hearing_right", "CN", "rights_holder")
    assert applies("party_detention_notice", "US", "importer") and not applies("suspension_notice", "US")
    with pytest.raises(UnsupportedJurisdiction, match="member state 'FR'"):
        render_text(sample("suspension_notice", "EU", member_state="FR"))


def test_document_number_scheme() -> None:
    assert document_number("CN5300", 2026, "suspension_notice", 123) == "CN5300-2026-ZK-000123"
    assert document_number("DE4600", 2026, "destruction_notice", 7) == "DE4600-2026-XH-000007"
    for kind in DOCUMENT_KINDS:
        number = document_number("US2704", 2027, kind, 999_999)
        assert parse_document_number(number) == ("US2704", 2027, kind, 999_999)
    assert len(set(KIND_CODES.values())) == len(DOCUMENT_KINDS)
    for bad in (
        ("cn5300", 2026, "release_notice", 1),
        ("CN5300", 2026, "release_notice", 0),
        ("CN5300", 2026, "release_notice", 1_000_000),
        ("CN5300", 2026, "nonsense", 1),
        ("CN-5300", 2026, "release_notice", 1),
        ("CN5300", 126, "release_notice", 1),
    ):
        with pytest.raises(ValueError):
            document_number(*bad)
    for bad in ("CN5300-2026-ZZ-000001", "CN5300-2026-ZK-123", "CN5300/2026/ZK/000123"):
        with pytest.raises(ValueError):
            parse_document_number(bad)


def test_citations_in_each_language() -> None:
    assert chinese_number(16) == "十六" and chinese_number(20) == "二十" and chinese_number(213) == "二百一十三"
    assert chinese_number(105) == "一百零五" and chinese_number(110) == "一百一十"
    assert cite("Reg. Art. 24(2)", "zh", "CN") == "《知识产权海关保护条例》第二十四条第（二）项"
    assert cite("Penalty Regs Art. 25 ¶1", "zh", "CN") == "《海关行政处罚实施条例》第二十五条第一款"
    assert cite("Criminal Law Art. 213-215", "zh", "CN") == "《刑法》第二百一十三条至第二百一十五条"
    assert cite("GACC Ann. 2023 No. 198", "zh", "CN") == "海关总署公告2023年第198号"
    assert cite("Reg. Art. 16", "en", "CN") == "Reg. Art. 16"
    assert cite("Art. 23(1)(c)", "de", "EU") == "Art. 23 Abs. 1 Buchst. c VO (EU) Nr. 608/2013"
    assert cite("Art. 26", "en", "EU") == "Art. 26 of Regulation (EU) No 608/2013"
    assert cite("19 CFR 133.21(b)(3)", "en", "US") == "19 CFR 133.21(b)(3)"
    assert cite_all(["Reg. Art. 16", "Measures Art. 22", "Reg. Art. 14"], "zh", "CN") == [
        "《知识产权海关保护条例》第十六条、第十四条",
        "《知识产权海关保护条例实施办法》第二十二条",
    ]


def test_contract_defaults_and_pack_bases() -> None:
    data = sample("release_notice", "US")
    minimal = DocumentData.model_validate(
        data.model_dump(
            include={"kind", "jurisdiction", "number", "issued_on", "office", "addressee", "case"}, mode="json"
        )
    )
    assert minimal.deadlines == [] and minimal.member_state == "DE" and minimal.contract_version == 1
    assert minimal.case.total_value.amount == Decimal("1760.00")
    text = render_text(minimal)
    assert "Notice of Release" in text and "see the note" in text  # no reason given: the note is referred to
    pack = rule_pack("CN")
    bases = legal_bases(sample("suspension_notice", "CN"))
    assert all(ref.strip() in bases for ref in pack.deadline("holder_reply").basis.split(";"))


# ------------------------------------------------------------------ PDF (poppler reads it back)


def poppler(tool: str, *args: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: run `make deps-test` (Debian poppler-utils)"
    return subprocess.run([path, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, tuple[DocumentData, bytes]]:
    out = {}
    for kind, j in (("suspension_notice", "CN"), ("suspension_notice", "EU"), ("party_detention_notice", "US")):
        data = sample(kind, j)
        started = time.perf_counter()
        cpu = time.process_time()
        pdf = render_pdf(data)
        print(
            f"\n[documents] {j} {kind}: PDF {len(pdf) / 1024:.0f} KiB in {time.perf_counter() - started:.2f} s "
            f"({time.process_time() - cpu:.2f} s CPU)"
        )
        path = tmp_path_factory.mktemp("pdf") / f"{j}.pdf"
        path.write_bytes(pdf)
        out[j] = (data, path)
    return out


def test_pdf_text_has_the_chinese_title_and_case_id(pdfs) -> None:
    data, path = pdfs["CN"]
    assert path.read_bytes().startswith(b"%PDF-")
    text = poppler("pdftotext", "-enc", "UTF-8", str(path), "-")
    assert "中止放行通知书" in text and "Notice of Suspension of Release" in text
    assert data.case.case_id in text and data.number in text
    assert "人民币20,000.00元" in text and "耐克" in text
    for j in ("EU", "US"):
        data, path = pdfs[j]
        text = poppler("pdftotext", "-enc", "UTF-8", str(path), "-")
        assert data.case.case_id in text and PRIMARY_TITLES[(data.kind, j)].split(" /")[0][:30] in text


def test_pdf_embeds_a_cjk_font(pdfs) -> None:
    _, path = pdfs["CN"]
    rows = poppler("pdffonts", str(path)).splitlines()[2:]
    cjk = [row for row in rows if re.search(r"Noto-?S(ans|erif)-?CJK", row)]
    assert cjk, rows
    for row in cjk:  # columns: name type encoding emb sub uni ...: every CJK face embedded, as a subset
        assert re.search(r"\byes\s+yes\s+yes\b", row), row
    assert all(re.search(r"\byes\s+yes\s+yes\b", row) for row in rows), rows  # nothing left to the reader's fonts


def test_a_time_limit_running_from_service_is_stated_as_a_period_from_service() -> None:
    """A party's document is issued before it is served: its time limit has no date yet, only a length that runs
    from the day of service, in each of the document's languages (and its basis among the legal bases)."""
    clock = {"name": "declarant_consent", "amount": 10, "unit": "working_days", "basis": "Art. 23(1)(c)"}
    eu = render_text(sample("party_detention_notice", "EU", deadlines=[], clocks=[clock]))
    assert "bis zum Ablauf von 10 Arbeitstagen ab Zustellung dieses Schreibens" in eu
    assert "by the end of 10 working days from the day this document is served on you" in eu
    hearing = {"name": "hearing_request", "amount": 3, "unit": "working_days", "basis": "Penalty Regs Art. 49"}
    cn = render_text(sample("hearing_right", "CN", deadlines=[], clocks=[hearing]))
    assert "请于自本文书送达之日起第3个工作日届满前向本关提出" in cn
    assert "by the end of 3 working days from the day this document is served on you" in cn
    without = render_text(sample("hearing_right", "CN", deadlines=[], clocks=[]))
    assert "请于-前" in without, "with neither a date nor a period the document shows the gap, not a guess"
