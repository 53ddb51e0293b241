"""Who is calling: OIDC access tokens (JWT) validated against the issuer's keys, mapped to a principal.

Every API trusts one issuer (``OIDC_ISSUER``) and one audience (``OIDC_AUDIENCE``). A token is
accepted only when its signature verifies with a key from the issuer's JWKS (fetched, cached,
refetched when a token names an unknown ``kid``, at most once per ``OIDC_JWKS_MIN_REFRESH_S``),
its algorithm is one of the configured asymmetric ones (``none`` and HMAC are always refused, so a
token "signed" with the public key as an HMAC secret never passes), and ``iss``, ``aud``, ``exp``,
``nbf`` and ``iat`` hold within ``OIDC_CLOCK_SKEW_S``. Every refusal is a 401 with a
machine-readable reason (see ``REASONS``); a caller outside its role or office gets 403.

Roles: ``officer`` (acts on the cases of its customs offices), ``supervisor`` (may do whatever an
officer may, on every office, and approves), ``administrator`` (accounts and clients),
``clearance_system`` (declarations), ``rights_holder`` (its own cases, recordations and
guarantees), ``party`` (a declarant or trader: its own cases) and ``system`` (the platform's own
services calling each other).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPBearer

from shared.settings import AuthSettings

log = logging.getLogger(__name__)

Role = Literal["officer", "supervisor", "administrator", "clearance_system", "rights_holder", "party", "system"]
ROLES: tuple[Role, ...] = (
    "officer",
    "supervisor",
    "administrator",
    "clearance_system",
    "rights_holder",
    "party",
    "system",
)
# A token carrying several platform roles acts in the first of these it holds.
ROLE_PRECEDENCE: tuple[Role, ...] = (
    "supervisor",
    "officer",
    "administrator",
    "clearance_system",
    "system",
    "rights_holder",
    "party",
)
MAX_TOKEN_BYTES = 8192
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}

REASONS: dict[str, str] = {
    "missing_token": "Authorization: Bearer <token> header is required",
    "malformed_token": "the bearer token is not a well-formed JWT",
    "alg_none": "unsigned tokens (alg none) are refused",
    "alg_not_allowed": "the token's signature algorithm is not accepted (only the issuer's asymmetric keys are)",
    "unknown_key": "the token is signed with a key the issuer does not publish",
    "bad_signature": "the token's signature does not verify",
    "token_expired": "the token has expired",
    "token_not_yet_valid": "the token is not valid yet (nbf or iat in the future)",
    "wrong_audience": "the token is meant for another audience",
    "wrong_issuer": "the token comes from another issuer",
    "missing_claim": "the token lacks a required claim",
    "unknown_role": "the token carries no platform role",
}


class TokenError(Exception):
    """A token refused, with the machine-readable reason."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or REASONS.get(code, code))
        self.code = code
        self.message = message or REASONS.get(code, code)


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached."""


@dataclass(frozen=True)
class Principal:
    """The person or system behind a request, as the token says."""

    sub: str
    role: Role
    name: str = ""
    offices: frozenset[str] = field(default_factory=frozenset)
    holder_id: str | None = None
    party_id: str | None = None
    case_id: str | None = None
    client_id: str | None = None

    @property
    def actor(self) -> str:
        """How audit trails name this caller: display name and subject, e.g. ``Wang Wei (wang.wei)``."""
        label = f"{self.name} ({self.sub})" if self.name and self.name != self.sub else self.sub
        return label[:128]

    def actor_ref(self) -> dict[str, str]:
        """Structured form of :attr:`actor` for contracts and histories."""
        return {"sub": self.sub, "name": self.name or self.sub, "role": self.role}

    def acting_for(self, on_behalf_of: str | None) -> str:
        """Audit label of a system acting for a person: ``IPR case worker (case-worker) for Wang Wei (wang.wei)``."""
        return f"{self.actor} for {on_behalf_of}"[:128] if on_behalf_of else self.actor


# ---------------------------------------------------------------- keys


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class JwksCache:
    """The issuer's public keys by ``kid``: cached, refetched on an unknown ``kid`` (rate-limited) or when stale."""

    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        ttl_s: float = 600.0,
        min_refresh_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_s
        self._min_refresh = min_refresh_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._failed = False  # the last fetch could not reach the issuer
        self._lock = asyncio.Lock()
        self.fetches = 0

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._min_refresh:
                return  # someone just fetched (or failed to); do not hammer the issuer
            self._attempted_at = now
            self.fetches += 1
            try:
                document = await self._fetch()
            except Exception as exc:  # noqa: BLE001 - keep serving with the keys we have
                log.warning("could not fetch the issuer's JWKS: %s: %s", type(exc).__name__, exc)
                self._failed = True
                if not self._keys:
                    raise IssuerUnavailable(str(exc)) from exc
                return
            self._failed = False
            keys: dict[str, jwt.PyJWK] = {}
            for raw in document.get("keys", []):
                if raw.get("use", "sig") != "sig" or raw.get("kty") not in ("RSA", "EC", "OKP"):
                    continue
                try:
                    key = jwt.PyJWK(raw)
                except jwt.PyJWTError:
                    continue
                keys[raw.get("kid") or ""] = key
            self._keys = keys
            self._fetched_at = now

    async def get(self, kid: str | None) -> jwt.PyJWK | None:
        """The key for ``kid`` (a token without ``kid`` may use the only key there is)."""
        stale = self._fetched_at is None or self._clock() - self._fetched_at > self._ttl
        unknown = kid is not None and kid not in self._keys
        if stale or unknown:
            await self._refresh()
        if kid is None:
            key = next(iter(self._keys.values())) if len(self._keys) == 1 else None
        else:
            key = self._keys.get(kid)
        if key is None and self._failed:
            # Not known, and the issuer could not be asked (down, or asked moments ago while it was down): the
            # token may well be good. 503, which callers retry -- not 401, which says the token is not.
            raise IssuerUnavailable("the issuer's keys could not be fetched to check this token's key")
        return key


