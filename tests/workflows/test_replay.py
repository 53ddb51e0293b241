"""Every saved history of every case path replays against the current workflow code.

A change to CaseWorkflow that would break cases already running (non-determinism) fails
here; such changes go behind ``workflow.patched``. New histories are recorded with
``python -m tests.workflows.record_histories <label>``: v1 (the first version), v2 (per-line
cases), v3 (per-line cases whose refused steps are outcomes and whose ignored signals are
recorded), v3e (v3 with four-eyes approval of confiscations and hearing fines), v4 (consignment cases
with four-eyes approval, per line too), v5 (v4 whose parties get the notices the law gives them, their
clocks counted from service), v6 (v5 whose proposer may withdraw a four-eyes proposal: the current version).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from services.cases.workflow import CaseWorkflow

HISTORIES = sorted(Path(__file__).with_name("histories").glob("*.json"))


def test_histories_of_every_path_are_saved() -> None:
    from tests.workflows.scenarios import ALL, FAULTY, V1_PATHS, V2_PATHS, V3_PATHS, V4_PATHS, V5_PATHS

    saved = {tuple(p.stem.split("_", 1)) for p in HISTORIES}
    assert {("v1", name) for name in V1_PATHS} <= saved, "histories of cases started before v2"
    assert {("v2", name) for name in V2_PATHS} <= saved, "histories of per-line cases of v2"
    assert ("v2", "guarantee_rejected_failed") in saved, "a v2 case failed by a refusal (before v3) still replays"
    assert {("v3", name) for name in V3_PATHS} <= saved, "histories of per-line cases of v3 (refusals as outcomes)"
    assert {("v3e", name) for name in V3_PATHS} <= saved, "histories of per-line cases of v3 with four-eyes approval"
    assert {("v4", name) for name in V4_PATHS} <= saved, "histories of consignment cases before notices to parties"
    assert {("v5", name) for name in V5_PATHS} <= saved, "histories of cases before a proposal could be withdrawn"
    assert {("v6", name) for name in (*ALL, *FAULTY)} <= saved, "histories of every path of the current version"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
