"""The case history: state transitions and writing new entries to the audit trail (and cases.events.v1)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseEventRecord, CaseStateName


async def flush(f: CaseFile) -> None:
    """Write history entries not yet recorded to the case audit trail (and cases.events.v1)."""
    pending = f.history[f.recorded_upto :]
    if not pending:
        return
    f.recorded_upto = len(f.history)
    # The last record carries the case as it stands (without the history), so that the cases database can
    # serve it once the workflow is gone. Activity inputs are not compared on replay: no version needed.
    lines = f.line_states() if f.v4 else []
    last = len(pending) - 1
    await calls.record_case_events(
        [
            CaseEventRecord(
                case_id=f.case.case_id,
                seq=h.seq,
                at=h.at,
                state=h.state,
                event=h.event,
                detail=h.detail,
                case_input=f.case,
                lines=lines,
                snapshot=f.snapshot().model_copy(update={"history": []}) if i == last else None,
            )
            for i, h in enumerate(pending)
        ]
    )


async def transition(f: CaseFile, state: CaseStateName, event: str, detail: dict[str, Any]) -> None:
    f.state = state
    f.log(event, detail)
    await flush(f)
