"""Guarantee contracts, version 1: the money behind a detention.

A rights holder secures a detention either with a per-case guarantee (cash deposit or a
bank letter) or by drawing on its annual general guarantee (CN: a bank letter lodged with
GACC, balance drawn per case, coverage to 31 December, letter valid to 30 June of the next
year). Storage, custody and disposal costs are charged to the guarantee; what is left is
refunded when the case ends. The case workflow calls the guarantees service with these
payloads; the idempotency key is born in the workflow.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.bounds import (
    CaseGuaranteeId,
    CaseId,
    Count,
    Day,
    GuaranteeId,
    HolderId,
    IdempotencyKey,
    Money,
    PositiveMoney,
    Timestamp,
)

GuaranteeForm = Literal["cash_deposit", "bank_letter", "general_guarantee"]
CostKind = Literal["storage", "custody", "disposal"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GeneralGuaranteeV1(_Model):
    """A holder's annual general guarantee (registered by an officer when the bank letter arrives)."""

    guarantee_id: GuaranteeId
    holder_id: HolderId
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$")
    amount: PositiveMoney
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    coverage_from: Day
    coverage_until: Day
    letter_expires_on: Day
    issuer: str = Field(min_length=1, max_length=256)
    reference: str = Field(min_length=1, max_length=128)


class HoldGuaranteeRequest(_Model):
    """Secure one case: record a per-case guarantee, or draw the required amount from a general guarantee."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    holder_id: HolderId
    jurisdiction: str
    required_amount: Money
    currency: str
    form: GuaranteeForm
    amount: Money = Field(description="Amount posted; for a general guarantee the amount to draw")
    reference: str


class HoldGuaranteeResult(_Model):
    case_guarantee_id: CaseGuaranteeId
    status: Literal["held", "refused"]
    amount: Money
    currency: str
    drawn_from: GuaranteeId | None = None
    reason: str | None = None


class ChargeCostRequest(_Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    kind: CostKind
    amount: Money
    currency: str
    detail: str = ""


class SettleGuaranteeRequest(_Model):
    """The case has ended: charge storage for the days held, then refund the remainder."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    outcome: str
    ended_at: Timestamp


class SettleGuaranteeResult(_Model):
    case_guarantee_id: CaseGuaranteeId
    charged: Money
    refunded: Money
    currency: str
    storage_days: Count
    # Added in v1 (defaults keep older readers and writers compatible):
    storage_amount: Money = Field(default=Decimal(0), description="Storage accrued for the days held")
    costs_amount: Money = Field(default=Decimal(0), description="Recorded storage, custody and disposal costs")
    unpaid: Money = Field(
        default=Decimal(0),
        description="Costs beyond the guarantee, to claim from the holder or the guarantor (CN Reg. Art. 25)",
    )
