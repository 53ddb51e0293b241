"""Deadlines: durable timers at the end of their last day in the jurisdiction's calendar, with escalation.

A deadline of the rule pack (or a given number of working days) is opened, recorded in
the history and, if the pack sets an escalation lead, arms a timer that flags it to the
supervisors that many working days before it lapses. Waiting for a fact until a deadline
flushes the history first, so the audit trail is current while the case waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow

from services.cases.workflow.history import flush
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import Deadline, DeadlineStatus, Determination, HearingUpdate


async def wait_until(f: CaseFile, condition: Callable[[], bool], due_at: datetime) -> bool:
    """Wait for ``condition`` until the deadline instant; False if the deadline passed first."""
    await flush(f)
    if condition():
        return True
    remaining = due_at - workflow.now()
    if remaining <= timedelta(0):
        return False
    try:
        await workflow.wait_condition(condition, timeout=remaining)
        return True
    except asyncio.TimeoutError:
        return condition()


def open_deadline(f: CaseFile, name: str, start: datetime, *, amount: int | None = None, basis: str | None = None,
                  start_day: date | None = None) -> Deadline:
    """Open a deadline of the rule pack (or ``amount`` working days) and arm its escalation timer."""
    cal, rules = f.calendar, f.pack
    rule = rules.deadlines.get(name)
    if amount is not None:
        unit, n = "working_days", amount
    elif rule is not None:
        unit, n = rule.unit, rule.amount
    else:
        raise KeyError(f"{rules.jurisdiction} rule pack has no deadline {name!r}")
    first = start_day if start_day is not None else cal.local_date(start)
    due = cal.add_working_days(first, n) if unit == "working_days" else first + timedelta(days=n)
    due_at = cal.end_of_day(due)
    lead = rules.deadlines.get("escalation_lead")
    escalate_at = None
    if lead is not None:
        day = due
        for _ in range(lead.amount):
            day = cal.previous_working_day(day)
        escalate_at = cal.end_of_day(day)
    deadline = Deadline(name=name, working_days=n, start=first, due_date=due, due_at=due_at, unit=unit,
                        basis=basis or (rule.basis if rule else None), escalate_at=escalate_at)
    f.deadlines[name] = deadline
    if f.proposal is not None and f.proposal_deadline is None:
        f.proposal_deadline = name  # a proposal whose time limit was met waits under the next one
    f.log("deadline_set", {"name": name, unit: n, "due_date": due.isoformat(), "due_at": due_at.isoformat(),
                           "escalate_at": escalate_at.isoformat() if escalate_at else None})
    if escalate_at is not None and escalate_at > workflow.now():
        old = f.escalations.pop(name, None)
        if old is not None:
            old.cancel()
        f.escalations[name] = asyncio.create_task(_escalate_when_due(f, name, escalate_at))
    return deadline


async def _escalate_when_due(f: CaseFile, name: str, at: datetime) -> None:
    await workflow.sleep(at - workflow.now())
    deadline = f.deadlines.get(name)
    if deadline is None or deadline.status != "pending" or deadline.escalate_at != at:
        return
    if f.v3:
        # From here on the escalation is written, whatever happens to the deadline meanwhile: cancelling this
        # task during its flush would cancel the activity and lose the entries it carries.
        f.escalations.pop(name, None)
        f.flushing += 1
    f.deadlines[name] = deadline.model_copy(update={"escalated": True})
    f.log("deadline_escalated", {"name": name, "due_at": deadline.due_at.isoformat(), "state": f.state})
    try:
        await flush(f)
    finally:
        if f.v3:
            f.flushing -= 1


def close(f: CaseFile, name: str, status: DeadlineStatus) -> None:
    deadline = f.deadlines.get(name)
    if deadline is not None and deadline.status == "pending":
        f.deadlines[name] = deadline.model_copy(update={"status": status})
        f.log("deadline_" + status, {"name": name})
        task = f.escalations.pop(name, None)
        if task is not None:
            task.cancel()
        if f.proposal is not None and f.proposal_deadline == name:
            if status == "met":  # e.g. a hearing requested in time: the proposal waits under the next time limit
                f.proposal_deadline = None
            else:
                lapse_proposal(f, f"the time limit {name} {status} before a supervisor approved: "
                                  "the law's default for it applies")


def lapse_proposal(f: CaseFile, why: str) -> None:
    """A proposal still waiting for its second person when its deadline ends lapses (recorded); it never
    stretches the deadline."""
    proposal = f.proposal
    if proposal is None:
        return
    f.proposal, f.proposal_deadline = None, None
    f.log("approval_lapsed", {**proposal_facts(proposal), "why": why})


def proposal_facts(proposal: Determination | HearingUpdate) -> dict[str, Any]:
    """What a proposal waiting for its second person is, for the history."""
    actor = proposal.actor
    if isinstance(proposal, Determination):
        return {"kind": "confiscation", "what": "determination", "outcome": proposal.outcome,
                "proposed_by": actor.name if actor else proposal.officer}
    return {"kind": "fine", "what": "hearing_conclusion",
            "fine_amount": str(proposal.fine_amount) if proposal.fine_amount is not None else None,
            "proposed_by": actor.name if actor else proposal.by}


def close_pending(f: CaseFile) -> None:
    """Cancel every deadline still running (the case ends)."""
    for name, deadline in f.deadlines.items():
        if deadline.status == "pending":
            close(f, name, "cancelled")
    lapse_proposal(f, "the case ended before a supervisor approved")


def stop_escalations(f: CaseFile) -> None:
    for task in f.escalations.values():
        task.cancel()
