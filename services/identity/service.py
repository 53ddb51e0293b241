"""Use cases of the identity administration: accounts, rights holders, clients, each change in the audit log.

Disabling an account or a client also deletes its sessions, grants, codes and refresh tokens from the
provider's state, so it is refused from the next request on; access tokens already issued lapse within
their lifetime (at most 5 minutes).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.models import Account, AuditEntry, Client, Holder, OidcPayload
from services.identity.passwords import (
    check_password_strength,
    hash_client_secret,
    hash_password,
    new_client_secret,
)
from shared.auth import Principal
from shared.contracts.bounds import CaseId, HolderId, TraderId
from shared.contracts.identity import ACCOUNT_ID_PATTERN as ID_PATTERN
from shared.contracts.identity import MachineRole, PersonRole
from shared.errors import Conflict, Forbidden, NotFound, Refused

RedirectUri = Annotated[str, StringConstraints(max_length=2048)]
OFFICE_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{2,14}$")
# What a supervisor may manage; an administrator manages everything.
SUPERVISOR_MANAGES = {"officer", "rights_holder", "party"}


def _conflict(code: str, message: str) -> Conflict:
    return Conflict(code, message)


def _not_found(what: str, key: str) -> NotFound:
    return NotFound(f"{what}_not_found", f"no {what} {key}")


def _forbidden(message: str) -> Forbidden:
    return Forbidden("not_your_to_manage", message)


def _offices(value: list[str]) -> list[str]:
    out = sorted({v.strip().upper() for v in value})
    bad = [v for v in out if not OFFICE_PATTERN.match(v)]
    if bad:
        raise ValueError(f"not customs office codes: {bad}")
    return out


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(pattern=ID_PATTERN, description="User name; the token's `sub`, never reused")
    display_name: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, max_length=256)
    role: PersonRole
    offices: list[str] = Field(default_factory=list, max_length=50)
    holder_id: HolderId | None = None
    party_id: TraderId | None = Field(default=None, description="as declarations name the party")
    case_id: CaseId | None = None
    locale: Literal["en", "zh"] = "en"
    password: str = Field(min_length=1, max_length=256)

    @field_validator("offices")
    @classmethod
    def _office_codes(cls, value: list[str]) -> list[str]:
        return _offices(value)

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        check_password_strength(value)
        return value


class NewHolder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holder_id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,63}$")
    name: str = Field(min_length=1, max_length=256)


class NewClient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["machine", "browser", "case_access"] = Field(
        default="machine",
        description="machine: client credentials in its role; browser: a person signs in "
        "(authorization code + PKCE); case_access: a public client that exchanges case access codes",
    )
    role: MachineRole | None = None
    offices: list[str] = Field(default_factory=list, max_length=50)
    redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=10)
    post_logout_redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=10)
    first_party: bool = False

    @field_validator("offices")
    @classmethod
    def _office_codes(cls, value: list[str]) -> list[str]:
        return _offices(value)


class ChangeReason(BaseModel):
    """Why an account, holder or client is disabled, enabled or verified (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=256)

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        check_password_strength(value)
        return value


class OfficesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offices: list[str] = Field(max_length=50)

    @field_validator("offices")
    @classmethod
    def _office_codes(cls, value: list[str]) -> list[str]:
        return _offices(value)


def account_view(a: Account) -> dict:
    return {
        "account_id": a.account_id,
        "display_name": a.display_name,
        "email": a.email,
        "role": a.role,
        "offices": list(a.offices or []),
        "holder_id": a.holder_id,
        "party_id": a.party_id,
        "case_id": a.case_id,
        "locale": a.locale,
        "enabled": a.enabled,
        "created_at": a.created_at.isoformat() if a.created_at else None,
    }


def holder_view(h: Holder) -> dict:
    return {
        "holder_id": h.holder_id,
        "name": h.name,
        "verified": h.verified,
        "enabled": h.enabled,
        "verification_note": h.verification_note,
    }


def client_view(c: Client) -> dict:
    return {
        "client_id": c.client_id,
        "name": c.name,
        "kind": c.kind,
        "role": c.role,
        "offices": list(c.offices or []),
        "redirect_uris": list(c.redirect_uris or []),
        "first_party": c.first_party,
        "enabled": c.enabled,
    }


def audit_view(e: AuditEntry) -> dict:
    return {
        "at": e.at.isoformat(),
        "actor": {"sub": e.actor_sub, "name": e.actor_name},
        "action": e.action,
        "target_type": e.target_type,
        "target_id": e.target_id,
        "detail": e.detail,
    }


