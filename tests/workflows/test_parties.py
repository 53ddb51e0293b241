"""The parties of a case get the notices the law gives them, and their clocks run from service (``case-parties``).

Time-skipping: every clock below is counted on the jurisdiction's calendar from the day the party's notice
was served (delivered, or served on paper by an officer), never from when it was sent.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from services.cases.workflow import CaseWorkflow
from shared.contracts.cases import (
    SIGNAL_HEARING,
    SIGNAL_HOLDER_REPLY,
    SIGNAL_NOTICE_SERVED,
    SIGNAL_PARTY_SUBMISSION,
    Determination,
    GuaranteeInfo,
    HearingUpdate,
    HolderReply,
    NoticeServed,
    PartyRef,
    PartySubmission,
)
from shared.rules.calendar import calendar_for
from tests.factories import case_input
from tests.workflows.pause import Pause
from tests.workflows.scenarios import OFFICER, FakeServices, determine, query, wait_deadline, wait_event, wait_state

DECLARANT = PartyRef(id="DE-EORI-0001", name="Hamburg Customs Brokers GmbH", contact_email="broker@example.de")


STARTED: list[WorkflowHandle] = []


async def _harness(env, fakes: FakeServices):
    """A worker with these fakes (and the pause workflow) on a fresh queue; every case a test leaves waiting runs
    to its lawful end in skipped time before the worker stops (a case left without its worker would stop the test
    server from skipping time later)."""
    queue = f"q-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[CaseWorkflow, Pause], activities=fakes.activities()):
        yield env, fakes, queue
        while STARTED:
            handle = STARTED.pop()
            try:
                await asyncio.wait_for(handle.result(), timeout=60)
            except WorkflowFailureError:
                pass


@pytest.fixture
async def env():
    """A time-skipping server per test: cases here wait on service with no clock running, so one test's open
    cases would otherwise carry the next test's clock forward by their timers (years, in the end)."""
    import shutil
    import sys
    from pathlib import Path

    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    path = shutil.which("temporal-test-server", path=str(Path(sys.executable).parent))
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=path
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
async def harness(env):
    async for h in _harness(env, FakeServices()):
        yield h


@pytest.fixture
async def undeliverable(env):
    """Every notice to a party bounces (the holder's notices are delivered)."""
    async for h in _harness(env, FakeServices(party_service="undeliverable")):
        yield h


@pytest.fixture
async def delivered_later(env):
    """A party's notice is delivered only after notify has retried it a while (3 reads of its status)."""
    async for h in _harness(env, FakeServices(served_after_polls=3)):
        yield h


async def open_case(env, queue, **kw) -> WorkflowHandle:
    kw.setdefault("opened_at", await env.get_current_time())
    case = case_input(case_id=f"IPR-PT-{uuid.uuid4().hex[:8]}-L1", **kw)
    handle = await env.client.start_workflow(CaseWorkflow.run, case, id=case.case_id, task_queue=queue)
    STARTED.append(handle)
    return handle


async def keep_clock(env, queue: str, days: int) -> None:
    """A case waiting only for an officer has no timer of its own: without one the test server would skip straight
    to the end of time. This workflow holds the clock within ``days`` (it runs to its end after the test)."""
    STARTED.append(
        await env.client.start_workflow(
            Pause.run, timedelta(days=days).total_seconds(), id=f"clock-{uuid.uuid4()}", task_queue=queue
        )
    )


async def pause(env, queue: str, how_long: timedelta) -> None:
    """Let time pass on the test server while nothing is in flight."""
    await env.client.execute_workflow(Pause.run, how_long.total_seconds(), id=f"pause-{uuid.uuid4()}", task_queue=queue)


def eu_case(**kw) -> dict:
    return {
        "jurisdiction": "EU",
        "currency": "EUR",
        "goods_value_cny": None,
        "application_id": "EU-AFA-1",
        "declarant": DECLARANT,
        **kw,
    }


