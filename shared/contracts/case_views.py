"""What the cases service answers at its HTTP edge: a case (from its workflow or the cases database), the
instructions it took, the rule packs' answers, escalations, and the worklist, assignment and statistics
behind the officers' workbench (``services/web`` reads them).

Keys a route leaves out of an answer (a party never sees the holder's guarantee; a case of the first
workflow version has no snapshot) are optional here and stay out of the answer: those routes answer with
``response_model_exclude_unset``. Amounts summed or computed beyond one goods value (statistics, fine
ranges) are decimal text (``DecimalText``), as the answers always wrote them; times the case workflow
computes are ``PlatformTimestamp`` like the case itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.bounds import (
    CampaignId,
    CaseId,
    Count,
    Day,
    DeclarationId,
    DispositionId,
    HolderId,
    HoldId,
    LineNo,
    Money,
    NoticeId,
    PlatformDay,
    PlatformTimestamp,
    ProfileId,
    RecordationId,
    Revision,
    RunId,
    Seq,
    Timestamp,
    TraderId,
)
from shared.contracts.cases import (
    CaseLineState,
    CaseStateName,
    ConsignmentFacts,
    CourtAction,
    DeadlineStatus,
    DeterminationOutcome,
    HistoryEntry,
    LineDetermination,
    PartyNotice,
    PartyRef,
    PartySubmission,
)

# A decimal number as text, as Python writes a Decimal ("14910.00", "0", "1E+2"): sums over many cases and
# amounts a formula computes, which may lie beyond one goods value's bounds.
DecimalText = Annotated[str, StringConstraints(max_length=40, pattern=r"^-?[0-9]+(\.[0-9]+)?(E[+-]?[0-9]+)?$")]
# Working days left before a time limit runs out: negative once it has (minus the working days since).
WorkingDaysLeft = Annotated[int, Field(ge=-100_000, le=100_000)]
# A manifest as the worklist facts name it: the part of a parcel's declaration id before ``-P<00001>``.
ManifestRef = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Jurisdiction = Annotated[str, StringConstraints(max_length=8)]
Currency = Annotated[str, StringConstraints(max_length=3)]
Actor = Annotated[str, StringConstraints(max_length=256)]  # how an audit trail names a person ("Name (sub)")
LinkPath = Annotated[str, StringConstraints(max_length=2048)]


# ---------------------------------------------------------------- cases


class SelfLink(BaseModel):
    self: LinkPath = Field(description="the case: GET it for its state, deadlines and history")


class CaseLinks(SelfLink):
    temporal_ui: str | None = Field(max_length=2048, description="the case workflow in Temporal's UI (when configured)")


class CaseSummary(BaseModel):
    """A case in the list of cases (from the cases database)."""

    case_id: CaseId
    state: CaseStateName
    jurisdiction: Jurisdiction
    declaration_id: DeclarationId
    line_no: LineNo = Field(description="the first line of the case")
    line_nos: list[LineNo] = Field(max_length=9999, description="every line of the case now")
    holder_id: HolderId
    holder_name: str = Field(max_length=256)
    recordation_id: RecordationId
    mark: str = Field(max_length=256)
    description: str = Field(max_length=1024)
    goods_value: Money
    currency: Currency
    customs_office: str | None = Field(max_length=16)
    opened_at: PlatformTimestamp
    updated_at: PlatformTimestamp


class CaseOpened(BaseModel):
    """A case opened by hand (201), or the lines asked for joined the holder's open case of the declaration (200)."""

    case_id: CaseId
    jurisdiction: Jurisdiction
    mode: Literal["ex_officio", "application"]
    lines: list[LineNo] = Field(max_length=9999, description="the lines asked for")
    joined_existing_case: bool
    links: SelfLink


