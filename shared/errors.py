"""Domain errors: what a use case says when it refuses, in its own terms, with no HTTP in it.

A use case raises ``NotFound``, ``Conflict``, ``Refused`` … with a machine-readable code and a message
for people; ``shared.web`` maps every one, in one place, to the shared error body
``{"error": {"code", "message", "details"?}}`` with the status the class stands for. The code is what
clients branch on; the message is said to a person.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a status of its own (``DomainError(409, "code", "message")``); the subclasses
    below fix the status, and take only the code, the message and the details."""

    status: int | None = None

    def __init__(self, *args: Any, headers: dict[str, str] | None = None) -> None:
        if type(self).status is None:
            status, code, message, *rest = args
            self.status = int(status)
        else:
            code, message, *rest = args
        if len(rest) > 1:
            raise TypeError("DomainError takes a code, a message and optional details")
        self.code: str = code
        self.message: str = message
        self.details: Any = rest[0] if rest else None
        self.headers = headers
        super().__init__(f"{self.code}: {self.message}")


class BadRequest(DomainError):
    status = 400


class Forbidden(DomainError):
    """The caller may not do this (its role, its office, its holder, its case)."""

    status = 403


class NotFound(DomainError):
    """No such thing, or none the caller may see."""

    status = 404


class Conflict(DomainError):
    """The thing's state forbids it now: it exists already, it was decided, another version was written."""

    status = 409


class Refused(DomainError):
    """The request is well formed, but the law or the facts refuse it."""

    status = 422


class TooMany(DomainError):
    status = 429


class UpstreamFailed(DomainError):
    """A service this one needs answered wrongly."""

    status = 502


class Unavailable(DomainError):
    """A service this one needs did not answer; the caller may try again."""

    status = 503
