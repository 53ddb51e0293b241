"""The case worker: runs CaseWorkflow and its activities on the ``ipr-cases`` task queue.

    python -m services.cases.worker

Temporal SDK metrics are served for Prometheus on WORKER_METRICS_PORT. SIGTERM/SIGINT
shut the worker down gracefully (running activities finish or are retried elsewhere).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from services.cases.activities import CaseActivities, load_rules
from services.cases.settings import Settings, WorkerTuning
from services.cases.workflow import CaseWorkflow
from shared.contracts.cases import CASE_TASK_QUEUE
from shared.db import make_engine, make_sessionmaker
from shared.runtime import configure_logging
from shared.service_auth import ServiceToken

log = logging.getLogger("services.cases.worker")


def activities_of(acts: CaseActivities) -> list:
    return [
        load_rules,
        acts.place_hold,
        acts.hold_action,
        acts.send_notice,
        acts.notice_status,
        acts.record_disposition,
        acts.hold_guarantee,
        acts.settle_guarantee,
        acts.record_case_events,
    ]


def worker_options(tuning: WorkerTuning) -> dict:
    """Concurrency, cache and sandbox of a worker on the case task queue (the benchmark's baselines use the same)."""
    passthrough = [m.strip() for m in tuning.worker_sandbox_passthrough.split(",") if m.strip()]
    threads = tuning.worker_workflow_threads
    executor = (
        {"workflow_task_executor": ThreadPoolExecutor(max_workers=threads, thread_name_prefix="temporal_workflow_")}
        if threads
        else {}
    )
    return {
        **executor,
        "workflow_runner": SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough)
        ),
        "max_concurrent_activities": tuning.worker_max_concurrent_activities,
        "max_concurrent_workflow_tasks": tuning.worker_max_concurrent_workflow_tasks,
        "max_cached_workflows": tuning.worker_max_cached_workflows,
        "max_concurrent_workflow_task_polls": tuning.worker_workflow_task_pollers,
        "max_concurrent_activity_task_polls": tuning.worker_activity_task_pollers,
    }


def http_limits(tuning: WorkerTuning) -> httpx.Limits:
    """One pool of kept-alive connections to the step services, shared by every activity of the worker."""
    return httpx.Limits(
        max_connections=tuning.http_max_connections,
        max_keepalive_connections=tuning.http_max_keepalive_connections,
        keepalive_expiry=tuning.http_keepalive_expiry_s,
    )


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    sys.setswitchinterval(settings.worker_switch_interval_s)
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"{settings.worker_metrics_host}:{settings.worker_metrics_port}")
        )
    )
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with httpx.AsyncClient(
        timeout=settings.http_timeout_s, auth=ServiceToken.from_settings(settings), limits=http_limits(settings)
    ) as http:
        acts = CaseActivities(settings=settings, http=http, sessionmaker=make_sessionmaker(engine))
        worker = Worker(
            client,
            task_queue=CASE_TASK_QUEUE,
            workflows=[CaseWorkflow],
            activities=activities_of(acts),
            graceful_shutdown_timeout=timedelta(seconds=10),
            **worker_options(settings),
        )
        async with worker:
            log.info("case worker polling %s on %s", CASE_TASK_QUEUE, settings.temporal_address)
            await stop.wait()
    await engine.dispose()
    del client
    gc.collect()


if __name__ == "__main__":
    asyncio.run(main())
