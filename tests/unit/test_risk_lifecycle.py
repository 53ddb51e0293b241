"""Recordation lifecycle rules (pure): transitions, statutory term, renewal window, amendable fields."""

from __future__ import annotations

from datetime import date

import pytest

from services.risk import lifecycle
from services.risk.lifecycle import LifecycleError
from shared.contracts.recordation import RecordationV1
from tests.factories import example_recordation


def rec(**changes) -> RecordationV1:
    return RecordationV1.model_validate(example_recordation(**changes))


def test_term_end_is_ten_years_less_a_day() -> None:
    assert lifecycle.term_end(date(2019, 3, 1), 10) == date(2029, 2, 28)
    assert lifecycle.term_end(date(2024, 2, 29), 10) == date(2034, 2, 27)  # leap day start
    assert lifecycle.term_end(date(2026, 1, 1), 10) == date(2035, 12, 31)


def test_add_months_clamps_to_month_end() -> None:
    assert lifecycle.add_months(date(2029, 8, 31), -6) == date(2029, 2, 28)
    assert lifecycle.add_months(date(2028, 8, 31), -6) == date(2028, 2, 29)
    assert lifecycle.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_approve_starts_the_term_on_the_approval_date() -> None:
    approved = lifecycle.approve(rec(status="pending"), date(2026, 11, 22))
    assert approved.status == "active"
    assert approved.valid_from == date(2026, 11, 22)
    assert approved.valid_until == date(2036, 11, 21)


@pytest.mark.parametrize("status", ["active", "expired", "revoked", "refused"])
def test_only_pending_can_be_approved_or_refused(status: str) -> None:
    with pytest.raises(LifecycleError) as exc:
        lifecycle.approve(rec(status=status), date(2026, 11, 22))
    assert exc.value.code == "invalid_transition" and exc.value.status == 409
    with pytest.raises(LifecycleError):
        lifecycle.refuse(rec(status=status))


def test_refuse_pending() -> None:
    assert lifecycle.refuse(rec(status="pending")).status == "refused"


def test_renewal_window_is_six_months_before_expiry() -> None:
    r = rec(valid_from="2019-03-01", valid_until="2029-02-28")
    assert lifecycle.renewal_window(r) == (date(2028, 8, 29), date(2029, 2, 28))


@pytest.mark.parametrize(
    ("today", "ok"),
    [
        ("2028-08-28", False),  # one day before the window
        ("2028-08-29", True),  # first day of the window
        ("2029-01-15", True),
        ("2029-02-28", True),  # last valid day
    ],
)
def test_renew_only_inside_the_window(today: str, ok: bool) -> None:
    r = rec(valid_from="2019-03-01", valid_until="2029-02-28")
    if ok:
        renewed = lifecycle.renew(r, date.fromisoformat(today))
        assert renewed.valid_until == date(2039, 2, 28)  # adds the 10-year term to the current end
        assert renewed.valid_from == r.valid_from and renewed.status == "active"
    else:
        with pytest.raises(LifecycleError) as exc:
            lifecycle.renew(r, date.fromisoformat(today))
        assert exc.value.code == "outside_renewal_window"
        assert "2028-08-29" in exc.value.message


@pytest.mark.parametrize("status", ["pending", "expired", "revoked", "refused"])
def test_renew_needs_an_active_recordation(status: str) -> None:
    with pytest.raises(LifecycleError) as exc:
        lifecycle.renew(rec(status=status, valid_until="2026-12-31"), date(2026, 11, 22))
    assert exc.value.code == "invalid_transition"


def test_expire_after_the_last_valid_day_or_when_the_right_lapsed() -> None:
    r = rec(valid_until="2026-11-21")
    assert lifecycle.expire(r, date(2026, 11, 22)).status == "expired"
    with pytest.raises(LifecycleError) as exc:
        lifecycle.expire(r, date(2026, 11, 21))
    assert exc.value.code == "not_yet_expired"
    assert lifecycle.expire(r, date(2026, 11, 21), lapsed_right=True).status == "expired"


def test_revoke_active_or_pending_only() -> None:
    assert lifecycle.revoke(rec()).status == "revoked"
    assert lifecycle.revoke(rec(status="pending")).status == "revoked"
    with pytest.raises(LifecycleError):
        lifecycle.revoke(rec(status="refused"))


def test_amend_changes_only_amendable_fields_and_revalidates() -> None:
    r = rec()
    amended = lifecycle.amend(
        r,
        {
            "aliases": ["NIKE AIR", "SWOOSH", "JUST DO IT"],
            "known_infringers": {"manufacturers": [{"name": "Putian Shoe Factory 3"}], "ports": ["CN5300"]},
        },
    )
    assert amended.aliases[-1] == "JUST DO IT"
    assert amended.known_infringers.manufacturers[0].name == "Putian Shoe Factory 3"
    assert lifecycle.changed_fields(r.model_dump(mode="json"), amended.model_dump(mode="json")) == [
        "aliases",
        "known_infringers",
    ]
    for field in ("title", "valid_until", "status", "jurisdiction", "recordation_id"):
        with pytest.raises(LifecycleError) as exc:
            lifecycle.amend(r, {field: "X"})
        assert exc.value.code == "field_not_amendable" and exc.value.status == 422
    with pytest.raises(LifecycleError) as exc:
        lifecycle.amend(r, {"goods_hs_prefixes": ["not-digits"]})
    assert exc.value.code == "schema_violation"
    with pytest.raises(LifecycleError):
        lifecycle.amend(r, {})
    with pytest.raises(LifecycleError):
        lifecycle.amend(rec(status="revoked"), {"aliases": []})


def test_unknown_jurisdiction_has_no_terms() -> None:
    with pytest.raises(LifecycleError) as exc:
        lifecycle.terms_for("JP")
    assert exc.value.code == "no_rule_pack"


def test_terms_come_from_each_jurisdictions_rule_pack() -> None:
    assert lifecycle.terms_for("CN") == lifecycle.Terms(term_years=10, renewal_window_months=6)
    assert lifecycle.terms_for("EU") == lifecycle.Terms(term_years=1, renewal_window_months=3)  # application for action
    assert lifecycle.terms_for("US").term_years == 10
