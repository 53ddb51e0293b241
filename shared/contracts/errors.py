"""The error answer of every service: ``{"error": {"code", "message", "details"?}}`` with a 4xx/5xx status
(built by ``shared.web.error_body``), and the ``responses=`` entry that declares it on a route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(max_length=64, description="machine-readable reason, e.g. recordation_not_found")
    message: str = Field(max_length=100_000, description="the reason in words, for a person")
    details: Any = Field(default=None, description="what the reason names, when there is more to say: the fields a "
                         "request failed on, a limit, the record's state")


class ErrorBody(BaseModel):
    """A refused or failed request."""

    error: ErrorDetail


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "the body is not valid JSON",
    401: "no valid bearer token",
    403: "the caller's role, office or holder may not do this",
    404: "no such record (or none the caller may see)",
    409: "the record's state or version does not allow it",
    413: "the body is larger than the service accepts",
    415: "the body is not JSON",
    422: "the request does not match the contract, or the record refuses it",
    503: "a service this one depends on does not answer",
}


def error_responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers these statuses with the shared error body. ``described`` overrides
    a status's description (``e409="..."``)."""
    return {status: {"model": ErrorBody,
                     "description": described.get(f"e{status}", ERROR_DESCRIPTIONS.get(status, "refused"))}
            for status in statuses}
