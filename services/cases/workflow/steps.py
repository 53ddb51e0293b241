"""Running a step at a step service: a refusal is an outcome, a step failing for long is escalated.

A step service answers a request it will not carry out with a 4xx; the activity raises it as
a non-retryable ``ServiceRejected``. That is a business outcome, never a reason to fail the
case: the refusal is recorded in the history (``step_refused``, which the cases service
turns into an officer's task on the escalation list) and the caller takes the lawful path
(the legal deadlines keep running to their default outcome). Anything else (the service is
down, answers 5xx, times out) is retried without limit; a step that has not completed after
``STEP_ESCALATE_AFTER`` is recorded as ``step_delayed`` (an escalation too) and resolved
by ``step_recovered`` once it completes.

Cases started before v3 keep their code: a refusal failed them. From the first refusal they
meet under this code (not while replaying their history) they take it as an outcome too,
behind the ``case-step-refusals`` patch, so a failed case reset to its last good point goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityHandle

from services.cases.workflow.history import flush
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

PATCH_REFUSALS = "case-step-refusals"
STEP_ESCALATE_AFTER = timedelta(hours=1)

T = TypeVar("T")


@dataclass(frozen=True)
class Refused:
    """A step service refused the step (4xx): what it said."""

    step: str
    reason: str


def refusal_of(err: BaseException) -> str | None:
    """The service's answer if ``err`` is a step service's refusal, else None."""
    cause = err.cause if isinstance(err, ActivityError) else None
    if isinstance(cause, ApplicationError) and cause.type == "ServiceRejected":
        return cause.message[:1000]
    return None


def refusals_are_outcomes(f: CaseFile) -> bool:
    """True if this case takes a refusal as an outcome (v3, or a case of before v3 once it meets one)."""
    if f.v3 or f.refusals_as_outcomes:
        return True
    f.refusals_as_outcomes = workflow.patched(PATCH_REFUSALS)
    return f.refusals_as_outcomes


async def run_step(
    f: CaseFile, step: str, start: Callable[[], ActivityHandle[T]], *, task: str, escalate: bool = True
) -> T | Refused:
    """Start a step and await it; a refusal is returned (and, with ``escalate``, recorded as an officer's
    ``task``). A request the contract does not admit (a value out of its bounds) is refused here, before it
    is sent, rather than failing the workflow task again and again."""
    try:
        handle = start()
    except ValidationError as err:
        if not refusals_are_outcomes(f):
            raise
        reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())[:1000]
        if escalate:
            f.log("step_refused", {"step": step, "reason": f"request not admitted: {reason}", "task": task})
        return Refused(step=step, reason=f"request not admitted: {reason}")
    delayed = False
    if f.v3:
        try:
            await workflow.wait_condition(handle.done, timeout=STEP_ESCALATE_AFTER)
        except TimeoutError:
            delayed = True
            f.log(
                "step_delayed",
                {
                    "step": step,
                    "after": str(STEP_ESCALATE_AFTER),
                    "why": "the service has not completed the step; it is retried until it does",
                },
            )
            await flush(f)
    try:
        result = await handle
    except ActivityError as err:
        refusal = refusal_of(err)
        if refusal is None or not refusals_are_outcomes(f):
            raise
        if delayed:
            f.log("step_recovered", {"step": step, "outcome": "refused"})
        if escalate:
            f.log("step_refused", {"step": step, "reason": refusal, "task": task})
        return Refused(step=step, reason=refusal)
    if delayed:
        f.log("step_recovered", {"step": step, "outcome": "done"})
    return result
