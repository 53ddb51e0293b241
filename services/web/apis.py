"""Calls to the platform's APIs with the signed-in person's own token: the pages see and do exactly what
the person may (no page reads another service's database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


class ApiError(Exception):
    """A service refused (4xx) or failed (5xx, unreachable); ``code`` and ``message`` come from its error body."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details

    def field_errors(self) -> dict[str, str]:
        """Validation errors by field name (the last part of each error's location)."""
        out: dict[str, str] = {}
        if isinstance(self.details, list):
            for e in self.details:
                loc = [str(p) for p in (e.get("loc") or []) if p not in ("body", "query", "path")]
                if loc:
                    out.setdefault(loc[-1] if not loc[-1].isdigit() else ".".join(loc[-2:]), str(e.get("msg", "")))
        return out


def seg(value: str) -> str:
    """One path segment, escaped (ids never reach another path)."""
    return quote(str(value), safe="")


@dataclass
class Api:
    http: httpx.AsyncClient
    urls: dict[str, str]
    token: str

    async def call(self, method: str, service: str, path: str, *, json: Any = None,
                   params: dict | None = None, raw: bool = False) -> Any:
        url = self.urls[service].rstrip("/") + path
        params = {k: v for k, v in (params or {}).items() if v not in (None, "", False)}
        try:
            r = await self.http.request(method, url, json=json, params=params,
                                        headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            raise ApiError(503, "service_unreachable", f"the {service} service did not answer ({type(exc).__name__})")
        if r.status_code >= 400:
            try:
                err = r.json().get("error", {})
            except ValueError:
                err = {}
            raise ApiError(r.status_code, str(err.get("code", f"http_{r.status_code}")),
                           str(err.get("message", r.text[:200])), err.get("details"))
        if raw:
            return r
        return r.json() if r.content else None

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call("GET", service, path, params=params)

    async def post(self, service: str, path: str, body: Any = None) -> Any:
        return await self.call("POST", service, path, json=body if body is not None else {})

    async def maybe(self, service: str, path: str, default: Any = None, **params: Any) -> Any:
        """GET, or ``default`` when the answer is a refusal or the service is away (a page shows what it can)."""
        try:
            return await self.get(service, path, **params)
        except ApiError:
            return default
