"""Contract of the legal documents: what a notice or decision of a case says, as data.

The notify service renders a ``DocumentData`` into HTML, a plain-text e-mail body and
a PDF (``services/notify/documents``) in the jurisdiction's languages: CN in Simplified
Chinese with English alongside, EU in the member state's language and English, US in
English. The caller (the case workflow) supplies the facts, the amounts and the
deadlines already computed by ``shared/rules``; a document never computes law itself.

``DOCUMENT_ADDRESSEES`` says which document the law gives to whom in each jurisdiction.

Version 1. Fields are only added, with defaults.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts.bounds import (
    ApplicationId,
    CaseId,
    Count,
    Day,
    DeclarationId,
    LineNo,
    Quantity,
    RecordationId,
    Revision,
    Timestamp,
    TraderId,
    UnitPrice,
    Version,
    WeightKg,
)
from shared.contracts.bounds import Money as Amount

if TYPE_CHECKING:
    from shared.contracts.cases import CaseInput, Deadline

DOCUMENTS_CONTRACT_VERSION = 1

DocumentKind = Literal[
    "suspension_notice",  # to the rights holder: release suspended / goods detained, what to do by when
    "party_detention_notice",  # CN detention receipt; EU Art. 17-18 notification; US notice of detention
    "reply_reminder",  # a running reply window is about to close
    "guarantee_refused",  # CN: the guarantee could not be held; post another before the window closes
    "cannot_determine",  # CN Reg. Art. 20: customs cannot determine infringement
    "hearing_right",  # CN Penalty Regs Art. 49: proposed penalty and the right to a hearing
    "penalty_decision",  # CN: confiscation and fine, with payment and appeal instructions
    "release_notice",
    "disposal_notice",  # CN Reg. Art. 27: how the confiscated goods are disposed of
    "destruction_notice",  # EU Art. 23, 26: goods destroyed under customs control
    "disclosure_to_owner",  # US 19 CFR 133.21: importation information disclosed to the mark owner
    "seizure_notice",  # US: notice of seizure with the petition window (19 CFR 171)
    "court_handover",  # goods held for / handed to the court
    "police_referral",  # CN: suspected crime referred to the public security organ
]
DOCUMENT_KINDS: tuple[str, ...] = get_args(DocumentKind)

DocumentJurisdiction = Literal["CN", "EU", "US"]
AddresseeRole = Literal[
    "rights_holder",
    "declarant",
    "consignor",
    "consignee",
    "holder_of_goods",
    "importer",
    "police",
    "court",
]
ReleaseReason = Literal[
    "no_reply",  # CN: no request for detention within the reply window
    "no_detention_requested",  # the holder stated that no detention is needed
    "no_guarantee",  # CN: no sufficient guarantee within the window
    "not_infringing",  # customs determined no infringement (US: not counterfeit)
    "no_court_notice",  # CN: no court assistance notice within 20 / 50 working days
    "counter_guarantee",  # CN patents: the consignee posted a counter-guarantee
    "court_order",  # a court ordered release
    "no_application",  # EU: no application for action within 4 working days
    "no_confirmation",  # EU: the holder neither confirmed nor started proceedings in time
    "no_proceedings",  # EU small consignments: the declarant objected and no proceedings followed
    "importer_established",  # US: the importer showed the goods do not bear a counterfeit mark
    "other",  # see ``reason_text``
]
DisposalMethod = Literal[
    "public_welfare",
    "sale_to_holder",
    "auction_after_removal",
    "destruction",
    "forfeiture_destruction",
]
FineTierName = Literal["none", "mitigated", "lighter", "ordinary", "heavier"]
DisclosureStage = Literal["at_detention", "after_importer_window", "after_seizure"]

# Which document goes to whom, per jurisdiction (the law's addressees; copies may go to others).
DOCUMENT_ADDRESSEES: dict[str, dict[str, frozenset[str]]] = {
    "suspension_notice": {"CN": frozenset({"rights_holder"}), "EU": frozenset({"rights_holder"})},
    "party_detention_notice": {
        "CN": frozenset({"declarant", "consignor", "consignee"}),
        "EU": frozenset({"declarant", "holder_of_goods"}),
        "US": frozenset({"importer"}),
    },
    "reply_reminder": {
        "CN": frozenset({"rights_holder", "consignor", "consignee"}),
        "EU": frozenset({"rights_holder", "declarant", "holder_of_goods"}),
        "US": frozenset({"importer"}),
    },
    "guarantee_refused": {"CN": frozenset({"rights_holder"})},
    "cannot_determine": {"CN": frozenset({"rights_holder"})},
    "hearing_right": {"CN": frozenset({"consignor", "consignee", "declarant"})},
    "penalty_decision": {"CN": frozenset({"consignor", "consignee", "declarant"})},
    "release_notice": {
        "CN": frozenset({"rights_holder", "declarant", "consignor", "consignee"}),
        "EU": frozenset({"rights_holder", "declarant", "holder_of_goods"}),
        "US": frozenset({"importer", "rights_holder"}),
    },
    "disposal_notice": {"CN": frozenset({"rights_holder"})},
    "destruction_notice": {"EU": frozenset({"rights_holder", "declarant", "holder_of_goods"})},
    "disclosure_to_owner": {"US": frozenset({"rights_holder"})},
    "seizure_notice": {"US": frozenset({"importer"})},
    "court_handover": {
        "CN": frozenset({"rights_holder", "consignor", "consignee", "declarant"}),
        "EU": frozenset({"rights_holder", "declarant", "holder_of_goods"}),
    },
    "police_referral": {"CN": frozenset({"police"})},
}


def applies(kind: str, jurisdiction: str, role: str | None = None) -> bool:
    """Whether the law gives document ``kind`` in ``jurisdiction`` (to an addressee in ``role``)."""
    roles = DOCUMENT_ADDRESSEES.get(kind, {}).get(jurisdiction)
    return roles is not None and (role is None or role in roles)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Currency = Field(pattern=r"^[A-Z]{3}$")


class Money(_Model):
    amount: Amount
    currency: str = Currency


class Office(_Model):
    """The issuing customs office. ``name_local``/``address_local`` in the jurisdiction's language."""

    code: str = Field(pattern=r"^[A-Z0-9]{2,16}$")
    name: str = Field(min_length=1, max_length=256)
    name_local: str | None = Field(default=None, max_length=256)
    address: str | None = Field(default=None, max_length=512)
    address_local: str | None = Field(default=None, max_length=512)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=256)


