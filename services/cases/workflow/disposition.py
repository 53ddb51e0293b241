"""How a case ends: the disposition recorded at the disposal service, the release, the final state.

Lines can end apart: lines customs finds not infringing are released at once (``release_lines``)
while the others go on to confiscation, seizure or the court; the disposition records each line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.deadlines import close_pending
from services.cases.workflow.guarantees import settle
from services.cases.workflow.history import flush, transition
from services.cases.workflow.holds import hold
from services.cases.workflow.notices import notify
from services.cases.workflow.parties import stop_watches
from services.cases.workflow.state import CaseFile, lines_key
from services.cases.workflow.steps import Refused, run_step

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import (
        CaseLineState,
        CaseState,
        CaseStateName,
        DispositionLine,
        DispositionOutcome,
        DispositionRequest,
    )


def _lines(f: CaseFile, currency: str) -> list[DispositionLine]:
    """Each line's outcome and value, in the record's ``currency`` (a line's value in RMB when the record is in
    RMB and the declaration in another currency; no value where it is not known in that currency)."""
    if not f.v4:
        return []

    def value(s: CaseLineState) -> Decimal | None:
        if currency == f.case.currency:
            return s.goods_value
        return s.goods_value_cny if currency == "CNY" else None

    return [DispositionLine(line_no=s.line_no, outcome=s.status, goods_value=value(s)) for s in f.line_states()]


async def dispose(
    f: CaseFile,
    outcome: DispositionOutcome,
    reason: str,
    *,
    fine_amount: Decimal | None = None,
    fine_value: Decimal | None = None,
    currency: str | None = None,
) -> None:
    case, det = f.case, f.determination
    goods_value = (
        fine_value if fine_value is not None else (f.goods_value(list(f.lines.values())) if f.v4 else case.goods_value)
    )
    result = await run_step(
        f,
        f"record_disposition:{outcome}",
        lambda: calls.record_disposition(
            DispositionRequest(
                idempotency_key=f"{case.case_id}:disposition",
                case_id=case.case_id,
                jurisdiction=case.jurisdiction,
                outcome=outcome,
                goods_value=goods_value,
                currency=currency or case.currency,
                right_type=case.right_type,
                fine_tier=det.fine_tier if det else None,
                reason=reason,
                fine_amount=fine_amount if fine_amount is not None else Decimal(0),
                repeat=case.repeat_infringer,
                disposal_method=f.disposal_method,
                hearing=f.hearing.kind if f.hearing else None,
                police_referral=f.police_referral,
                decided_by=det.officer if det else None,
                lines=_lines(f, currency or case.currency),
            )
        ),
        task=f"record the {outcome} of the goods by hand: {reason}",
    )
    if not isinstance(result, Refused):
        f.disposition = result


async def release_lines(f: CaseFile, line_nos: list[int], reason: str) -> None:
    """Release some lines now (e.g. found not infringing); the rest of the case goes on."""
    await hold(f, "release", reason, lines=line_nos)
    f.log("lines_released", {"lines": sorted(line_nos), "reason": reason})
    await notify(
        f,
        "partial_release",
        extra=f"Lines {', '.join(str(n) for n in sorted(line_nos))} are released: {reason}.",
        key=f"partial_release:{lines_key(line_nos)}",
    )
    await flush(f)


async def release(f: CaseFile, reason: str) -> CaseState:
    close_pending(f)
    await hold(f, "release", reason)
    await dispose(f, "release", reason)
    await notify(f, "release", extra=reason)
    return await finish(f, "released", "goods_released", {"reason": reason})


async def finish(f: CaseFile, state: CaseStateName, event: str, detail: dict[str, Any]) -> CaseState:
    if f.parties:  # no party's clock opens after the case has ended
        stop_watches(f)
        close_pending(f)
    await settle(f, state)
    await transition(f, state, event, detail)
    # Signals that arrive while the last steps run are still recorded before the case closes.
    await workflow.wait_condition(lambda: workflow.all_handlers_finished() and f.flushing == 0)
    await flush(f)
    return f.snapshot()
