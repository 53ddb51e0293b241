"""Every saved history of every case path replays against the current workflow code.

A change to CaseWorkflow that would break cases already running (non-determinism) fails
here; such changes go behind ``workflow.patched``. New histories are recorded with
``python -m tests.workflows.record_histories <label>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from services.cases.workflow import CaseWorkflow

HISTORIES = sorted(Path(__file__).with_name("histories").glob("*.json"))


def test_histories_of_every_path_are_saved() -> None:
    labels = {p.stem.split("_", 1)[0] for p in HISTORIES}
    assert "v1" in labels
    paths = {p.stem.split("_", 1)[1] for p in HISTORIES}
    assert {"silence_release", "no_detention", "confiscation", "undetermined_release", "court_handover"} <= paths


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
