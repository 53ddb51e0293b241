"""Contracts of the case workflow: its input, signals, query result and activity payloads.

Anything may start or signal a case (the risk service starts it, the notify service
and officers signal it), so these live in ``shared`` and not in the workflow's home.
One model in, one model out; fields are only added, with defaults.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CASE_WORKFLOW_TYPE = "CaseWorkflow"
CASE_TASK_QUEUE = "ipr-cases"

SIGNAL_HOLDER_REPLY = "holder_reply"
SIGNAL_GUARANTEE = "guarantee_posted"
SIGNAL_DETERMINATION = "determination"
SIGNAL_COURT_NOTICE = "court_notice"
SIGNAL_PARTY_SUBMISSION = "party_submission"  # consignee/declarant/importer: statements, objections, counter-guarantees
SIGNAL_HEARING = "hearing"  # a hearing requested or concluded
SIGNAL_DISPOSAL_CHOICE = "disposal_choice"  # facts that decide the disposal method (public welfare, holder buys)
QUERY_STATE = "state"

CaseStateName = Literal[
    "opened",
    "suspended",  # hold placed, holder notified, waiting for the holder's reply
    "awaiting_application",  # EU ex officio: waiting for the holder's application for action
    "detained",  # goods detained; customs investigating / parties' time limits running
    "undetermined",  # customs could not determine; waiting for a court assistance notice
    "hearing",  # infringement determined; the party may ask for a hearing before the fine
    "released",
    "confiscated",
    "destroyed",  # EU simplified / small-consignment destruction
    "forfeited",  # US seizure and forfeiture
    "handed_to_court",
]
TERMINAL_STATES: frozenset[str] = frozenset(
    {"released", "confiscated", "destroyed", "forfeited", "handed_to_court"}
)


def case_id_for(declaration_id: str, line_no: int) -> str:
    """Deterministic case (and workflow) id: a redelivered declaration never opens a second case."""
    return f"IPR-{declaration_id}-L{line_no}"


DeadlineStatus = Literal["pending", "met", "lapsed", "cancelled"]
HoldAction = Literal["detain", "release", "confiscate", "hand_to_court", "destroy", "forfeit"]
NoticeKind = Literal["suspension", "detention", "cannot_determine", "confiscation", "release", "court_handover",
                     "application_needed", "confirmation_needed", "declarant_objected", "hearing_right",
                     "police_referral", "disclosure", "destruction", "forfeiture", "escalation", "guarantee_refused"]
DispositionOutcome = Literal["release", "confiscation", "handed_to_court", "destruction", "forfeiture"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PartyRef(_Model):
    id: str
    name: str
    country: str | None = None


class HolderRef(_Model):
    id: str
    name: str
    contact_email: str
    webhook_url: str | None = None


class CaseInput(_Model):
    case_id: str
    jurisdiction: str
    mode: Literal["ex_officio", "application"] = "ex_officio"
    customs_office: str
    direction: str
    declaration_id: str
    revision: int
    line_no: int
    hs_code: str
    description: str
    brand: str | None = None
    quantity: Decimal
    unit: str
    unit_value: Decimal
    currency: str
    goods_value: Decimal
    goods_value_cny: Decimal | None = None
    consignor: PartyRef
    consignee: PartyRef
    recordation_id: str
    right_type: str
    mark: str
    holder: HolderRef
    score: float
    reasons: list[str] = Field(default_factory=list)
    opened_at: datetime | None = None
    # Added in v2 (all optional): what the procedure needs beyond the skeleton.
    transport_mode: str | None = None
    gross_weight_kg: Decimal | None = None
    perishable: bool = False
    genuine_unit_value: Decimal | None = None  # recorded genuine value per unit (US fines: retail value)
    repeat_infringer: bool = False
    application_id: str | None = None  # EU: the holder's application for action (None: ex officio without one)
    small_consignment_opt_in: bool = True  # EU: the holder accepts the small-consignment procedure
    consignor_is_individual: bool = False
    evidence: str | None = None  # CN application mode: the holder's evidence that infringement is obvious
    opened_by: str | None = None


class GuaranteeInfo(_Model):
    amount: Decimal = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    form: Literal["cash_deposit", "bank_letter", "general_guarantee"] = "cash_deposit"
    reference: str = Field(min_length=1, max_length=128)


class HolderReply(_Model):
    decision: Literal["detain", "no_detention"]
    guarantee: GuaranteeInfo | None = None
    statement: str | None = Field(default=None, max_length=4000)
    notice_id: str | None = None
    replied_by: str | None = None


DeterminationOutcome = Literal["infringing", "not_infringing", "cannot_determine"]
FineTier = Literal["none", "mitigated", "lighter", "ordinary", "heavier"]
CourtAction = Literal["keep_detained_for_court", "release"]


class Determination(_Model):
    outcome: DeterminationOutcome
    fine_tier: FineTier | None = None
    officer: str | None = None
    note: str | None = Field(default=None, max_length=4000)
    fine_amount: Decimal | None = Field(default=None, ge=0, description="the fine decided; default: middle of the tier")
    retail_value: Decimal | None = Field(default=None, ge=0, description="US: value of the goods if genuine (MSRP)")


class PartySubmission(_Model):
    """What the other side of the goods says or does: CN consignee statements, inspection requests and
    patent counter-guarantees; EU declarant's agreement or objection; US importer's response."""

    party: Literal["consignee", "consignor", "declarant", "importer", "holder"]
    kind: Literal["non_infringement_statement", "inspection_request", "counter_guarantee", "agrees_to_destruction",
                  "objects_to_destruction", "importer_response", "application_for_action", "proceedings_started",
                  "extension_request", "confirms_infringement"]
    text: str | None = Field(default=None, max_length=8000)
    reference: str | None = Field(default=None, max_length=128)
    amount: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    submitted_by: str | None = None


class HearingUpdate(_Model):
    kind: Literal["requested", "waived", "concluded"]
    fine_amount: Decimal | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=4000)
    by: str | None = None


class DisposalChoice(_Model):
    usable_for_public_welfare: bool = False
    holder_buys: bool = False
    infringing_features_removable: bool = False
    note: str | None = Field(default=None, max_length=4000)
    by: str | None = None


class CourtNotice(_Model):
    reference: str = Field(min_length=1, max_length=128)
    court: str = Field(min_length=1, max_length=256)
    action: CourtAction
    received_by: str | None = None
    note: str | None = Field(default=None, max_length=4000)


class Deadline(_Model):
    name: str
    working_days: int
    start: date
    due_date: date
    due_at: datetime
    status: DeadlineStatus = "pending"
    unit: str = "working_days"
    basis: str | None = None
    escalate_at: datetime | None = None
    escalated: bool = False


class HistoryEntry(_Model):
    seq: int
    at: datetime
    state: str
    event: str
    detail: dict = Field(default_factory=dict)


class CaseState(_Model):
    case_id: str
    state: CaseStateName
    jurisdiction: str
    holder_id: str
    declaration_id: str
    line_no: int
    goods_value: Decimal
    currency: str
    required_guarantee_cny: Decimal | None = None
    hold_id: str | None = None
    notice_ids: list[str] = Field(default_factory=list)
    disposition_id: str | None = None
    fine_amount: Decimal | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    procedure: str | None = None
    rule_pack_version: str | None = None
    required_guarantee: Decimal | None = None
    guarantee_currency: str | None = None
    guarantee_status: str | None = None
    disposal_method: str | None = None
    police_referral: bool = False
    submissions: list[PartySubmission] = Field(default_factory=list)
    fine_currency: str | None = None
    timezone: str | None = None


# ---- activity payloads (workflow -> step services) ----


class PlaceHoldRequest(_Model):
    idempotency_key: str
    case_id: str
    declaration_id: str
    line_no: int
    customs_office: str
    reason: str


class HoldActionRequest(_Model):
    idempotency_key: str
    hold_id: str
    action: HoldAction
    reason: str
    on_behalf_of: str | None = None


class HoldResult(_Model):
    hold_id: str
    status: str


class NoticeRequest(_Model):
    idempotency_key: str
    case_id: str
    kind: NoticeKind
    holder: HolderRef
    subject: str
    body: str
    reply_deadline_at: datetime | None = None
    reply_allowed: bool = False


class NoticeResult(_Model):
    notice_id: str
    email_status: str
    webhook_status: str


class DispositionRequest(_Model):
    idempotency_key: str
    case_id: str
    jurisdiction: str
    outcome: DispositionOutcome
    goods_value: Decimal = Field(ge=0)
    currency: str
    right_type: str
    fine_tier: str | None = None
    reason: str
    fine_amount: Decimal | None = Field(default=None, ge=0)
    fine_basis_value: Decimal | None = Field(default=None, ge=0, description="US: genuine retail value")
    repeat: bool = False
    disposal_method: str | None = None
    hearing: str | None = None
    police_referral: bool = False
    decided_by: str | None = None


class DispositionResult(_Model):
    disposition_id: str
    outcome: str
    fine_amount: Decimal
    fine_currency: str
    disposal_method: str | None = None


class RulesRequest(_Model):
    jurisdiction: str


class RuleSnapshot(_Model):
    """The rule pack and calendar a case runs under, recorded once in its history."""

    pack: dict
    calendar: dict


class CaseEventRecord(_Model):
    case_id: str
    seq: int
    at: datetime
    state: str
    event: str
    detail: dict = Field(default_factory=dict)
    case_input: CaseInput
