"""What every service answers on its operations routes: liveness and readiness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    status: Literal["ok"]
    service: str = Field(max_length=64)


class Readiness(BaseModel):
    """Each check is ``ok`` or ``failed: <error>``; any failure makes the answer 503 ``not_ready``."""

    status: Literal["ready", "not_ready"]
    service: str = Field(max_length=64)
    checks: dict[str, str] = Field(max_length=64)
