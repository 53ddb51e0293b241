"""Tables of the web service: signed-in sessions (tokens encrypted), sign-ins under way, each person's
language, and the index of files kept in the object store (evidence and guide images)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata


class WebSession(Base):
    """A signed-in person: the cookie carries a random id, this row its digest and the encrypted tokens."""

    __tablename__ = "web_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    holder_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    offices: Mapped[list] = mapped_column(JsonType, default=list)
    tokens: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM of {access, refresh, id_token}
    access_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignIn(Base):
    """A sign-in under way: the PKCE verifier, nonce and where to return, keyed by the state sent out."""

    __tablename__ = "web_signins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    return_to: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Preference(Base):
    """A person's language (en or zh), kept across sessions."""

    __tablename__ = "web_preferences"

    sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StoredFile(Base):
    """A file in the object store: examination evidence of a case, a holder's answer, or a guide image."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    object_key: Mapped[str] = mapped_column(String(256), unique=True)
    purpose: Mapped[str] = mapped_column(String(16), index=True)  # evidence | holder_answer | guide
    case_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    holder_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    recordation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    filename: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    uploaded_by: Mapped[str] = mapped_column(String(128))
    uploaded_by_sub: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
