"""Tokens for the platform's own calls between services: OAuth client credentials, refreshed before expiry.

    http = httpx.AsyncClient(auth=ServiceToken.from_settings(settings))

Every request then carries ``Authorization: Bearer <token>``; the token is fetched once, reused
until ``refresh_margin_s`` before it expires, fetched again (one fetch at a time), and fetched
anew once if a callee answers 401 (a key rotation or a revoked token).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Protocol

import httpx
from pydantic import SecretStr


class TokenUnavailable(RuntimeError):
    """The issuer refused or could not be reached."""


class ClientSettings(Protocol):
    """What a token needs of a service's settings: ``AuthSettings`` and ``ClientCredentialsSettings`` together."""

    @property
    def oidc_issuer(self) -> str: ...
    @property
    def oidc_audience(self) -> str: ...
    @property
    def oidc_client_id(self) -> str: ...
    @property
    def oidc_client_secret(self) -> SecretStr: ...
    @property
    def oidc_token_url(self) -> str: ...


class ServiceToken(httpx.Auth):
    requires_request_body = True  # a request refused with 401 is sent once more with a fresh token
    MIN_FORCED_REFRESH_S = 5.0

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        token_url: str = "",
        resource: str = "urn:ipr:api",
        refresh_margin_s: float = 60.0,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._token_url = token_url
        self.resource = resource
        self.refresh_margin_s = refresh_margin_s
        self._timeout = timeout_s
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    @classmethod
    def from_settings(cls, settings: ClientSettings) -> ServiceToken:
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            token_url=settings.oidc_token_url,
            resource=settings.oidc_audience,
        )

    async def _endpoint(self, http: httpx.AsyncClient) -> str:
        if not self._token_url:
            found = await http.get(f"{self.issuer}/.well-known/openid-configuration")
            found.raise_for_status()
            self._token_url = found.json()["token_endpoint"]
        return self._token_url

    async def _fetch(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            try:
                url = await self._endpoint(http)
                response = await http.post(
                    url,
                    data={"grant_type": "client_credentials", "resource": self.resource},
                    auth=(self.client_id, self._secret),
                )
            except httpx.HTTPError as exc:
                raise TokenUnavailable(f"issuer unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise TokenUnavailable(
                f"issuer refused client {self.client_id}: {response.status_code} {response.text[:300]}"
            )
        body = response.json()
        self.fetches += 1
        self._token = body["access_token"]
        self._fetched_at = self._clock()
        self._expires_at = self._fetched_at + float(body.get("expires_in", 300))

    async def token(self, *, force: bool = False) -> str:
        """A token valid for at least ``refresh_margin_s`` more seconds."""
        async with self._lock:
            now = self._clock()
            recent = self._fetched_at is not None and now - self._fetched_at < self.MIN_FORCED_REFRESH_S
            if (force and not recent) or self._token is None or now >= self._expires_at - self.refresh_margin_s:
                await self._fetch()
            assert self._token is not None
            return self._token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token()}"}

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        used = await self.token()
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code == 401:
            async with self._lock:
                stale = self._token == used
            fresh = await self.token(force=stale)
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ServiceToken works with httpx.AsyncClient only")