def http_jwks_fetcher(settings: AuthSettings, http: httpx.AsyncClient) -> JwksFetcher:
    """Fetches the JWKS named in settings, or the one the issuer's discovery document points at."""
    jwks_url: dict[str, str] = {}

    async def fetch() -> dict[str, Any]:
        url = settings.oidc_jwks_url or jwks_url.get("url")
        if not url:
            found = await http.get(settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration")
            found.raise_for_status()
            url = jwks_url["url"] = found.json()["jwks_uri"]
        response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        jwks: dict[str, Any] = response.json()
        return jwks

    return fetch


# ---------------------------------------------------------------- validation


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, (str, int)) and str(v)]
    return []


class TokenValidator:
    """Validates access tokens and maps their claims to a :class:`Principal` (claim names from settings)."""

    def __init__(self, settings: AuthSettings, keys: JwksCache) -> None:
        self.settings = settings
        self.keys = keys
        self.algorithms = list(settings.oidc_algorithms)

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``, or :class:`TokenError` with the reason."""
        if not token or len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
            raise TokenError("malformed_token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("malformed_token") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise TokenError("alg_none")
        if alg not in self.algorithms:
            raise TokenError("alg_not_allowed", f"algorithm {alg[:16]} is not accepted; accepted: {self.algorithms}")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenError("malformed_token")
        key = await self.keys.get(kid)
        if key is None:
            raise TokenError("unknown_key")
        if _KEY_TYPES.get(alg[:2]) != key.key_type:
            raise TokenError("alg_not_allowed", f"algorithm {alg} does not fit the issuer's {key.key_type} key")
        s = self.settings
        try:
            return jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=s.oidc_audience,
                issuer=s.oidc_issuer,
                leeway=s.oidc_clock_skew_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenError("token_not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("wrong_audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError("wrong_issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("bad_signature") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError("missing_claim", f"the token lacks the {exc.claim} claim") from exc
        except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError, TypeError) as exc:
            raise TokenError("alg_not_allowed") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("malformed_token") from exc

    def principal(self, claims: dict[str, Any]) -> Principal:
        """Map verified claims to the platform's principal (role, offices, holder, party, case)."""
        s = self.settings
        mapped = {s.oidc_role_map.get(r, r) for r in _strings(_claim(claims, s.oidc_role_claim))}
        role = next((r for r in ROLE_PRECEDENCE if r in mapped), None)
        if role is None:
            raise TokenError("unknown_role")
        sub = str(claims["sub"])

        def one(path: str) -> str | None:
            value = _claim(claims, path)
            return str(value) if isinstance(value, (str, int)) and str(value) else None

        return Principal(
            sub=sub,
            role=role,
            name=one(s.oidc_name_claim) or sub,
            offices=frozenset(_strings(_claim(claims, s.oidc_offices_claim))),
            holder_id=one(s.oidc_holder_claim),
            party_id=one(s.oidc_party_claim),
            case_id=one(s.oidc_case_claim),
            client_id=one(s.oidc_client_id_claim),
        )

    async def authenticate(self, token: str) -> Principal:
        return self.principal(await self.claims(token))


