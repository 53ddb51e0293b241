"""Password and client-secret digests, in the format the provider (``provider/store.js``) verifies.

Passwords: ``scrypt$N$r$p$salt$hash`` (base64url), N = 2**15, r = 8, p = 1; the parameters travel with
each digest, so they can be raised without breaking stored ones. Client secrets are random and long, so
``sha256$<hex>`` keeps them unreadable at rest without slowing every token request down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P, DKLEN = 2**15, 8, 1, 32
MIN_PASSWORD_LENGTH = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=DKLEN, maxmem=256 * n * r + 2**20)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = _unb64(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=256 * int(n) * int(r) + 2**20,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(set(password)) < 6:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters and some variety")
