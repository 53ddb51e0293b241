"""What the guarantees service answers at its HTTP edge besides the case worker's results (``guarantees.py``): a
general guarantee with its balance, draws and history; a cost charged; a case's guarantee with its costs so far,
settlement and history; the alerts an officer acts on. Amounts are text with two decimals, as the ledger keeps them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from shared.contracts.bounds import CaseGuaranteeId, CaseId, Count, Day, GuaranteeId, HolderId, Money, Timestamp
from shared.contracts.guarantees import CostKind, GuaranteeForm

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# A sum the ledger computes (costs so far, what is left): two decimals, negative where the costs exceed the
# guarantee; a sum of many amounts may pass the bound of one (``Money``), never the ledger's NUMERIC(18, 2).
Sum = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,16}\.[0-9]{2}$")]
CostId = Annotated[int, Field(ge=1, le=10**12)]


class AuditView(BaseModel):
    """One change, who made it and its figures."""

    action: str = Field(max_length=64, description="registered, drawn, restored, held, refused, cost_charged, ...")
    actor: str = Field(max_length=128)
    at: Timestamp
    detail: dict[str, Any] = Field(max_length=100)


class GeneralGuaranteeView(BaseModel):
    """A holder's general guarantee and what is left of it."""

    guarantee_id: GuaranteeId
    holder_id: HolderId
    jurisdiction: Jurisdiction
    amount: Money
    currency: Currency
    balance: Money = Field(description="what is left to draw on")
    used: Money = Field(description="drawn for open cases plus costs charged")
    coverage_from: Day
    coverage_until: Day
    letter_expires_on: Day
    issuer: str = Field(max_length=256)
    reference: str = Field(max_length=128)
    registered_by: str = Field(max_length=128)
    registered_at: Timestamp | None
    updated_at: Timestamp | None


class DrawView(BaseModel):
    """A draw for a case, or the refund of its remainder."""

    kind: Literal["draw", "restore"]
    case_id: CaseId
    case_guarantee_id: CaseGuaranteeId
    amount: Money
    balance_after: Money
    actor: str = Field(max_length=128)
    at: Timestamp


class GeneralGuaranteeDetails(GeneralGuaranteeView):
    draws: list[DrawView] = Field(max_length=1_000_000)
    history: list[AuditView] = Field(max_length=1_000_000)


class CostView(BaseModel):
    kind: CostKind
    amount: Money
    currency: Currency
    detail: str = Field(max_length=1024)
    actor: str = Field(max_length=128)
    at: Timestamp


class CostCharged(CostView):
    """A storage, custody or disposal cost recorded against the case's guarantee (paid at settlement)."""

    case_id: CaseId
    case_guarantee_id: CaseGuaranteeId
    cost_id: CostId


class Accrual(BaseModel):
    """Costs so far: the settled figures once settled, else the recorded costs plus storage up to now."""

    storage_days: Count
    storage_rate: Money | None = Field(description="per day; none when no rate is configured")
    storage: Sum
    costs: Sum
    accrued: Sum


class RefusalView(BaseModel):
    case_guarantee_id: CaseGuaranteeId
    form: GuaranteeForm
    code: str | None = Field(max_length=64)
    reason: str | None = Field(max_length=1024)
    at: Timestamp


class CaseGuaranteeView(BaseModel):
    """A case's guarantee (the held one, else the latest refusal), its costs so far, settlement and history."""

    case_id: CaseId
    case_guarantee_id: CaseGuaranteeId
    holder_id: HolderId
    jurisdiction: Jurisdiction
    form: GuaranteeForm
    status: Literal["held", "refused"]
    settled: bool
    currency: Currency
    required_amount: Money
    posted_amount: Money
    amount: Money
    drawn_from: GuaranteeId | None
    reference: str = Field(max_length=128)
    refusal_code: str | None = Field(max_length=64)
    reason: str | None = Field(max_length=1024)
    held_at: Timestamp | None
    costs: list[CostView] = Field(max_length=1_000_000)
    accrued: Accrual | None = Field(description="none for a refusal")
    headroom: Sum | None = Field(
        description="amount held minus costs so far; negative: the guarantee no longer covers them"
    )
    charged: Money
    refunded: Money
    unpaid: Sum = Field(description="costs beyond the guarantee, to claim from the holder or the guarantor")
    settled_at: Timestamp | None
    outcome: str | None = Field(max_length=64)
    ended_at: Timestamp | None
    refusals: list[RefusalView] = Field(max_length=1_000_000)
    history: list[AuditView] = Field(max_length=1_000_000)


class _GeneralAlert(BaseModel):
    guarantee_id: GuaranteeId
    holder_id: HolderId
    currency: Currency
    amount: Money
    balance: Money
    message: str = Field(max_length=1024)


class LowBalance(_GeneralAlert):
    kind: Literal["low_balance"]


class EndingSoon(_GeneralAlert):
    kind: Literal["coverage_ending", "letter_expiring"]
    on: Day
    days_left: Count


class UnpaidCosts(BaseModel):
    kind: Literal["unpaid_costs"]
    case_id: CaseId
    case_guarantee_id: CaseGuaranteeId
    holder_id: HolderId
    currency: Currency
    unpaid: Sum
    message: str = Field(max_length=1024)


class CostsExceedGuarantee(BaseModel):
    kind: Literal["costs_exceed_guarantee"]
    case_id: CaseId
    case_guarantee_id: CaseGuaranteeId
    holder_id: HolderId
    currency: Currency
    amount: Money
    accrued: Sum
    message: str = Field(max_length=1024)


Alert = Annotated[LowBalance | EndingSoon | UnpaidCosts | CostsExceedGuarantee, Field(discriminator="kind")]


class AlertRules(BaseModel):
    low_balance_ratio: str = Field(max_length=32, description="a balance below this share of the amount is low")
    low_balance_floor_cny: str = Field(max_length=32, description="or below this amount (CNY)")
    within_days: Count = Field(description="coverage or letters ending within these days")


class GuaranteeAlerts(BaseModel):
    """What needs an officer's attention, and the rules that found it."""

    alerts: list[Alert] = Field(max_length=1_000_000)
    rules: AlertRules
