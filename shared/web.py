"""FastAPI app factory shared by every service: errors, body limits, health, readiness, metrics.

Every error leaves as ``{"error": {"code", "message", "details"?}}`` with a 4xx/5xx
status, so clearance systems and the console can act on the machine-readable code.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Authenticator
from shared.contracts.bounds import unstorable_text
from shared.contracts.errors import error_responses
from shared.contracts.ops import Liveness, Readiness
from shared.errors import DomainError
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("ipr_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "ipr_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

ReadinessCheck = Callable[[], Awaitable[None]]
# Sign-in (authorization code + PKCE) for the platform's own pages: the console, the administration page.
SIGNIN_SCRIPT = Path(__file__).with_name("static") / "signin.js"


_LIMIT_KEYS = ("min_length", "max_length", "gt", "ge", "lt", "le", "max_digits", "decimal_places", "expected")


def _limits(error: dict[str, Any]) -> dict[str, Any]:
    """The limits a validation error names (``ctx``), for clients that say them in their own words."""
    ctx = error.get("ctx")
    if not isinstance(ctx, dict):
        return {}
    kept = {k: v for k, v in ctx.items() if k in _LIMIT_KEYS and isinstance(v, (int, float, str))}
    return {"ctx": kept} if kept else {}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


class BodySizeLimit:
    """Refuses request bodies above ``max_bytes`` with 413, whether or not Content-Length is sent.

    ``by_path`` sets other limits for paths starting with a prefix (a route that reads its body as a
    stream, such as parcel manifests, may take more than a route that parses it whole).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, by_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.by_path = sorted((by_path or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_path:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(send, max_bytes)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._reject(send, max_bytes)

    async def _reject(self, send: Send, max_bytes: int) -> None:
        response = JSONResponse(
            error_body("body_too_large", f"request body exceeds {max_bytes} bytes", {"limit_bytes": max_bytes}),
            status_code=413,
        )
        await response({"type": "http"}, _empty_receive, send)


class _BodyTooLarge(Exception):
    pass


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _validation_code(errors: list[dict[str, Any]]) -> str:
    types = {e.get("type") for e in errors}
    if "json_invalid" in types:
        return "malformed_json"
    messages = " ".join(str(e.get("msg", "")) for e in errors)
    if "unknown jurisdiction" in messages:
        return "unknown_jurisdiction"
    return "schema_violation"


def create_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], AsyncIterator[None]] | None = None,
    readiness: Callable[[FastAPI], list[ReadinessCheck]] | None = None,
    version: str = "1.0.0",
    json_only: bool = True,
    body_limits: dict[str, int] | None = None,
    streamed_paths: tuple[str, ...] = (),
) -> FastAPI:
    """Build a service app with the platform's standard endpoints and error handling. ``streamed_paths``: path
    prefixes whose routes read the body as a stream and check its text themselves (never buffered whole here)."""

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.authenticator = Authenticator(settings)
        try:
            if lifespan is None:
                yield
            else:
                async with asynccontextmanager(lifespan)(app):
                    yield
        finally:
            await app.state.authenticator.aclose()

    # Docs assets are served by the service itself, so /docs works on closed networks.
    # One schema per model for requests and answers alike: with two (``X-Input``, ``X-Output``) under one
    # title, client generators name both ``X`` and drop one of them.
    app = FastAPIOffline(
        title=title,
        description=description,
        version=version,
        lifespan=_lifespan,
        separate_input_output_schemas=False,
        dependencies=[Depends(known_query)],
    )
    service = settings.service_name

    @app.exception_handler(RequestValidationError)
    async def _on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type"), **_limits(e)}
            for e in exc.errors()
        ]
        code = _validation_code(errors)
        status_code = 400 if code == "malformed_json" else 422
        message = {
            "malformed_json": "request body is not valid JSON",
            "unknown_jurisdiction": "jurisdiction is not supported",
            "schema_violation": "request does not match the contract",
        }[code]
        return JSONResponse(error_body(code, message, errors), status_code=status_code)

    @app.exception_handler(DomainError)
    async def _on_domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status or 400, headers=exc.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict) and "code" in detail:
            body = error_body(detail["code"], detail.get("message", ""), detail.get("details"))
        else:
            code = {
                404: "not_found",
                405: "method_not_allowed",
                401: "unauthorized",
                403: "forbidden",
                413: "too_large",
                415: "unsupported_media_type",
            }.get(exc.status_code, "http_error")
            if exc.status_code == 400 and "parsing the body" in str(detail):
                # FastAPI's own refusal of a body it could not read (bad encoding, a broken multipart form)
                code, detail = "malformed_json", "request body could not be parsed"
            body = error_body(code, str(detail))
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)

    @app.middleware("http")
    async def _storable_text(request: Request, call_next: RequestResponseEndpoint) -> Response:
        # A NUL in the query (%00) reaches no column either: refused before any route sees it.
        if b"%00" in request.scope.get("query_string", b"") or b"\x00" in request.scope.get("query_string", b""):
            bad = [key for key, value in request.query_params.multi_items() if "\x00" in key or "\x00" in value]
            in_query: list[dict[str, Any]] = [
                {
                    "loc": ["query", key.replace("\x00", "\\x00")],
                    "type": "unstorable_text",
                    "msg": "text must not contain NUL characters",
                }
                for key in bad[:20]
            ]
            if in_query:
                return JSONResponse(
                    error_body("schema_violation", "request does not match the contract", in_query), status_code=422
                )
        # A NUL or an unpaired surrogate can only arrive as a \u escape; no column or message can hold it.
        streamed = bool(streamed_paths) and request.url.path.startswith(tuple(streamed_paths))
        if request.method in ("POST", "PUT", "PATCH") and not streamed:
            raw = await request.body()
            if b"\\u" in raw:
                try:
                    found = unstorable_text(json.loads(raw))
                except ValueError:
                    found = []  # not JSON: the route answers that itself
                if found:
                    details = [
                        {
                            "loc": ["body", *loc],
                            "type": "unstorable_text",
                            "msg": "text must not contain NUL characters or unpaired surrogates",
                        }
                        for loc in found[:20]
                    ]
                    return JSONResponse(
                        error_body("schema_violation", "request does not match the contract", details), status_code=422
                    )
        return await call_next(request)

    @app.middleware("http")
    async def _json_only(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if (
            json_only
            and request.method in ("POST", "PUT", "PATCH")
            and request.headers.get("content-length", "0") != "0"
        ):
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json" and not ctype.endswith("+json"):
                return JSONResponse(
                    error_body(
                        "unsupported_media_type", f"send the body as application/json, not {ctype or 'without a type'}"
                    ),
                    status_code=415,
                )
        return await call_next(request)

    @app.middleware("http")
    async def _metrics(request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(service, request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, path).observe(time.perf_counter() - started)
        return response

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, by_path=body_limits)

    @app.get("/healthz", tags=["ops"], response_model=Liveness, summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get(
        "/readyz",
        tags=["ops"],
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "a check failed: the answer names it"}},
        summary="Readiness: database, broker and peers answer",
    )
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        ok = True
        for check in readiness(app) if readiness else []:
            name = getattr(check, "__name__", "check")
            try:
                await check()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - report any failure
                ok = False
                checks[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "service": service, "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        include_in_schema=True,
        response_class=PlainTextResponse,
        responses={
            200: {
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
                "description": "the Prometheus text exposition format",
            }
        },
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included (a parameter model's fields too)."""
    names: set[str] = set()
    for dependant in _dependants(route.dependant):
        for param in dependant.query_params:
            annotation = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(f.alias or n for n, f in annotation.model_fields.items())
            else:
                names.add(param.alias)
    return frozenset(names)


_QUERY_NAMES = "_ipr_query_names"  # kept on the route itself, computed on its first request


async def known_query(request: Request) -> None:
    """Refuse a query parameter the route does not take (422 ``schema_violation``, each unknown one named as
    ``extra_forbidden``, as an unknown body field is): a misspelt filter would otherwise be ignored and the
    answer would look like an answer to the question asked. Only the APIs (``/v1/...``) are checked: pages and
    their sign-in callbacks take what browsers and identity providers add (``iss``, flash messages), and the
    docs, probes and Prometheus' ``/metrics`` take what their tools add."""
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute) or not route.path.startswith("/v1/"):
        return
    known: frozenset[str] | None = getattr(route, _QUERY_NAMES, None)
    if known is None:
        known = _query_names(route)
        setattr(route, _QUERY_NAMES, known)
    unknown = [key for key in dict.fromkeys(request.query_params.keys()) if key not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", key[:100]),
                    "msg": f"unknown query parameter; this endpoint takes: {takes}",
                    "type": "extra_forbidden",
                    "input": request.query_params.get(key, "")[:100],
                }
                for key in unknown[:20]
            ]
        )


def replayed(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a creating route whose repeat (the same idempotency key) answers 200 with the first
    answer, where the first answer was 201."""
    return {200: {"model": model, "description": "the same request again (same idempotency key): the first answer"}}


def declare_refusals(router: APIRouter) -> None:
    """Declare on every route what the platform answers before the route's own code runs, with the shared error
    body: 401 and 403 behind a token (``shared.auth``), 422 for a path, query or body value that breaks the
    contract or a query parameter the route does not take (this module's validation handler, which replaces
    FastAPI's own 422 shape). A route's own
    declaration of a status wins."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        tree = list(_dependants(route.dependant))
        declared = {str(status) for status in route.responses}
        wanted: list[int] = []
        if any(isinstance(d.call, SecurityBase) for d in tree):
            wanted += [401, 403]
        # Any route refuses a query parameter it does not take (``known_query``), so every one may answer 422.
        wanted.append(422)
        for status, response in error_responses(*(s for s in wanted if str(s) not in declared)).items():
            route.responses[status] = response


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)
