"""Calls to the platform's APIs with the signed-in person's own token: the pages see and do exactly what
the person may (no page reads another service's database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


class ApiError(Exception):
    """A service refused (4xx) or failed (5xx, unreachable); ``code`` and ``message`` come from its error body."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details

    def field_errors(self, translate: Callable[..., str] | None = None) -> dict[str, str]:
        """Validation errors by field name (the last part of each error's location), in words a person reads.

        ``translate`` is the page's ``_``: the service's validator text is never shown as it is."""
        out: dict[str, str] = {}
        t = translate or (lambda s, **v: s.format(**v) if v else s)
        if isinstance(self.details, list):
            for e in self.details:
                if not isinstance(e, dict):
                    continue
                loc = [str(p) for p in (e.get("loc") or []) if p not in ("body", "query", "path")]
                if loc:
                    out.setdefault(loc[-1] if not loc[-1].isdigit() else ".".join(loc[-2:]), friendly(e, t))
        return out

    def page_message(self, translate: Callable[..., str]) -> str:
        """The refusal as a page says it: a refused form points at its fields, other refusals keep their words."""
        if self.code in ("schema_violation", "malformed_json") and self.field_errors():
            return translate("Some fields were not accepted; see the notes beside them.")
        return self.message


def friendly(error: dict[str, Any], t: Callable[..., str]) -> str:
    """A validation error of a service in plain words, by its machine-readable type."""
    kind = str(error.get("type") or "")
    ctx: dict[str, Any] = error["ctx"] if isinstance(error.get("ctx"), dict) else {}
    if kind in ("missing", "string_too_short") and (kind == "missing" or ctx.get("min_length") == 1):
        return t("This field is required.")
    if kind == "string_too_short":
        return t("At least {n} characters.", n=ctx.get("min_length", "?"))
    if kind in ("string_too_long", "too_long"):
        return t("At most {n} characters.", n=ctx.get("max_length", "?"))
    if kind == "string_pattern_mismatch":
        return t("Use only the letters, digits and signs this field allows.")
    if kind.startswith(("decimal", "float", "int")) and kind.endswith(("parsing", "type")):
        return t("Enter a number.")
    if kind in (
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
    ):
        return t("This number is out of range.")
    if kind.startswith("date") or kind.startswith("datetime"):
        return t("Enter a date (YYYY-MM-DD).")
    if kind in ("literal_error", "enum"):
        return t("Choose one of the offered values.")
    if kind in ("value_error", "assertion_error"):
        msg = str(error.get("msg") or "").removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return msg[:200] or t("This value is not accepted.")
    return t("This value is not accepted.")


def seg(value: str) -> str:
    """One path segment, escaped (ids never reach another path)."""
    return quote(str(value), safe="")


@dataclass
class Api:
    http: httpx.AsyncClient
    urls: dict[str, str]
    token: str

    async def call(
        self, method: str, service: str, path: str, *, json: Any = None, params: dict | None = None, raw: bool = False
    ) -> Any:
        url = self.urls[service].rstrip("/") + path
        params = {k: v for k, v in (params or {}).items() if v not in (None, "", False)}
        try:
            r = await self.http.request(
                method, url, json=json, params=params, headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                503, "service_unreachable", f"the {service} service did not answer ({type(exc).__name__})"
            ) from exc
        if r.status_code >= 400:
            try:
                err = r.json().get("error", {})
            except ValueError:
                err = {}
            raise ApiError(
                r.status_code,
                str(err.get("code", f"http_{r.status_code}")),
                str(err.get("message", r.text[:200])),
                err.get("details"),
            )
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
