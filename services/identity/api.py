"""HTTP routes of the identity administration (supervisors and administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import case_access, service
from services.identity.models import Account, AuditEntry, Client, Holder
from services.identity.service import ChangeReason, NewAccount, NewClient, NewHolder, OfficesChange, PasswordChange
from services.identity.settings import Settings
from shared.auth import Principal, require
from shared.contracts.errors import BODY
from shared.contracts.errors import error_responses as errors
from shared.contracts.identity import (
    AccountChanged,
    AccountView,
    AccountWithHistory,
    AuditEntryView,
    ClientCreated,
    ClientView,
    ClientWithSecret,
    HolderChanged,
    HolderView,
    Me,
)
from shared.runtime import from_state, session_dep

router = APIRouter(prefix="/v1", tags=["identity administration"])
Session = Annotated[AsyncSession, Depends(session_dep)]
IdentitySettings = Annotated[Settings, Depends(from_state("settings"))]
Admin = Annotated[Principal, Depends(require("supervisor", "administrator"))]
System = Annotated[Principal, Depends(require("system"))]
Overseer = Annotated[Principal, Depends(require("system", "supervisor", "administrator"))]
AccessId = Annotated[str, Path(pattern=r"^CA-[0-9A-F]{16}$")]
NOT_YOURS = (403, "the caller's role may not do this, or may not manage this kind of account or client")


@router.get("/me", response_model=Me, summary="Who the token says you are")
async def me(
    who: Annotated[
        Principal,
        Depends(
            require("officer", "supervisor", "administrator", "clearance_system", "rights_holder", "party", "system")
        ),
    ],
) -> dict:
    return {
        "sub": who.sub,
        "name": who.name,
        "role": who.role,
        "offices": sorted(who.offices),
        "holder_id": who.holder_id,
        "party_id": who.party_id,
        "case_id": who.case_id,
        "client_id": who.client_id,
    }


# ---------------------------------------------------------------- accounts


@router.get("/accounts", response_model=list[AccountView], summary="Accounts, optionally of one role or holder")
async def list_accounts(
    session: Session,
    _: Admin,
    role: Annotated[str | None, Query(max_length=32)] = None,
    holder_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict]:
    stmt = select(Account).order_by(Account.account_id).limit(1000)
    if role:
        stmt = stmt.where(Account.role == role)
    if holder_id:
        stmt = stmt.where(Account.holder_id == holder_id)
    return [service.account_view(a) for a in (await session.execute(stmt)).scalars()]


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountView,
    responses=errors(*BODY, NOT_YOURS, (409, "the user name exists (`account_exists`): never reused")),
    summary="Create an account: officer (with offices), supervisor, "
    "administrator, a rights holder's user, or a declarant (role party)",
)
async def create_account(body: NewAccount, session: Session, who: Admin) -> dict:
    async with session.begin():
        return await service.create_account(session, body=body, who=who)


@router.get(
    "/accounts/{account_id}",
    response_model=AccountWithHistory,
    responses=errors(404),
    summary="An account with its audit trail",
)
async def get_account(account_id: str, session: Session, _: Admin) -> dict:
    account = await session.get(Account, account_id)
    if account is None:
        raise HTTPException(404, detail={"code": "account_not_found", "message": f"no account {account_id}"})
    return {**service.account_view(account), "history": await _history(session, account_id)}


@router.post(
    "/accounts/{account_id}/disable",
    response_model=AccountChanged,
    responses=errors(*BODY, NOT_YOURS, 404, (409, "your own account (`cannot_disable_self`)")),
    summary="Disable an account and revoke its sessions and refresh tokens",
)
async def disable_account(account_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.set_account_enabled(
            session, account_id=account_id, enabled=False, who=who, reason=body.reason if body else None
        )


@router.post(
    "/accounts/{account_id}/enable",
    response_model=AccountChanged,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Re-enable an account",
)
async def enable_account(account_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.set_account_enabled(
            session, account_id=account_id, enabled=True, who=who, reason=body.reason if body else None
        )


@router.post(
    "/accounts/{account_id}/password",
    response_model=AccountView,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Set a new password (signs the account out everywhere)",
)
async def set_password(account_id: str, body: PasswordChange, session: Session, who: Admin) -> dict:
    async with session.begin():
        return await service.set_password(session, account_id=account_id, password=body.password, who=who)


@router.put(
    "/accounts/{account_id}/offices",
    response_model=AccountView,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Change the customs offices an officer acts for",
)
async def set_offices(account_id: str, body: OfficesChange, session: Session, who: Admin) -> dict:
    async with session.begin():
        return await service.set_offices(session, account_id=account_id, offices=body.offices, who=who)


# ---------------------------------------------------------------- rights holders


@router.get("/holders", response_model=list[HolderView], summary="Registered rights holders")
async def list_holders(session: Session, _: Admin) -> list[dict]:
    rows = (await session.execute(select(Holder).order_by(Holder.holder_id).limit(1000))).scalars()
    return [service.holder_view(h) for h in rows]


@router.post(
    "/holders",
    status_code=201,
    response_model=HolderView,
    responses=errors(*BODY, NOT_YOURS, (409, "the holder is registered (`holder_exists`)")),
    summary="Register a rights holder (not yet verified: its users cannot sign in)",
)
async def create_holder(body: NewHolder, session: Session, who: Admin) -> dict:
    async with session.begin():
        return await service.create_holder(session, body=body, who=who)


@router.post(
    "/holders/{holder_id}/verify",
    response_model=HolderView,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Record that customs verified the holder, and enable it",
)
async def verify_holder(holder_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.verify_holder(session, holder_id=holder_id, who=who, note=body.reason if body else None)


@router.post(
    "/holders/{holder_id}/disable",
    response_model=HolderChanged,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Disable a holder: none of its users can sign in or refresh",
)
async def disable_holder(holder_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.set_holder_enabled(
            session, holder_id=holder_id, enabled=False, who=who, reason=body.reason if body else None
        )


@router.post(
    "/holders/{holder_id}/enable",
    response_model=HolderChanged,
    responses=errors(*BODY, NOT_YOURS, 404, (409, "the holder is not verified (`holder_not_verified`)")),
    summary="Re-enable a verified holder",
)
async def enable_holder(holder_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.set_holder_enabled(
            session, holder_id=holder_id, enabled=True, who=who, reason=body.reason if body else None
        )


# ---------------------------------------------------------------- clients


@router.get("/clients", response_model=list[ClientView], summary="OAuth clients (machines and browser pages)")
async def list_clients(session: Session, _: Admin) -> list[dict]:
    rows = (await session.execute(select(Client).order_by(Client.client_id).limit(1000))).scalars()
    return [service.client_view(c) for c in rows]


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientCreated,
    response_model_exclude_unset=True,
    responses=errors(*BODY, NOT_YOURS, (409, "the client id exists (`client_exists`)")),
    summary="Register a client (administrators); a machine client's secret is in this answer only",
)
async def create_client(body: NewClient, session: Session, who: Admin) -> dict:
    async with session.begin():
        return await service.create_client(session, body=body, who=who)


@router.post(
    "/clients/{client_id}/disable",
    response_model=ClientView,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Disable a client: no new tokens from the next request on",
)
async def disable_client(client_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.set_client_enabled(
            session, client_id=client_id, enabled=False, who=who, reason=body.reason if body else None
        )


@router.post(
    "/clients/{client_id}/enable",
    response_model=ClientView,
    responses=errors(*BODY, NOT_YOURS, 404),
    summary="Re-enable a client",
)
async def enable_client(client_id: str, session: Session, who: Admin, body: ChangeReason | None = None) -> dict:
    async with session.begin():
        return await service.set_client_enabled(
            session, client_id=client_id, enabled=True, who=who, reason=body.reason if body else None
        )


@router.post(
    "/clients/{client_id}/secret",
    response_model=ClientWithSecret,
    responses=errors(NOT_YOURS, (404, "no such machine client")),
    summary="Issue a new secret for a machine client (administrators)",
)
async def rotate_secret(client_id: str, session: Session, who: Admin) -> dict:
    async with session.begin():
        return await service.rotate_client_secret(session, client_id=client_id, who=who)


# ---------------------------------------------------------------- case access codes


@router.post(
    "/case-access",
    status_code=201,
    response_model=case_access.IssuedCaseAccess,
    responses=errors(*BODY),
    summary="Issue a case access code for a party without an account (the platform's cases service, on an "
    "officer's request); the code is in this answer only",
)
async def issue_case_access(
    settings: IdentitySettings, body: case_access.NewCaseAccess, session: Session, who: System
) -> dict:
    async with session.begin():
        return await case_access.issue(session, body=body, who=who, issuer=settings.oidc_issuer)


@router.get(
    "/case-access",
    response_model=list[case_access.CaseAccessView],
    summary="The case access codes of a case (never the codes themselves)",
)
async def list_case_access(
    session: Session, _: Overseer, case_id: Annotated[str, Query(min_length=1, max_length=128)]
) -> list[dict]:
    return await case_access.of_case(session, case_id)


@router.post(
    "/case-access/{access_id}/revoke",
    response_model=case_access.CaseAccessView,
    responses=errors(*BODY, 404),
    summary="Revoke a case access code: no new tokens from the next request on",
)
async def revoke_case_access(access_id: AccessId, body: case_access.Revocation, session: Session, who: System) -> dict:
    async with session.begin():
        return await case_access.revoke(session, access_id=access_id, body=body, who=who)


# ---------------------------------------------------------------- audit


async def _history(session: AsyncSession, target_id: str) -> list[dict]:
    stmt = select(AuditEntry).where(AuditEntry.target_id == target_id).order_by(AuditEntry.id)
    return [service.audit_view(e) for e in (await session.execute(stmt)).scalars()]


@router.get(
    "/audit", response_model=list[AuditEntryView], summary="Who changed which account, holder or client, newest first"
)
async def audit_log(
    session: Session,
    _: Admin,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor_sub == actor)
    return [service.audit_view(e) for e in (await session.execute(stmt)).scalars()]
