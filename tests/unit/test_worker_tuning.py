"""The case worker's tuning: the workflow-task threads and the interpreter's switch interval come from settings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

from services.cases.settings import WorkerTuning
from services.cases.worker import worker_options


def test_workflow_tasks_run_on_as_many_threads_as_set() -> None:
    options = worker_options(WorkerTuning(worker_workflow_threads=4))
    executor = options["workflow_task_executor"]
    assert isinstance(executor, ThreadPoolExecutor) and executor._max_workers == 4
    executor.shutdown()
    # 0: the SDK's own pool, one thread per workflow task slot
    assert "workflow_task_executor" not in worker_options(WorkerTuning(worker_workflow_threads=0))
    assert worker_options(WorkerTuning())["max_concurrent_workflow_tasks"] == 100


def test_the_switch_interval_is_bounded() -> None:
    assert WorkerTuning(worker_switch_interval_s=0.001).worker_switch_interval_s == 0.001
    for bad in (0, -1, 1.0):
        with pytest.raises(ValidationError):
            WorkerTuning(worker_switch_interval_s=bad)
