"""A workflow that only lets time pass: the safe way to advance the time-skipping test server mid-test.

``env.sleep`` jumps the clock even while an activity or workflow task is in flight (they then
time out); waiting on this workflow lets the server skip only while nothing is in flight.
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="TestPause")
class Pause:
    @workflow.run
    async def run(self, seconds: float) -> None:
        await workflow.sleep(seconds)