def confirms() -> PartySubmission:
    return PartySubmission(party="holder", kind="confirms_infringement")


# ---------------------------------------------------------------------------- EU


async def test_eu_declarant_notified_and_deemed_consent_counted_from_service(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, **eu_case())
    await wait_state(handle, "detained")
    state = await wait_deadline(handle, "declarant_consent")
    [notice] = fakes.party_notices()
    assert notice.kind == "party_detention" and notice.addressee.role == "declarant"
    assert notice.addressee.party.id == DECLARANT.id and notice.addressee.party.contact_email == DECLARANT.contact_email
    assert "Art. 17-18" in notice.body and "10 working days of the day this notice is served" in notice.body
    # its legal document is addressed to the declarant and states the 10 WD as running from service
    doc = notice.document
    assert doc is not None and doc.kind == "party_detention_notice", notice.document_note
    assert (doc.addressee.role, doc.addressee.id) == ("declarant", DECLARANT.id) and doc.copies_to == []
    assert [(c.name, c.amount, c.unit) for c in doc.clocks] == [("declarant_consent", 10, "working_days")]
    assert doc.deadline("declarant_consent") is None, "no date is stated before the notice is served"
    assert all(n.addressee is None for n in fakes.holder_notices())
    names = {d.name: d for d in state.deadlines}
    assert names["notify_parties"].status == "met"  # the notice went out within 1 working day
    [sent] = state.party_notices
    assert sent.status == "served" and sent.served_by == "delivered" and sent.clock == "declarant_consent"
    consent = names["declarant_consent"]
    cal = calendar_for("DE")
    assert consent.start == cal.local_date(sent.served_at)
    assert consent.due_date == cal.add_working_days(consent.start, 10)
    await handle.signal(SIGNAL_PARTY_SUBMISSION, confirms())
    result = await handle.result()
    assert result.state == "destroyed" and "deemed consent" in result.history[-1].detail["reason"]
    destroyed = next(h for h in result.history if h.event == "goods_destroyed")
    assert destroyed.at >= consent.due_at, "no destruction before the declarant's time from service has run"
    assert {d.name: d.status for d in result.deadlines}["declarant_consent"] == "lapsed"


async def test_eu_perishable_declarant_has_3_working_days_from_service(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, **eu_case(perishable=True))
    state = await wait_deadline(handle, "declarant_consent")
    consent = next(d for d in state.deadlines if d.name == "declarant_consent")
    assert consent.due_date == calendar_for("DE").add_working_days(consent.start, 3)


async def test_eu_undelivered_declarant_notice_destroys_nothing_until_served_on_paper(undeliverable) -> None:
    env, fakes, queue = undeliverable
    await keep_clock(env, queue, 90)
    handle = await open_case(env, queue, **eu_case())
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, confirms())
    state = await wait_event(handle, "party_notice_undeliverable")
    task = next(h for h in state.history if h.event == "party_notice_undeliverable").detail
    assert task["role"] == "declarant" and "by other means" in task["task"]
    await pause(env, queue, timedelta(days=40))  # far beyond any 10 working days from sending
    state = await query(handle)
    assert state.state == "detained", "no deemed consent while the declarant's notice is not served"
    assert not any(d.name == "declarant_consent" for d in state.deadlines)
    assert [a.action for a in fakes.of("hold_action")] == ["detain"]
    assert state.party_notices[0].status == "undeliverable"

    paper_day = await env.get_current_time()
    assert (await handle.describe()).status.name == "RUNNING"
    await handle.signal(SIGNAL_NOTICE_SERVED, NoticeServed(notice="party_detention", method="post", actor=OFFICER))
    state = await wait_deadline(handle, "declarant_consent")
    served = next(h for h in state.history if h.event == "notice_served_on_paper")
    assert served.detail["officer"] == "Wang Wei" and served.detail["method"] == "post"
    consent = next(d for d in state.deadlines if d.name == "declarant_consent")
    cal = calendar_for("DE")
    assert consent.start == cal.local_date(paper_day)
    result = await handle.result()
    assert result.state == "destroyed"
    destroyed = next(h for h in result.history if h.event == "goods_destroyed")
    assert destroyed.at >= consent.due_at