class CaseDeadlineView(BaseModel):
    """A legal time limit of the case (cases of the first workflow version: as their history records it, without
    its start, and ``provisional`` and ``calendar_version`` left out)."""

    name: str = Field(max_length=64)
    working_days: Count = Field(description="its length, in ``unit``")
    start: PlatformDay | None
    due_date: PlatformDay | None
    due_at: PlatformTimestamp | None
    status: DeadlineStatus
    unit: str = Field(max_length=32)
    basis: str | None = Field(max_length=2048)
    escalate_at: PlatformTimestamp | None
    escalated: bool
    provisional: bool = Field(default=False, description="counted over days no official calendar covers yet")
    calendar_version: str | None = Field(default=None, max_length=64)


class CaseFailure(BaseModel):
    """How the case workflow failed or was ended, while it is not repaired."""

    status: Literal["failed", "terminated", "timed_out", "canceled"]
    reason: str = Field(max_length=1000)
    run_id: RunId
    closed_at: PlatformTimestamp | None
    detected_at: Timestamp
    state_before: CaseStateName


class InterventionView(BaseModel):
    """What was done to the case outside its workflow, and by whom (failure found, repair, escalation resolved,
    case access codes)."""

    at: Timestamp
    event: str = Field(max_length=64)
    by: Actor
    detail: dict[str, Any] = Field(max_length=1000)


class CaseView(BaseModel):
    """A case: its state, lines, deadlines, notices, submissions and whole history, and what was done to it from
    outside. A party of the case sees it without the holder's guarantee (``required_guarantee``,
    ``required_guarantee_cny``, ``guarantee_currency``, ``guarantee_status`` are left out), the reasons the goods
    were targeted and officers' notes."""

    case_id: CaseId
    state: CaseStateName = Field(description="``failed`` while its workflow has failed or was ended, until repaired")
    jurisdiction: Jurisdiction
    holder_id: HolderId
    declaration_id: DeclarationId
    line_no: LineNo
    goods_value: Money
    currency: Currency
    required_guarantee_cny: Money | None = None
    hold_id: HoldId | None = None
    notice_ids: list[NoticeId] = Field(default_factory=list, max_length=10_000)
    disposition_id: DispositionId | None = None
    fine_amount: Money | None = None
    deadlines: list[CaseDeadlineView] = Field(max_length=1000)
    history: list[HistoryEntry] = Field(max_length=100_000)
    procedure: str | None = Field(default=None, max_length=64)
    rule_pack_version: str | None = Field(default=None, max_length=64)
    required_guarantee: Money | None = None
    guarantee_currency: Currency | None = None
    guarantee_status: str | None = Field(default=None, max_length=32)
    disposal_method: str | None = Field(default=None, max_length=64)
    police_referral: bool = False
    submissions: list[PartySubmission] = Field(default_factory=list, max_length=10_000)
    fine_currency: Currency | None = None
    timezone: str | None = Field(default=None, max_length=64)
    lines: list[CaseLineState] = Field(default_factory=list, max_length=9999)
    consignment: ConsignmentFacts | None = None
    revision: Revision | None = None
    calendar_version: str | None = Field(default=None, max_length=64)
    customs_office: str | None = Field(default=None, max_length=16)
    party_ids: list[TraderId] = Field(default_factory=list, max_length=100)
    party_notices: list[PartyNotice] = Field(default_factory=list, max_length=1000)
    direction: str | None = Field(default=None, max_length=16)
    declarant: PartyRef | None = None
    consignor: PartyRef | None = None
    consignee: PartyRef | None = None
    proposals_withdrawable: bool = False
    workflow_state: CaseStateName = Field(description="the state its workflow last recorded")
    failure: CaseFailure | None
    source: Literal["workflow", "database"] = Field(
        description="workflow: the running case answered; database: "
        "the case as last recorded (closed, failed or its workflow gone)"
    )
    interventions: list[InterventionView] = Field(max_length=10_000)
    opened_at: PlatformTimestamp | None
    closed_at: PlatformTimestamp | None
    updated_at: PlatformTimestamp | None
    links: CaseLinks


# ---------------------------------------------------------------- instructions the case took (202)


class Accepted(BaseModel):
    """An instruction the case took: signalled to its workflow, which records it in the case's history."""

    case_id: CaseId


