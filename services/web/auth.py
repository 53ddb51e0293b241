"""Sign-in through the platform's OpenID provider and the server-side session.

Authorization code + PKCE (S256): ``/signin`` records the verifier, nonce and return address
server-side under a random ``state`` and sends the browser to the provider; ``/auth/callback``
exchanges the code, checks the access token with the platform's validator (``shared.auth``) and
the ID token's nonce, and opens a session. The browser holds only a random session id in an
HttpOnly, SameSite=Lax cookie; the tokens stay on the server, encrypted (AES-GCM), and are
refreshed shortly before they expire. Sign-out deletes the session and ends the provider's.
Every form carries the session's CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlparse

import httpx
import jwt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.web.models import Preference, SignIn, WebSession
from shared.auth import Authenticator, Principal, TokenError

COOKIE = "ipr_session"
LANG_COOKIE = "ipr_lang"
SIGNIN_TTL = timedelta(minutes=15)
REFRESH_MARGIN = timedelta(seconds=45)
PEOPLE_ROLES = ("officer", "supervisor", "rights_holder")


class SignInError(Exception):
    """The sign-in could not be completed; the message is shown to the person."""


def _now() -> datetime:
    return datetime.now(UTC)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class TokenBox:
    """Encrypts the tokens kept with a session (key derived from WEB_SESSION_SECRET)."""

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=SHA256(), length=32, salt=b"ipr-web-session", info=b"tokens").derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, tokens: dict, aad: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, json.dumps(tokens).encode(), aad.encode())

    def open(self, blob: bytes, aad: str) -> dict:
        return json.loads(self._aead.decrypt(blob[:12], blob[12:], aad.encode()))


@dataclass
class Provider:
    """The provider's endpoints (discovery, fetched once) and this app's client."""

    issuer: str
    public_issuer: str
    client_id: str
    redirect_uri: str
    post_logout_uri: str
    http: httpx.AsyncClient
    _meta: dict | None = None

    async def meta(self) -> dict:
        if self._meta is None:
            r = await self.http.get(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
            r.raise_for_status()
            self._meta = r.json()
        return self._meta

    def _public(self, url: str) -> str:
        """An endpoint as the browser reaches it (the provider may be known inside under another address)."""
        if self.public_issuer and url.startswith(self.issuer):
            return self.public_issuer.rstrip("/") + url[len(self.issuer.rstrip("/")) :]
        return url

    async def authorize_url(self, *, state: str, verifier: str, nonce: str, lang: str, audience: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": "openid profile offline_access api",
                "resource": audience,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "ui_locales": "zh-Hans" if lang == "zh" else "en",
            }
        )
        return f"{self._public((await self.meta())['authorization_endpoint'])}?{query}"

    async def token(self, form: dict) -> dict:
        r = await self.http.post((await self.meta())["token_endpoint"], data={**form, "client_id": self.client_id})
        if r.status_code != 200:
            try:
                body = r.json()
                why = f"{body.get('error')}: {body.get('error_description', '')}"
            except ValueError:
                why = f"HTTP {r.status_code}"
            raise SignInError(why[:300])
        return r.json()

    async def end_session_url(self, id_token: str | None, lang: str) -> str | None:
        endpoint = (await self.meta()).get("end_session_endpoint")
        if not endpoint:
            return None
        query = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": self.post_logout_uri,
            "ui_locales": "zh-Hans" if lang == "zh" else "en",
        }
        if id_token:
            query["id_token_hint"] = id_token
        return f"{self._public(endpoint)}?{urlencode(query)}"


def safe_return(path: str | None) -> str:
    """Only a path of this site (no scheme, host, or protocol-relative //) may be the way back."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    parsed = urlparse(path)
    return path[:512] if not parsed.scheme and not parsed.netloc else "/"


async def begin(session: AsyncSession, provider: Provider, *, return_to: str, lang: str, audience: str) -> str:
    """Record a sign-in and answer the provider's address to send the browser to."""
    state, verifier, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    await session.execute(delete(SignIn).where(SignIn.created_at < _now() - SIGNIN_TTL))
    session.add(
        SignIn(state=state, verifier=verifier, nonce=nonce, return_to=safe_return(return_to), created_at=_now())
    )
    await session.commit()
    return await provider.authorize_url(state=state, verifier=verifier, nonce=nonce, lang=lang, audience=audience)


async def complete(
    session: AsyncSession,
    provider: Provider,
    box: TokenBox,
    authenticator: Authenticator,
    *,
    code: str,
    state: str,
) -> tuple[str, str, Principal]:
    """Exchange the code; answers (session id for the cookie, where to go, who signed in)."""
    pending = await session.get(SignIn, state[:64])
    if pending is None or pending.created_at < _now() - SIGNIN_TTL:
        raise SignInError("this sign-in is unknown or took too long; please sign in again")
    await session.delete(pending)
    await session.commit()
    tokens = await provider.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": pending.verifier,
        }
    )
    try:
        who = await authenticator.principal_for(tokens["access_token"])
    except TokenError as exc:
        raise SignInError(f"the provider's token was refused: {exc.code}") from exc
    id_token = tokens.get("id_token")
    if id_token:
        claims = jwt.decode(id_token, options={"verify_signature": False})  # came straight from the token endpoint
        if claims.get("nonce") != pending.nonce:
            raise SignInError("the sign-in answer does not belong to this sign-in (nonce)")
    if who.role not in PEOPLE_ROLES:
        raise SignInError(f"these pages are for officers, supervisors and rights holders, not for role {who.role}")
    session_id = secrets.token_urlsafe(32)
    key = digest(session_id)
    session.add(
        WebSession(
            id_digest=key,
            sub=who.sub,
            name=who.name,
            role=who.role,
            holder_id=who.holder_id,
            offices=sorted(who.offices),
            tokens=box.seal(_kept(tokens), key),
            access_expires_at=_now() + timedelta(seconds=int(tokens.get("expires_in", 300))),
            csrf=secrets.token_urlsafe(32),
            last_seen_at=_now(),
        )
    )
    await session.commit()
    return session_id, pending.return_to, who