class Authenticator:
    """Built once per app from its settings; owns the HTTP client that fetches the issuer's keys."""

    def __init__(self, settings: AuthSettings, *, fetch: JwksFetcher | None = None) -> None:
        self._http: httpx.AsyncClient | None = None
        if fetch is None:
            self._http = httpx.AsyncClient(timeout=5.0)
            fetch = http_jwks_fetcher(settings, self._http)
        keys = JwksCache(fetch, ttl_s=settings.oidc_jwks_cache_s, min_refresh_s=settings.oidc_jwks_min_refresh_s)
        self.validator = TokenValidator(settings, keys)

    async def principal_for(self, token: str) -> Principal:
        return await self.validator.authenticate(token)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


# ---------------------------------------------------------------- FastAPI dependencies

# Declared for the OpenAPI document only (an "Authorize" button in /docs); the header is checked below.
_bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access token from the platform's OpenID provider (`make token ROLE=...` in the embedded stack)",
)


def _unauthorized(code: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"code": code, "message": message},
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{code}"'},
    )


def forbidden(code: str, message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail={"code": code, "message": message})


async def authenticate(request: Request) -> Principal:
    """The caller of ``request`` (401 with the reason when the token is refused)."""
    header = request.headers.get("authorization")
    if not header:
        raise _unauthorized("missing_token", REASONS["missing_token"])
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("malformed_token", "Authorization header must be 'Bearer <token>'")
    authenticator: Authenticator = request.app.state.authenticator
    try:
        return await authenticator.principal_for(token.strip())
    except TokenError as exc:
        raise _unauthorized(exc.code, exc.message) from exc
    except IssuerUnavailable as exc:
        raise HTTPException(
            503, detail={"code": "issuer_unavailable", "message": "the identity provider's keys cannot be fetched"}
        ) from exc


def require(*roles: Role) -> Callable[[Request, object], Awaitable[Principal]]:
    """FastAPI dependency: the caller must hold one of ``roles`` (supervisor implies officer)."""
    allowed = set(roles)
    if "officer" in allowed:
        allowed.add("supervisor")

    async def dependency(request: Request, _: object = Depends(_bearer_scheme)) -> Principal:
        principal = await authenticate(request)
        if principal.role not in allowed:
            raise forbidden(
                "forbidden_role", f"role {principal.role} may not call this endpoint; allowed: {sorted(allowed)}"
            )
        return principal

    return dependency


# ---------------------------------------------------------------- scoping


def may_act_on_office(who: Principal, office: str | None) -> bool:
    """Officers act on the cases of their own customs offices; supervisors and the platform on all."""
    if who.role in ("supervisor", "system"):
        return True
    if who.role == "officer":
        return office is not None and office in who.offices
    return False


def require_office(who: Principal, office: str | None, what: str = "this case") -> None:
    """403 ``outside_office`` unless :func:`may_act_on_office`; roles without offices are not checked here."""
    if who.role in ("officer", "supervisor", "system") and not may_act_on_office(who, office):
        raise forbidden(
            "outside_office",
            f"{what} belongs to customs office {office}; you act for {', '.join(sorted(who.offices)) or 'no office'}",
        )
