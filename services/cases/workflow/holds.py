"""The hold on the goods at the holds service: placed when the case opens, then detained, released, etc.

One hold covers every line of the case. An action names the lines it is about (a line found not
infringing is released while the others stay detained; a line a revision adds is suspended and
joins the hold) or none, for every line still held. Actions on the hold are serialised.
"""

from __future__ import annotations

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.state import UNDER_CONTROL, CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import HoldAction, HoldActionRequest, PlaceHoldRequest

LINE_STATUS = {"detain": "held", "suspend": "held", "release": "released", "confiscate": "confiscated",
               "destroy": "destroyed", "forfeit": "forfeited", "hand_to_court": "handed_to_court",
               "seize": "seized", "exclude": "excluded"}


async def place_hold(f: CaseFile, reason: str) -> None:
    case = f.case
    line_nos = sorted(f.lines) if f.v3 else []
    async with f.hold_lock:
        hold = await calls.place_hold(PlaceHoldRequest(
            idempotency_key=f"{case.case_id}:hold", case_id=case.case_id, declaration_id=case.declaration_id,
            line_no=case.line_no, customs_office=case.customs_office, reason=reason, line_nos=line_nos))
    f.hold_id = hold.hold_id
    f.hold_lines.update(line_nos or [case.line_no])


async def hold(f: CaseFile, action: HoldAction, reason: str, *, lines: list[int] | None = None) -> None:
    """Act on the hold (on ``lines``, or every line still held); after the determination the deciding
    officer is named as acting."""
    officer = f.determination.officer if f.determination and action != "detain" else None
    assert f.hold_id is not None, "no hold placed"
    key = f"{f.case.case_id}:{action}" if lines is None else \
        f"{f.case.case_id}:{action}:L{','.join(str(n) for n in sorted(lines))}"
    async with f.hold_lock:
        await calls.hold_action(HoldActionRequest(
            idempotency_key=key, hold_id=f.hold_id, action=action, reason=reason, on_behalf_of=officer,
            line_nos=sorted(lines) if lines is not None else None))
    if action == "suspend" and lines is not None:
        f.hold_lines.update(lines)
    status = LINE_STATUS[action]
    # Lines that left the case keep that status (their goods are released or another case's).
    for n in (lines if lines is not None else list(f.line_status)):
        if n in f.lines and (lines is not None or f.line_status.get(n) in UNDER_CONTROL):
            f.line_status[n] = status