class Addressee(_Model):
    role: AddresseeRole
    name: str = Field(min_length=1, max_length=256)
    id: TraderId | None = None
    address: str | None = Field(default=None, max_length=512)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    email: str | None = Field(default=None, max_length=256)


class PartyRef(_Model):
    """A party as a document names it."""

    # cases' ``PartyRef`` shares the name: a title of its own keeps the two apart in generated clients
    model_config = ConfigDict(title="DocumentPartyRef")

    id: TraderId | None = None
    name: str = Field(min_length=1, max_length=256)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    address: str | None = Field(default=None, max_length=512)


class RightRef(_Model):
    """A recorded right, with its mark and recordation id in Latin and (where recorded) Chinese form."""

    recordation_id: RecordationId
    recordation_id_zh: str | None = Field(default=None, max_length=64)
    right_type: Literal["trademark", "copyright", "patent"] = "trademark"
    mark: str = Field(min_length=1, max_length=256)
    mark_zh: str | None = Field(default=None, max_length=256)
    registration_number: str | None = Field(default=None, max_length=64)
    holder_name: str | None = Field(default=None, max_length=256)
    holder_name_zh: str | None = Field(default=None, max_length=256)

    @classmethod
    def from_case(cls, case: CaseInput, **extra: Any) -> RightRef:
        """From a case ``shared.contracts.cases.CaseInput``: the recorded mark and its Chinese marks, joined
        with the Chinese enumeration comma ("耐克、耐吉")."""
        marks_zh = "、".join(getattr(case, "marks_zh", None) or []) or None
        if marks_zh and len(marks_zh) > 256:
            marks_zh = marks_zh[:255].rsplit("、", 1)[0] + "…"
        fields = {
            "recordation_id": case.recordation_id,
            "right_type": case.right_type,
            "mark": case.mark,
            "mark_zh": marks_zh,
            "holder_name": case.holder.name,
            **extra,
        }
        return cls(**fields)


class GoodsLine(_Model):
    line_no: LineNo
    hs_code: str = Field(pattern=r"^[0-9]{4,10}$")
    description: str = Field(min_length=1, max_length=1024)
    brand: str | None = Field(default=None, max_length=256)
    quantity: Quantity
    unit: str = Field(min_length=1, max_length=16)
    unit_value: UnitPrice | None = None
    value: Amount
    currency: str = Currency
    recordation_ids: list[RecordationId] = Field(default_factory=list)
    origin_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    gross_weight_kg: WeightKg | None = None
    outcome: str | None = Field(
        default=None,
        max_length=64,
        description="per-line decision where the law allows one (e.g. released, confiscated)",
    )


