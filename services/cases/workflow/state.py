"""What a running case knows: the state every step of the current workflow version reads and writes.

One ``CaseFile`` per workflow run. It is plain data plus the history log and the query
snapshot; the durable steps (``deadlines``, ``notices``, ``holds``, ``guarantees``,
``disposition``, ``history``, ``lines``) and the procedures act on it. Cases started before v2
keep their own state in ``v1.py``.

A case has lines: a consignment case (``v4``) the suspected lines of its declaration that belong
to its holder, each with its status; a per-line case (v2, v3) the one line its per-line fields
describe. Values are summed over the lines still held, so the same code serves both.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import (
        CaseInput,
        CaseLine,
        CaseLineState,
        CaseState,
        CaseStateName,
        ConsignmentFacts,
        CourtNotice,
        Deadline,
        Determination,
        DisposalChoice,
        DispositionResult,
        GuaranteeInfo,
        HearingUpdate,
        HistoryEntry,
        HolderReply,
        PartyNotice,
        PartyRef,
        PartySubmission,
        PetitionDecision,
    )
    from shared.rules.calendar import WorkingCalendar
    from shared.rules.pack import RulePack


UNDER_CONTROL = ("held", "seized")  # line statuses of goods customs still holds


class CaseWithdrawn(Exception):
    """A declaration revision took every line out of the case; the case ends by releasing the goods."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def line_of(case: CaseInput) -> CaseLine:
    """The one line a per-line case (or an input without lines) describes."""
    return CaseLine(
        line_no=case.line_no,
        hs_code=case.hs_code,
        description=case.description,
        brand=case.brand,
        quantity=case.quantity,
        unit=case.unit,
        unit_value=case.unit_value,
        goods_value=case.goods_value,
        goods_value_cny=case.goods_value_cny,
        gross_weight_kg=case.gross_weight_kg,
        recordation_id=case.recordation_id,
        right_type=case.right_type,
        mark=case.mark,
        score=case.score,
        reasons=list(case.reasons),
        genuine_unit_value=case.genuine_unit_value,
    )


def lines_key(line_nos: list[int]) -> str:
    """The lines of an action in its idempotency key, in the characters of a key: ``L1.2.3``, or, for so many
    lines that the key would outgrow the bound of an idempotency key, ``LH`` and 16 hex digits of their
    SHA-256 (still one key per set of lines)."""
    listed = "L" + ".".join(str(n) for n in sorted(set(line_nos)))
    if len(listed) <= 40:
        return listed
    return "LH" + hashlib.sha256(listed.encode()).hexdigest()[:16]


@dataclass
class LineChange:
    """Lines a revision added or withdrew, waiting for the hold to follow."""

    revision: int
    added: list[int]
    withdrawn: list[int]
    seq: int


