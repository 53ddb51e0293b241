"""What the disposal service answers at its HTTP edge: a recorded disposition, the outcome of a case with its fine
and what happens to the goods, line by line (the case worker reads it as ``DispositionResult``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from shared.contracts.bounds import CaseId, DispositionId, LineNo, Money, Timestamp
from shared.contracts.cases import DispositionOutcome


class DispositionLineView(BaseModel):
    """What happened to one line of the case (as the request named it: ``DispositionLine``)."""

    line_no: LineNo
    outcome: str = Field(max_length=32)
    goods_value: Money | None


class DispositionView(BaseModel):
    """The outcome of a case: release, confiscation with its fine, handing to a court, destruction, ..."""

    disposition_id: DispositionId
    case_id: CaseId
    jurisdiction: str = Field(max_length=8)
    outcome: DispositionOutcome
    goods_value: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    fine_tier: str | None = Field(max_length=32)
    fine_rate: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,16}\.[0-9]{4}$")] = Field(
        description="the fine as a share of the goods' value, four decimals"
    )
    fine_amount: Money
    fine_currency: str = Field(pattern=r"^[A-Z]{3}$")
    disposal_method: str | None = Field(max_length=64)
    reason: str = Field(max_length=2048)
    actor: str = Field(max_length=128, description="who decided (the officer, through the case worker)")
    decided_at: Timestamp | None
    hearing: str | None = Field(max_length=32)
    police_referral: bool
    lines: list[DispositionLineView] = Field(max_length=9999)
