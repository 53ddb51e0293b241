"""Deadlines: durable timers at the end of their last day in the jurisdiction's calendar, with escalation.

A deadline of the rule pack (or a given number of working days) is opened, recorded in
the history and, if the pack sets an escalation lead, arms a timer that flags it to the
supervisors that many working days before it lapses. Waiting for a fact until a deadline
flushes the history first, so the audit trail is current while the case waits.

A deadline counted over days no official schedule covers yet is *provisional* (flagged in
the case's deadlines and the history). When the schedule is published, the
``calendar_published`` signal carries the new calendar: every pending deadline is counted
again from its start on it, its timer and escalation follow, and the history records each
change. The dates themselves come from ``shared.rules.decisions``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow

from services.cases.workflow.history import flush
from services.cases.workflow.state import CaseFile, CaseWithdrawn

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CalendarUpdate, Deadline, DeadlineStatus, Determination, HearingUpdate
    from shared.rules import decisions
    from shared.rules.calendar import WorkingCalendar, calendar_from_data
    from shared.rules.pack import DeadlineRule


async def wait_until(f: CaseFile, condition: Callable[[], bool], due: datetime | Deadline) -> bool:
    """Wait for ``condition`` until the deadline; False if the deadline passed first.

    Given a ``Deadline``, the wait follows it when a published calendar re-times it. Raises
    ``CaseWithdrawn`` when a declaration revision took every line out of the case meanwhile.
    """
    await flush(f)
    while True:
        if f.withdrawn_all is not None:
            raise CaseWithdrawn(f.withdrawn_all)
        if condition():
            return True
        if isinstance(due, Deadline):
            current = f.deadlines.get(due.name)
            due_at = current.due_at if current is not None else due.due_at
        else:
            due_at = due
        remaining = due_at - workflow.now()
        if remaining <= timedelta(0):
            return False
        generation = f.retimed
        # Cases under ``case-four-eyes`` also wake when a signal adds to the history, and write it at once
        # (a proposal waiting for approval, a refusal, an ignored signal), so every reader sees it while
        # the case waits.
        four_eyes = f.four_eyes

        def woken(generation: int = generation, four_eyes: bool = four_eyes) -> bool:
            return (
                condition()
                or f.retimed != generation
                or f.withdrawn_all is not None
                or (four_eyes and len(f.history) > f.recorded_upto)
            )

        try:
            await workflow.wait_condition(woken, timeout=remaining)
        except TimeoutError:
            return condition()
        if four_eyes and not condition() and len(f.history) > f.recorded_upto:
            await flush(f)


def _escalation_at(f: CaseFile, cal: WorkingCalendar, due: date) -> datetime | None:
    lead = f.pack.deadlines.get("escalation_lead")
    if lead is None:
        return None
    day = due
    for _ in range(lead.amount):
        day = cal.previous_working_day(day)
    return cal.end_of_day(day)


def open_deadline(
    f: CaseFile,
    name: str,
    start: datetime,
    *,
    amount: int | None = None,
    basis: str | None = None,
    start_day: date | None = None,
    fallback: DeadlineRule | None = None,
) -> Deadline:
    """Open a deadline of the rule pack (or ``amount`` working days, or the ``fallback`` rule when the pack
    the case opened under predates it) and arm its escalation timer."""
    cal, rules = f.calendar, f.pack
    rule = rules.deadlines.get(name) or fallback
    if amount is not None:
        unit, n = "working_days", amount
    elif rule is not None:
        unit, n = rule.unit, rule.amount
    else:
        raise KeyError(f"{rules.jurisdiction} rule pack has no deadline {name!r}")
    first = start_day if start_day is not None else cal.local_date(start)
    due = decisions.due_date(cal, first, unit=unit, amount=n)
    due_at = cal.end_of_day(due)
    escalate_at = _escalation_at(f, cal, due)
    provisional = decisions.provisional(cal, first, due, unit)
    deadline = Deadline(
        name=name,
        working_days=n,
        start=first,
        due_date=due,
        due_at=due_at,
        unit=unit,
        basis=basis or (rule.basis if rule else None),
        escalate_at=escalate_at,
        provisional=provisional,
        calendar_version=f.cal_version,
    )
    f.deadlines[name] = deadline
    if f.proposal is not None and f.proposal_deadline is None:
        f.proposal_deadline = name  # a proposal whose time limit was met waits under the next one
    detail = {
        "name": name,
        unit: n,
        "due_date": due.isoformat(),
        "due_at": due_at.isoformat(),
        "escalate_at": escalate_at.isoformat() if escalate_at else None,
    }
    if provisional:
        detail.update(
            provisional=True,
            calendar_version=f.cal_version,
            official_through=cal.official_through.isoformat() if cal.official_through else None,
        )
    f.log("deadline_set", detail)
    _arm_escalation(f, name, escalate_at)
    return deadline


def _arm_escalation(f: CaseFile, name: str, escalate_at: datetime | None) -> None:
    old = f.escalations.pop(name, None)
    if old is not None:
        old.cancel()
    if escalate_at is not None and escalate_at > workflow.now():
        f.escalations[name] = asyncio.create_task(_escalate_when_due(f, name, escalate_at))


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


def retime(f: CaseFile, update: CalendarUpdate) -> None:
    """A published calendar: count every pending deadline again on it (signal side, no activity)."""
    if f.rules is None or f.cal is None or update.calendar.get("calendar") != f.pack.calendar:
        return  # another jurisdiction's calendar, or the case has not loaded its own yet
    if update.version == f.cal_version:
        return  # already counted on this version
    cal = calendar_from_data(update.calendar)
    changed = []
    for name, d in list(f.deadlines.items()):
        if d.status != "pending":
            continue
        due = decisions.due_date(cal, d.start, unit=d.unit, amount=d.working_days)
        provisional = decisions.provisional(cal, d.start, due, d.unit)
        new = d.model_copy(
            update={
                "due_date": due,
                "due_at": cal.end_of_day(due),
                "escalate_at": _escalation_at(f, cal, due),
                "provisional": provisional,
                "calendar_version": update.version,
                "escalated": d.escalated and due == d.due_date,
            }
        )
        f.deadlines[name] = new
        if (new.due_date, new.provisional) != (d.due_date, d.provisional):
            changed.append((d, new))
    previous, f.cal, f.cal_version = f.cal_version, cal, update.version
    f.log(
        "calendar_published",
        {
            "calendar": update.calendar.get("calendar"),
            "version": update.version,
            "previous_version": previous,
            "by": update.published_by,
            "deadlines_retimed": [new.name for _, new in changed],
        },
    )
    for old, new in changed:
        f.log(
            "deadline_retimed",
            {
                "name": new.name,
                "from": old.due_date.isoformat(),
                "to": new.due_date.isoformat(),
                "due_at": new.due_at.isoformat(),
                "provisional": new.provisional,
                "calendar_version": update.version,
            },
        )
        _arm_escalation(f, new.name, new.escalate_at)
    f.retimed += 1


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
                lapse_proposal(
                    f, f"the time limit {name} {status} before a supervisor approved: the law's default for it applies"
                )


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
        facts: dict[str, Any] = {
            "kind": "confiscation",
            "what": "determination",
            "outcome": proposal.outcome,
            "proposed_by": actor.name if actor else proposal.officer,
        }
        if proposal.lines:  # a consignment case's lines whose outcome differs from the case's
            facts["lines"] = [{"line_no": ln.line_no, "outcome": ln.outcome} for ln in proposal.lines]
        return facts
    return {
        "kind": "fine",
        "what": "hearing_conclusion",
        "fine_amount": str(proposal.fine_amount) if proposal.fine_amount is not None else None,
        "proposed_by": actor.name if actor else proposal.by,
    }


def close_pending(f: CaseFile) -> None:
    """Cancel every deadline still running (the case ends)."""
    for name, deadline in f.deadlines.items():
        if deadline.status == "pending":
            close(f, name, "cancelled")
    lapse_proposal(f, "the case ended before a supervisor approved")


def stop_escalations(f: CaseFile) -> None:
    for task in f.escalations.values():
        task.cancel()