def _kept(tokens: dict, previous: dict | None = None) -> dict:
    previous = previous or {}
    return {
        "access": tokens["access_token"],
        "refresh": tokens.get("refresh_token") or previous.get("refresh"),
        "id": tokens.get("id_token") or previous.get("id"),
    }


@dataclass
class Current:
    """The signed-in person of a request, with a fresh access token for the APIs."""

    row: WebSession
    access_token: str
    id_token: str | None

    @property
    def sub(self) -> str:
        return self.row.sub

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def role(self) -> str:
        return self.row.role

    @property
    def is_officer(self) -> bool:
        return self.row.role in ("officer", "supervisor")

    @property
    def is_supervisor(self) -> bool:
        return self.row.role == "supervisor"

    @property
    def holder_id(self) -> str | None:
        return self.row.holder_id

    @property
    def csrf(self) -> str:
        return self.row.csrf


async def current(request: Request, session: AsyncSession) -> Current | None:
    """The session of ``request`` (refreshing its access token when it is about to expire), or None."""
    session_id = request.cookies.get(COOKIE)
    if not session_id or len(session_id) > 128:
        return None
    key = digest(session_id)
    row = await session.get(WebSession, key)
    settings, box, provider = request.app.state.settings, request.app.state.box, request.app.state.provider
    if row is None:
        return None
    now = _now()
    if row.last_seen_at < now - timedelta(minutes=settings.session_idle_minutes):
        await session.delete(row)
        await session.commit()
        return None
    try:
        tokens = box.open(row.tokens, key)
    except Exception:  # noqa: BLE001 - another key: the session cannot be used
        await session.delete(row)
        await session.commit()
        return None
    if row.access_expires_at - REFRESH_MARGIN <= now:
        if not tokens.get("refresh"):
            await session.delete(row)
            await session.commit()
            return None
        try:
            fresh = await provider.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh"]})
        except (SignInError, httpx.HTTPError):
            await session.delete(row)  # refused (account disabled, refresh expired): sign in again
            await session.commit()
            return None
        tokens = _kept(fresh, tokens)
        row.tokens = box.seal(tokens, key)
        row.access_expires_at = now + timedelta(seconds=int(fresh.get("expires_in", 300)))
    row.last_seen_at = now
    await session.commit()
    return Current(row=row, access_token=tokens["access"], id_token=tokens.get("id"))


async def end(session: AsyncSession, request: Request) -> str | None:
    """Delete the request's session; answers its ID token (for the provider's sign-out)."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    key = digest(session_id)
    row = await session.get(WebSession, key)
    if row is None:
        return None
    try:
        id_token = request.app.state.box.open(row.tokens, key).get("id")
    except Exception:  # noqa: BLE001
        id_token = None
    await session.delete(row)
    await session.commit()
    return id_token


def csrf_ok(who: Current, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(who.csrf.encode(), str(submitted).encode())


async def language(request: Request, session: AsyncSession, who: Current | None) -> str:
    """The person's language: their saved choice, else the cookie, else the browser's."""
    if who is not None:
        pref = await session.get(Preference, who.sub)
        if pref is not None:
            return pref.lang
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("en", "zh"):
        return chosen
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


async def save_language(session: AsyncSession, who: Current, lang: str) -> None:
    pref = await session.get(Preference, who.sub)
    if pref is None:
        session.add(Preference(sub=who.sub, lang=lang, updated_at=_now()))
    else:
        pref.lang, pref.updated_at = lang, _now()
    await session.commit()


async def purge(session: AsyncSession, idle_minutes: int) -> int:
    """Delete sessions unused for longer than the idle limit (and stale sign-ins)."""
    cutoff = _now() - timedelta(minutes=idle_minutes)
    ids = list(
        (
            await session.execute(select(WebSession.id_digest).where(WebSession.last_seen_at < cutoff).limit(1000))
        ).scalars()
    )
    if ids:
        await session.execute(delete(WebSession).where(WebSession.id_digest.in_(ids)))
    await session.execute(delete(SignIn).where(SignIn.created_at < _now() - SIGNIN_TTL))
    await session.commit()
    return len(ids)
