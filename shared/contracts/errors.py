"""The error answer of every service (``shared.web.error_body``): ``{"error": {"code", "message", "details"?}}``
with a 4xx or 5xx status; ``error_responses`` declares a route's error statuses with it in the OpenAPI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                      description="what went wrong, for machines (e.g. case_not_found, schema_violation)")
    message: str = Field(max_length=10_000, description="what went wrong, for people")
    details: dict[str, Any] | list[Any] | None = Field(
        default=None, max_length=10_000,
        description="more about it where the code says so: the fields a request got wrong (each with loc, msg, "
                    "type and the limits it broke), the deadline a late answer missed, the failure of a case")


class ErrorBody(BaseModel):
    """Every refusal and failure the platform answers (never a bare text or a framework's own shape)."""

    error: ErrorDetail


# What every authenticated route may answer (shared.auth), every route with parameters (shared.web's validation
# and its refusal of a NUL in the query) and every route that reads a JSON body (shared.web's limits).
AUTH_ERRORS: Mapping[int, str] = {
    401: "missing_token, malformed_token or a token refused (expired, wrong issuer or audience, bad signature)",
    403: "forbidden_role: the caller's role may not do this; outside_office: it belongs to another customs office",
    503: "issuer_unavailable: the identity provider's keys cannot be fetched",
}
INPUT_ERRORS: Mapping[int, str] = {
    422: "schema_violation: a path, query or body value breaks the contract (details name each)",
}
BODY_ERRORS: Mapping[int, str] = {
    400: "malformed_json: the body is not JSON",
    413: "body_too_large",
    415: "unsupported_media_type: send application/json",
}


def error_responses(*described: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: each error status it answers, with the shared error body and what it means
    (best: the codes it carries). What several mappings say of one status is joined."""
    joined: dict[int, str] = {}
    for mapping in described:
        for status, text in mapping.items():
            joined[status] = f"{joined[status]}; {text}" if status in joined else text
    return {status: {"model": ErrorBody, "description": joined[status]} for status in sorted(joined)}