class DeterminationAccepted(Accepted):
    accepted: Literal["determination"]
    outcome: DeterminationOutcome
    lines: list[LineDetermination] = Field(max_length=999, description="the lines whose outcome differs")
    approval: Literal["pending"] | None = Field(
        default=None,
        description="only when a line is found infringing: a proposal until a supervisor approves it (four-eyes)",
    )
    approve_at: LinkPath | None = Field(default=None, description="where a supervisor approves or refuses it")


class PetitionDecisionAccepted(Accepted):
    accepted: Literal["petition_decision"]
    outcome: Literal["granted", "denied"]


class ApprovalAccepted(Accepted):
    accepted: Literal["approval"]
    decision: Literal["approve", "refuse"]
    by: Actor


class WithdrawalAccepted(Accepted):
    accepted: Literal["withdrawal"]
    by: Actor = Field(description="who gave it, as the audit trail names them")


class CourtNoticeAccepted(Accepted):
    accepted: Literal["court_notice"]
    action: CourtAction


class SubmissionAccepted(Accepted):
    accepted: Literal["submission"]
    kind: str = Field(max_length=64)


class HearingAccepted(Accepted):
    accepted: Literal["hearing"]
    kind: Literal["requested", "waived", "concluded"]
    approval: Literal["pending"] | None = Field(
        default=None, description="only for a concluded fine: it waits for a supervisor's approval (four-eyes)"
    )
    approve_at: LinkPath | None = Field(default=None, description="where a supervisor approves or refuses it")


class DisposalFactsAccepted(Accepted):
    accepted: Literal["disposal_facts"]


class GuaranteeAccepted(Accepted):
    accepted: Literal["guarantee"]
    required_cny: str = Field(
        max_length=40,
        pattern=r"^([0-9]+(\.[0-9]+)?(E[+-]?[0-9]+)?|None)$",
        description="the guarantee the case requires, in CNY, as decimal text (``None`` "
        "when the case has not computed one)",
    )


class AnswerAccepted(Accepted):
    """A party's answer, taken in the role the law gives it."""

    model_config = ConfigDict(populate_by_name=True)

    accepted: Literal["answer"]
    kind: Literal[
        "agrees_to_destruction",
        "objects_to_destruction",
        "non_infringement_statement",
        "hearing_request",
        "hearing_waiver",
        "importer_response",
    ]
    as_: Literal["declarant", "consignor", "consignee", "importer", "holder_of_goods"] = Field(
        alias="as", description="the party's role the answer is taken in"
    )
    basis: str = Field(max_length=2048, description="the provision that gives the party this answer")


class ServiceRecorded(Accepted):
    """An officer's record that a party's notice was served on paper."""

    accepted: Literal["service"]
    notice: str = Field(max_length=64, description="the notice's key in the case")
    notice_id: NoticeId | None
    party_id: TraderId
    by: Actor


class CaseRepairedView(BaseModel):
    """A failed or ended case workflow reset to its last good point."""

    case_id: CaseId
    repaired: Literal[True]
    reason: str = Field(max_length=1000)
    failed_run_id: RunId
    failure: str = Field(max_length=1000, description="how the run failed")
    reset_to_event_id: Seq = Field(description="the last completed workflow task before the failure")
    new_run_id: RunId


# ---------------------------------------------------------------- rules


class RulePackRef(BaseModel):
    jurisdiction: Jurisdiction
    version: str = Field(max_length=64)
    name: str = Field(max_length=2048, description="the laws the pack holds")


class RuleDeadline(BaseModel):
    """The N-th working day after a day of service, on the jurisdiction's calendar."""

    jurisdiction: Jurisdiction
    start: Day
    working_days: Count
    deadline: PlatformDay
    deadline_ends_at: PlatformTimestamp
    timezone: str = Field(max_length=64)
    calendar: str = Field(max_length=64)
    provisional: bool = Field(description="counted over days no official calendar covers yet")
    official_through: PlatformDay | None = Field(description="the last day the official calendar covers")
    counting: str = Field(max_length=256)


