"""A deadline counted over days no official schedule covers yet is computed on the provisional calendar and
flagged. Its own module: the time-skipping test server's clock moves to 2028 (the ``env`` fixture is per module).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.workflows.scenarios import start, wait_state

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def move_to(env, when: datetime) -> None:
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


async def test_a_deadline_in_2028_is_counted_on_the_provisional_calendar_and_flagged(harness) -> None:
    env, fakes, queue = harness
    # 26 January 2028 is Chinese New Year's Day; the State Council has not published 2028's schedule.
    await move_to(env, datetime(2028, 1, 26, 10, tzinfo=SHANGHAI))
    handle = await start(env, queue)
    state = await wait_state(handle, "suspended")
    reply = next(d for d in state.deadlines if d.name == "holder_reply")
    assert reply.start == date(2028, 1, 26)
    # Thu 27 and Fri 28 are Spring Festival days off, then Mon 31, Tue 1, Wed 2 February.
    assert reply.due_date == date(2028, 2, 2)
    assert reply.provisional is True
    entry = next(h for h in state.history if h.event == "deadline_set" and h.detail["name"] == "holder_reply")
    assert entry.detail["provisional"] is True and entry.detail["official_through"] == "2026-12-31"
    assert (await handle.result()).state == "released"
