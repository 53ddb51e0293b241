"""Failed case workflows: found, shown as ``failed``, repaired, and their deadlines still enforced.

A case workflow does not fail on a step service's refusal or a bad signal (see the workflow's
``steps`` and ``signals``). If it nevertheless fails, times out, is cancelled or is terminated
(a bug, an operator), the case must not be stranded:

- ``mark_failed`` shows the case as ``failed`` in the read model (API, console, the
  ``ipr_cases_failed`` gauge and its alert) with the reason, records who found it, and raises
  a ``case_failed`` escalation; the case endpoints then answer 409 ``case_failed``.
- ``repair`` resets the workflow to its last good point with Temporal's reset API: the last
  completed workflow task before the failure, so the step that failed runs again under the
  current code and signals received since are applied again. The reset (with the reason and
  who asked) is in Temporal's history; the workflow is then told who repaired it
  (``case_repaired`` in the case history) and the intervention is recorded here.
- ``Sweeper`` runs in the cases service (one replica at a time, by an advisory lock): it finds
  failed or terminated case workflows, marks them, repairs a failed one once on its own
  (``CASE_AUTO_REPAIR_MAX``), and when a legal deadline of a case still failed has passed it
  repairs it (so the timer fires and the default outcome happens) or, past the limit of
  automatic repairs, escalates the deadline to the supervisors.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyExcludeType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from services.cases.models import Case, Escalation, Intervention
from shared.contracts.cases import CASE_WORKFLOW_TYPE, SIGNAL_CASE_REPAIRED, TERMINAL_STATES, CaseRepaired
from shared.supervise import Supervised, describe, loop_every
from shared.temporal import LazyClient

log = logging.getLogger(__name__)

FAILED_STATUSES = {
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CANCELED: "canceled",
}
CASES_FAILED = Gauge("ipr_cases_failed", "Cases whose workflow has failed or was terminated and is not repaired")
CASE_FAILURES = Counter("ipr_case_workflow_failures_total", "Case workflows found failed or terminated", ["status"])
CASE_REPAIRS = Counter("ipr_case_repairs_total", "Case workflows reset to their last good point", ["by", "outcome"])
SWEEPS = Counter("ipr_case_sweeps_total", "Passes of the failed-case sweeper", ["outcome"])
ESCALATIONS_OPEN = Gauge(
    "ipr_case_escalations_open",
    "Open escalations by kind (deadline, step_refused, step_delayed, case_failed)",
    ["kind"],
)
ESCALATION_KINDS = ("deadline", "step_refused", "step_delayed", "case_failed")
SWEEPER_LOCK = 0x1C45E5  # pg advisory lock: one sweeping replica at a time


class RepairError(Exception):
    """The workflow could not be reset; the message says why."""


def now_utc() -> datetime:
    return datetime.now(UTC)


async def failure_of(handle: WorkflowHandle) -> dict[str, Any] | None:
    """How the latest run of a case workflow ended, if it failed or was terminated; else None."""
    desc = await handle.describe()
    status = FAILED_STATUSES.get(desc.status) if desc.status is not None else None
    if status is None:
        return None
    reason = status
    history = await handle.fetch_history()
    for event in reversed(history.events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            failure = event.workflow_execution_failed_event_attributes.failure
            cause = failure.cause.message if failure.HasField("cause") else ""
            reason = f"{failure.message}{': ' + cause if cause else ''}"
            break
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            attrs = event.workflow_execution_terminated_event_attributes
            reason = f"terminated by {attrs.identity or 'unknown'}: {attrs.reason or 'no reason given'}"
            break
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            reason = "the workflow timed out"
            break
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
            reason = "the workflow was cancelled"
            break
    return {
        "status": status,
        "reason": reason[:1000],
        "run_id": desc.run_id,
        "closed_at": desc.close_time.isoformat() if desc.close_time else None,
    }


async def mark_failed(session: AsyncSession, case_id: str, failure: dict[str, Any], *, by: str) -> bool:
    """Show the case as failed (once per failed run); True if it was not shown so before."""
    row = await session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if row is None or row.state in TERMINAL_STATES:
        return False
    if row.failure is not None and row.failure.get("run_id") == failure["run_id"]:
        return False
    at = now_utc()
    row.failure = {**failure, "detected_at": at.isoformat(), "state_before": row.state}
    row.state = "failed"
    session.add(Intervention(case_id=case_id, at=at, event="case_failed", by=by, detail=row.failure))
    await session.execute(
        insert(Escalation)
        .values(
            case_id=case_id,
            deadline="workflow",
            due_at=at,
            state=row.failure["state_before"],
            escalated_at=at,
            kind="case_failed",
            reason=f"{failure['status']}: {failure['reason']}"[:1000],
        )
        .on_conflict_do_nothing(index_elements=["case_id", "deadline", "due_at"])
    )
    CASE_FAILURES.labels(failure["status"]).inc()
    log.error("case %s: workflow %s (%s); shown as failed", case_id, failure["status"], failure["reason"])
    return True


async def clear_failed(session: AsyncSession, case_id: str, *, by: str, event: str, detail: dict[str, Any]) -> None:
    """The workflow runs again: show the case in its state before the failure, resolve the escalation."""
    row = await session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if row is None or row.state != "failed":
        return
    at = now_utc()
    # the state the workflow last recorded (it may have gone on since the failure, e.g. reset by hand and closed)
    row.state = (row.snapshot or {}).get("state") or (row.failure or {}).get("state_before") or "opened"
    row.failure = None
    session.add(Intervention(case_id=case_id, at=at, event=event, by=by, detail=detail))
    await session.execute(
        update(Escalation)
        .where(
            Escalation.case_id == case_id,
            Escalation.kind == "case_failed",
            Escalation.resolved_at.is_(None),
        )
        .values(resolved_at=at, resolution="repaired", resolved_by=by)
    )


async def _last_good_point(handle: WorkflowHandle) -> int:
    """The last completed workflow task before the run ended (or before a cancel request): the point to reset to."""
    history = await handle.fetch_history()
    # a cancelled workflow: the point before the cancel request (the task after it would take it again)
    cancel = next(
        (
            e.event_id
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
        ),
        None,
    )
    completed = [
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and (cancel is None or e.event_id < cancel)
    ]
    if not completed:
        raise RepairError("the workflow never completed a task: nothing to reset to")
    return completed[-1]


async def repair(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], case_id: str, *, by: str, reason: str
) -> dict[str, Any]:
    """Reset a failed or terminated case workflow to its last good point; recorded with who did it."""
    handle = client.get_workflow_handle(case_id)
    try:
        failure = await failure_of(handle)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise RepairError("the case has no workflow any more (past Temporal's retention)") from exc
        raise
    if failure is None:
        raise RepairError("the case workflow has not failed")
    event_id = await _last_good_point(handle)
    try:
        response = await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=case_id, run_id=failure["run_id"]),
                reason=f"repair by {by}: {reason}"[:1000],
                workflow_task_finish_event_id=event_id,
                request_id=str(uuid.uuid4()),
                identity=f"cases-service/{by}"[:128],
                # signals received since are applied again; a cancel request is not (the repair decides the case
                # goes on)
                reset_reapply_exclude_types=[ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_CANCEL_REQUEST],
            )
        )
    except RPCError as exc:
        CASE_REPAIRS.labels("automatic" if by == SWEEPER else "supervisor", "refused").inc()
        raise RepairError(f"Temporal refused the reset: {exc.message}") from exc
    detail = {
        "reason": reason,
        "failed_run_id": failure["run_id"],
        "failure": failure["reason"],
        "reset_to_event_id": event_id,
        "new_run_id": response.run_id,
    }
    await client.get_workflow_handle(case_id, run_id=response.run_id).signal(
        SIGNAL_CASE_REPAIRED,
        CaseRepaired(
            by=by, reason=reason, failed_run_id=failure["run_id"], failure=failure["reason"], reset_to_event_id=event_id
        ),
    )
    async with sessionmaker() as session, session.begin():
        row = await session.get(Case, case_id)
        if row is not None and row.state != "failed":  # not yet found by the sweeper: record it now
            await mark_failed(session, case_id, failure, by=by)
        await clear_failed(session, case_id, by=by, event="case_repaired", detail=detail)
    CASE_REPAIRS.labels("automatic" if by == SWEEPER else "supervisor", "reset").inc()
    log.warning("case %s repaired by %s: reset to event %s, new run %s", case_id, by, event_id, response.run_id)
    return detail


SWEEPER = "cases-sweeper"


class Sweeper:
    """Finds failed or terminated case workflows and keeps their deadlines enforced (see the module doc)."""

    def __init__(
        self,
        *,
        temporal: LazyClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        interval_s: float,
        auto_repair_max: int,
        lookback: timedelta,
    ) -> None:
        self.temporal = temporal
        self.sessionmaker = sessionmaker
        self.interval_s = interval_s
        self.auto_repair_max = auto_repair_max
        self.lookback = lookback
        self.full_scan_done = False
        self.loop: Supervised | None = None
        self.last_error: str | None = None
        self.last_pass: datetime | None = None

    def start(self) -> None:
        self.loop = Supervised(
            SWEEPER,
            loop_every(self._pass, every=self.interval_s, what="case sweeper pass"),
            service="cases",
            kind="loop",
        )
        self.loop.start()

    async def stop(self) -> None:
        if self.loop is not None:
            await self.loop.stop()

    async def check(self) -> None:
        """Readiness: the sweeper runs (a failed pass is logged and counted, and the next one tries again)."""
        if self.loop is None:
            raise RuntimeError("case sweeper not started")
        await self.loop.check()()

    async def _pass(self) -> None:
        try:
            await self.sweep_once()
        except Exception as exc:
            self.last_error = describe(exc)
            SWEEPS.labels("error").inc()
            raise
        self.last_error = None
        SWEEPS.labels("ok").inc()

    async def sweep_once(self) -> dict[str, int]:
        """One pass; returns what it did (for tests and logs)."""
        done = {"failed": 0, "recovered": 0, "repaired": 0, "escalated": 0}
        async with self.sessionmaker() as session:
            locked = (await session.execute(select(func.pg_try_advisory_lock(SWEEPER_LOCK)))).scalar()
            if not locked:
                return done
            try:
                client: Client = await self.temporal.get()
                await self._find_failures(client, done)
                await self._follow_failed(client, done)
                CASES_FAILED.set(
                    (
                        await session.execute(select(func.count()).select_from(Case).where(Case.state == "failed"))
                    ).scalar()
                    or 0
                )
                open_by_kind = dict(
                    (
                        await session.execute(
                            select(Escalation.kind, func.count())
                            .where(Escalation.resolved_at.is_(None))
                            .group_by(Escalation.kind)
                        )
                    ).all()
                )
                for kind in ESCALATION_KINDS:
                    ESCALATIONS_OPEN.labels(kind).set(open_by_kind.get(kind, 0))
            finally:
                await session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEPER_LOCK})
                await session.commit()
        self.last_pass = now_utc()
        return done

    async def _find_failures(self, client: Client, done: dict[str, int]) -> None:
        query = (
            f"WorkflowType = '{CASE_WORKFLOW_TYPE}' AND (ExecutionStatus = 'Failed' OR "
            f"ExecutionStatus = 'Terminated' OR ExecutionStatus = 'TimedOut' OR ExecutionStatus = 'Canceled')"
        )
        if self.full_scan_done:
            since = (now_utc() - self.lookback).strftime("%Y-%m-%dT%H:%M:%SZ")
            query += f" AND CloseTime > '{since}'"
        seen: set[str] = set()
        async for execution in client.list_workflows(query):
            if execution.id in seen:
                continue
            seen.add(execution.id)
            failure = await failure_of(client.get_workflow_handle(execution.id))  # the latest run, not this one
            if failure is None:
                continue
            async with self.sessionmaker() as session, session.begin():
                done["failed"] += await mark_failed(session, execution.id, failure, by=SWEEPER)
        self.full_scan_done = True

    async def _follow_failed(self, client: Client, done: dict[str, int]) -> None:
        async with self.sessionmaker() as session:
            rows = list((await session.execute(select(Case).where(Case.state == "failed").limit(500))).scalars())
        now = now_utc()
        for row in rows:
            handle = client.get_workflow_handle(row.case_id)
            try:
                failure = await failure_of(handle)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                failure = {"status": "gone", "run_id": None}
            if failure is None:  # running again (reset by hand in Temporal) or completed
                async with self.sessionmaker() as session, session.begin():
                    await clear_failed(
                        session,
                        row.case_id,
                        by=SWEEPER,
                        event="workflow_running_again",
                        detail={"previous_failure": row.failure},
                    )
                done["recovered"] += 1
                continue
            due = row.next_due_at is not None and row.next_due_at <= now
            first_failure = row.failure and row.failure.get("status") in ("failed", "timed_out", "canceled")
            if failure["status"] != "gone" and row.auto_repairs < self.auto_repair_max and (due or first_failure):
                why = ("a legal deadline has passed" if due else "the workflow failed") + "; automatic repair"
                async with self.sessionmaker() as session, session.begin():
                    await session.execute(
                        update(Case).where(Case.case_id == row.case_id).values(auto_repairs=Case.auto_repairs + 1)
                    )
                try:
                    await repair(client, self.sessionmaker, row.case_id, by=SWEEPER, reason=why)
                    done["repaired"] += 1
                    continue
                except RepairError as exc:
                    log.error("case %s: automatic repair failed: %s", row.case_id, exc)
            if due:
                done["escalated"] += await self._escalate_due(row)

    async def _escalate_due(self, row: Case) -> int:
        """A deadline of a case still failed has passed: the supervisors act by hand (or repair it)."""
        pending = [
            d
            for d in (row.snapshot or {}).get("deadlines", [])
            if d.get("status") == "pending" and datetime.fromisoformat(d["due_at"]) <= now_utc()
        ]
        async with self.sessionmaker() as session, session.begin():
            for d in pending:
                await session.execute(
                    insert(Escalation)
                    .values(
                        case_id=row.case_id,
                        deadline=d["name"][:64],
                        due_at=datetime.fromisoformat(d["due_at"]),
                        state="failed",
                        escalated_at=now_utc(),
                        kind="deadline",
                        reason="the deadline has passed while the case workflow has failed: repair the case "
                        "(POST /v1/cases/{id}/repair) or take the default outcome by hand",
                    )
                    .on_conflict_do_update(index_elements=["case_id", "deadline", "due_at"], set_={"state": "failed"})
                )
        return len(pending)
