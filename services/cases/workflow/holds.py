"""The hold on the goods at the holds service: placed when the case opens, then detained, released, etc.

One hold covers every line of the case. An action names the lines it is about (a line found not
infringing is released while the others stay detained; a line a revision adds is suspended and
joins the hold) or none, for every line still held. Actions on the hold are serialised.

A refused hold step is recorded as an officer's task; the case goes on (with no hold placed,
later actions on it are recorded as not carried out, for the officer to do by hand). The lines
take the status the case decided for them either way: the officer carries it out by hand.
"""

from __future__ import annotations

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.state import UNDER_CONTROL, CaseFile, lines_key
from services.cases.workflow.steps import Refused, run_step

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import HoldAction, HoldActionRequest, PlaceHoldRequest

LINE_STATUS = {
    "detain": "held",
    "suspend": "held",
    "release": "released",
    "confiscate": "confiscated",
    "destroy": "destroyed",
    "forfeit": "forfeited",
    "hand_to_court": "handed_to_court",
    "seize": "seized",
    "exclude": "excluded",
}


async def place_hold(f: CaseFile, reason: str) -> None:
    case = f.case
    line_nos = sorted(f.lines) if f.v4 else []
    async with f.hold_lock:
        hold = await run_step(
            f,
            "place_hold",
            lambda: calls.place_hold(
                PlaceHoldRequest(
                    idempotency_key=f"{case.case_id}:hold",
                    case_id=case.case_id,
                    declaration_id=case.declaration_id,
                    line_no=case.line_no,
                    customs_office=case.customs_office,
                    reason=reason,
                    line_nos=line_nos,
                )
            ),
            task=f"suspend the release of declaration {case.declaration_id} "
            f"{_lines_text(line_nos or [case.line_no])} by hand",
        )
    if not isinstance(hold, Refused):
        f.hold_id = hold.hold_id
        f.hold_lines.update(line_nos or [case.line_no])


async def hold(f: CaseFile, action: HoldAction, reason: str, *, lines: list[int] | None = None) -> None:
    """Act on the hold (on ``lines``, or every line still held); after the determination the deciding
    officer is named as acting."""
    officer = f.determination.officer if f.determination and action != "detain" else None
    if f.hold_id is None and (f.v3 or f.refusals_as_outcomes):
        f.log(
            "step_refused",
            {
                "step": f"hold_action:{action}",
                "reason": "no hold was placed for this case",
                "task": f"{action} the goods by hand: {reason}",
            },
        )
        _set_status(f, action, lines)
        return
    assert f.hold_id is not None, "no hold placed"
    key = f"{f.case.case_id}:{action}" if lines is None else f"{f.case.case_id}:{action}:{lines_key(lines)}"
    async with f.hold_lock:
        done = await run_step(
            f,
            f"hold_action:{action}",
            lambda: calls.hold_action(
                HoldActionRequest(
                    idempotency_key=key,
                    hold_id=f.hold_id,
                    action=action,
                    reason=reason,
                    on_behalf_of=officer,
                    line_nos=sorted(lines) if lines is not None else None,
                )
            ),
            task=f"{action} the goods{'' if lines is None else ' of ' + _lines_text(lines)} by hand: {reason}",
        )
    if action == "suspend" and lines is not None and not isinstance(done, Refused):
        f.hold_lines.update(lines)
    _set_status(f, action, lines)


def _set_status(f: CaseFile, action: HoldAction, lines: list[int] | None) -> None:
    status = LINE_STATUS[action]
    # Lines that left the case keep that status (their goods are released or another case's).
    for n in lines if lines is not None else list(f.line_status):
        if n in f.lines and (lines is not None or f.line_status.get(n) in UNDER_CONTROL):
            f.line_status[n] = status


def _lines_text(line_nos: list[int]) -> str:
    return ("line " if len(line_nos) == 1 else "lines ") + ", ".join(str(n) for n in sorted(line_nos))
