"""The error answer of every service: ``{"error": {"code", "message", "details"?}}`` (built by ``error_body`` in
``shared/web.py``), and ``errors(...)``, the ``responses=`` a route declares for the error statuses it gives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(max_length=64, description="What went wrong, for machines: schema_violation, notice_not_found, "
                      "idempotency_conflict, forbidden_role, ...")
    # A message may quote what the request sent (an id from the path, a media type); uvicorn reads at most 16 KiB of
    # request line and headers.
    message: str = Field(max_length=20_000, description="What went wrong, for people")
    details: Any = Field(default=None, description="Present on some errors: for a refused request, each problem "
                         "with where it is (`loc`), what (`msg`) and which kind (`type`); for others, the figures "
                         "involved (a limit, the allowed values)")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


MEANING: dict[int, str] = {
    400: "the body is not valid JSON (`malformed_json`)",
    401: "no token, or a token that is refused (the code names why)",
    403: "the token's role, office, holder or party may not do this",
    404: "no such record, or not one the caller may see",
    409: "conflicts with what is recorded (the code names it)",
    413: "the body is larger than the service accepts",
    415: "the body is not sent as application/json",
    422: "the request breaks the contract or a rule (the code names it; `details` lists the problems)",
    503: "a service this one depends on does not answer; try again",
}


def errors(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the error statuses a route gives, each with the shared error body: a status alone takes its
    usual meaning, ``(status, description)`` says what it means for this route."""
    out: dict[int | str, dict[str, Any]] = {}
    for entry in statuses:
        status, description = entry if isinstance(entry, tuple) else (entry, MEANING[entry])
        out[status] = {"model": ErrorBody, "description": description}
    return out


# What a route that reads a JSON body and checks a token can answer besides its own errors.
BODY = (400, 401, 403, 413, 415, 422)
# What a route that reads parameters and checks a token can answer besides its own errors.
READ = (401, 403, 422)
