"""The two baselines of the case benchmark (`make bench-cases`), and a worker that runs them.

    python -m bench.case_baselines TASK_QUEUE METRICS_PORT

``BenchTrivial`` returns at once. ``BenchCaseShape`` makes the same commands in the same order as
a CN ex officio case on its way to "reply window armed" (``services/cases/workflow``: three version
markers, ``load_rules``, the hold with its one-hour step watch, the holder-reply deadline's escalation
timer, the notice with its step watch, the case record, then the reply timer) with activities that do
nothing. The benchmark compares the two histories event by event before it trusts the figures.

The worker is configured as the case worker is (``services.cases.worker.worker_options``, from the same
``WORKER_*`` environment) and serves Temporal SDK metrics for the benchmark to count completions.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

TRIVIAL = "BenchTrivial"
SHAPE = "BenchCaseShape"
LAST_ACTIVITY = "noop_record_case_events"  # the shape's last activity before its reply timer

TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ServiceRejected"],
)
STEP_WATCH = timedelta(hours=1)  # steps.STEP_ESCALATE_AFTER
REPLY_WINDOW = timedelta(days=3)
ESCALATE_BEFORE = timedelta(days=1)


@activity.defn(name="noop_load_rules")
async def noop_load_rules(arg: Any) -> None:
    return None


@activity.defn(name="noop_place_hold")
async def noop_place_hold(arg: Any) -> None:
    return None


@activity.defn(name="noop_send_notice")
async def noop_send_notice(arg: Any) -> None:
    return None


@activity.defn(name=LAST_ACTIVITY)
async def noop_record_case_events(arg: Any) -> None:
    return None


@workflow.defn(name=TRIVIAL)
class Trivial:
    @workflow.signal(name="lines_revised")
    def lines(self, revision: Any) -> None:  # started with its lines, as a case is (signal-with-start)
        pass

    @workflow.run
    async def run(self, case: dict) -> str:
        return case.get("case_id", "")


@workflow.defn(name=SHAPE)
class CaseShape:
    @workflow.init
    def __init__(self, case: dict) -> None:
        # CaseWorkflow.__init__ asks for its six version markers
        self.markers = [
            workflow.patched(p)
            for p in ("bench-v2", "bench-consignment", "bench-v3", "bench-four-eyes", "bench-parties", "bench-withdraw")
        ]

    @workflow.signal(name="lines_revised")
    def lines(self, revision: Any) -> None:  # started with its lines, as a case is (signal-with-start)
        pass

    @workflow.run
    async def run(self, case: dict) -> str:
        await workflow.execute_activity(
            noop_load_rules, case.get("jurisdiction"), start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
        await self._step(noop_place_hold, case.get("case_id"))
        now = workflow.now()
        escalation = asyncio.create_task(workflow.sleep(REPLY_WINDOW - ESCALATE_BEFORE))  # open_deadline
        await self._step(noop_send_notice, case.get("case_id"))
        await workflow.execute_activity(
            noop_record_case_events, case.get("case_id"), start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
        try:  # the reply window: armed here
            await workflow.wait_condition(lambda: False, timeout=REPLY_WINDOW - (workflow.now() - now))
        except TimeoutError:
            pass
        escalation.cancel()
        return "released"

    async def _step(self, fn: Callable[[Any], Awaitable[Any]], arg: Any) -> None:
        # as steps.run_step: watch the step for an hour
        handle = workflow.start_activity(fn, arg, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
        try:
            await workflow.wait_condition(handle.done, timeout=STEP_WATCH)
        except TimeoutError:
            pass
        await handle


async def serve(task_queue: str, metrics_port: int) -> None:
    import signal
    import sys

    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
    from temporalio.worker import Worker

    from services.cases.settings import WorkerTuning
    from services.cases.worker import worker_options

    address = os.environ["TEMPORAL_ADDRESS"]
    namespace = os.environ["TEMPORAL_NAMESPACE"]
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{metrics_port}")))
    client = await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter, runtime=runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tuning = WorkerTuning()
    sys.setswitchinterval(tuning.worker_switch_interval_s)  # as the case worker does
    # as the case worker shares its workflow modules between cases, so does this worker (this module)
    tuning.worker_sandbox_passthrough = ",".join(filter(None, (tuning.worker_sandbox_passthrough, __name__)))
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[Trivial, CaseShape],
        activities=[noop_load_rules, noop_place_hold, noop_send_notice, noop_record_case_events],
        graceful_shutdown_timeout=timedelta(seconds=5),
        **worker_options(tuning),
    )
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    import sys

    import bench.case_baselines as module  # the workflows from their module, not __main__

    asyncio.run(module.serve(sys.argv[1], int(sys.argv[2])))
