"""The error answer of every service: ``{"error": {"code", "message", "details"?}}`` with a 4xx or 5xx status
(built by ``shared.web.error_body``), and ``error_responses(...)``, the ``responses=`` a route declares for the
error statuses it gives. ``shared.web.declare_refusals`` adds to every route what the platform itself may answer
(401 and 403 behind a token, 422 where there are parameters or a body)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(
        max_length=64,
        description="what went wrong, for machines: schema_violation, case_not_found, "
        "idempotency_conflict, forbidden_role, ...",
    )
    message: str = Field(max_length=100_000, description="what went wrong, for people")
    details: Any = Field(
        default=None,
        description="present on some errors: for a refused request, each problem "
        "with where it is (`loc`), what (`msg`), which kind (`type`) and the limits it broke; for "
        "others, the figures involved (a limit, the allowed values, a record's state)",
    )


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
# The statuses a route that reads a JSON body behind a token, or parameters behind a token, can answer besides its own.
BODY = (400, 401, 403, 413, 415, 422)
READ = (401, 403, 422)

Described = int | tuple[int, str] | Mapping[int, str]


def error_responses(*described: Described, **by_status: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: each error status it answers, with the shared error body and what it means.

    Each argument is a status (its usual meaning), a ``(status, description)`` pair, or a mapping of statuses to
    descriptions (best: the codes it carries); ``e409="..."`` describes one status. What several say of one status
    is joined."""
    joined: dict[int, str] = {}

    def say(status: int, text: str) -> None:
        joined[status] = f"{joined[status]}; {text}" if status in joined and text not in joined[status] else text

    for item in described:
        if isinstance(item, int):
            say(item, MEANING.get(item, "refused"))
        elif isinstance(item, tuple):
            say(item[0], item[1])
        else:
            for status, text in item.items():
                say(status, text)
    for key, text in by_status.items():
        joined[int(key.removeprefix("e"))] = text
    return {status: {"model": ErrorBody, "description": joined[status]} for status in sorted(joined)}
