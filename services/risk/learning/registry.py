"""The model registry's decisions, each audited with the person who made it.

* a trained model enters in **shadow**: scored and stored beside every assessment, not used;
* an officer (or the one who trained it) **proposes** it; a **supervisor** who is not the proposer **promotes**
  it (four eyes, ``shared/approvals.py``) -- only if its metrics on the unbiased control-sample labels are at
  least as good as the champion's (or the rules', when there is none); the old champion is retired;
* a supervisor **rolls back** the champion: the previous champion is restored, or the rules alone score;
* a supervisor **rejects** a shadow model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.learning.metrics import at_least_as_good
from services.risk.learning.tables import ModelEvent, ModelVersion
from shared.approvals import four_eyes

MIN_CONTROL_LABELS = 20
MIN_CONTROL_POSITIVES = 2


class RegistryError(Exception):
    def __init__(self, status: int, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def view(row: ModelVersion) -> dict:
    return {
        "version": row.version,
        "status": row.status,
        "schema": row.schema,
        "metrics": row.metrics,
        "params": row.params,
        "n_labels": row.n_labels,
        "window": [
            row.window_from.isoformat() if row.window_from else None,
            row.window_to.isoformat() if row.window_to else None,
        ],
        "trained_by": row.trained_by,
        "trained_at": row.trained_at.isoformat() if row.trained_at else None,
        "proposed_by": row.proposed_by_sub,
        "promoted_at": row.promoted_at.isoformat() if row.promoted_at else None,
        "previous_champion": row.previous_champion,
    }


async def _get(session: AsyncSession, version: str, *, lock: bool = True) -> ModelVersion:
    row = await session.get(ModelVersion, version, with_for_update=lock)
    if row is None:
        raise RegistryError(404, "model_not_found", f"no model version {version}")
    return row


async def champion(session: AsyncSession) -> ModelVersion | None:
    return (
        (await session.execute(select(ModelVersion).where(ModelVersion.status == "champion").with_for_update()))
        .scalars()
        .first()
    )


def audit(session: AsyncSession, version: str | None, event: str, actor: str, sub: str | None, **detail: Any) -> None:
    session.add(ModelEvent(version=version, event=event, actor=actor, actor_sub=sub, detail=detail))


def gate(metrics: dict, current: ModelVersion | None) -> tuple[bool, list[str], dict]:
    """Control-sample gate: enough unbiased labels, and no worse than the champion (else the rules)."""
    control = metrics.get("control", {})
    mine = control.get("model", {})
    if (mine.get("n") or 0) < MIN_CONTROL_LABELS or (mine.get("positives") or 0) < MIN_CONTROL_POSITIVES:
        return (
            False,
            [
                f"{mine.get('n', 0)} control-sample labels with {mine.get('positives', 0)} infringing in the "
                f"validation window; at least {MIN_CONTROL_LABELS} with {MIN_CONTROL_POSITIVES} are needed"
            ],
            {},
        )
    against = control.get("champion") if current is not None and control.get("champion") else control.get("rules", {})
    ok, failed = at_least_as_good(mine, against)
    return (
        ok,
        failed,
        {
            "candidate": mine,
            "compared_with": "champion" if against is control.get("champion") else "rules",
            "current": against,
        },
    )


async def propose(session: AsyncSession, version: str, *, actor: str, sub: str) -> dict:
    row = await _get(session, version)
    if row.status != "shadow":
        raise RegistryError(409, "not_in_shadow", f"model {version} is {row.status}; only a shadow model is proposed")
    row.proposed_by_sub = sub
    audit(session, version, "proposed", actor, sub)
    await session.flush()
    return view(row)


async def promote(
    session: AsyncSession, version: str, *, actor: str, sub: str, role: str, reason: str | None = None
) -> dict:
    row = await _get(session, version)
    if row.status != "shadow":
        raise RegistryError(409, "not_in_shadow", f"model {version} is {row.status}; only a shadow model is promoted")
    if row.proposed_by_sub is None:
        raise RegistryError(
            409, "not_proposed", f"model {version} has not been proposed: an officer proposes it first (/propose)"
        )
    decision = four_eyes(proposer_sub=row.proposed_by_sub, approver_sub=sub, approver_role=role)
    if not decision.allowed:
        raise RegistryError(decision.status, decision.code or "refused", decision.message)
    current = await champion(session)
    ok, failed, compared = gate(row.metrics, current)
    if not ok:
        raise RegistryError(409, "control_metrics_worse", "; ".join(failed), details=compared)
    now = datetime.now(UTC)
    if current is not None:
        current.status = "retired"
        audit(session, current.version, "retired", actor, sub, replaced_by=version)
        await session.flush()  # one champion at a time (unique index)
    row.status = "champion"
    row.promoted_at = now
    row.previous_champion = current.version if current is not None else None
    audit(
        session,
        version,
        "promoted",
        actor,
        sub,
        proposed_by=row.proposed_by_sub,
        reason=reason,
        replaced=row.previous_champion,
        control=compared,
    )
    await session.flush()
    return view(row)


async def rollback(session: AsyncSession, *, actor: str, sub: str, reason: str) -> dict:
    current = await champion(session)
    if current is None:
        raise RegistryError(409, "no_champion", "no model is in use; the rules alone score")
    current.status = "retired"
    await session.flush()
    restored = None
    if current.previous_champion:
        prev = await _get(session, current.previous_champion)
        prev.status = "champion"
        restored = prev.version
    audit(session, current.version, "rolled_back", actor, sub, reason=reason, restored=restored)
    await session.flush()
    return {"rolled_back": current.version, "champion": restored}


async def reject(session: AsyncSession, version: str, *, actor: str, sub: str, reason: str) -> dict:
    row = await _get(session, version)
    if row.status != "shadow":
        raise RegistryError(409, "not_in_shadow", f"model {version} is {row.status}")
    row.status = "rejected"
    audit(session, version, "rejected", actor, sub, reason=reason)
    await session.flush()
    return view(row)


async def history(session: AsyncSession, version: str | None = None, limit: int = 200) -> list[dict]:
    stmt = select(ModelEvent).order_by(ModelEvent.id.desc()).limit(limit)
    if version:
        stmt = stmt.where(ModelEvent.version == version)
    return [
        {
            "version": e.version,
            "event": e.event,
            "actor": e.actor,
            "actor_sub": e.actor_sub,
            "detail": e.detail,
            "at": e.at.isoformat() if e.at else None,
        }
        for e in (await session.execute(stmt)).scalars()
    ]
