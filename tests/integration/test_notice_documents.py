"""Legal documents of notices on the running notify service: numbered and kept as sent when the notice is
recorded, served as HTML, PDF (with the Chinese title, the case id and an embedded CJK font) and text to those
who may read them, carried by the e-mail and named by the webhook; a notice without a document still goes out."""

from __future__ import annotations

import json
import os
import re
import subprocess
from unittest import mock

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import stack as stack_mod
from services.cases.workflow.documents import document_facts
from shared.contracts.cases import NoticeRequest
from tests.factories import notice_case_file
from tests.helpers import eventually, unique_id

pytestmark = pytest.mark.integration

DECLARANT = "91440300MA5XXXX1"  # the demo party (swift.forwarding) is the declarant of this id


def notice_request(
    *,
    holder_id: str = "RH-0001",
    office: str = "CN5300",
    declarant: str = DECLARANT,
    hook: str | None = None,
    stack=None,
    with_document: bool = True,
) -> dict:
    case_id = unique_id("IPR-DOC")
    f = notice_case_file("CN", case_id=case_id, office=office, holder_id=holder_id, declarant_id=declarant)
    due = f.deadlines["holder_reply"].due_at
    request = NoticeRequest(
        idempotency_key=f"{case_id}:notice:suspension",
        case_id=case_id,
        kind="suspension",
        holder=f.case.holder,
        subject="[Customs IPR] Suspension of release",
        body="Release of your goods is suspended.",
        reply_deadline_at=due,
        reply_allowed=True,
        document=document_facts(f, "suspension", due, None) if with_document else None,
    )
    body = request.model_dump(mode="json")
    body["holder"]["contact_email"] = f"{case_id.lower()}@example.org"
    if hook:
        body["holder"]["webhook_url"] = f"{stack.sink}/webhooks/{hook}"
    return body


async def issue(http, stack, body: dict) -> str:
    r = await http.post(f"{stack.url('notify')}/v1/notices", json=body, headers=stack.auth("system"))
    assert r.status_code == 201, r.text
    return r.json()["notice_id"]


async def document(http, stack, notice_id: str, who: str | dict, fmt: str = "html"):
    headers = stack.auth(who) if isinstance(who, str) else who
    return await http.get(
        f"{stack.url('notify')}/v1/notices/{notice_id}/document", params={"format": fmt}, headers=headers, timeout=60
    )


