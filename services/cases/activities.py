"""Activities of the case workflow: each calls the service that owns the step.

Built from settings with an injected HTTP client, so tests can hand in their own. A 4xx
answer (other than 408/429) is a permanent rejection and is not retried; anything else is.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.cases.models import Case, CaseEvent, Escalation, ProvisionalDeadline, outbox
from services.cases.settings import Settings
from services.cases.workbench import record_workbench_facts
from shared.contracts.cases import (
    TERMINAL_STATES,
    CaseEventRecord,
    CaseState,
    DispositionRequest,
    DispositionResult,
    HoldActionRequest,
    HoldResult,
    NoticeRequest,
    NoticeResult,
    NoticeStatusRequest,
    PlaceHoldRequest,
    RuleSnapshot,
    RulesRequest,
)
from shared.contracts.events import (
    TOPIC_CASE_EVENTS,
    CaseEventV1,
    CaseLineEventV1,
    EventEnvelope,
    deterministic_event_id,
)
from shared.contracts.guarantees import (
    HoldGuaranteeRequest,
    HoldGuaranteeResult,
    SettleGuaranteeRequest,
    SettleGuaranteeResult,
)
from shared.kafka import add_to_outbox
from shared.rules.calendar import calendar_data
from shared.rules.pack import rule_pack
from shared.service_auth import TokenUnavailable
from shared.urls import service_url

T = TypeVar("T", bound=BaseModel)


async def _track_escalation(session: AsyncSession, r: CaseEventRecord) -> None:
    """Keep the supervisors' list of escalations in step with the case history: deadlines about to lapse,
    steps a service refused (an officer's task until resolved by hand) and steps that keep failing."""
    if r.event == "deadline_escalated":
        await session.execute(
            insert(Escalation)
            .values(
                case_id=r.case_id,
                deadline=r.detail["name"],
                due_at=datetime.fromisoformat(r.detail["due_at"]),
                state=r.state,
                escalated_at=r.at,
                kind="deadline",
            )
            .on_conflict_do_nothing(index_elements=["case_id", "deadline", "due_at"])
        )
    elif r.event in ("deadline_met", "deadline_lapsed", "deadline_cancelled"):
        await session.execute(
            update(Escalation)
            .where(
                Escalation.case_id == r.case_id,
                Escalation.kind == "deadline",
                Escalation.deadline == r.detail.get("name"),
                Escalation.resolved_at.is_(None),
            )
            .values(resolved_at=r.at, resolution=r.event.removeprefix("deadline_"))
        )
    elif r.event in ("step_refused", "step_delayed"):
        reason = r.detail.get("reason") or r.detail.get("why") or ""
        task = r.detail.get("task")
        await session.execute(
            insert(Escalation)
            .values(
                case_id=r.case_id,
                deadline=str(r.detail.get("step", "?"))[:64],
                due_at=r.at,
                state=r.state,
                escalated_at=r.at,
                kind=r.event,
                reason=(f"{reason}; task: {task}" if task else reason)[:1000],
            )
            .on_conflict_do_nothing(index_elements=["case_id", "deadline", "due_at"])
        )
    elif r.event == "party_notice_undeliverable":  # an officer serves it on paper: a task until recorded
        await session.execute(
            insert(Escalation)
            .values(
                case_id=r.case_id,
                deadline=str(r.detail.get("step", "?"))[:64],
                due_at=r.at,
                state=r.state,
                escalated_at=r.at,
                kind="step_refused",
                reason=f"{r.detail.get('reason', '')}; task: {r.detail.get('task', '')}"[:1000],
            )
            .on_conflict_do_nothing(index_elements=["case_id", "deadline", "due_at"])
        )
    elif r.event == "party_notice_served":
        await session.execute(
            update(Escalation)
            .where(
                Escalation.case_id == r.case_id,
                Escalation.kind == "step_refused",
                Escalation.deadline == str(r.detail.get("step", "?"))[:64],
                Escalation.resolved_at.is_(None),
            )
            .values(resolved_at=r.at, resolution="served", resolved_by=str(r.detail.get("by") or "")[:128] or None)
        )
    elif r.event == "step_recovered":
        await session.execute(
            update(Escalation)
            .where(
                Escalation.case_id == r.case_id,
                Escalation.kind == "step_delayed",
                Escalation.deadline == str(r.detail.get("step", "?"))[:64],
                Escalation.resolved_at.is_(None),
            )
            .values(resolved_at=r.at, resolution="recovered", resolved_by="case workflow")
        )


def _next_due(snapshot: CaseState) -> datetime | None:
    pending = [d.due_at for d in snapshot.deadlines if d.status == "pending"]
    return min(pending) if pending else None


async def _track_provisional(session: AsyncSession, r: CaseEventRecord) -> None:
    """Keep the list of pending deadlines counted on a provisional calendar in step with the case history."""
    name = r.detail.get("name")
    if r.event in ("deadline_set", "deadline_retimed") and r.detail.get("provisional"):
        stmt = insert(ProvisionalDeadline).values(
            case_id=r.case_id,
            deadline=name,
            due_at=datetime.fromisoformat(r.detail["due_at"]),
            calendar_version=r.detail.get("calendar_version"),
            flagged_at=r.at,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["case_id", "deadline"],
                set_={
                    "due_at": stmt.excluded.due_at,
                    "calendar_version": stmt.excluded.calendar_version,
                    "flagged_at": stmt.excluded.flagged_at,
                    "resolved_at": None,
                    "resolution": None,
                },
            )
        )
    elif r.event in ("deadline_retimed", "deadline_met", "deadline_lapsed", "deadline_cancelled"):
        resolution = "retimed_official" if r.event == "deadline_retimed" else r.event.removeprefix("deadline_")
        await session.execute(
            update(ProvisionalDeadline)
            .where(
                ProvisionalDeadline.case_id == r.case_id,
                ProvisionalDeadline.deadline == name,
                ProvisionalDeadline.resolved_at.is_(None),
            )
            .values(resolved_at=r.at, resolution=resolution)
        )