class CaseFacts(_Model):
    case_id: CaseId
    declaration_id: DeclarationId
    declaration_revision: Revision | None = None
    mode: Literal["ex_officio", "application"] = "ex_officio"
    direction: Literal["import", "export", "transit"] | None = None
    transport_mode: str | None = Field(default=None, max_length=32)
    declarant: PartyRef | None = None
    consignor: PartyRef | None = None
    consignee: PartyRef | None = None
    importer: PartyRef | None = None  # US: importer of record (defaults to the consignee in documents)
    manufacturer: PartyRef | None = None
    origin_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    destination_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    port: str | None = Field(default=None, max_length=128, description="port of entry / exit")
    rights: list[RightRef] = Field(min_length=1)
    lines: list[GoodsLine] = Field(min_length=1)
    goods_value: Money | None = None  # default: the sum of the lines
    goods_value_local: Money | None = None  # in the jurisdiction's currency where it differs (CN: CNY)
    application_id: ApplicationId | None = None  # EU application for action
    presented_on: Day | None = None
    suspended_on: Day | None = None
    detained_on: Day | None = None

    @model_validator(mode="after")
    def _lines(self) -> CaseFacts:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_no values must be unique within a case")
        return self

    @property
    def total_value(self) -> Money:
        if self.goods_value is not None:
            return self.goods_value
        currencies = {line.currency for line in self.lines}
        if len(currencies) != 1:
            raise ValueError("goods lines in several currencies: give goods_value")
        return Money(amount=sum((line.value for line in self.lines), Decimal(0)), currency=currencies.pop())


