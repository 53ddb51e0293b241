"""Tables of the identity service: accounts, rights holders, OAuth clients, the audit trail, and the
OpenID provider's own state (sessions, grants, codes, refresh tokens, interactions) that its adapter
keeps in ``oidc_payloads``.

The provider (``provider/``) reads accounts and clients from here at every sign-in, token request
and refresh, so a disabled account or client is refused from the next request on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata


class Holder(Base):
    """A rights holder as an organisation: its users sign in only once customs verified and enabled it."""

    __tablename__ = "holders"

    holder_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    verification_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Account(Base):
    """A person who signs in: ``account_id`` is the token's ``sub`` and is never reused."""

    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(256), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    offices: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list, server_default="{}")
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.holder_id"), nullable=True, index=True)
    party_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    password_hash: Mapped[str] = mapped_column(String(256))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Client(Base):
    """An OAuth client: a machine (client credentials, own role) or a browser page (authorization code + PKCE)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # machine | browser
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)  # machines: the role their tokens carry
    offices: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list, server_default="{}")
    secret_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseAccess(Base):
    """A case access code: a party without an account (e.g. a consignee named in a declaration) exchanges it at
    the provider's token endpoint for short-lived tokens of role ``party`` bound to one case.

    The code itself is shown once, when it is issued; only its SHA-256 digest is kept (codes are 160-bit random
    values, so a digest is enough to keep them unreadable at rest)."""

    __tablename__ = "case_access"

    access_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(80), unique=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    party_id: Mapped[str] = mapped_column(String(64))
    party_role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(128))
    issued_by: Mapped[str] = mapped_column(String(256))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    uses: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Every change to accounts, holders and clients, and who made it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor_sub: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str] = mapped_column(String(16))  # account | holder | client | case_access
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)


class OidcPayload(Base):
    """The provider's state (model: Session, Grant, AuthorizationCode, RefreshToken, Interaction, ...)."""

    __tablename__ = "oidc_payloads"

    model: Mapped[str] = mapped_column(String(48), primary_key=True)
    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    payload: Mapped[dict] = mapped_column(JsonType)
    grant_id: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    uid: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    user_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_oidc_payloads_user_code", "user_code", unique=True, postgresql_where=text("user_code IS NOT NULL")),
    )
