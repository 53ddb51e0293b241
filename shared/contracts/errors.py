"""The error answer of every service: ``{"error": {"code", "message", "details"?}}`` with a 4xx or 5xx status
(built by ``shared.web.error_body``), and ``errors(...)``, the ``responses=`` a route declares for the error
statuses it gives. ``shared.web.declare_refusals`` adds to every route what the platform itself may answer
(401 and 403 behind a token, 422 where there are parameters or a body)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(max_length=64, description="what went wrong, for machines: schema_violation, case_not_found, "
                      "idempotency_conflict, forbidden_role, ...")
    message: str = Field(max_length=20_000, description="what went wrong, for people")
    details: Any = Field(default=None, description="present on some errors: for a refused request, each problem "
                         "with where it is (`loc`), what (`msg`), which kind (`type`) and the limits it broke; for "
                         "others, the figures involved (a limit, the allowed values, a record's state)")


class ErrorBody(BaseModel):
    """Every refusal and failure the platform answers (never a bare text or a framework's own shape)."""

    error: ErrorDetail


MEANING: dict[int, str] = {
    400: "the body is not valid JSON (`malformed_json`)",
    401: "no token, or a token that is refused (`missing_token`, `malformed_token`, `invalid_token`, ...)",
    403: "the token's role, office, holder or party may not do this (`forbidden_role`, `outside_office`, ...)",
    404: "no such record, or not one the caller may see",
    409: "conflicts with what is recorded (the code names it)",
    413: "the body is larger than the service accepts (`body_too_large`)",
    415: "the body is not sent as application/json (`unsupported_media_type`)",
    422: "the request breaks the contract or a rule (the code names it; `details` lists the problems)",
    429: "too many attempts; wait for Retry-After",
    502: "a service this one depends on answered wrongly",
    503: "a service this one depends on does not answer; try again",
}


def errors(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the error statuses a route gives, each with the shared error body: a status alone takes
    its usual meaning, ``(status, description)`` says what it means for this route."""
    out: dict[int | str, dict[str, Any]] = {}
    for entry in statuses:
        status, description = entry if isinstance(entry, tuple) else (entry, MEANING[entry])
        out[status] = {"model": ErrorBody, "description": description}
    return out


# What a route that reads a JSON body answers besides its own errors and those ``declare_refusals`` adds.
BODY = (400, 413, 415)