def audit(
    session: AsyncSession,
    who: Principal | tuple[str, str],
    action: str,
    target_type: str,
    target_id: str,
    detail: dict | None = None,
) -> None:
    sub, name = (who.sub, who.name or who.sub) if isinstance(who, Principal) else who
    session.add(
        AuditEntry(
            actor_sub=sub[:64],
            actor_name=name[:128],
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail or {},
        )
    )


def _may_manage(who: Principal, role: str | None) -> None:
    if who.role == "administrator":
        return
    if who.role == "supervisor" and role in SUPERVISOR_MANAGES:
        return
    raise _forbidden(f"a {who.role} may not manage {role or 'this'} accounts or clients")


async def _revoke_account(session: AsyncSession, account_id: str) -> int:
    result = await session.execute(delete(OidcPayload).where(OidcPayload.account_id == account_id))
    assert isinstance(result, CursorResult)  # a DELETE answers a cursor result (its row count)
    return result.rowcount or 0


async def create_account(
    session: AsyncSession, *, body: NewAccount, who: Principal | tuple[str, str], password_hash: str | None = None
) -> dict:
    """Create an account (an officer with offices, a holder's user, a declarant, a supervisor, an administrator)."""
    if isinstance(who, Principal):
        _may_manage(who, body.role)
    if await session.get(Account, body.account_id) is not None:
        raise _conflict("account_exists", f"account {body.account_id} exists (user names are never reused)")
    if body.role == "officer" and not body.offices:
        raise Refused("offices_required", "an officer acts for one or more customs offices")
    if body.role == "rights_holder":
        if not body.holder_id or await session.get(Holder, body.holder_id) is None:
            raise Refused("holder_required", "a rights holder's user belongs to a registered holder")
    elif body.holder_id:
        raise Refused("holder_not_allowed", "only rights holders' users belong to a holder")
    if body.role == "party" and not body.party_id:
        raise Refused("party_required", "a declarant's account names its party id (as in declarations)")
    account = Account(
        account_id=body.account_id,
        display_name=body.display_name,
        email=body.email,
        role=body.role,
        offices=body.offices,
        holder_id=body.holder_id,
        party_id=body.party_id,
        case_id=body.case_id,
        locale=body.locale,
        password_hash=password_hash or hash_password(body.password),
        enabled=True,
    )
    session.add(account)
    audit(
        session,
        who,
        "account.created",
        "account",
        body.account_id,
        {"role": body.role, "offices": body.offices, "holder_id": body.holder_id, "party_id": body.party_id},
    )
    await session.flush()
    return account_view(account)


async def set_account_enabled(
    session: AsyncSession, *, account_id: str, enabled: bool, who: Principal, reason: str | None
) -> dict:
    """Disable (and revoke every session and refresh token) or re-enable an account."""
    account = await session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise _not_found("account", account_id)
    _may_manage(who, account.role)
    if not enabled and account_id == who.sub:
        raise _conflict("cannot_disable_self", "ask another administrator to disable your account")
    revoked = 0
    if account.enabled != enabled:
        account.enabled = enabled
        account.updated_at = datetime.now(UTC)
        if not enabled:
            revoked = await _revoke_account(session, account_id)
        audit(
            session,
            who,
            "account.enabled" if enabled else "account.disabled",
            "account",
            account_id,
            {"reason": reason, "revoked": revoked},
        )
    await session.flush()
    return {**account_view(account), "revoked": revoked}


async def set_password(session: AsyncSession, *, account_id: str, password: str, who: Principal) -> dict:
    account = await session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise _not_found("account", account_id)
    _may_manage(who, account.role)
    account.password_hash = hash_password(password)
    revoked = await _revoke_account(session, account_id)
    audit(session, who, "account.password_reset", "account", account_id, {"revoked": revoked})
    await session.flush()
    return account_view(account)


async def set_offices(session: AsyncSession, *, account_id: str, offices: list[str], who: Principal) -> dict:
    account = await session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise _not_found("account", account_id)
    _may_manage(who, account.role)
    if account.role not in ("officer", "supervisor"):
        raise Refused("no_offices", "only officers and supervisors have offices")
    if account.role == "officer" and not offices:
        raise Refused("offices_required", "an officer needs an office")
    before = list(account.offices or [])
    account.offices = offices
    # New offices take effect with the next token; refresh tokens carry the claims anew at each refresh.
    audit(session, who, "account.offices_changed", "account", account_id, {"from": before, "to": offices})
    await session.flush()
    return account_view(account)


async def create_holder(
    session: AsyncSession, *, body: NewHolder, who: Principal | tuple[str, str], verified: bool = False
) -> dict:
    """Register a rights holder; its users may sign in once it is verified and enabled."""
    if isinstance(who, Principal):
        _may_manage(who, "rights_holder")
    if await session.get(Holder, body.holder_id) is not None:
        raise _conflict("holder_exists", f"holder {body.holder_id} is registered")
    holder = Holder(holder_id=body.holder_id, name=body.name, verified=verified, enabled=verified)
    session.add(holder)
    audit(session, who, "holder.registered", "holder", body.holder_id, {"name": body.name, "verified": verified})
    await session.flush()
    return holder_view(holder)


