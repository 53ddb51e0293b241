"""Webhook signing keys of recipients: created, encrypted at rest, rotated with an overlap, erased when retired.

The secret of a key leaves this service once, in the answer to the rotation that created it. A key that
notify created itself on a recipient's first webhook was never shown to anyone: the recipient rotates to
get one it can verify with. During a rotation the old key keeps signing beside the new one (two ``v1``
values in ``X-IPR-Signature``) until the overlap ends; then its secret is erased.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import CursorResult, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.models import SigningKey

_FORMAT = b"\x01"  # AES-256-GCM, key from HKDF-SHA256 of WEBHOOK_KEY_ENCRYPTION_SECRET, 12-byte nonce


class KeyCipher:
    """Encrypts signing-key secrets at rest; each ciphertext is bound to its key id and recipient."""

    def __init__(self, master_secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ipr-notify webhook signing keys v1").derive(
            master_secret.encode()
        )
        self._aead = AESGCM(key)

    @staticmethod
    def _aad(key_id: str, kind: str, recipient_id: str) -> bytes:
        return f"{key_id}|{kind}|{recipient_id}".encode()

    def encrypt(self, secret: str, *, key_id: str, kind: str, recipient_id: str) -> bytes:
        nonce = os.urandom(12)
        return _FORMAT + nonce + self._aead.encrypt(nonce, secret.encode(), self._aad(key_id, kind, recipient_id))

    def decrypt(self, blob: bytes, *, key_id: str, kind: str, recipient_id: str) -> str:
        if blob[:1] != _FORMAT:
            raise ValueError(f"signing key {key_id}: unknown ciphertext format")
        try:
            plain = self._aead.decrypt(blob[1:13], blob[13:], self._aad(key_id, kind, recipient_id))
        except InvalidTag as exc:
            raise ValueError(
                f"signing key {key_id} cannot be decrypted: WEBHOOK_KEY_ENCRYPTION_SECRET changed?"
            ) from exc
        return plain.decode()


def new_secret() -> str:
    """A fresh signing key as the recipient keeps it: ``whsec_`` and 43 URL-safe characters (256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "whk_" + secrets.token_hex(8)


async def _lock_recipient(session: AsyncSession, kind: str, recipient_id: str) -> None:
    """Serialise key changes of one recipient (rotation, creation on first use) across replicas."""
    digest = int.from_bytes(
        hashlib.sha256(f"signing-key|{kind}|{recipient_id}".encode()).digest()[:8], "big", signed=True
    )
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": digest})


def _status(key: SigningKey, now: datetime) -> str:
    if key.verify_until is None:
        return "current"
    return "retiring" if key.verify_until > now else "retired"


def key_view(key: SigningKey, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    return {
        "key_id": key.key_id,
        "status": _status(key, now),
        "created_at": key.created_at.isoformat(),
        "created_by": key.created_by,
        "verify_until": key.verify_until.isoformat() if key.verify_until else None,
        "rotated_by": key.rotated_by,
    }


@dataclass(frozen=True)
class Rotation:
    key: SigningKey
    secret: str
    previous: SigningKey | None


async def rotate(
    session: AsyncSession, cipher: KeyCipher, *, kind: str, recipient_id: str, by: str, overlap: timedelta
) -> Rotation:
    """Make a new current key; the one it replaces keeps signing for ``overlap``. Runs in the caller's transaction.

    A key still in an earlier overlap stops at once, so at most two keys sign any webhook.
    """
    await _lock_recipient(session, kind, recipient_id)
    now = datetime.now(UTC)
    await session.execute(
        update(SigningKey)
        .where(
            SigningKey.recipient_kind == kind, SigningKey.recipient_id == recipient_id, SigningKey.verify_until > now
        )
        .values(verify_until=now)
    )
    previous = (
        await session.execute(
            select(SigningKey).where(
                SigningKey.recipient_kind == kind,
                SigningKey.recipient_id == recipient_id,
                SigningKey.verify_until.is_(None),
            )
        )
    ).scalar_one_or_none()
    if previous is not None:
        previous.verify_until = now + overlap
        previous.rotated_by = by
        await session.flush()
    secret = new_secret()
    key_id = new_key_id()
    key = SigningKey(
        key_id=key_id,
        recipient_kind=kind,
        recipient_id=recipient_id,
        created_by=by,
        created_at=now,
        secret_ciphertext=cipher.encrypt(secret, key_id=key_id, kind=kind, recipient_id=recipient_id),
    )
    session.add(key)
    await session.flush()
    return Rotation(key=key, secret=secret, previous=previous)


async def signing_secrets(
    session: AsyncSession, cipher: KeyCipher, *, kind: str, recipient_id: str, created_by: str
) -> list[tuple[str, str]]:
    """(key id, secret) of every key in force, the current one first; creates the current key on first use."""
    now = datetime.now(UTC)

    async def in_force() -> list[SigningKey]:
        rows = (
            (
                await session.execute(
                    select(SigningKey).where(
                        SigningKey.recipient_kind == kind,
                        SigningKey.recipient_id == recipient_id,
                        SigningKey.secret_ciphertext.is_not(None),
                        or_(SigningKey.verify_until.is_(None), SigningKey.verify_until > now),
                    )
                )
            )
            .scalars()
            .all()
        )
        return sorted(rows, key=lambda k: (k.verify_until is not None, -(k.created_at.timestamp())))

    keys = await in_force()
    if not keys or keys[0].verify_until is not None:
        await _lock_recipient(session, kind, recipient_id)
        keys = await in_force()
        if not keys or keys[0].verify_until is not None:
            secret = new_secret()
            key_id = new_key_id()
            session.add(
                SigningKey(
                    key_id=key_id,
                    recipient_kind=kind,
                    recipient_id=recipient_id,
                    created_by=created_by,
                    created_at=now,
                    secret_ciphertext=cipher.encrypt(secret, key_id=key_id, kind=kind, recipient_id=recipient_id),
                )
            )
            await session.flush()
            keys = await in_force()
    in_force_keys: list[tuple[str, str]] = []
    for k in keys:
        assert k.secret_ciphertext is not None  # in_force() selects only keys whose secret is kept
        in_force_keys.append(
            (k.key_id, cipher.decrypt(k.secret_ciphertext, key_id=k.key_id, kind=kind, recipient_id=recipient_id))
        )
    return in_force_keys


async def list_keys(session: AsyncSession, *, kind: str, recipient_id: str) -> list[SigningKey]:
    return list(
        (
            await session.execute(
                select(SigningKey)
                .where(SigningKey.recipient_kind == kind, SigningKey.recipient_id == recipient_id)
                .order_by(SigningKey.created_at.desc())
            )
        ).scalars()
    )


async def erase_retired(session: AsyncSession) -> int:
    """Erase the secrets of keys whose overlap has ended (the rows stay, for the record)."""
    now = datetime.now(UTC)
    result = await session.execute(
        update(SigningKey)
        .where(SigningKey.verify_until <= now, SigningKey.secret_ciphertext.is_not(None))
        .values(secret_ciphertext=None, erased_at=now)
    )
    assert isinstance(result, CursorResult)  # an UPDATE answers a cursor result (its row count)
    return result.rowcount or 0
