"""CaseWorkflow under Temporal's time-skipping test server, with the step services replaced by fakes.

No test sleeps: deadlines of days and weeks pass in milliseconds of skipped time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from shared.contracts.cases import (
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_HOLDER_REPLY,
    CourtNotice,
    Determination,
    GuaranteeInfo,
    HolderReply,
)
from shared.rules.calendar import calendar_for
from tests.workflows.scenarios import determine, query, start, wait_state

SHANGHAI = timezone(timedelta(hours=8))


async def advance_to_friday_morning(env) -> datetime:
    """Move the test clock to the next Friday 10:00 Shanghai time whose next 3 working days are Mon-Wed."""
    cal = calendar_for("CN")
    now = await env.get_current_time()
    day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    while True:
        if (
            day.weekday() == 4
            and all(cal.is_working_day(day + timedelta(days=d)) for d in (0, 3, 4, 5))
            and not cal.is_working_day(day + timedelta(days=1))
            and not cal.is_working_day(day + timedelta(days=2))
        ):
            break
        day += timedelta(days=1)
    target = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)
    await env.sleep(target - now)
    return target


async def test_silence_releases_after_three_working_days_over_a_weekend(harness) -> None:
    env, fakes, queue = harness
    friday = await advance_to_friday_morning(env)
    handle = await start(env, queue)
    state = await wait_state(handle, "suspended")

    reply = next(d for d in state.deadlines if d.name == "holder_reply")
    # Served on Friday; Saturday and Sunday do not count: Mon, Tue, Wed -> due at the end of Wednesday.
    assert reply.start == friday.date()
    assert reply.due_date == friday.date() + timedelta(days=5)
    assert reply.due_at == datetime.combine(friday.date() + timedelta(days=6), datetime.min.time(), tzinfo=SHANGHAI)
    notice = fakes.holder_notices()[0]
    assert notice.kind == "suspension" and notice.reply_allowed and notice.reply_deadline_at == reply.due_at

    # One minute before the deadline the goods are still held ...
    await env.sleep(reply.due_at - await env.get_current_time() - timedelta(minutes=1))
    assert (await query(handle)).state == "suspended"
    assert not fakes.of("hold_action")

    # ... and once it passes without a reply they are released.
    result = await handle.result()
    assert result.state == "released"
    assert [r.action for r in fakes.of("hold_action")] == ["release"]
    assert fakes.of("record_disposition")[0].outcome == "release"
    assert {d.name: d.status for d in result.deadlines} == {"holder_reply": "lapsed"}
    # the audit trail holds every entry, in order, each exactly once
    assert [e.seq for e in fakes.events] == list(range(1, len(result.history) + 1))
    assert fakes.events[-1].state == "released"


async def test_no_detention_reply_releases_at_once(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="no_detention"))
    result = await handle.result()
    assert result.state == "released"
    assert "no detention is needed" in result.history[-1].detail["reason"]


async def test_detention_then_infringement_confiscates_with_fine(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)  # goods worth RMB 14,910 -> guarantee 100% of value
    state = await wait_state(handle, "suspended")
    assert state.required_guarantee_cny == Decimal("14910.00")

    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("14910"), currency="CNY", reference="G-1")
        ),
    )
    state = await wait_state(handle, "detained")
    names = {d.name: d for d in state.deadlines}
    assert names["holder_reply"].status == "met"
    cal = calendar_for("CN")
    assert names["customs_determination"].due_date == cal.add_working_days(names["customs_determination"].start, 30)
    assert names["release_ex_officio"].due_date == cal.add_working_days(names["release_ex_officio"].start, 50)

    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    result = await handle.result()
    assert result.state == "confiscated"
    assert [r.action for r in fakes.of("hold_action")] == ["detain", "confiscate"]
    disposition = fakes.of("record_disposition")[0]
    assert disposition.outcome == "confiscation" and disposition.fine_tier == "ordinary"
    # the middle of the "ordinary" tier (10-20%) of the goods value in RMB (14,910.00), in RMB
    assert result.fine_amount == Decimal("2236.50")
    assert disposition.fine_amount == Decimal("2236.50") and disposition.currency == "CNY"
    assert [n.kind for n in fakes.holder_notices()] == ["suspension", "detention", "confiscation"]


async def test_insufficient_guarantee_means_release_at_deadline(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("100"), currency="CNY", reference="G-low")
        ),
    )
    result = await handle.result()
    assert result.state == "released"
    assert any(h.event == "guarantee_insufficient" for h in result.history)
    assert "no sufficient guarantee" in result.history[-1].detail["reason"]


async def test_undetermined_case_released_at_fifty_working_days_without_court_notice(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("20000"), currency="CNY", reference="G-2")
        ),
    )
    state = await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="cannot_determine"))
    await wait_state(handle, "undetermined")
    release = next(d for d in state.deadlines if d.name == "release_ex_officio")
    result = await handle.result()
    assert result.state == "released"
    assert await env.get_current_time() >= release.due_at
    assert [n.kind for n in fakes.holder_notices()] == ["suspension", "detention", "cannot_determine", "release"]


async def test_court_notice_hands_goods_to_court(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain", guarantee=GuaranteeInfo(amount=Decimal("20000"), currency="CNY", reference="G-3")
        ),
    )
    await wait_state(handle, "detained")
    await handle.signal(
        SIGNAL_COURT_NOTICE,
        CourtNotice(reference="(2026) Hu 0115 Zhi Bao 12", court="Shanghai Pudong", action="keep_detained_for_court"),
    )
    result = await handle.result()
    assert result.state == "handed_to_court"
    assert [r.action for r in fakes.of("hold_action")] == ["detain", "hand_to_court"]


def test_ex_officio_guarantee_tiers() -> None:
    from shared.rules.decisions import guarantee
    from shared.rules.pack import rule_pack

    def g(value: Decimal) -> Decimal:
        return guarantee(rule_pack("CN"), "ex_officio", value)

    assert g(Decimal("19999.99")) == Decimal("19999.99")
    assert g(Decimal("20000")) == Decimal("20000.00")
    assert g(Decimal("30000")) == Decimal("20000.00")
    assert g(Decimal("100000")) == Decimal("50000.00")
    assert g(Decimal("200000")) == Decimal("100000.00")
    assert g(Decimal("200000.01")) == Decimal("100000.00")
