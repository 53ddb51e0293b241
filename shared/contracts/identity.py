"""What the identity administration answers (``services/identity/api.py``): the caller as its token says, accounts,
rights holders and OAuth clients (each change with the sessions it revoked), and the audit trail of those changes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from shared.contracts.bounds import CaseId, Count, HolderId, Timestamp, TokenClaim, TraderId

# An account's user name (the token's ``sub``) and a client's id: lower case, never reused.
ACCOUNT_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID_PATTERN)]
ClientId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID_PATTERN)]
# What an audit entry is about: an account, a holder, a client or a case access code (CA-...).
AuditTargetId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
OfficeCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z0-9]{2,14}$")]
Role = Literal["officer", "supervisor", "administrator", "clearance_system", "rights_holder", "party", "system"]
PersonRole = Literal["officer", "supervisor", "administrator", "rights_holder", "party"]
MachineRole = Literal["clearance_system", "system"]


class Me(BaseModel):
    """The caller as the access token names it (claims of whichever provider the platform trusts, as they are)."""

    sub: TokenClaim
    name: TokenClaim
    role: Role
    offices: list[TokenClaim] = Field(max_length=16 * 1024, description="customs offices an officer acts for")
    holder_id: TokenClaim | None = Field(description="a rights holder's user: the holder")
    party_id: TokenClaim | None = Field(description="a declarant or a party with a case access code")
    case_id: TokenClaim | None = Field(description="a token bound to one case (a case access code)")
    client_id: TokenClaim | None = Field(description="the OAuth client the token was issued to")


class AccountView(BaseModel):
    """A person who signs in (never the password)."""

    account_id: AccountId
    display_name: str = Field(max_length=128)
    email: str | None = Field(max_length=256)
    role: PersonRole
    offices: list[OfficeCode] = Field(max_length=50)
    holder_id: HolderId | None
    party_id: TraderId | None
    case_id: CaseId | None
    locale: Literal["en", "zh"]
    enabled: bool
    created_at: Timestamp | None


class AccountChanged(AccountView):
    """An account disabled or enabled."""

    revoked: Count = Field(description="sessions, grants and refresh tokens deleted (disabling only)")


class AuditActor(BaseModel):
    sub: str = Field(max_length=64)
    name: str = Field(max_length=128)


class AuditEntryView(BaseModel):
    """One change to an account, holder, client or case access code, and who made it."""

    at: Timestamp
    actor: AuditActor
    action: str = Field(max_length=48, description="e.g. account.created, holder.verified, client.secret_rotated")
    target_type: Literal["account", "holder", "client", "case_access"]
    target_id: AuditTargetId
    detail: dict[str, Any] = Field(max_length=64, description="the change's figures (role, offices, reason, ...)")


class AccountWithHistory(AccountView):
    history: list[AuditEntryView] = Field(max_length=100_000)


class HolderView(BaseModel):
    """A rights holder as an organisation: its users sign in once customs verified and enabled it."""

    holder_id: HolderId
    name: str = Field(max_length=256)
    verified: bool
    enabled: bool
    verification_note: str | None = Field(max_length=1000)


class HolderChanged(HolderView):
    """A holder disabled or enabled."""

    revoked: Count = Field(description="sessions and refresh tokens of its users deleted (disabling only)")


class ClientView(BaseModel):
    """An OAuth client (never its secret)."""

    client_id: ClientId
    name: str = Field(max_length=128)
    kind: Literal["machine", "browser", "case_access"]
    role: MachineRole | None = Field(description="the role a machine client's tokens carry")
    offices: list[OfficeCode] = Field(max_length=50)
    redirect_uris: list[Annotated[str, StringConstraints(max_length=2048)]] = Field(max_length=10)
    first_party: bool
    enabled: bool


class ClientCreated(ClientView):
    """A new client; a machine client's secret is in this answer only (browser and case access clients have none)."""

    client_secret: str | None = Field(default=None, max_length=256)


class ClientWithSecret(ClientView):
    """A machine client's new secret, in this answer only."""

    client_secret: str = Field(max_length=256)
