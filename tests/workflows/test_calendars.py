"""Deadlines on calendars an official schedule does not cover yet: flagged provisional, and re-timed in a
running case when the schedule is published. Time-skipping test server; this module moves its clock years
ahead, so it has a test server of its own (the ``env`` fixture is per module); the 2028 deadline is in
``test_calendar_2028.py`` for the same reason.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.contracts.cases import SIGNAL_CALENDAR, SIGNAL_HOLDER_REPLY, CalendarUpdate, GuaranteeInfo, HolderReply
from shared.rules.calendar import calendar_data, calendar_for, calendar_from_data
from tests.workflows.scenarios import query, start, wait_state

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def move_to(env, when: datetime) -> None:
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


def published(year: int, extra_holidays: list[date], version: str) -> dict:
    """The CN calendar with ``year`` published as official, with extra days off (a bridge the schedule adds)."""
    data = copy.deepcopy(calendar_data("cn"))
    spec = data["years"].setdefault(str(year), {"holidays": [], "adjusted_working_days": []})
    spec["status"] = "official"
    spec["holidays"] += [{"date": d.isoformat(), "name": "bridge day (published schedule)"} for d in extra_holidays]
    data["version"] = version
    return data


async def test_a_running_case_re_times_its_pending_deadlines_when_the_schedule_is_published(harness) -> None:
    env, fakes, queue = harness
    cal = calendar_for("CN")
    # A case detained in early December: its 30-working-day determination window runs into a year whose
    # schedule is not published yet (provisional), its 50-day release deadline too.
    now = (await env.get_current_time()).astimezone(SHANGHAI)
    start_day = now.date() if now.month == 12 and now.day <= 10 else date(now.year, 12, 1)
    if start_day < now.date():
        start_day = date(now.year + 1, 12, 1)
    await move_to(env, datetime.combine(start_day, time(10), tzinfo=SHANGHAI))
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(decision="detain", guarantee=GuaranteeInfo(amount=14910, currency="CNY", reference="LG-1")),
    )
    state = await wait_state(handle, "detained")
    determination = next(d for d in state.deadlines if d.name == "customs_determination")
    assert determination.due_date.year == start_day.year + 1 and cal.is_provisional(determination.due_date)
    assert determination.provisional is True and determination.calendar_version == cal.version
    reply = next(d for d in state.deadlines if d.name == "holder_reply")
    assert reply.provisional is cal.is_provisional_span(reply.start, reply.due_date)
    flagged = [h for h in state.history if h.event == "deadline_set" and h.detail.get("provisional")]
    assert {"customs_determination", "release_ex_officio"} <= {h.detail["name"] for h in flagged}

    # The State Council publishes the next year's schedule with two more days off inside the window.
    year = start_day.year + 1
    bridge = [d for d in (date(year, 1, 5) + timedelta(days=i) for i in range(10)) if cal.is_working_day(d)][:2]
    data = published(year, bridge, f"CN-test-{uuid.uuid4().hex[:6]}")
    update = CalendarUpdate(calendar=data, version=data["version"], published_by="ops.li")
    await handle.signal(SIGNAL_CALENDAR, update)
    await handle.signal(SIGNAL_CALENDAR, update)  # publishing twice changes nothing more
    state = await query(handle)
    moved = next(d for d in state.deadlines if d.name == "customs_determination")
    official = calendar_from_data(update.calendar)
    assert moved.due_date == official.add_working_days(determination.start, 30)
    assert moved.due_date > determination.due_date and moved.provisional is False
    assert moved.calendar_version == update.version == state.calendar_version
    retimed = [h for h in state.history if h.event == "deadline_retimed"]
    assert {h.detail["name"] for h in retimed} == {"customs_determination", "release_ex_officio"}
    assert (
        next(h for h in retimed if h.detail["name"] == "customs_determination").detail["from"]
        == determination.due_date.isoformat()
    )
    published_entries = [h for h in state.history if h.event == "calendar_published"]
    assert len(published_entries) == 1 and published_entries[0].detail["by"] == "ops.li"

    # The timer moved with it: at the old deadline the case is still waiting for customs ...
    await env.sleep(determination.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await query(handle)).state == "detained"
    # ... and only at the new one does the determination window lapse.
    await env.sleep(moved.due_at - await env.get_current_time() + timedelta(hours=1))
    state = await wait_state(handle, "undetermined")
    assert next(d for d in state.deadlines if d.name == "customs_determination").status == "lapsed"
    assert (await handle.result()).state == "released"


async def test_a_calendar_of_another_jurisdiction_leaves_the_case_alone(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    before = await wait_state(handle, "suspended")
    us = calendar_data("us")
    await handle.signal(SIGNAL_CALENDAR, CalendarUpdate(calendar=us, version="US-x"))
    after = await query(handle)
    assert after.deadlines == before.deadlines and after.calendar_version == before.calendar_version
    assert (await handle.result()).state == "released"
