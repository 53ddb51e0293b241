"""Lifecycle of a recordation (pure): approve or refuse, amend, renew, expire, revoke.

CN (Regulations on Customs Protection of IPR): a recordation is valid for 10 years from the date
of approval (Art. 10); it may be renewed within the 6 months before it expires, each renewal adding
10 years; it lapses if not renewed (Art. 10); GACC may revoke it (Art. 9, 11). The term and the
renewal window are per jurisdiction below, so another rule pack only adds a row.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from shared.contracts.recordation import RecordationV1
from shared.rules.calendar import calendar_for
from shared.rules.pack import rule_pack


@dataclass(frozen=True)
class Terms:
    term_years: int
    renewal_window_months: int


# Fields an amendment may change. Identity (id, jurisdiction, right type, title, registration number),
# validity and status change only through their own transitions.
AMENDABLE = frozenset(
    {
        "aliases",
        "holder",
        "agent",
        "goods_hs_prefixes",
        "nice_classes",
        "authorized_licensees",
        "genuine_unit_value",
        "known_infringers",
        "genuine_ports",
        "common_word",
        "common_word_aliases",
        "identification_guide",
    }
)
# What a rights holder may change on its own active recordation (the guide is its own information).
HOLDER_AMENDABLE_ACTIVE = frozenset({"identification_guide"})

# command -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"pending": "active"},
    "refuse": {"pending": "refused"},
    "amend": {"pending": "pending", "active": "active"},
    "renew": {"active": "active"},
    "expire": {"active": "expired"},
    "revoke": {"active": "revoked", "pending": "revoked"},
}


class LifecycleError(Exception):
    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def terms_for(jurisdiction: str) -> Terms:
    """Term and renewal window of a recordation (EU: of an application for action), from the rule pack."""
    try:
        pack = rule_pack(jurisdiction)
        term = pack.deadline("recordation_validity")
        window = int(pack.setting("recordation_renewal_window_months"))
    except KeyError:
        raise LifecycleError("no_rule_pack", f"no recordation terms for jurisdiction {jurisdiction}", 422) from None
    return Terms(term_years=term.amount, renewal_window_months=window)


def add_months(day: date, months: int) -> date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def term_end(start: date, years: int) -> date:
    """Last valid day of a term of ``years`` starting on ``start`` (2019-03-01 + 10 y -> 2029-02-28)."""
    return add_months(start, 12 * years) - timedelta(days=1)


def renewal_window(rec: RecordationV1) -> tuple[date, date]:
    """First and last day on which ``rec`` may be renewed."""
    t = terms_for(rec.jurisdiction)
    return add_months(rec.valid_until, -t.renewal_window_months) + timedelta(days=1), rec.valid_until


def _check(command: str, rec: RecordationV1) -> str:
    allowed = TRANSITIONS[command]
    if rec.status not in allowed:
        raise LifecycleError(
            "invalid_transition",
            f"cannot {command} recordation {rec.recordation_id} in status {rec.status} "
            f"(allowed from: {', '.join(sorted(allowed))})",
        )
    return allowed[rec.status]


def _rebuild(rec: RecordationV1, **changes: Any) -> RecordationV1:
    data = rec.model_dump(mode="json")
    data.update(changes)
    try:
        return RecordationV1.model_validate(data)
    except ValidationError as exc:
        raise LifecycleError(
            "schema_violation", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), 422
        ) from exc


def approve(rec: RecordationV1, today: date) -> RecordationV1:
    """Approval starts the statutory term on the approval date."""
    status = _check("approve", rec)
    t = terms_for(rec.jurisdiction)
    return _rebuild(
        rec, status=status, valid_from=today.isoformat(), valid_until=term_end(today, t.term_years).isoformat()
    )


def refuse(rec: RecordationV1) -> RecordationV1:
    return _rebuild(rec, status=_check("refuse", rec))


def amend(rec: RecordationV1, changes: dict) -> RecordationV1:
    status = _check("amend", rec)
    if not changes:
        raise LifecycleError("nothing_to_amend", "changes must name at least one field", 422)
    refused = sorted(set(changes) - AMENDABLE)
    if refused:
        raise LifecycleError(
            "field_not_amendable",
            f"these fields cannot be amended: {', '.join(refused)} (amendable: {', '.join(sorted(AMENDABLE))})",
            422,
        )
    return _rebuild(rec, status=status, **changes)


def renew(rec: RecordationV1, today: date) -> RecordationV1:
    """Renewal inside the window before expiry adds one statutory term to the current end."""
    status = _check("renew", rec)
    opens, closes = renewal_window(rec)
    if not opens <= today <= closes:
        raise LifecycleError(
            "outside_renewal_window",
            f"recordation {rec.recordation_id} may be renewed only from {opens} to {closes} (today is {today})",
        )
    t = terms_for(rec.jurisdiction)
    return _rebuild(
        rec,
        status=status,
        valid_until=(
            add_months(rec.valid_until + timedelta(days=1), 12 * t.term_years) - timedelta(days=1)
        ).isoformat(),
    )


def expire(rec: RecordationV1, today: date, *, lapsed_right: bool = False) -> RecordationV1:
    """Expiry after the last valid day, or earlier when the underlying right itself lapsed."""
    status = _check("expire", rec)
    if rec.valid_until >= today and not lapsed_right:
        raise LifecycleError(
            "not_yet_expired",
            f"recordation {rec.recordation_id} is valid until {rec.valid_until}; to end it early "
            "because the right lapsed, say so (lapsed_right: true)",
        )
    return _rebuild(rec, status=status)


def revoke(rec: RecordationV1) -> RecordationV1:
    return _rebuild(rec, status=_check("revoke", rec))


def changed_fields(before: dict, after: dict) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def today_in(jurisdiction: str, now: datetime | None = None) -> date:
    """Today's date where the jurisdiction's customs work (its calendar's time zone)."""
    return calendar_for(jurisdiction).local_date(now or datetime.now(UTC))
