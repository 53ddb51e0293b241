"""One way to open a case: the input of each case of a declaration, and the start of its workflow.

The risk service (suspected lines of every declaration it assesses) and the cases API (an officer
acting ex officio, a rights holder applying) both open cases here, so both give a case the same
id, the same lines, the same values and the same search attributes.

A case is one consignment (declaration) and one rights holder: every suspected line whose right
belongs to the holder is a line of the case, keeping its own marks, hits, quantity and value. The
case id is ``consignment_case_id(declaration, holder)``. The workflow is started with the lines as
a signal (signal-with-start): a case that already runs takes the lines of a later revision (or a
line an officer adds) instead of a second case opening; a closed case is not reopened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shared.contracts.bounds import in_money_range
from shared.contracts.cases import (
    CASE_TASK_QUEUE,
    CASE_WORKFLOW_TYPE,
    SIGNAL_LINES,
    CaseInput,
    CaseLine,
    ConsignmentFacts,
    HolderRef,
    LineHit,
    LinesRevision,
    PartyRef,
    chinese_marks,
    consignment_case_id,
)
from shared.contracts.declaration import DeclarationLine, DeclarationV1
from shared.contracts.recordation import RecordationV1
from shared.fx import to_cny

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
HOLDER_ID = SearchAttributeKey.for_keyword("HolderId")
DECLARATION_ID = SearchAttributeKey.for_keyword("DeclarationId")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class SuspectedLine:
    """A declaration line suspected of infringing a recorded right (risk's best hit, or an officer's choice)."""

    line: DeclarationLine
    recordation: RecordationV1
    score: float = 0.0
    reasons: tuple[str, ...] = ()
    hits: tuple[LineHit, ...] = field(default_factory=tuple)
    source: Literal["risk", "officer", "holder"] = "risk"


def genuine_unit_value(rec: RecordationV1, line: DeclarationLine, currency: str) -> Decimal | None:
    """The recorded genuine value per unit for the line: the most specific HS prefix, in the declaration currency."""
    genuine = [g for g in rec.genuine_unit_value if line.hs_code.startswith(g.hs_prefix) and g.currency == currency]
    return max(genuine, key=lambda g: len(g.hs_prefix)).min if genuine else None


def consignment_facts(
    declaration: DeclarationV1, suspected_line_nos: Iterable[int], rates: dict[str, Decimal]
) -> ConsignmentFacts:
    """What the consignment-wide tests need: all units and weight, and the value of every suspected line."""
    suspected = sorted(set(suspected_line_nos))
    by_no = {ln.line_no: ln for ln in declaration.lines}
    value = sum((by_no[n].line_value for n in suspected if n in by_no), Decimal("0.00"))
    weights = [ln.gross_weight_kg for ln in declaration.lines]
    return ConsignmentFacts(
        line_count=len(declaration.lines),
        units=sum((ln.quantity for ln in declaration.lines), Decimal(0)),
        gross_weight_kg=_sum_known(weights, Decimal(0)),
        suspected_value=value,
        suspected_value_cny=to_cny(value, declaration.currency, rates),
        suspected_line_nos=[n for n in suspected if n in by_no],
        declaration_line_nos=sorted(by_no),
    )


def case_line(declaration: DeclarationV1, s: SuspectedLine, rates: dict[str, Decimal]) -> CaseLine:
    line, rec = s.line, s.recordation
    return CaseLine(
        line_no=line.line_no,
        hs_code=line.hs_code,
        description=line.description,
        brand=line.brand,
        quantity=line.quantity,
        unit=line.unit,
        unit_value=line.unit_value,
        goods_value=line.line_value,
        goods_value_cny=to_cny(line.line_value, declaration.currency, rates),
        gross_weight_kg=line.gross_weight_kg,
        recordation_id=rec.recordation_id,
        right_type=rec.right_type,
        mark=rec.title,
        hits=list(s.hits) or [LineHit(recordation_id=rec.recordation_id, mark=rec.title, score=s.score)],
        score=s.score,
        reasons=list(s.reasons),
        genuine_unit_value=genuine_unit_value(rec, line, declaration.currency),
        source=s.source,
    )


def _sum_known(values: list[Decimal | None], zero: Decimal) -> Decimal | None:
    """The sum of ``values``; unknown (None) when any of them is."""
    known = [v for v in values if v is not None]
    return None if len(known) != len(values) else sum(known, zero)


def _total_cny(values: list[Decimal | None]) -> Decimal | None:
    """The RMB value of the case's lines; unknown when a line's is, or when the sum lies beyond one amount."""
    if any(v is None for v in values):
        return None
    total = sum((v or Decimal("0.00") for v in values), Decimal("0.00"))
    return total if in_money_range(total) else None


def build_cases(
    declaration: DeclarationV1,
    suspected: list[SuspectedLine],
    *,
    rates: dict[str, Decimal],
    opened_at: datetime,
    repeat_infringer: bool = False,
    mode: Literal["ex_officio", "application"] = "ex_officio",
    opened_by: str | None = None,
    evidence: str | None = None,
    perishable: bool = False,
    application_id: str | None = None,
    afa_from_recordation: bool = True,
    suspected_line_nos: Iterable[int] | None = None,
    reasons: list[str] | None = None,
) -> list[CaseInput]:
    """The input of one case per rights holder of ``suspected`` lines, lines in order.

    ``suspected_line_nos`` are every suspected line of the declaration (all holders; default: those given),
    for the consignment-wide thresholds. In the EU the recordation is the holder's application for action
    (``afa_from_recordation``); an officer may instead name one (``application_id``) or none.
    """
    groups: dict[str, list[SuspectedLine]] = {}
    for s in sorted(suspected, key=lambda s: s.line.line_no):
        groups.setdefault(s.recordation.holder.id, []).append(s)
    facts = consignment_facts(
        declaration,
        suspected_line_nos if suspected_line_nos is not None else [s.line.line_no for s in suspected],
        rates,
    )
    eu = declaration.jurisdiction == "EU"
    out = []
    for holder_id, members in groups.items():
        lines = [case_line(declaration, s, rates) for s in members]
        first, rec = lines[0], members[0].recordation
        total = sum((ln.goods_value for ln in lines), Decimal("0.00"))
        totals_cny = [ln.goods_value_cny for ln in lines]
        weights = [ln.gross_weight_kg for ln in lines]
        description = (
            first.description
            if len(lines) == 1
            else f"{first.description} (and {len(lines) - 1} more line{'s' if len(lines) > 2 else ''})"
        )
        out.append(
            CaseInput(
                case_id=consignment_case_id(declaration.declaration_id, holder_id),
                jurisdiction=declaration.jurisdiction,
                mode=mode,
                customs_office=declaration.customs_office,
                direction=declaration.direction,
                declaration_id=declaration.declaration_id,
                revision=declaration.revision,
                line_no=first.line_no,
                hs_code=first.hs_code,
                description=description[:1024],
                brand=first.brand,
                quantity=sum((ln.quantity for ln in lines), Decimal(0)),
                unit=first.unit,
                unit_value=first.unit_value,
                currency=declaration.currency,
                goods_value=total,
                goods_value_cny=_total_cny(totals_cny),
                consignor=PartyRef(**declaration.consignor.model_dump()),
                consignee=PartyRef(**declaration.consignee.model_dump()),
                declarant=PartyRef(**declaration.declarant.model_dump()),
                origin_country=declaration.origin_country,
                destination_country=declaration.destination_country,
                recordation_id=first.recordation_id,
                right_type=first.right_type,
                mark=first.mark,
                marks_zh=chinese_marks(rec.title, rec.aliases),
                holder=HolderRef(
                    id=rec.holder.id,
                    name=rec.holder.name,
                    contact_email=str(rec.holder.contact_email),
                    webhook_url=str(rec.holder.webhook_url) if rec.holder.webhook_url else None,
                ),
                score=max(ln.score for ln in lines),
                reasons=reasons if reasons is not None else list(dict.fromkeys(r for ln in lines for r in ln.reasons)),
                opened_at=opened_at,
                transport_mode=declaration.transport_mode,
                gross_weight_kg=_sum_known(weights, Decimal(0)),
                perishable=perishable,
                genuine_unit_value=first.genuine_unit_value,
                repeat_infringer=repeat_infringer,
                application_id=(first.recordation_id if afa_from_recordation else application_id) if eu else None,
                evidence=evidence,
                opened_by=opened_by,
                lines=lines,
                consignment=facts,
            )
        )
    return out


def lines_revision(
    case: CaseInput,
    *,
    kind: Literal["revision", "added"] = "revision",
    line_cases: dict[int, str] | None = None,
    previous_line_cases: dict[int, str] | None = None,
    by: str | None = None,
) -> LinesRevision:
    """The signal that gives a case the lines of ``case`` (a revision's lines, or lines added by hand)."""
    return LinesRevision(
        kind=kind,
        declaration_id=case.declaration_id,
        revision=case.revision,
        lines=case.lines,
        consignment=case.consignment,
        line_cases=line_cases if line_cases is not None else {ln.line_no: case.case_id for ln in case.lines},
        previous_line_cases=previous_line_cases or {},
        by=by,
    )


async def start_case(client: Client, case: CaseInput, revision: LinesRevision | None = None) -> bool:
    """Open the case, or give its lines to the case already running under the same id (signal-with-start).

    Returns False when the case with that id is closed (a closed case is never reopened).
    """
    try:
        await client.start_workflow(
            CASE_WORKFLOW_TYPE,
            case,
            id=case.case_id,
            task_queue=CASE_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CASE_ID, case.case_id),
                    SearchAttributePair(HOLDER_ID, case.holder.id),
                    SearchAttributePair(DECLARATION_ID, case.declaration_id),
                ]
            ),
            start_signal=SIGNAL_LINES,
            start_signal_args=[revision or lines_revision(case)],
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def signal_lines(client: Client, case_id: str, revision: LinesRevision) -> bool:
    """Give a revision to a case that exists (its lines withdrawn or moved); False if it is closed or unknown."""
    from temporalio.service import RPCError

    try:
        await client.get_workflow_handle(case_id).signal(SIGNAL_LINES, revision)
    except RPCError:
        return False
    return True


def without_lines(case: CaseInput, line_nos: set[int]) -> CaseInput | None:
    """The case without ``line_nos`` (lines another case already holds); None if no line is left."""
    keep = [ln for ln in case.lines if ln.line_no not in line_nos]
    if len(keep) == len(case.lines):
        return case
    if not keep:
        return None
    first = keep[0]
    values_cny = [ln.goods_value_cny for ln in keep]
    return case.model_copy(
        update={
            "lines": keep,
            "line_no": first.line_no,
            "hs_code": first.hs_code,
            "recordation_id": first.recordation_id,
            "right_type": first.right_type,
            "mark": first.mark,
            "unit": first.unit,
            "unit_value": first.unit_value,
            "quantity": sum((ln.quantity for ln in keep), Decimal(0)),
            "goods_value": sum((ln.goods_value for ln in keep), Decimal("0.00")),
            "goods_value_cny": _sum_known(values_cny, Decimal("0.00")),
        }
    )