async def verify_holder(session: AsyncSession, *, holder_id: str, who: Principal, note: str | None) -> dict:
    holder = await session.get(Holder, holder_id, with_for_update=True)
    if holder is None:
        raise _not_found("holder", holder_id)
    _may_manage(who, "rights_holder")
    holder.verified = holder.enabled = True
    holder.verification_note = note
    holder.updated_at = datetime.now(UTC)
    audit(session, who, "holder.verified", "holder", holder_id, {"note": note})
    await session.flush()
    return holder_view(holder)


async def set_holder_enabled(
    session: AsyncSession, *, holder_id: str, enabled: bool, who: Principal, reason: str | None
) -> dict:
    holder = await session.get(Holder, holder_id, with_for_update=True)
    if holder is None:
        raise _not_found("holder", holder_id)
    _may_manage(who, "rights_holder")
    if enabled and not holder.verified:
        raise _conflict("holder_not_verified", "verify the holder first")
    revoked = 0
    if holder.enabled != enabled:
        holder.enabled = enabled
        holder.updated_at = datetime.now(UTC)
        if not enabled:
            users = (await session.execute(select(Account.account_id).where(Account.holder_id == holder_id))).scalars()
            for user in list(users):
                revoked += await _revoke_account(session, user)
        audit(
            session,
            who,
            "holder.enabled" if enabled else "holder.disabled",
            "holder",
            holder_id,
            {"reason": reason, "revoked": revoked},
        )
    await session.flush()
    return {**holder_view(holder), "revoked": revoked}


async def create_client(
    session: AsyncSession, *, body: NewClient, who: Principal | tuple[str, str], secret: str | None = None
) -> dict:
    """Register an OAuth client; a machine client's secret is shown once, in this answer."""
    if isinstance(who, Principal) and who.role != "administrator":
        raise _forbidden("only administrators register clients")
    if await session.get(Client, body.client_id) is not None:
        raise _conflict("client_exists", f"client {body.client_id} exists")
    if body.kind == "machine" and body.role is None:
        raise Refused("role_required", "a machine client acts in a role")
    if body.kind == "case_access" and (body.role is not None or body.redirect_uris):
        raise Refused(
            "not_for_case_access",
            "a case access client has no role and no redirect URIs: its tokens carry the party of the code",
        )
    if body.kind == "browser" and (body.role is not None or not body.redirect_uris):
        raise Refused("redirect_uris_required", "a browser client has redirect URIs and acts as the person")
    if body.kind == "machine":
        secret = secret or new_client_secret()
    client = Client(
        client_id=body.client_id,
        name=body.name,
        kind=body.kind,
        role=body.role,
        offices=body.offices,
        secret_hash=hash_client_secret(secret) if secret else None,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        first_party=body.first_party,
        enabled=True,
    )
    session.add(client)
    audit(session, who, "client.created", "client", body.client_id, {"kind": body.kind, "role": body.role})
    await session.flush()
    return {**client_view(client), **({"client_secret": secret} if body.kind == "machine" else {})}


async def set_client_enabled(
    session: AsyncSession, *, client_id: str, enabled: bool, who: Principal, reason: str | None
) -> dict:
    client = await session.get(Client, client_id, with_for_update=True)
    if client is None:
        raise _not_found("client", client_id)
    if who.role != "administrator" and client.kind != "machine":
        raise _forbidden("only administrators manage browser clients")
    revoked = 0
    if client.enabled != enabled:
        client.enabled = enabled
        client.updated_at = datetime.now(UTC)
        if not enabled:
            result = await session.execute(delete(OidcPayload).where(OidcPayload.client_id == client_id))
            assert isinstance(result, CursorResult)  # a DELETE answers a cursor result (its row count)
            revoked = result.rowcount
        audit(
            session,
            who,
            "client.enabled" if enabled else "client.disabled",
            "client",
            client_id,
            {"reason": reason, "revoked": revoked or 0},
        )
    await session.flush()
    return client_view(client)


async def rotate_client_secret(session: AsyncSession, *, client_id: str, who: Principal) -> dict:
    if who.role != "administrator":
        raise _forbidden("only administrators rotate client secrets")
    client = await session.get(Client, client_id, with_for_update=True)
    if client is None or client.kind != "machine":
        raise _not_found("client", client_id)
    secret = new_client_secret()
    client.secret_hash = hash_client_secret(secret)
    audit(session, who, "client.secret_rotated", "client", client_id)
    await session.flush()
    return {**client_view(client), "client_secret": secret}
