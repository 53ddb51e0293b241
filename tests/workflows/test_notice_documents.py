"""The case workflow sends each notice with the facts of its legal document (time-skipping, step services faked):
the suspension notice with the reply window and the guarantee the case computed, the disposal notice with the
fine and the disposal method, the release notice with its reason; a notice the holder gets no document for
says why."""

from __future__ import annotations

from decimal import Decimal

from shared.contracts.cases import (
    SIGNAL_DETERMINATION,
    SIGNAL_HOLDER_REPLY,
    Determination,
    GuaranteeInfo,
    HolderReply,
)
from tests.workflows.scenarios import determine, start, wait_state


async def test_each_notice_carries_the_facts_of_its_document(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    state = await wait_state(handle, "suspended")
    suspension = fakes.of("send_notice")[0]
    doc = suspension.document
    assert doc is not None and doc.kind == "suspension_notice" and doc.jurisdiction == "CN"
    assert doc.case.case_id == suspension.case_id and doc.addressee.id == suspension.holder.id
    reply = next(d for d in state.deadlines if d.name == "holder_reply")
    assert [(d.name, d.due_at) for d in doc.deadlines] == [("holder_reply", reply.due_at)]
    assert doc.guarantee is not None and doc.guarantee.required is not None
    assert (doc.guarantee.required.amount, doc.guarantee.required.currency) == (Decimal("14910.00"), "CNY")

    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("14910"), currency="CNY", reference="G-1")
        ),
    )
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    result = await handle.result()
    assert result.state == "confiscated"
    notices = {n.kind: n for n in fakes.of("send_notice")}
    assert notices["detention"].document is None and "no legal document" in (notices["detention"].document_note or "")
    disposal = notices["confiscation"].document
    assert disposal is not None and disposal.kind == "disposal_notice"
    assert disposal.penalty is not None and disposal.penalty.fine.amount == Decimal("2236.50")
    chosen = next(h.detail["disposal_method"] for h in result.history if h.event == "goods_confiscated")
    assert disposal.disposal_method == chosen and chosen is not None
    assert disposal.guarantee is not None and disposal.guarantee.posted is not None
    assert disposal.guarantee.posted.amount == Decimal("14910")


async def test_a_release_notice_states_the_reason(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("20000"), currency="CNY", reference="G-2")
        ),
    )
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="cannot_determine"))
    assert (await handle.result()).state == "released"
    notices = {n.kind: n for n in fakes.of("send_notice")}
    cannot = notices["cannot_determine"].document
    assert cannot is not None and cannot.kind == "cannot_determine"
    assert "release_ex_officio" in [d.name for d in cannot.deadlines]
    release = notices["release"].document
    assert release is not None and release.kind == "release_notice" and release.release_reason == "no_court_notice"
    assert release.case.lines[0].outcome == "released"