class DocumentDeadline(_Model):
    """A time limit as ``shared/rules`` computed it: the last day (local) and the instant it ends."""

    name: str = Field(min_length=1, max_length=64)  # the rule pack's deadline name, e.g. holder_reply
    due_date: Day
    due_at: Timestamp
    amount: Count | None = Field(default=None, ge=1)
    unit: Literal["working_days", "calendar_days", "business_days"] = "working_days"
    start: Day | None = None
    basis: str | None = Field(default=None, max_length=256)
    provisional: bool = False  # the last day lies in a year the official calendar does not cover yet

    @field_validator("due_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("due_at must carry a time zone")
        return value

    @classmethod
    def from_case_deadline(cls, deadline: Deadline, *, provisional: bool = False) -> DocumentDeadline:
        """From a case ``shared.contracts.cases.Deadline``."""
        unit = deadline.unit if deadline.unit in ("working_days", "calendar_days") else "working_days"
        return cls(
            name=deadline.name,
            due_date=deadline.due_date,
            due_at=deadline.due_at,
            amount=deadline.working_days,
            unit=unit,
            start=deadline.start,
            basis=deadline.basis,
            provisional=provisional or bool(getattr(deadline, "provisional", False)),
        )


class GuaranteeFacts(_Model):
    required: Money | None = None
    posted: Money | None = None
    form: Literal["cash_deposit", "bank_letter", "general_guarantee"] | None = None
    reference: str | None = Field(default=None, max_length=128)
    refusal_reason: str | None = Field(default=None, max_length=512)


class PenaltyFacts(_Model):
    fine: Money
    tier: FineTierName | None = None
    fine_min: Money | None = None
    fine_max: Money | None = None
    value_basis: Money | None = None  # goods value the fine is a share of (Penalty Regs Art. 64)
    confiscation: bool = True
    decision_number: str | None = Field(default=None, max_length=64)  # for a disposal notice: the penalty decision
    payment_days: Count = Field(default=15, ge=1)


class CourtFacts(_Model):
    court: str = Field(min_length=1, max_length=256)
    reference: str | None = Field(default=None, max_length=128)
    received_on: Day | None = None


class Cost(_Model):
    kind: Literal["storage", "custody", "handling", "disposal", "destruction"]
    amount: Money


class DocumentClock(_Model):
    """A time limit counted from the day the document is served (a party's clock): its date is not known when the
    document is issued, so the document states the period and from when it runs."""

    name: str = Field(min_length=1, max_length=64)  # the rule pack's deadline name, e.g. declarant_consent
    amount: Count = Field(ge=1)
    unit: Literal["working_days", "calendar_days", "business_days"] = "working_days"
    basis: str | None = Field(default=None, max_length=256)


class DocumentFacts(_Model):
    """What a document says, as the case workflow knows it when it has a notice sent: everything but the
    number and the date of issue, which the register that stores the document gives (``DocumentData``)."""

    kind: DocumentKind
    jurisdiction: DocumentJurisdiction
    member_state: str = Field(default="DE", pattern=r"^[A-Z]{2}$")  # EU: the state whose customs act
    office: Office
    addressee: Addressee
    copies_to: list[Addressee] = Field(default_factory=list)
    case: CaseFacts
    deadlines: list[DocumentDeadline] = Field(default_factory=list)
    clocks: list[DocumentClock] = Field(default_factory=list)  # time limits that run from service of the document
    guarantee: GuaranteeFacts | None = None
    penalty: PenaltyFacts | None = None
    release_reason: ReleaseReason | None = None
    reason_text: str | None = Field(default=None, max_length=2000)
    disposal_method: DisposalMethod | None = None
    destruction_procedure: Literal["standard", "small_consignment"] | None = None
    destruction_consent: Literal["agreed", "deemed"] | None = None
    destroyed_on: Day | None = None
    disclosure_stage: DisclosureStage | None = None
    reminder_for: str | None = Field(default=None, max_length=64)  # the deadline a reminder is about
    retail_value: Money | None = None  # US: value of the goods if genuine (MSRP)
    fine_cap: Money | None = None  # US 19 U.S.C. 1526(f)
    seized_on: Day | None = None
    court: CourtFacts | None = None
    police_threshold: Money | None = None
    referral_value: Money | None = None  # all suspected goods of the consignment and consignor (may span holders)
    costs: list[Cost] = Field(default_factory=list)
    officer: str | None = Field(default=None, max_length=256)
    reply_url: str | None = Field(default=None, max_length=512)
    note: str | None = Field(default=None, max_length=4000)
    timezone: str | None = None  # default: the jurisdiction's calendar time zone

    def deadline(self, name: str) -> DocumentDeadline | None:
        return next((d for d in self.deadlines if d.name == name), None)

    def clock(self, name: str) -> DocumentClock | None:
        return next((c for c in self.clocks if c.name == name), None)


class DocumentData(DocumentFacts):
    """A numbered, dated document: the facts with the number and date of issue the register gave."""

    contract_version: Version = DOCUMENTS_CONTRACT_VERSION
    number: str = Field(min_length=1, max_length=64)
    issued_on: Day

    @classmethod
    def issue(cls, facts: DocumentFacts, *, number: str, issued_on: Any) -> DocumentData:
        return cls(**dict(facts), number=number, issued_on=issued_on)


# The legal document a written notice to the rights holder carries, per notice kind and jurisdiction (a
# notice kind missing here carries none: the law gives the holder no document of its own for it, e.g. the CN
# detention, which the parties receive as a detention receipt, or a hearing, which concerns the party fined).
# The police referral goes to the public security organ; the holder's notice carries its copy.
HOLDER_NOTICE_DOCUMENTS: dict[tuple[str, str], str] = {
    ("suspension", "CN"): "suspension_notice",
    ("guarantee_refused", "CN"): "guarantee_refused",
    ("cannot_determine", "CN"): "cannot_determine",
    ("confiscation", "CN"): "disposal_notice",
    ("police_referral", "CN"): "police_referral",
    ("court_handover", "CN"): "court_handover",
    ("release", "CN"): "release_notice",
    ("partial_release", "CN"): "release_notice",
    ("application_needed", "EU"): "suspension_notice",
    ("confirmation_needed", "EU"): "suspension_notice",
    ("destruction", "EU"): "destruction_notice",
    ("court_handover", "EU"): "court_handover",
    ("release", "EU"): "release_notice",
    ("partial_release", "EU"): "release_notice",
    ("detention", "US"): "disclosure_to_owner",
    ("disclosure", "US"): "disclosure_to_owner",
    ("seizure", "US"): "disclosure_to_owner",
    ("forfeiture", "US"): "disclosure_to_owner",
    ("release", "US"): "release_notice",
    ("partial_release", "US"): "release_notice",
}

# The legal document a written notice to a party of the case carries (``shared.rules.parties`` says which party
# gets which notice); it is addressed to that party, with no copy to the holder.
PARTY_NOTICE_DOCUMENTS: dict[tuple[str, str], str] = {
    ("party_detention", "CN"): "party_detention_notice",
    ("party_detention", "EU"): "party_detention_notice",
    ("party_detention", "US"): "party_detention_notice",
    ("hearing_right", "CN"): "hearing_right",
    ("penalty_decision", "CN"): "penalty_decision",
}
