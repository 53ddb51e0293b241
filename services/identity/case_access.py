"""Case access codes: how a party without an account (a consignee or consignor named in a declaration, an
importer that never registered) answers customs on its own case.

An officer asks the cases service for a code for one party of one case; the cases service checks that the
officer acts for the case's office and that the party is a party of the case, and asks this service (as the
platform's ``system`` client) to issue it. The code is shown once, to be handed to the party with its
notice (on paper or by e-mail). The party exchanges it at the provider's token endpoint::

    POST {issuer}/token
      grant_type=urn:ipr:params:oauth:grant-type:case-access-code
      client_id=case-access
      access_code=K7QJ-4MZP-...
      resource=urn:ipr:api

and gets an access token of role ``party`` with its ``party_id`` and the ``case_id`` it is bound to (5
minutes, no refresh token; the code can be exchanged again until it expires or is revoked). Every service
then shows that token the one case and lets it answer as that party.

Codes are 120-bit random values written as 6 groups of 4 letters and digits (Crockford base32: no I, L, O,
U), so they can be typed from paper; only their SHA-256 digest is kept. Each issue, exchange count and
revocation is recorded; issuing a new code for the same party and case revokes the earlier one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.models import CaseAccess
from shared.auth import Principal
from shared.contracts.access import CaseAccessView, Exchange, IssuedCaseAccess
from shared.contracts.bounds import CaseId, TraderId
from shared.errors import NotFound

__all__ = [
    "CaseAccessView",
    "Exchange",
    "IssuedCaseAccess",
    "NewCaseAccess",
    "Revocation",
    "issue",
    "of_case",
    "revoke",
]

GRANT_TYPE = "urn:ipr:params:oauth:grant-type:case-access-code"
CLIENT_ID = "case-access"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
GROUPS, GROUP_LEN = 6, 4
MAX_VALID_DAYS = 60

_READ_AS_DIGITS = str.maketrans("OIL", "011")

PartyRole = Literal["declarant", "consignor", "consignee", "importer", "holder_of_goods"]


def new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(chars[i : i + GROUP_LEN] for i in range(0, len(chars), GROUP_LEN))


def normalise(code: str) -> str:
    """What is digested: upper case, without separators, with the letters people confuse read as digits."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return cleaned.translate(_READ_AS_DIGITS)


def digest(code: str) -> str:
    """The stored form of a code (``services/identity/provider/store.js`` computes the same)."""
    return "sha256$" + hashlib.sha256(normalise(code).encode()).hexdigest()


class NewCaseAccess(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: CaseId  # as the answer names it (CaseAccessView)
    party_id: TraderId
    party_role: PartyRole
    display_name: str = Field(min_length=1, max_length=128, description="the party's name, as its tokens name it")
    valid_days: int = Field(
        default=14, ge=1, le=MAX_VALID_DAYS, strict=True, description="calendar days the code may be used"
    )
    issued_by: str = Field(min_length=1, max_length=256, description="the officer who asked for the code")


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revoked_by: str = Field(min_length=1, max_length=256)
    reason: str | None = Field(default=None, max_length=1000)


def view(row: CaseAccess) -> dict:
    now = datetime.now(UTC)
    status = "revoked" if row.revoked_at else ("expired" if row.expires_at <= now else "valid")
    return {
        "access_id": row.access_id,
        "case_id": row.case_id,
        "party_id": row.party_id,
        "party_role": row.party_role,
        "display_name": row.display_name,
        "issued_by": row.issued_by,
        "issued_at": row.issued_at.isoformat() if row.issued_at else None,
        "expires_at": row.expires_at.isoformat(),
        "status": status,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "revoked_by": row.revoked_by,
        "uses": row.uses,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def _not_found(access_id: str) -> NotFound:
    return NotFound("case_access_not_found", f"no case access {access_id}")


async def issue(session: AsyncSession, *, body: NewCaseAccess, who: Principal, issuer: str) -> dict:
    """A new code for one party of one case; an earlier valid code of the same party and case is revoked."""
    from services.identity.service import audit

    now = datetime.now(UTC)
    earlier = (
        (
            await session.execute(
                update(CaseAccess)
                .where(
                    CaseAccess.case_id == body.case_id,
                    CaseAccess.party_id == body.party_id,
                    CaseAccess.revoked_at.is_(None),
                    CaseAccess.expires_at > now,
                )
                .values(revoked_at=now, revoked_by=f"replaced by a new code ({body.issued_by})"[:256])
                .returning(CaseAccess.access_id)
            )
        )
        .scalars()
        .all()
    )
    code = new_code()
    row = CaseAccess(
        access_id=f"CA-{secrets.token_hex(8).upper()}",
        code_digest=digest(code),
        case_id=body.case_id,
        party_id=body.party_id,
        party_role=body.party_role,
        display_name=body.display_name,
        issued_by=body.issued_by,
        issued_at=now,
        expires_at=now + timedelta(days=body.valid_days),
        uses=0,
    )
    session.add(row)
    audit(
        session,
        who,
        "case_access.issued",
        "case_access",
        row.access_id,
        {
            "case_id": body.case_id,
            "party_id": body.party_id,
            "party_role": body.party_role,
            "issued_by": body.issued_by,
            "valid_days": body.valid_days,
            "replaced": list(earlier),
        },
    )
    await session.flush()
    return {
        **view(row),
        "code": code,
        "replaced": list(earlier),
        "exchange": {"token_endpoint": f"{issuer.rstrip('/')}/token", "grant_type": GRANT_TYPE, "client_id": CLIENT_ID},
    }


async def revoke(session: AsyncSession, *, access_id: str, body: Revocation, who: Principal) -> dict:
    from services.identity.service import audit

    row = await session.get(CaseAccess, access_id, with_for_update=True)
    if row is None:
        raise _not_found(access_id)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        row.revoked_by = body.revoked_by
        audit(
            session,
            who,
            "case_access.revoked",
            "case_access",
            access_id,
            {"case_id": row.case_id, "party_id": row.party_id, "revoked_by": body.revoked_by, "reason": body.reason},
        )
    await session.flush()
    return view(row)


async def of_case(session: AsyncSession, case_id: str) -> list[dict]:
    stmt = select(CaseAccess).where(CaseAccess.case_id == case_id).order_by(CaseAccess.issued_at)
    return [view(r) for r in (await session.execute(stmt)).scalars()]
