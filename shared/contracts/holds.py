"""What the holds service answers at its HTTP edge: a hold, its lines and its audit trail (the case worker
reads the same answers as ``HoldResult``, which keeps only what it needs)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.contracts.bounds import CaseId, DeclarationId, HoldId, LineNo, Timestamp


class HoldLineView(BaseModel):
    line_no: LineNo
    status: str = Field(max_length=32, description="suspended, detained, seized, released, confiscated, ...")


class HoldView(BaseModel):
    """A hold on the lines of a declaration that a case suspects."""

    hold_id: HoldId
    case_id: CaseId
    declaration_id: DeclarationId
    line_no: LineNo = Field(description="the first line of the hold")
    customs_office: str = Field(max_length=16)
    status: str = Field(
        max_length=32, description="the furthest status any line is under customs control in, else the last one"
    )
    reason: str = Field(max_length=1024)
    created_at: Timestamp | None
    updated_at: Timestamp | None
    line_nos: list[LineNo] = Field(max_length=9999)
    lines: list[HoldLineView] = Field(max_length=9999)


class HoldEventView(BaseModel):
    """One change of the hold, and who made it."""

    status: str = Field(max_length=32)
    reason: str = Field(max_length=1024)
    actor: str = Field(max_length=256)
    at: Timestamp
    line_nos: list[LineNo] | None = Field(default=None, max_length=9999)


class HoldWithHistory(HoldView):
    history: list[HoldEventView] = Field(max_length=100_000)