@activity.defn(name="load_rules")
async def load_rules(request: RulesRequest) -> RuleSnapshot:
    """The rule pack and calendar a new case runs under (recorded in its history, so replay never re-reads)."""
    pack = rule_pack(request.jurisdiction)
    return RuleSnapshot(pack=pack.model_dump(mode="json"), calendar=calendar_data(pack.calendar))


class CaseActivities:
    def __init__(
        self,
        *,
        settings: Settings,
        http: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession] | None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.sessionmaker = sessionmaker

    async def _post(self, url: str, body: BaseModel, result: type[T]) -> T:
        # ``http`` authenticates as the case worker (client credentials, shared.service_auth); the
        # requests name the officer the worker acts for (``on_behalf_of``, ``decided_by``).
        return await self._call(
            "POST", url, result, content=body.model_dump_json(), headers={"Content-Type": "application/json"}
        )

    async def _get(self, url: str, result: type[T]) -> T:
        return await self._call("GET", url, result)

    async def _call(self, method: str, url: str, result: type[T], **kw: Any) -> T:
        try:
            response = await self.http.request(method, url, **kw)
        except (httpx.HTTPError, TokenUnavailable) as exc:
            raise RuntimeError(f"{url} unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            message = f"{url} answered {response.status_code}: {response.text[:500]}"
            if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                raise ApplicationError(message, type="ServiceRejected", non_retryable=True)
            raise RuntimeError(message)
        return result.model_validate(response.json())

    @activity.defn(name="place_hold")
    async def place_hold(self, request: PlaceHoldRequest) -> HoldResult:
        return await self._post(service_url(self.settings.holds_url, "v1", "holds"), request, HoldResult)

    @activity.defn(name="hold_action")
    async def hold_action(self, request: HoldActionRequest) -> HoldResult:
        return await self._post(
            service_url(self.settings.holds_url, "v1", "holds", request.hold_id, "actions"), request, HoldResult
        )

    @activity.defn(name="send_notice")
    async def send_notice(self, request: NoticeRequest) -> NoticeResult:
        return await self._post(service_url(self.settings.notify_url, "v1", "notices"), request, NoticeResult)

    @activity.defn(name="notice_status")
    async def notice_status(self, request: NoticeStatusRequest) -> NoticeResult:
        """Whether a notice has been served on its addressee yet (delivered, undeliverable or still being sent)."""
        return await self._get(
            service_url(self.settings.notify_url, "v1", "notices", request.notice_id, "service"), NoticeResult
        )

    @activity.defn(name="record_disposition")
    async def record_disposition(self, request: DispositionRequest) -> DispositionResult:
        return await self._post(
            service_url(self.settings.disposal_url, "v1", "dispositions"), request, DispositionResult
        )

    @activity.defn(name="hold_guarantee")
    async def hold_guarantee(self, request: HoldGuaranteeRequest) -> HoldGuaranteeResult:
        return await self._post(
            service_url(self.settings.guarantees_url, "v1", "case-guarantees"), request, HoldGuaranteeResult
        )

    @activity.defn(name="settle_guarantee")
    async def settle_guarantee(self, request: SettleGuaranteeRequest) -> SettleGuaranteeResult:
        url = service_url(self.settings.guarantees_url, "v1", "case-guarantees", request.case_id, "settle")
        return await self._post(url, request, SettleGuaranteeResult)

    @activity.defn(name="record_case_events")
    async def record_case_events(self, records: list[CaseEventRecord]) -> None:
        """Write entries to the case audit trail and read model, and queue them for cases.events.v1 (outbox).

        One transaction: an entry is recorded and queued together or not at all; the cases service's
        outbox relay publishes it (and publishes it again if the broker loses it). A retried activity
        changes nothing (unique case id and sequence number, deterministic event ids).
        """
        assert self.sessionmaker is not None
        async with self.sessionmaker() as session, session.begin():
            await record_workbench_facts(session, records)
            for r in records:
                inserted = (
                    await session.execute(
                        insert(CaseEvent)
                        .values(
                            case_id=r.case_id,
                            seq=r.seq,
                            state=r.state,
                            event=r.event,
                            detail=r.detail,
                            at=r.at,
                        )
                        .on_conflict_do_nothing(index_elements=["case_id", "seq"])
                        .returning(CaseEvent.id)
                    )
                ).first()
                await _track_escalation(session, r)
                await _track_provisional(session, r)
                if inserted is not None:
                    c = r.case_input
                    payload = CaseEventV1(
                        case_id=r.case_id,
                        seq=r.seq,
                        state=r.state,
                        event=r.event,
                        detail=r.detail,
                        at=r.at,
                        holder_id=c.holder.id,
                        declaration_id=c.declaration_id,
                        line_no=c.line_no,
                        consignor_id=c.consignor.id,
                        consignee_id=c.consignee.id,
                        goods_value=c.goods_value,
                        line_nos=[ln.line_no for ln in r.lines if ln.status != "withdrawn"],
                        lines=[
                            CaseLineEventV1(line_no=ln.line_no, status=ln.status, moved_to=ln.moved_to)
                            for ln in r.lines
                        ],
                    )
                    await add_to_outbox(
                        session,
                        outbox,
                        topic=TOPIC_CASE_EVENTS,
                        key=r.case_id,
                        envelope=EventEnvelope(
                            event_id=deterministic_event_id("case", r.case_id, r.seq),
                            event_type=f"case.{r.event}",
                            producer="cases",
                            correlation_id=r.case_id,
                            payload=payload.model_dump(mode="json"),
                        ),
                    )
            last = records[-1]
            c = last.case_input
            held = [ln for ln in last.lines if ln.status != "withdrawn"]
            line_nos = [ln.line_no for ln in held] or None
            value = sum((ln.goods_value for ln in held), Decimal("0.00")) if held else c.goods_value
            scope = {
                "customs_office": c.customs_office,
                "declarant_id": c.declarant.id if c.declarant else None,
                "consignor_id": c.consignor.id,
                "consignee_id": c.consignee.id,
            }
            snap = next((r.snapshot for r in reversed(records) if r.snapshot is not None), None)
            latest: dict = {
                "last_seq": last.seq,
                "updated_at": last.at,
                "line_nos": line_nos,
                "goods_value": value,
                "closed_at": last.at if last.state in TERMINAL_STATES else None,
                **scope,
            }
            if snap is not None:
                latest |= {
                    "snapshot": snap.model_dump(mode="json", exclude={"history"}),
                    "next_due_at": _next_due(snap),
                }
            stmt = insert(Case).values(
                case_id=c.case_id,
                state=last.state,
                jurisdiction=c.jurisdiction,
                declaration_id=c.declaration_id[:64],
                line_no=c.line_no,
                holder_id=c.holder.id[:64],
                holder_name=c.holder.name[:256],
                recordation_id=c.recordation_id[:64],
                mark=c.mark[:256],
                description=c.description[:1024],
                currency=c.currency[:3],
                opened_at=records[0].at if records[0].seq == 1 else last.at,
                **latest,
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["case_id"],
                    # a case shown as failed stays so until it is repaired (a late flush does not hide the failure)
                    set_={
                        "state": case((Case.state == "failed", Case.state), else_=stmt.excluded.state),
                        **{k: getattr(stmt.excluded, k) for k in latest},
                    },
                    where=Case.last_seq < last.seq,
                )
            )
