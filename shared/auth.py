"""Who is calling: bearer tokens mapped to a role, rights-holder tokens bound to one holder.

Roles: ``clearance_system`` (INTAKE_API_TOKEN), ``officer`` (OFFICER_API_TOKEN),
``supervisor`` (SUPERVISOR_API_TOKEN, may do whatever an officer may), ``system``
(SERVICE_API_TOKEN, the case worker calling step services) and ``rights_holder``
(``rh.<holder_id>.<hmac>`` signed with HOLDER_TOKEN_SECRET; sees only its own cases).

Run ``python -m shared.auth RH-0001`` to issue a rights-holder token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPBearer

Role = Literal["clearance_system", "officer", "supervisor", "system", "rights_holder"]


@dataclass(frozen=True)
class Principal:
    role: Role
    holder_id: str | None = None

    @property
    def name(self) -> str:
        return f"{self.role}:{self.holder_id}" if self.holder_id else self.role


def _sign(secret: str, holder_id: str) -> str:
    return hmac.new(secret.encode(), f"rights-holder:{holder_id}".encode(), hashlib.sha256).hexdigest()[:40]


def issue_holder_token(secret: str, holder_id: str) -> str:
    """A token that proves the caller is the rights holder ``holder_id``."""
    if not holder_id or "." in holder_id:
        raise ValueError("holder id must be non-empty and contain no '.'")
    return f"rh.{holder_id}.{_sign(secret, holder_id)}"


class Authenticator:
    """Maps a bearer token to a principal; constant-time comparisons throughout."""

    def __init__(self, settings) -> None:  # noqa: ANN001 - any AuthSettings
        self._static: list[tuple[str, Role]] = [
            (settings.intake_api_token.get_secret_value(), "clearance_system"),
            (settings.officer_api_token.get_secret_value(), "officer"),
            (settings.supervisor_api_token.get_secret_value(), "supervisor"),
            (settings.service_api_token.get_secret_value(), "system"),
        ]
        self._holder_secret = settings.holder_token_secret.get_secret_value()

    def principal_for(self, token: str) -> Principal | None:
        for known, role in self._static:
            if hmac.compare_digest(known.encode(), token.encode()):
                return Principal(role=role)
        if token.startswith("rh."):
            parts = token.split(".")
            if len(parts) == 3 and parts[1]:
                expected = _sign(self._holder_secret, parts[1])
                if hmac.compare_digest(expected.encode(), parts[2].encode()):
                    return Principal(role="rights_holder", holder_id=parts[1])
        return None


# Declared for the OpenAPI document only (an "Authorize" button in /docs); the header is checked below.
_bearer_scheme = HTTPBearer(auto_error=False, description="INTAKE_API_TOKEN, OFFICER_API_TOKEN, SUPERVISOR_API_TOKEN, "
                            "SERVICE_API_TOKEN or a rights-holder token")


def _unauthorized(code: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"code": code, "message": message},
        headers={"WWW-Authenticate": "Bearer"},
    )


def require(*roles: Role):
    """FastAPI dependency: the caller must hold one of ``roles`` (supervisor implies officer)."""
    allowed = set(roles)
    if "officer" in allowed:
        allowed.add("supervisor")

    async def dependency(request: Request, _: object = Depends(_bearer_scheme)) -> Principal:
        header = request.headers.get("authorization")
        if not header:
            raise _unauthorized("missing_token", "Authorization: Bearer <token> header is required")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("malformed_token", "Authorization header must be 'Bearer <token>'")
        principal = request.app.state.authenticator.principal_for(token.strip())
        if principal is None:
            raise _unauthorized("invalid_token", "the bearer token is not recognised")
        if principal.role not in allowed:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "forbidden_role",
                    "message": f"role {principal.role} may not call this endpoint; allowed: {sorted(allowed)}",
                },
            )
        return principal

    return dependency


if __name__ == "__main__":  # pragma: no cover - tiny CLI
    if len(sys.argv) != 2:
        print("usage: python -m shared.auth HOLDER_ID  (reads HOLDER_TOKEN_SECRET)", file=sys.stderr)
        raise SystemExit(2)
    print(issue_holder_token(os.environ["HOLDER_TOKEN_SECRET"], sys.argv[1]))
