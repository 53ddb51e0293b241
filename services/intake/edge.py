"""Rules that apply only where a declaration arrives (HTTP and the topic), relative to the intake's clock.

Fixed bounds (years 2000 to 2099, amounts, ids) live in the contract and hold everywhere. A rule
relative to today cannot: a declaration stored yesterday must stay valid tomorrow, and a case
workflow replaying its history must never see a different answer. So these rules are checked
once, here, against a clock that tests can set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts.declaration import DeclarationV1

MAX_AHEAD = timedelta(days=1)  # clocks of clearance systems drift; a day ahead is a mistake or a forgery


class Clock:
    """The intake's wall clock (UTC). ``set`` fixes it, for tests; ``reset`` returns to real time."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._fixed = when

    def reset(self) -> None:
        self._fixed = None


clock = Clock()


def refusals(declaration: DeclarationV1, *, now: datetime, loc: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Why the declaration cannot be accepted now, as validation errors (empty when it can)."""
    errors: list[dict[str, Any]] = []
    latest = now + MAX_AHEAD
    if declaration.submitted_at > latest:
        errors.append(
            {
                "loc": [*loc, "submitted_at"],
                "type": "submitted_in_future",
                "msg": f"submitted_at {declaration.submitted_at.isoformat()} is more than a day ahead of the "
                f"intake's clock ({now.isoformat(timespec='seconds')})",
            }
        )
    return errors