@dataclass(eq=False)
class CaseFile:
    case: CaseInput
    state: CaseStateName = "opened"
    history: list[HistoryEntry] = field(default_factory=list)
    recorded_upto: int = 0
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    escalations: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    hold_id: str | None = None
    notice_ids: list[str] = field(default_factory=list)
    disposition: DispositionResult | None = None
    reply: HolderReply | None = None
    guarantee: GuaranteeInfo | None = None
    determination: Determination | None = None
    court_notice: CourtNotice | None = None
    accepting_reply: bool = False
    required_guarantee_cny: Decimal | None = None
    rules: RulePack | None = None
    cal: WorkingCalendar | None = None
    procedure: str | None = None
    required_guarantee: Decimal | None = None
    guarantee_status: str | None = None
    guarantee_held: bool = False
    guarantee_attempts: int = 0
    submissions: list[PartySubmission] = field(default_factory=list)
    hearing: HearingUpdate | None = None
    hearing_open: bool = False
    disposal_choice: DisposalChoice | None = None
    disposal_method: str | None = None
    police_referral: bool = False
    counter_guaranteed: bool = False
    # v3 (cases started under the ``case-workflow-v3`` patch): signals are checked and a bad one is recorded as
    # ignored, a step service's refusal is an outcome, a step failing for long is escalated.
    v3: bool = False
    # A case started before v3 takes a refusal as an outcome from the first refusal on (``case-step-refusals``).
    refusals_as_outcomes: bool = False
    guarantee_rejections: int = 0
    pending_rejection: str | None = None
    flushing: int = 0  # escalations being written (v3: the case does not close before they are)
    # Consignment cases (v4, the ``case-consignment`` patch) and what every current case knows of its lines.
    v4: bool = False
    lines: dict[int, CaseLine] = field(default_factory=dict)  # lines in the case now
    line_status: dict[int, str] = field(default_factory=dict)  # every line ever in the case
    line_outcome: dict[int, str] = field(default_factory=dict)
    moved_to: dict[int, str] = field(default_factory=dict)
    withdrawn_lines: dict[int, CaseLine] = field(default_factory=dict)
    consignment: ConsignmentFacts | None = None
    revision: int = 0
    origins_noted: bool = False
    line_changes: list[LineChange] = field(default_factory=list)
    line_change_seq: int = 0
    hold_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    hold_lines: set[int] = field(default_factory=set)  # lines the hold at the holds service covers
    withdrawn_all: str | None = None  # why every line left the case (the case then ends released)
    retimed: int = 0  # bumped when a published calendar re-times the deadlines
    cal_version: str | None = None
    petition_decision: PetitionDecision | None = None
    # Four-eyes (cases started under ``case-four-eyes``): an infringing determination is a proposal until a
    # supervisor other than the proposer approves it; it lapses with the deadline it was made under.
    four_eyes: bool = False
    proposal: Determination | HearingUpdate | None = None  # a confiscation, or the fine a hearing concluded
    proposal_deadline: str | None = None
    withdrawals: bool = False  # (``case-proposal-withdraw``) its proposer may withdraw a proposal
    # Parties (cases started under ``case-parties``): the notices the law gives the declarant, consignor,
    # consignee or importer, each watched until served; its service starts the party's clock.
    parties: bool = False
    party_notices: dict[str, PartyNotice] = field(default_factory=dict)
    party_watches: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    watches_stopped: bool = False

    @classmethod
    def open(cls, case: CaseInput, *, v4: bool = False) -> CaseFile:
        lines = list(case.lines) or [line_of(case)]
        return cls(
            case=case,
            v4=v4,
            lines={ln.line_no: ln for ln in lines},
            line_status={ln.line_no: "held" for ln in lines},
            consignment=case.consignment,
            revision=case.revision,
        )

    # ---------------------------------------------------------------- rule pack

    @property
    def pack(self) -> RulePack:
        """The rule pack the case runs under (loaded before any procedure starts)."""
        assert self.rules is not None, "rule pack not loaded"
        return self.rules

    @property
    def calendar(self) -> WorkingCalendar:
        assert self.cal is not None, "calendar not loaded"
        return self.cal

    def held_lines(self) -> list[CaseLine]:
        """Lines of the case whose goods customs still holds, in order."""
        return [ln for n, ln in sorted(self.lines.items()) if self.line_status.get(n) in UNDER_CONTROL]

    def value_in_pack_currency(self, lines: list[CaseLine] | None = None) -> Decimal | None:
        """Value of ``lines`` (default: the lines still held) in the rule pack's currency, if known."""
        rules = self.pack
        lines = self.held_lines() if lines is None else lines
        if self.case.currency == rules.currency:
            return sum((ln.goods_value for ln in lines), Decimal("0.00"))
        if rules.currency == "CNY" and all(ln.goods_value_cny is not None for ln in lines):
            return sum((ln.goods_value_cny or Decimal("0.00") for ln in lines), Decimal("0.00"))
        return None

    def goods_value(self, lines: list[CaseLine] | None = None) -> Decimal:
        """Value of ``lines`` (default: the lines still held) in the declaration's currency."""
        lines = self.held_lines() if lines is None else lines
        return sum((ln.goods_value for ln in lines), Decimal("0.00"))

    def consignment_suspected_value(self, own: Decimal) -> Decimal:
        """Value (pack currency) of the suspected goods of the whole consignment, every holder together, less
        this case's lines customs found not infringing; ``own`` (this case's goods) when the facts are unknown."""
        facts, rules = self.consignment, self.pack
        if facts is None:
            return own
        if self.case.currency == rules.currency:
            total: Decimal | None = facts.suspected_value
        elif rules.currency == "CNY":
            total = facts.suspected_value_cny
        else:
            total = None
        if total is None:
            return own
        cleared = [ln for n, ln in self.lines.items() if self.line_outcome.get(n) == "not_infringing"]
        return max(total - (self.value_in_pack_currency(cleared) or Decimal(0)), own)

    def line_states(self) -> list[CaseLineState]:
        known = {**{n: ln for n, ln in self.withdrawn_lines.items()}, **self.lines}
        return [
            CaseLineState(
                line_no=n,
                status=self.line_status.get(n, "held"),
                recordation_id=ln.recordation_id,
                mark=ln.mark,
                description=ln.description,
                hs_code=ln.hs_code,
                quantity=ln.quantity,
                unit=ln.unit,
                goods_value=ln.goods_value,
                goods_value_cny=ln.goods_value_cny,
                outcome=self.line_outcome.get(n),
                moved_to=self.moved_to.get(n),
            )
            for n, ln in sorted(known.items())
        ]

    # ---------------------------------------------------------------- facts received

    def submitted(self, kind: str, party: str | None = None) -> bool:
        return any(s.kind == kind and (party is None or s.party == party) for s in self.submissions)

    def reply_settled(self) -> bool:
        if self.reply is None:
            return False
        return self.reply.decision == "no_detention" or self.guarantee is not None

    # ---------------------------------------------------------------- history and query

    def log(self, event: str, detail: dict[str, Any]) -> None:
        self.history.append(
            HistoryEntry(seq=len(self.history) + 1, at=workflow.now(), state=self.state, event=event, detail=detail)
        )

    def snapshot(self) -> CaseState:
        case, disposition = self.case, self.disposition
        return CaseState(
            case_id=case.case_id,
            state=self.state,
            jurisdiction=case.jurisdiction,
            holder_id=case.holder.id,
            declaration_id=case.declaration_id,
            line_no=case.line_no,
            goods_value=self.goods_value(list(self.lines.values())) if self.v4 else case.goods_value,
            currency=case.currency,
            required_guarantee_cny=self.required_guarantee_cny,
            hold_id=self.hold_id,
            notice_ids=list(self.notice_ids),
            disposition_id=disposition.disposition_id if disposition else None,
            fine_amount=disposition.fine_amount if disposition else None,
            deadlines=list(self.deadlines.values()),
            history=list(self.history),
            procedure=self.procedure,
            rule_pack_version=self.rules.version if self.rules else None,
            required_guarantee=self.required_guarantee,
            guarantee_currency=self.rules.currency if self.rules else None,
            guarantee_status=self.guarantee_status,
            disposal_method=self.disposal_method,
            police_referral=self.police_referral,
            submissions=list(self.submissions),
            fine_currency=disposition.fine_currency if disposition else None,
            timezone=self.cal.timezone if self.cal else None,
            lines=self.line_states() if self.v4 else [],
            consignment=self.consignment,
            revision=self.revision,
            calendar_version=self.cal_version,
            customs_office=case.customs_office,
            party_ids=[p.id for p in (case.declarant, case.consignor, case.consignee) if p is not None],
            party_notices=list(self.party_notices.values()),
            direction=case.direction,
            declarant=_without_contact(case.declarant),
            consignor=_without_contact(case.consignor),
            consignee=_without_contact(case.consignee),
            proposals_withdrawable=self.withdrawals,
        )


def _without_contact(party: PartyRef | None) -> PartyRef | None:
    return party.model_copy(update={"contact_email": None}) if party is not None else None