class RuleGuarantee(BaseModel):
    """The guarantee required for detention of goods of a value."""

    jurisdiction: Jurisdiction
    mode: Literal["ex_officio", "application", "counter_guarantee"]
    goods_value: Money
    amount: DecimalText
    currency: Currency
    required: bool
    basis: str = Field(max_length=2048)


class RuleFine(BaseModel):
    """The range of the fine for a goods value and tier."""

    jurisdiction: Jurisdiction
    goods_value: Money
    tier: str | None = Field(max_length=32)
    min: DecimalText
    max: DecimalText
    max_exclusive: bool
    confiscation_only: bool
    currency: Currency
    basis: str = Field(max_length=2048)


# ---------------------------------------------------------------- escalations and provisional deadlines


class EscalationView(BaseModel):
    """An officer's task: a deadline about to lapse, a refused or failing step, a failed case."""

    id: Seq
    case_id: CaseId
    kind: str = Field(max_length=32, description="deadline, step_refused, step_delayed or case_failed")
    deadline: str = Field(max_length=64, description="the deadline, or the step refused or failing")
    due_at: PlatformTimestamp
    escalated_at: PlatformTimestamp
    state: str = Field(max_length=32, description="the case's state when it was escalated")
    case_state: str = Field(max_length=32, description="the case's state now")
    reason: str | None = Field(max_length=1000)
    resolved_at: PlatformTimestamp | None
    resolution: str | None = Field(max_length=32)
    resolved_by: Actor | None


class EscalationResolved(BaseModel):
    id: Seq
    case_id: CaseId
    resolved_at: Timestamp
    resolved_by: Actor


class ProvisionalDeadlineView(BaseModel):
    """A pending case deadline counted over days no official calendar covers yet."""

    case_id: CaseId
    jurisdiction: Jurisdiction | None
    deadline: str = Field(max_length=64)
    due_at: PlatformTimestamp
    calendar_version: str | None = Field(max_length=64)
    flagged_at: PlatformTimestamp


# ---------------------------------------------------------------- workbench


class AssigneeRef(BaseModel):
    sub: str = Field(max_length=256)
    name: str = Field(max_length=256)


class Assignee(AssigneeRef):
    since: Timestamp | None


class NextDeadline(BaseModel):
    name: str = Field(max_length=64)
    due_at: PlatformTimestamp | None
    due_date: str | None = Field(max_length=10)
    escalated: bool
    provisional: bool
    working_days_left: WorkingDaysLeft


class PendingApproval(BaseModel):
    """A four-eyes proposal the case waits for."""

    kind: str = Field(max_length=64)
    proposed_by: Actor | None = None
    proposed_by_sub: str | None = Field(default=None, max_length=256)
    proposed_at: PlatformTimestamp | None = None


class WorklistItem(BaseModel):
    """A case in the worklist: its facts, next deadline, assignee and what makes it urgent."""

    case_id: CaseId
    state: CaseStateName
    jurisdiction: Jurisdiction
    customs_office: str | None = Field(max_length=16)
    declaration_id: DeclarationId
    line_no: LineNo
    holder_id: HolderId
    holder_name: str = Field(max_length=256)
    recordation_id: RecordationId
    mark: str = Field(max_length=256)
    description: str = Field(max_length=1024)
    goods_value: Money
    currency: Currency
    goods_value_cny: Money | None
    direction: str | None = Field(max_length=16)
    transport_mode: str | None = Field(max_length=16)
    manifest_id: ManifestRef | None
    origin_country: str | None = Field(max_length=2)
    destination_country: str | None = Field(max_length=2)
    consignor: str | None = Field(max_length=256, description="the consignor's name (its id for older cases)")
    consignee: str | None = Field(max_length=256, description="the consignee's name (its id for older cases)")
    line_count: Count
    items: DecimalText | None = Field(description="units on the lines of the case")
    assignee: Assignee | None
    next_deadline: NextDeadline | None
    escalated: bool
    pending_approval: PendingApproval | None
    failed: bool
    closed: bool
    opened_at: PlatformTimestamp | None
    updated_at: PlatformTimestamp | None


