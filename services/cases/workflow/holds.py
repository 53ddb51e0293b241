"""The hold on the goods at the holds service: placed when the case opens, then detained, released, etc."""

from __future__ import annotations

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import HoldAction, HoldActionRequest, PlaceHoldRequest


async def place_hold(f: CaseFile, reason: str) -> None:
    case = f.case
    hold = await calls.place_hold(PlaceHoldRequest(
        idempotency_key=f"{case.case_id}:hold", case_id=case.case_id, declaration_id=case.declaration_id,
        line_no=case.line_no, customs_office=case.customs_office, reason=reason))
    f.hold_id = hold.hold_id


async def hold(f: CaseFile, action: HoldAction, reason: str) -> None:
    """Act on the hold; after the determination the deciding officer is named as acting."""
    officer = f.determination.officer if f.determination and action != "detain" else None
    assert f.hold_id is not None, "no hold placed"
    await calls.hold_action(HoldActionRequest(
        idempotency_key=f"{f.case.case_id}:{action}", hold_id=f.hold_id, action=action, reason=reason,
        on_behalf_of=officer))