async def test_eu_declarant_objection_sends_the_holder_to_court(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, **eu_case())
    await wait_deadline(handle, "declarant_consent")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, confirms())
    await handle.signal(SIGNAL_PARTY_SUBMISSION, PartySubmission(party="declarant", kind="objects_to_destruction"))
    await wait_deadline(handle, "holder_proceedings")
    await handle.signal(
        SIGNAL_PARTY_SUBMISSION,
        PartySubmission(party="holder", kind="proceedings_started", reference="LG Hamburg 312 O 1/26"),
    )
    result = await handle.result()
    assert result.state == "handed_to_court"
    assert "declarant_objected" in [n.kind for n in fakes.holder_notices()]


# ---------------------------------------------------------------------------- US


async def test_us_importer_served_late_then_7_business_days_disclosure_and_officers_finding(delivered_later) -> None:
    env, fakes, queue = delivered_later
    handle = await open_case(
        env, queue, jurisdiction="US", currency="USD", goods_value_cny=None, genuine_unit_value=Decimal("120")
    )
    await wait_event(handle, "party_notice_sent")
    [notice] = fakes.party_notices()
    assert notice.addressee.role == "importer" and notice.addressee.party.id == "C2"  # the consignee
    assert "19 CFR 133.21" in notice.body and "7 business days" in notice.body
    state = await query(handle)
    assert {d.name: d.status for d in state.deadlines}["detention_notice"] == "met"
    assert not any(d.name == "importer_response" for d in state.deadlines), "no window before service"
    await pause(env, queue, timedelta(minutes=10))  # notify retries; the case reads the delivery status meanwhile
    state = await wait_deadline(handle, "importer_response")
    assert len(fakes.of("notice_status")) >= 3, "the case read the notice's delivery until it was served"
    served = state.party_notices[0]
    response = next(d for d in state.deadlines if d.name == "importer_response")
    cal = calendar_for("US")
    assert response.start == cal.local_date(served.served_at) and served.served_at > served.sent_at
    assert response.due_date == cal.add_working_days(response.start, 7)
    await determine(handle, Determination(outcome="infringing", officer="cbp.officer.lee", fine_amount=Decimal("5000")))
    await pause(env, queue, response.due_at - await env.get_current_time() - timedelta(minutes=1))
    assert (await query(handle)).state == "detained", "no seizure before the importer's 7 business days"
    await pause(env, queue, timedelta(minutes=2))
    seized = await wait_state(handle, "seized")
    assert "disclosure" in [n.kind for n in fakes.holder_notices()]
    assert next(h for h in seized.history if h.event == "seized").detail["finding_by"] == "cbp.officer.lee"
    result = await handle.result()
    assert result.state == "forfeited"


async def test_us_importer_never_served_discloses_nothing_and_ends_in_exclusion(undeliverable) -> None:
    env, fakes, queue = undeliverable
    handle = await open_case(env, queue, jurisdiction="US", currency="USD", goods_value_cny=None)
    result = await handle.result()
    assert result.state == "excluded"
    assert "disclosure" not in [n.kind for n in fakes.holder_notices()]
    assert any(h.event == "importer_not_served" for h in result.history)
    assert not any(d.name == "importer_response" for d in result.deadlines)


# ---------------------------------------------------------------------------- CN


