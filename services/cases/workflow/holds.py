"""The hold on the goods at the holds service: placed when the case opens, then detained, released, etc.

A refused hold step is recorded as an officer's task; the case goes on (with no hold placed,
later actions on it are recorded as not carried out, for the officer to do by hand).
"""

from __future__ import annotations

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.state import CaseFile
from services.cases.workflow.steps import Refused, run_step

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import HoldAction, HoldActionRequest, PlaceHoldRequest


async def place_hold(f: CaseFile, reason: str) -> None:
    case = f.case
    hold = await run_step(f, "place_hold", lambda: calls.place_hold(PlaceHoldRequest(
        idempotency_key=f"{case.case_id}:hold", case_id=case.case_id, declaration_id=case.declaration_id,
        line_no=case.line_no, customs_office=case.customs_office, reason=reason)),
        task=f"suspend the release of declaration {case.declaration_id} line {case.line_no} by hand")
    if not isinstance(hold, Refused):
        f.hold_id = hold.hold_id


async def hold(f: CaseFile, action: HoldAction, reason: str) -> None:
    """Act on the hold; after the determination the deciding officer is named as acting."""
    officer = f.determination.officer if f.determination and action != "detain" else None
    if f.hold_id is None and (f.v3 or f.refusals_as_outcomes):
        f.log("step_refused", {"step": f"hold_action:{action}", "reason": "no hold was placed for this case",
                               "task": f"{action} the goods by hand: {reason}"})
        return
    assert f.hold_id is not None, "no hold placed"
    await run_step(f, f"hold_action:{action}", lambda: calls.hold_action(HoldActionRequest(
        idempotency_key=f"{f.case.case_id}:{action}", hold_id=f.hold_id, action=action, reason=reason,
        on_behalf_of=officer)), task=f"{action} the goods by hand: {reason}")