class Worklist(BaseModel):
    total: Count = Field(description="cases matching (at most 5000 are ranked)")
    truncated: bool = Field(description="more than 5000 cases matched: narrow the filters")
    limit: Count
    offset: Count
    items: list[WorklistItem] = Field(max_length=500)


class WorkbenchDeadline(BaseModel):
    name: str = Field(max_length=64)
    due_at: PlatformTimestamp | None
    due_date: str | None = Field(max_length=10)
    status: str = Field(max_length=16)
    escalated: bool
    provisional: bool
    working_days_left: WorkingDaysLeft | None = Field(description="pending deadlines only")


class AssignmentEventView(BaseModel):
    """An assignment, hand-over or release of the case, with who did it."""

    model_config = ConfigDict(populate_by_name=True)

    event: Literal["assigned", "handed_over", "released"]
    from_: str | None = Field(alias="from", max_length=256, description="who worked it before")
    to: str | None = Field(max_length=256)
    to_name: str | None = Field(max_length=256)
    by: Actor
    note: str | None = Field(max_length=1000)
    at: Timestamp | None


class CaseFactsView(BaseModel):
    hs_codes: list[Annotated[str, StringConstraints(max_length=16)]] = Field(max_length=9999)
    profile_ids: list[ProfileId] = Field(max_length=50, description="targeting profiles that selected the goods")
    campaign_ids: list[CampaignId] = Field(max_length=50, description="targeting campaigns that selected the goods")
    declarant: str | None = Field(max_length=256)
    mode: str | None = Field(max_length=16)


class WorkbenchEntry(WorklistItem):
    """The worklist entry of one case, with every deadline, the record of its assignment and its facts."""

    deadlines: list[WorkbenchDeadline] = Field(max_length=1000)
    assignment_history: list[AssignmentEventView] = Field(max_length=100_000)
    facts: CaseFactsView | None


class AssignmentChanged(BaseModel):
    """Who works the case after the request (``event``, ``by`` and ``at`` only when it changed hands)."""

    case_id: CaseId
    assignee: AssigneeRef | None
    changed: bool
    event: Literal["assigned", "handed_over"] | None = None
    by: Actor | None = None
    at: Timestamp | None = None


class AssignmentView(BaseModel):
    case_id: CaseId
    assignee: Assignee | None
    history: list[AssignmentEventView] = Field(max_length=100_000)


class SeizureTotals(BaseModel):
    cases: Count
    lines: Count
    items: DecimalText = Field(description="units seized")
    value_cny: DecimalText = Field(description="their value in CNY")


class SeizureRow(BaseModel):
    key: str = Field(max_length=600, description="the mark, holder, route, office, ... or period")
    cases: Count
    lines: Count
    items: DecimalText = Field(description="units seized")
    value_cny: DecimalText = Field(description="their value in CNY")


class Seizures(BaseModel):
    """Seizures (confiscated, destroyed, forfeited cases) by a dimension, as customs administrations publish them."""

    model_config = ConfigDict(populate_by_name=True)

    by: Literal["mark", "holder", "route", "direction", "transport_mode", "office", "period", "jurisdiction"]
    period: Literal["month", "quarter", "year"]
    from_: Day | None = Field(alias="from")
    to: Day | None
    rows: list[SeizureRow] = Field(max_length=200_000)
    totals: SeizureTotals


class SelectionRow(BaseModel):
    id: ProfileId = Field(description="the profile's or the campaign's id (they share one form)")
    cases: Count
    seized: Count
    released: Count
    open: Count


class Selections(BaseModel):
    """Cases per targeting profile and campaign that selected the goods, and how they ended."""

    profiles: list[SelectionRow] = Field(max_length=200_000)
    campaigns: list[SelectionRow] = Field(max_length=200_000)
