"""What a running case knows: the state every step of the current workflow version reads and writes.

One ``CaseFile`` per workflow run. It is plain data plus the history log and the query
snapshot; the durable steps (``deadlines``, ``notices``, ``holds``, ``guarantees``,
``disposition``, ``history``) and the procedures act on it. Cases started before v2 keep
their own state in ``v1.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import (
        CaseInput,
        CaseState,
        CaseStateName,
        CourtNotice,
        Deadline,
        Determination,
        DisposalChoice,
        DispositionResult,
        GuaranteeInfo,
        HearingUpdate,
        HistoryEntry,
        HolderReply,
        PartySubmission,
    )
    from shared.rules import cn
    from shared.rules.calendar import WorkingCalendar
    from shared.rules.pack import RulePack


def _initial_guarantee_cny(case: CaseInput) -> Decimal | None:
    """The CN ex officio guarantee from the statutory constants, shown until the rule pack replaces it."""
    value_cny = case.goods_value_cny if case.goods_value_cny is not None else (
        case.goods_value if case.currency == "CNY" else None)
    if value_cny is None or case.jurisdiction != "CN":
        return None
    return cn.ex_officio_guarantee_cny(value_cny)


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
    # Four-eyes (cases started under ``case-four-eyes``): an infringing determination is a proposal until a
    # supervisor other than the proposer approves it; it lapses with the deadline it was made under.
    four_eyes: bool = False
    proposal: Determination | HearingUpdate | None = None  # a confiscation, or the fine a hearing concluded
    proposal_deadline: str | None = None

    @classmethod
    def open(cls, case: CaseInput) -> CaseFile:
        return cls(case=case, required_guarantee_cny=_initial_guarantee_cny(case))

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

    def value_in_pack_currency(self) -> Decimal | None:
        case, rules = self.case, self.pack
        if case.currency == rules.currency:
            return case.goods_value
        if rules.currency == "CNY" and case.goods_value_cny is not None:
            return case.goods_value_cny
        return None

    # ---------------------------------------------------------------- facts received

    def submitted(self, kind: str, party: str | None = None) -> bool:
        return any(s.kind == kind and (party is None or s.party == party) for s in self.submissions)

    def reply_settled(self) -> bool:
        if self.reply is None:
            return False
        return self.reply.decision == "no_detention" or self.guarantee is not None

    # ---------------------------------------------------------------- history and query

    def log(self, event: str, detail: dict[str, Any]) -> None:
        self.history.append(HistoryEntry(seq=len(self.history) + 1, at=workflow.now(), state=self.state,
                                         event=event, detail=detail))

    def snapshot(self) -> CaseState:
        case, disposition = self.case, self.disposition
        return CaseState(
            case_id=case.case_id, state=self.state, jurisdiction=case.jurisdiction, holder_id=case.holder.id,
            declaration_id=case.declaration_id, line_no=case.line_no, goods_value=case.goods_value,
            currency=case.currency, required_guarantee_cny=self.required_guarantee_cny, hold_id=self.hold_id,
            notice_ids=list(self.notice_ids),
            disposition_id=disposition.disposition_id if disposition else None,
            fine_amount=disposition.fine_amount if disposition else None,
            deadlines=list(self.deadlines.values()), history=list(self.history),
            procedure=self.procedure, rule_pack_version=self.rules.version if self.rules else None,
            required_guarantee=self.required_guarantee,
            guarantee_currency=self.rules.currency if self.rules else None,
            guarantee_status=self.guarantee_status, disposal_method=self.disposal_method,
            police_referral=self.police_referral, submissions=list(self.submissions),
            fine_currency=disposition.fine_currency if disposition else None,
            timezone=self.cal.timezone if self.cal else None,
            customs_office=case.customs_office,
            party_ids=[p.id for p in (case.declarant, case.consignor, case.consignee) if p is not None],
        )
