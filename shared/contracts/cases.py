"""Contracts of the case workflow: its input, signals, query result and activity payloads.

Anything may start or signal a case (the risk service starts it, the notify service
and officers signal it), so these live in ``shared`` and not in the workflow's home.
One model in, one model out; fields are only added, with defaults.

The case unit is the consignment: one case per declaration and rights holder, holding every
suspected line of that declaration whose recorded right belongs to the holder
(``consignment_case_id``). Cases opened before that, one per declaration line
(``case_id_for``), keep their ids and their per-line fields.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.bounds import (
    ApplicationId,
    CaseId,
    Count,
    DeclarationId,
    DispositionId,
    HolderId,
    HoldId,
    IdempotencyKey,
    LineNo,
    Money,
    NoticeId,
    PlatformDay,
    PlatformTimestamp,
    PositiveMoney,
    Quantity,
    RecordationId,
    Revision,
    RunId,
    Seq,
    Timestamp,
    TraderId,
    UnitPrice,
    WeightKg,
    id_max_length,
)
from shared.contracts.documents import DocumentFacts

CASE_WORKFLOW_TYPE = "CaseWorkflow"
CASE_TASK_QUEUE = "ipr-cases"

SIGNAL_HOLDER_REPLY = "holder_reply"
SIGNAL_GUARANTEE = "guarantee_posted"
SIGNAL_DETERMINATION = "determination"
SIGNAL_COURT_NOTICE = "court_notice"
SIGNAL_PARTY_SUBMISSION = "party_submission"  # consignee/declarant/importer: statements, objections, counter-guarantees
SIGNAL_HEARING = "hearing"  # a hearing requested or concluded
SIGNAL_DISPOSAL_CHOICE = "disposal_choice"  # facts that decide the disposal method (public welfare, holder buys)
SIGNAL_LINES = "lines_revised"  # a declaration revision (or an officer) adds, updates or withdraws lines of the case
SIGNAL_CALENDAR = "calendar_published"  # an official working-day schedule was published: re-time pending deadlines
SIGNAL_PETITION_DECISION = "petition_decision"  # US: an officer decides the importer's petition after seizure
SIGNAL_CASE_REPAIRED = "case_repaired"  # the workflow was reset to its last good point after it failed
SIGNAL_APPROVAL = "approval"  # a supervisor's four-eyes decision on a proposed confiscation
SIGNAL_NOTICE_SERVED = "notice_served"  # an officer served a party's notice on paper (in person, post, fax)
QUERY_STATE = "state"

CaseStateName = Literal[
    "opened",
    "suspended",  # hold placed, holder notified, waiting for the holder's reply
    "awaiting_application",  # EU ex officio: waiting for the holder's application for action
    "detained",  # goods detained; customs investigating / parties' time limits running
    "undetermined",  # customs could not determine; waiting for a court assistance notice
    "hearing",  # infringement determined; the party may ask for a hearing before the fine
    "seized",  # US: an officer found the goods counterfeit; notice of seizure served, petition window running
    "released",
    "confiscated",
    "destroyed",  # EU simplified / small-consignment destruction
    "forfeited",  # US seizure and forfeiture
    "handed_to_court",
    "excluded",  # US: 30 days of detention passed without a finding; deemed exclusion (19 U.S.C. 1499(c)(5)(A))
    # Never set by the workflow: the cases service shows a case as failed while its workflow has failed or
    # was terminated, until it is repaired (reset to its last good point).
    "failed",
]
TERMINAL_STATES: frozenset[str] = frozenset(
    {"released", "confiscated", "destroyed", "forfeited", "handed_to_court", "excluded"}
)

CASE_ID_MAX = id_max_length("case_id")
_PLAIN_HOLDER_ID = re.compile(r"^[A-Za-z]{1,16}-[0-9]{1,16}$")  # the registry's form, e.g. RH-0001


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def chinese_marks(title: str, aliases: list[str]) -> list[str]:
    """The marks of a recordation written in Chinese characters (its title or aliases), as recorded and in
    their order: what documents print beside the Latin mark ("NIKE（耐克、耐吉）")."""
    out: list[str] = []
    for mark in [title, *aliases]:
        if _HAN.search(mark) and mark not in out:
            out.append(mark)
    return out


def case_id_for(declaration_id: str, line_no: int) -> str:
    """Case id of the per-line cases opened before consignment cases (``IPR-<declaration>-L<line>``)."""
    return f"IPR-{declaration_id}-L{line_no}"


def consignment_case_id(declaration_id: str, holder_id: str) -> str:
    """Deterministic case (and workflow) id of the case of one declaration and one rights holder.

    ``IPR-<declaration id>-<holder id>``, e.g. ``IPR-CN5300-2026-0000123-RH-0001``, when the holder id has the
    registry's form (letters, a dash, digits) and the id keeps within the 80 characters of a case id; any other
    holder id is written ``H`` and the first 10 hex digits of its SHA-256 (``IPR-CN5300-2026-0000123-H3f1c0a9b2d``),
    which fits with the longest declaration id (64). The holder part then holds exactly one dash and ends in
    digits, or holds none and starts with ``H``, so no two pairs of declaration and holder give the same id
    (short of two holders of one declaration sharing 40 bits of hash), none equals a per-line id (``-L<line>``),
    and every id keeps to the characters of the platform's ids. A redelivered or revised declaration reaches
    the same case; it never opens a second one.
    """
    plain = f"IPR-{declaration_id}-{holder_id}"
    if _PLAIN_HOLDER_ID.match(holder_id) and len(plain) <= CASE_ID_MAX:
        return plain
    return f"IPR-{declaration_id}-H{hashlib.sha256(holder_id.encode()).hexdigest()[:10]}"


DeadlineStatus = Literal["pending", "met", "lapsed", "cancelled"]
HoldAction = Literal[
    "detain", "release", "confiscate", "hand_to_court", "destroy", "forfeit", "suspend", "seize", "exclude"
]
NoticeKind = Literal[
    "suspension",
    "detention",
    "cannot_determine",
    "confiscation",
    "release",
    "court_handover",
    "application_needed",
    "confirmation_needed",
    "declarant_objected",
    "hearing_right",
    "police_referral",
    "disclosure",
    "destruction",
    "forfeiture",
    "escalation",
    "guarantee_refused",
    "lines_changed",
    "partial_release",
    "seizure",
    "exclusion",
    # to a party of the case (cases started under ``case-parties``)
    "party_detention",
    "penalty_decision",
]
PartyRole = Literal["declarant", "consignor", "consignee", "importer", "holder_of_goods"]
ServiceStatus = Literal["pending", "served", "undeliverable", "not_sent"]
ServiceMethod = Literal["in_person", "post", "fax", "other"]
DispositionOutcome = Literal["release", "confiscation", "handed_to_court", "destruction", "forfeiture", "exclusion"]
LineStatus = Literal[
    "held", "released", "confiscated", "destroyed", "forfeited", "seized", "excluded", "handed_to_court", "withdrawn"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PartyRef(_Model):
    id: TraderId
    name: str
    country: str | None = None
    # The party's address for written notices, as the declaration gave it (declarations 1.2). Webhooks go only
    # to endpoints a party registered with the notify service, never to an address taken from a declaration.
    contact_email: str | None = Field(default=None, max_length=320)


class ActorRef(_Model):
    """The person (or system) who acted, as the access token named them."""

    sub: str
    name: str
    role: str


class HolderRef(_Model):
    id: HolderId
    name: str = Field(max_length=256)
    contact_email: str = Field(max_length=320)
    webhook_url: str | None = Field(default=None, max_length=2048)


class LineHit(_Model):
    """A recorded mark found on a line (risk's hit), kept with the line in its case."""

    recordation_id: RecordationId
    mark: str
    match: str | None = None
    score: float | None = None


class CaseLine(_Model):
    """One declaration line of a case, with its own marks, recordations, hits, quantity and value."""

    line_no: LineNo
    hs_code: str
    description: str
    brand: str | None = None
    quantity: Quantity
    unit: str
    unit_value: UnitPrice
    goods_value: Money  # quantity x unit value, declaration currency
    goods_value_cny: Money | None = None
    gross_weight_kg: WeightKg | None = None
    recordation_id: RecordationId  # the right the line is suspected of infringing (its best hit)
    right_type: str
    mark: str
    hits: list[LineHit] = Field(default_factory=list)
    score: float = 0.0
    reasons: list[str] = Field(default_factory=list)
    genuine_unit_value: UnitPrice | None = None
    source: Literal["risk", "officer", "holder"] = "risk"  # who put the line into the case


class ConsignmentFacts(_Model):
    """The whole consignment (declaration), beyond the lines of one holder: what consignment-wide tests need."""

    line_count: Count
    units: Quantity  # all units of all lines (EU small-consignment test)
    gross_weight_kg: WeightKg | None = None  # all lines; None when a line has no weight
    suspected_value: Money  # every suspected line of every holder, declaration currency (police referral)
    suspected_value_cny: Money | None = None
    suspected_line_nos: list[LineNo] = Field(default_factory=list)
    declaration_line_nos: list[LineNo] = Field(default_factory=list)


class CaseInput(_Model):
    case_id: CaseId
    jurisdiction: str
    mode: Literal["ex_officio", "application"] = "ex_officio"
    customs_office: str
    direction: str
    declaration_id: DeclarationId
    revision: Revision
    line_no: LineNo
    hs_code: str
    description: str
    brand: str | None = None
    quantity: Quantity
    unit: str
    unit_value: UnitPrice
    currency: str
    goods_value: Money
    goods_value_cny: Money | None = None
    consignor: PartyRef
    consignee: PartyRef
    recordation_id: RecordationId
    right_type: str
    mark: str
    holder: HolderRef
    score: float
    reasons: list[str] = Field(default_factory=list)
    opened_at: Timestamp | None = None
    # Added in v2 (all optional): what the procedure needs beyond the skeleton.
    transport_mode: str | None = None
    gross_weight_kg: WeightKg | None = None
    perishable: bool = False
    genuine_unit_value: UnitPrice | None = None  # recorded genuine value per unit (US fines: retail value)
    repeat_infringer: bool = False
    application_id: ApplicationId | None = None  # EU: the holder's application for action (None: ex officio)
    small_consignment_opt_in: bool = True  # EU: the holder accepts the small-consignment procedure
    consignor_is_individual: bool = False
    evidence: str | None = None  # CN application mode: the holder's evidence that infringement is obvious
    opened_by: str | None = None
    # Consignment cases (one per declaration and holder). The per-line fields above then describe the
    # case as a whole: line_no, hs_code, description, recordation and mark of its first line; quantity,
    # goods_value(_cny) and gross weight the totals of its lines.
    lines: list[CaseLine] = Field(default_factory=list)
    consignment: ConsignmentFacts | None = None
    declarant: PartyRef | None = None  # who lodged the declaration (a party that may follow its cases)
    origin_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")  # the route (statistics by route)
    destination_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    # Added with Chinese marks: the recordation's marks in Chinese characters (``chinese_marks``), which
    # documents print beside ``mark``
    marks_zh: list[str] = Field(default_factory=list)


class LinesRevision(_Model):
    """Lines of a case in a declaration revision (``revision``), or lines an officer or applicant adds (``added``).

    A revision lists the lines the risk service suspects of this holder's rights; lines of the case it no
    longer lists are withdrawn (``line_cases`` names the case a line moved to), lines it adds join the case
    (``previous_line_cases`` names the case a line came from). Lines added by hand stay while they are in
    the declaration. Revisions older than the case's are ignored, so redelivery is harmless.
    """

    kind: Literal["revision", "added"] = "revision"
    declaration_id: DeclarationId
    revision: Revision
    lines: list[CaseLine] = Field(default_factory=list)
    consignment: ConsignmentFacts | None = None
    line_cases: dict[LineNo, CaseId] = Field(default_factory=dict)
    previous_line_cases: dict[LineNo, CaseId] = Field(default_factory=dict)
    by: str | None = Field(default=None, max_length=128)


class CalendarUpdate(_Model):
    """A published working-day calendar (e.g. the State Council's schedule for a year) for running cases."""

    calendar: dict[str, Any]
    version: str = Field(min_length=1, max_length=64)
    published_by: str | None = Field(default=None, max_length=128)


class GuaranteeInfo(_Model):
    amount: PositiveMoney
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    form: Literal["cash_deposit", "bank_letter", "general_guarantee"] = "cash_deposit"
    reference: str = Field(min_length=1, max_length=128)
    posted_by: ActorRef | None = None  # set by the API from the caller's token, never taken from the body


class HolderReply(_Model):
    decision: Literal["detain", "no_detention"]
    guarantee: GuaranteeInfo | None = None
    statement: str | None = Field(default=None, max_length=4000)
    notice_id: NoticeId | None = None
    replied_by: str | None = None
    actor: ActorRef | None = None


DeterminationOutcome = Literal["infringing", "not_infringing", "cannot_determine"]
FineTier = Literal["none", "mitigated", "lighter", "ordinary", "heavier"]
CourtAction = Literal["keep_detained_for_court", "release"]


class LineDetermination(_Model):
    """The determination for one line where it differs from the case's (e.g. line 4 does not infringe)."""

    line_no: LineNo
    outcome: Literal["infringing", "not_infringing"]


class Determination(_Model):
    outcome: DeterminationOutcome
    fine_tier: FineTier | None = None
    officer: str | None = None
    actor: ActorRef | None = None  # who determined (sub, name, role): the proposer for a four-eyes approval
    note: str | None = Field(default=None, max_length=4000)
    fine_amount: Money | None = Field(default=None, description="the fine decided; default: middle of the tier")
    retail_value: Money | None = Field(default=None, description="US: value of the goods if genuine (MSRP)")
    lines: list[LineDetermination] = Field(default_factory=list, description="per-line outcomes that differ")
    approved_by: ActorRef | None = None  # the supervisor who approved it (four-eyes), set by the workflow


class PetitionDecision(_Model):
    """US: the officer's decision on the importer's petition against seizure (19 U.S.C. 1618)."""

    outcome: Literal["granted", "denied"]
    officer: str | None = Field(default=None, max_length=128)
    note: str | None = Field(default=None, max_length=4000)
    actor: ActorRef | None = None  # who decided (sub, name, role)


class ApprovalDecision(_Model):
    """A supervisor's decision on a proposal waiting for a second person (four-eyes)."""

    decision: Literal["approve", "refuse", "withdraw"]  # withdraw: by its proposer (case-proposal-withdraw)
    note: str | None = Field(default=None, max_length=1000)
    actor: ActorRef | None = None  # set by the API from the caller's token, never taken from the body


class PartySubmission(_Model):
    """What the other side of the goods says or does: CN consignee statements, inspection requests and
    patent counter-guarantees; EU declarant's agreement or objection; US importer's response."""

    party: Literal["consignee", "consignor", "declarant", "importer", "holder"]
    kind: Literal[
        "non_infringement_statement",
        "inspection_request",
        "counter_guarantee",
        "agrees_to_destruction",
        "objects_to_destruction",
        "importer_response",
        "application_for_action",
        "proceedings_started",
        "extension_request",
        "confirms_infringement",
        "petition",
    ]
    text: str | None = Field(default=None, max_length=8000)
    reference: str | None = Field(default=None, max_length=128)
    amount: Money | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    submitted_by: str | None = None
    actor: ActorRef | None = None


class HearingUpdate(_Model):
    kind: Literal["requested", "waived", "concluded"]
    fine_amount: Money | None = None
    note: str | None = Field(default=None, max_length=4000)
    by: str | None = None
    actor: ActorRef | None = None
    approved_by: ActorRef | None = (
        None  # the supervisor who approved the concluded fine (four-eyes), set by the workflow
    )


class DisposalChoice(_Model):
    usable_for_public_welfare: bool = False
    holder_buys: bool = False
    infringing_features_removable: bool = False
    note: str | None = Field(default=None, max_length=4000)
    by: str | None = None
    actor: ActorRef | None = None


class CourtNotice(_Model):
    reference: str = Field(min_length=1, max_length=128)
    court: str = Field(min_length=1, max_length=256)
    action: CourtAction
    received_by: str | None = None
    note: str | None = Field(default=None, max_length=4000)
    actor: ActorRef | None = None


class NoticeServed(_Model):
    """An officer served a party's notice by other means (in person, by post, by fax) and records when."""

    notice: str = Field(min_length=1, max_length=64)  # the notice's id, or its key in the case (``party_notices``)
    method: ServiceMethod = "in_person"
    served_at: Timestamp | None = None  # default: when the case takes the signal; never later than that
    note: str | None = Field(default=None, max_length=1000)
    actor: ActorRef | None = None  # set by the API from the caller's token


class PartyNotice(_Model):
    """A notice the law gives a party of the case, and whether it has been served (which starts its clock)."""

    key: str  # the notice in the case: its kind (and the party's role where several parties get one)
    kind: NoticeKind
    role: PartyRole
    party_id: TraderId
    party_name: str
    notice_id: NoticeId | None = None  # None: the notify service refused it (an officer serves it on paper)
    status: ServiceStatus = "pending"
    sent_at: PlatformTimestamp | None = None
    served_at: PlatformTimestamp | None = None
    served_by: str | None = None  # "delivered" (mail server / webhook accepted it) or the officer who served it
    method: str | None = None  # email | webhook | in_person | post | fax | other
    clock: str | None = None  # the deadline its service starts
    basis: str | None = None


class Deadline(_Model):
    name: str
    working_days: Count
    start: PlatformDay
    due_date: PlatformDay
    due_at: PlatformTimestamp
    status: DeadlineStatus = "pending"
    unit: str = "working_days"
    basis: str | None = None
    escalate_at: PlatformTimestamp | None = None
    escalated: bool = False
    provisional: bool = False  # counted over days an official calendar does not cover yet
    calendar_version: str | None = None


class HistoryEntry(_Model):
    seq: Seq
    at: PlatformTimestamp
    state: str
    event: str
    detail: dict[str, Any] = Field(default_factory=dict)


class CaseLineState(_Model):
    """A line of a case as the case sees it now."""

    line_no: LineNo
    status: LineStatus = "held"
    recordation_id: RecordationId
    mark: str
    description: str
    hs_code: str
    quantity: Quantity
    unit: str
    goods_value: Money
    goods_value_cny: Money | None = None
    outcome: str | None = None  # the determination for this line
    moved_to: CaseId | None = None  # the case a withdrawn line moved to


class CaseState(_Model):
    case_id: CaseId
    state: CaseStateName
    jurisdiction: str
    holder_id: HolderId
    declaration_id: DeclarationId
    line_no: LineNo
    goods_value: Money
    currency: str
    required_guarantee_cny: Money | None = None
    hold_id: HoldId | None = None
    notice_ids: list[NoticeId] = Field(default_factory=list)
    disposition_id: DispositionId | None = None
    fine_amount: Money | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    procedure: str | None = None
    rule_pack_version: str | None = None
    required_guarantee: Money | None = None
    guarantee_currency: str | None = None
    guarantee_status: str | None = None
    disposal_method: str | None = None
    police_referral: bool = False
    submissions: list[PartySubmission] = Field(default_factory=list)
    fine_currency: str | None = None
    timezone: str | None = None
    lines: list[CaseLineState] = Field(default_factory=list)
    consignment: ConsignmentFacts | None = None
    revision: Revision | None = None
    calendar_version: str | None = None
    customs_office: str | None = None  # whose officers act on the case
    party_ids: list[TraderId] = Field(
        default_factory=list
    )  # declarant, consignor, consignee: parties that may follow it
    party_notices: list[PartyNotice] = Field(default_factory=list)  # notices to parties and their service
    # The parties of the case (without their contact addresses) and the direction of the goods: who may answer what.
    direction: str | None = None
    declarant: PartyRef | None = None
    consignor: PartyRef | None = None
    consignee: PartyRef | None = None
    # Whether the person who proposed a four-eyes decision may withdraw it (cases started under
    # ``case-proposal-withdraw``).
    proposals_withdrawable: bool = False


# ---- activity payloads (workflow -> step services) ----


class PlaceHoldRequest(_Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    declaration_id: DeclarationId
    line_no: LineNo
    customs_office: str = Field(min_length=2, max_length=16)
    reason: str = Field(max_length=1024)
    line_nos: list[LineNo] = Field(default_factory=list)  # every line of the case (empty: just line_no)


class HoldActionRequest(_Model):
    idempotency_key: IdempotencyKey
    hold_id: HoldId
    action: HoldAction
    reason: str = Field(max_length=1024)
    on_behalf_of: str | None = Field(default=None, max_length=128)
    line_nos: list[LineNo] | None = None  # the lines acted on; None: every line the action applies to


class HoldResult(_Model):
    hold_id: HoldId
    status: str


class NoticeAddressee(_Model):
    """The party a notice is addressed to, in the role the law gives it the notice."""

    role: PartyRole
    party: PartyRef


class NoticeRequest(_Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    kind: NoticeKind
    holder: HolderRef
    subject: str = Field(max_length=512)
    body: str = Field(max_length=100_000)
    reply_deadline_at: Timestamp | None = None
    reply_allowed: bool = False
    # The facts of the legal document the notice carries (notify numbers, renders and stores it). Workflows
    # started before documents send none; notify then sends the plain text alone and records why.
    document: DocumentFacts | None = None
    document_note: str | None = Field(default=None, max_length=1000)  # why the request carries no document
    # A notice to a party of the case (declarant, consignor, consignee, importer) instead of the rights holder;
    # ``holder`` then only names the case's holder.
    addressee: NoticeAddressee | None = None


class NoticeStatusRequest(_Model):
    """Whether a notice has been served on its addressee yet (read from the notify service)."""

    notice_id: NoticeId


class NoticeDeliveryStatus(_Model):
    """One delivery of a notice (a recipient on a channel) as far as it is known when the activity returns."""

    recipient_kind: str  # rights_holder | party
    recipient_id: TraderId  # a holder id or a party (trader) id
    channel: str  # email | webhook
    status: str  # pending | sending | retrying | delivered | undeliverable | not_configured
    # e-mail Message-ID or webhook event id, the same on every attempt: a header value, not a platform id
    message_id: str | None = Field(default=None, max_length=998)
    attempts: Count = 0
    served_at: Timestamp | None = None  # SMTP accepted it / the webhook answered 2xx


class NoticeResult(_Model):
    notice_id: NoticeId
    # The addressee's status per channel: delivered | undeliverable | not_configured | pending (recorded and
    # being sent or retried from notify's outbox; the case never waits for it).
    email_status: str
    webhook_status: str
    served_at: Timestamp | None = None  # when the notice counts as served on the addressee (first delivery)
    deliveries: list[NoticeDeliveryStatus] = Field(default_factory=list)
    # The addressee's service: served (a delivery accepted), undeliverable (every channel failed or none is
    # registered: an officer serves it on paper), pending (still being sent or retried). None: older notify.
    service: Literal["pending", "served", "undeliverable"] | None = None


class DispositionLine(_Model):
    """What happened to one line of the case (a case may confiscate some lines and release others)."""

    line_no: LineNo
    outcome: str = Field(max_length=32)
    goods_value: Money | None = None


class DispositionRequest(_Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$")
    outcome: DispositionOutcome
    goods_value: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    right_type: Literal["trademark", "copyright", "patent"]
    fine_tier: str | None = Field(default=None, max_length=32)
    reason: str = Field(max_length=2048)
    fine_amount: Money | None = None
    fine_basis_value: Money | None = Field(default=None, description="US: genuine retail value")
    repeat: bool = False
    disposal_method: str | None = Field(default=None, max_length=64)
    hearing: str | None = Field(default=None, max_length=32)
    police_referral: bool = False
    decided_by: str | None = Field(default=None, max_length=128)
    lines: list[DispositionLine] = Field(default_factory=list)


class DispositionResult(_Model):
    disposition_id: DispositionId
    outcome: str
    fine_amount: Money
    fine_currency: str
    disposal_method: str | None = None


class CaseRepaired(_Model):
    """Sent to a case workflow right after it was reset to its last good point, so its history names who did it."""

    by: str = Field(max_length=128)
    reason: str = Field(max_length=2048)
    failed_run_id: RunId | None = None
    failure: str | None = Field(default=None, max_length=8192)
    reset_to_event_id: Seq | None = None


class RulesRequest(_Model):
    jurisdiction: str


class RuleSnapshot(_Model):
    """The rule pack and calendar a case runs under, recorded once in its history."""

    pack: dict[str, Any]
    calendar: dict[str, Any]


class CaseEventRecord(_Model):
    case_id: CaseId
    seq: Seq
    at: PlatformTimestamp
    state: str
    event: str
    detail: dict[str, Any] = Field(default_factory=dict)
    case_input: CaseInput
    lines: list[CaseLineState] = Field(default_factory=list)  # consignment cases: every line and its status
    # Added: the case as the workflow sees it after this entry (without the history), on the last record of a
    # batch, so the cases database can serve the case once its workflow is gone.
    snapshot: CaseState | None = None