async def test_cn_detention_receipt_hearing_right_and_penalty_decision_go_to_the_party_fined(harness) -> None:
    env, fakes, queue = harness
    # export: the consignor is the party whose goods they are, and the party to be fined
    handle = await open_case(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("100000"), currency="CNY", reference="LG-1")
        ),
    )
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier", officer="o1"))
    await wait_state(handle, "hearing")
    state = await wait_deadline(handle, "hearing_request")
    hearing = next(n for n in state.party_notices if n.kind == "hearing_right")
    window = next(d for d in state.deadlines if d.name == "hearing_request")
    assert window.start == calendar_for("CN").local_date(hearing.served_at)
    assert window.due_date == calendar_for("CN").add_working_days(window.start, 3)
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="waived", by="Consignor"))
    result = await handle.result()
    assert result.state == "confiscated"
    party = [(n.kind, n.addressee.role, n.addressee.party.id) for n in fakes.party_notices()]
    assert party == [
        ("party_detention", "consignor", "C1"),
        ("hearing_right", "consignor", "C1"),
        ("penalty_decision", "consignor", "C1"),
    ]
    decision = fakes.party_notices()[-1]
    assert "250000.00" in decision.body and "Penalty Regs Art. 25" in decision.body
    documents = {n.kind: n.document for n in fakes.party_notices()}
    assert {k: d.kind for k, d in documents.items() if d is not None} == {
        "party_detention": "party_detention_notice",
        "hearing_right": "hearing_right",
        "penalty_decision": "penalty_decision",
    }
    assert all(d.addressee.role == "consignor" and d.addressee.id == "C1" for d in documents.values() if d)
    proposed = documents["hearing_right"]
    assert proposed.penalty is not None and proposed.penalty.fine.amount == Decimal("250000.00")
    assert proposed.penalty.tier == "heavier" and proposed.penalty.fine_min is not None
    assert [(c.name, c.amount) for c in proposed.clocks] == [("hearing_request", 3)]
    assert documents["penalty_decision"].penalty.fine.amount == Decimal("250000.00")
    holder = [n.kind for n in fakes.holder_notices()]
    assert "hearing_right" not in holder, "the hearing right is the party's, not the holder's"
    assert holder[-1] == "confiscation"


async def test_cn_import_notices_go_to_the_consignee(harness) -> None:
    env, fakes, queue = harness
    case = case_input(case_id=f"IPR-PT-{uuid.uuid4().hex[:8]}-L1").model_copy(update={"direction": "import"})
    handle = await env.client.start_workflow(CaseWorkflow.run, case, id=case.case_id, task_queue=queue)
    STARTED.append(handle)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("14910"), currency="CNY", reference="LG-2")
        ),
    )
    await wait_event(handle, "party_notice_served")
    [receipt] = fakes.party_notices()
    assert (receipt.kind, receipt.addressee.role, receipt.addressee.party.id) == ("party_detention", "consignee", "C2")


async def test_cn_hearing_notice_undelivered_decides_no_fine_until_served(undeliverable) -> None:
    env, fakes, queue = undeliverable
    await keep_clock(env, queue, 90)
    handle = await open_case(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("100000"), currency="CNY", reference="LG-3")
        ),
    )
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier", officer="o1"))
    await wait_state(handle, "hearing")
    await pause(env, queue, timedelta(days=20))
    state = await query(handle)
    assert state.state == "hearing" and not any(d.name == "hearing_request" for d in state.deadlines)
    assert not fakes.of("record_disposition"), "no penalty before the hearing-right notice is served"
    await handle.signal(SIGNAL_NOTICE_SERVED, NoticeServed(notice="hearing_right", method="in_person", actor=OFFICER))
    result = await handle.result()
    assert result.state == "confiscated"
    assert {d.name: d.status for d in result.deadlines}["hearing_request"] == "lapsed"


async def test_paper_service_of_an_unknown_notice_is_recorded_as_ignored(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, **eu_case())
    await wait_deadline(handle, "declarant_consent")
    await handle.signal(SIGNAL_NOTICE_SERVED, NoticeServed(notice="NTC-NOPE", actor=OFFICER))
    await handle.signal(SIGNAL_NOTICE_SERVED, NoticeServed(notice="party_detention", actor=OFFICER))
    state = await wait_event(handle, "notice_service_ignored", 2)
    why = [h.detail["why"] for h in state.history if h.event == "notice_service_ignored"]
    assert why == ["no such notice to a party of this case", "already served"]