def pdf_tool(tool: str, pdf: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    args = [tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


async def test_a_notice_carries_its_numbered_document_as_html_pdf_and_text(http, stack, tmp_path) -> None:
    hook = unique_id("doc").lower()
    body = notice_request(hook=hook, stack=stack)
    notice_id = await issue(http, stack, body)
    case_id = body["case_id"]

    html = await document(http, stack, notice_id, "officer")  # Wang Wei, CN5300: the issuing office
    assert html.status_code == 200, html.text
    number = html.headers["x-ipr-document-number"]
    assert re.fullmatch(r"CN5300-20\d\d-ZK-\d{6}", number)
    assert html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert "中止放行通知书" in html.text and case_id in html.text and number in html.text
    assert '<html lang="zh-CN">' in html.text

    pdf = await document(http, stack, notice_id, "holder", "pdf")  # the case's rights holder
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    extracted = pdf_tool("pdftotext", pdf.content, tmp_path)
    assert "中止放行通知书" in extracted and case_id in extracted.replace("\n", "")
    fonts = pdf_tool("pdffonts", pdf.content, tmp_path)
    assert re.search(r"CJK", fonts), fonts
    again = await document(http, stack, notice_id, "supervisor", "pdf")  # stored: the same bytes
    assert again.status_code == 200 and again.content == pdf.content

    txt = await document(http, stack, notice_id, "party", "txt")  # the declarant named in the case
    assert txt.status_code == 200, txt.text
    assert txt.headers["content-type"].startswith("text/plain") and "Notice of Suspension of Release" in txt.text

    # the listing shows each notice's document with its number, kind and language, and the deliveries
    listed = (
        await http.get(f"{stack.url('notify')}/v1/notices", params={"case_id": case_id}, headers=stack.auth("holder"))
    ).json()
    assert len(listed) == 1
    doc = listed[0]["document"]
    assert doc["number"] == number and doc["kind"] == "suspension_notice" and doc["language"] == "zh-CN"
    assert doc["languages"] == ["zh-CN", "en-GB"] and doc["pdf_url"].endswith(
        f"/v1/notices/{notice_id}/document?format=pdf"
    )
    assert {d["channel"] for d in listed[0]["deliveries"]} == {"email", "webhook"}

    # the e-mail carries the document (HTML part) and its number; the webhook names the number and its URL
    async def mail():
        mails = [
            m for m in (await http.get(f"{stack.sink}/mail")).json() if m["headers"].get("X-IPR-Notice-Id") == notice_id
        ]
        return mails[0] if mails else None

    sent = await eventually(mail, within=30, what="the notice's e-mail")
    assert number in sent["subject"] and sent["headers"]["X-IPR-Document-Number"] == number
    assert sent["html"] is not None and "中止放行通知书" in sent["html"] and number in sent["html"]
    assert number in sent["body"] and "Release of your goods is suspended." in sent["body"]

    async def hook_body():
        hooks = [h for h in (await http.get(f"{stack.sink}/webhooks")).json() if h["name"] == hook]
        return json.loads(hooks[0]["body"]) if hooks else None

    payload = await eventually(hook_body, within=30, what="the notice's webhook")
    assert payload["document"]["number"] == number
    assert payload["document"]["url"].endswith(f"/v1/notices/{notice_id}/document?format=html")


async def test_who_may_read_a_document(http, stack) -> None:
    mine = await issue(http, stack, notice_request())
    other_party = await issue(http, stack, notice_request(declarant=unique_id("P")))
    assert (await document(http, stack, mine, "officer")).status_code == 200

    refused = await document(http, stack, mine, "officer_b")  # Li Na, CN2200: another office
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "outside_office"
    another_holder = await document(http, stack, mine, stack.holder_auth("RH-0002"))
    assert another_holder.status_code == 404 and another_holder.json()["error"]["code"] == "notice_not_found"
    party_elsewhere = await document(http, stack, other_party, "party")  # not a party of that case
    assert party_elsewhere.status_code == 404
    for who in ("administrator", "clearance"):
        r = await document(http, stack, mine, who)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_role", (who, r.text)
    assert (await http.get(f"{stack.url('notify')}/v1/notices/{mine}/document")).status_code == 401

    bad = await document(http, stack, mine, "officer", "docx")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_format"
    assert bad.json()["error"]["details"]["allowed"] == ["html", "pdf", "txt"]
    missing = await document(http, stack, "NTC-0000000000000000", "supervisor")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "notice_not_found"


async def test_a_notice_without_a_document_goes_out_as_plain_text(http, stack) -> None:
    body = notice_request(with_document=False)
    body["document_note"] = "no legal document for a detention notice to the rights holder in CN"
    notice_id = await issue(http, stack, body)
    r = await document(http, stack, notice_id, "supervisor")
    assert r.status_code == 404 and r.json()["error"]["code"] == "document_not_available"
    assert "detention notice" in r.json()["error"]["message"]
    view = (await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}", headers=stack.auth("holder"))).json()
    assert view["document"]["status"] == "not_rendered" and "plain text" in view["document"]["reason"]

    async def mail():
        mails = [
            m for m in (await http.get(f"{stack.sink}/mail")).json() if m["headers"].get("X-IPR-Notice-Id") == notice_id
        ]
        return mails[0] if mails else None

    sent = await eventually(mail, within=30, what="the plain-text e-mail")
    assert sent["html"] is None and "Release of your goods is suspended." in sent["body"]


async def test_a_document_that_cannot_be_rendered_does_not_stop_the_notice(http, stack) -> None:
    body = notice_request()
    body["document"]["jurisdiction"] = "EU"
    body["document"]["member_state"] = "FR"  # no French catalogue yet: the document cannot be written
    notice_id = await issue(http, stack, body)
    view = (await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}", headers=stack.auth("holder"))).json()
    assert view["document"]["status"] == "not_rendered" and "FR" in view["document"]["reason"]
    assert next(d for d in view["deliveries"] if d["channel"] == "email")["status"] != "not_configured"


async def test_numbers_run_per_office_kind_and_year_without_gaps(http, stack) -> None:
    office = "CN9" + unique_id("X")[-8:]  # an office of its own: no other test numbers its documents
    numbers = []
    for _ in range(3):
        notice_id = await issue(http, stack, notice_request(office=office))
        numbers.append((await document(http, stack, notice_id, "supervisor")).headers["x-ipr-document-number"])
    failed = notice_request(office=office)
    failed["document"]["jurisdiction"] = "EU"
    failed["document"]["member_state"] = "FR"
    await issue(http, stack, failed)  # not rendered: takes no number
    notice_id = await issue(http, stack, notice_request(office=office))
    numbers.append((await document(http, stack, notice_id, "supervisor")).headers["x-ipr-document-number"])
    sequences = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequences == [1, 2, 3, 4], numbers
    assert all(n.startswith(f"{office}-") and "-ZK-" in n for n in numbers)


@pytest.fixture
async def notify_db(stack):
    from services.notify.settings import Settings

    env = stack_mod.service_env(stack.profile, stack.secrets, "notify")
    with mock.patch.dict(os.environ, env):
        Settings()
    engine = create_async_engine(env["DATABASE_URL"])
    yield engine
    await engine.dispose()


async def test_documents_are_kept_as_sent(http, stack, notify_db, tmp_path) -> None:
    """A document issued under an earlier wording of the templates is served in that wording, and its PDF is
    made from it: nothing is rendered again from today's templates."""
    notice_id = await issue(http, stack, notice_request())
    first = (await document(http, stack, notice_id, "officer")).text
    earlier = first.replace("中止放行通知书", "中止放行通知书（旧版）")
    async with notify_db.begin() as conn:
        await conn.execute(
            text("UPDATE notice_documents SET html = :html WHERE notice_id = :id"), {"html": earlier, "id": notice_id}
        )
    assert (await document(http, stack, notice_id, "officer")).text == earlier
    pdf = await document(http, stack, notice_id, "officer", "pdf")
    assert "中止放行通知书（旧版）" in pdf_tool("pdftotext", pdf.content, tmp_path)
