"""Case access codes as the identity service answers them (and the cases service passes on): the
shape of a code's record and of a newly issued code. See ``services/identity/case_access.py``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.contracts.bounds import CaseId, Count, Timestamp, TraderId

AccessId = Annotated[str, Field(pattern=r"^CA-[0-9A-F]{16}$")]
PartyRoleName = Literal["declarant", "consignor", "consignee", "importer", "holder_of_goods"]


class CaseAccessView(BaseModel):
    """A case access code as the platform keeps it (never the code itself)."""

    access_id: AccessId
    case_id: CaseId
    party_id: TraderId
    party_role: PartyRoleName
    display_name: str = Field(max_length=128)
    issued_by: str = Field(max_length=256, description="the officer who asked for it")
    issued_at: Timestamp | None
    expires_at: Timestamp
    status: Literal["valid", "expired", "revoked"]
    revoked_at: Timestamp | None
    revoked_by: str | None = Field(max_length=256)
    uses: Count = Field(description="how many times it was exchanged for a token")
    last_used_at: Timestamp | None


class Exchange(BaseModel):
    """Where and how the party exchanges the code for a token."""

    token_endpoint: str = Field(max_length=2048)
    grant_type: Literal["urn:ipr:params:oauth:grant-type:case-access-code"]
    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")


class IssuedCaseAccess(CaseAccessView):
    """A new code: the only answer that carries it."""

    code: str = Field(pattern=r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$", description="shown once; only its digest is kept")
    replaced: list[AccessId] = Field(
        max_length=1000, description="earlier valid codes of the same party and case, now revoked"
    )
    exchange: Exchange
