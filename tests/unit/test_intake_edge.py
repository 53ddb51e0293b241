"""Intake's edge: a declaration dated more than a day ahead of the intake's clock is refused (HTTP and topic),
while the same declaration stays valid in the contract, so stored declarations and workflow inputs never
change validity with the date."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.intake import edge
from services.intake.consumer import parse_declaration
from shared.contracts.declaration import DeclarationV1
from shared.kafka import PoisonMessage
from tests.factories import example_declaration

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    edge.clock.set(NOW)
    yield edge.clock
    edge.clock.reset()


def _raw(**changes) -> bytes:
    return json.dumps(example_declaration(**changes)).encode()


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59), True),
        (timedelta(days=1), True),
        (timedelta(days=1, seconds=1), False),
        (timedelta(days=400), False),
        (-timedelta(days=3000), True),
    ],
)
def test_submitted_at_at_most_a_day_ahead_of_the_clock(clock, ahead: timedelta, accepted: bool) -> None:
    submitted = (NOW + ahead).isoformat()
    declaration = DeclarationV1.model_validate(example_declaration(submitted_at=submitted))  # the contract agrees
    assert (edge.refusals(declaration, now=clock.now()) == []) is accepted
    if accepted:
        assert parse_declaration(_raw(submitted_at=submitted)).submitted_at == NOW + ahead
    else:
        with pytest.raises(PoisonMessage) as info:
            parse_declaration(_raw(submitted_at=submitted))
        assert info.value.details[0]["loc"] == ["submitted_at"]
        assert info.value.details[0]["type"] == "submitted_in_future"


def test_the_rule_follows_the_clock_not_the_contract(clock) -> None:
    raw = _raw(submitted_at="2027-03-01T00:00:00Z")
    with pytest.raises(PoisonMessage):
        parse_declaration(raw)
    clock.set(datetime(2027, 2, 28, 12, 0, tzinfo=UTC))
    assert parse_declaration(raw).declaration_id == "CN5300-2026-0000123"


def test_real_clock_after_reset() -> None:
    edge.clock.reset()
    assert abs(edge.clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError):
        edge.clock.set(datetime(2026, 1, 1))


def test_year_9999_is_refused_by_the_contract_itself(clock) -> None:
    with pytest.raises(PoisonMessage) as info:
        parse_declaration(_raw(submitted_at="9999-12-31T23:59:59Z"))
    assert info.value.reason == "schema_violation"
    assert info.value.details[0]["loc"] == ["submitted_at"]


def test_a_nul_character_on_the_topic_is_refused(clock) -> None:
    body = example_declaration()
    body["lines"][0]["description"] = "shoes\x00"
    with pytest.raises(PoisonMessage) as info:
        parse_declaration(json.dumps(body).encode())
    assert info.value.details[0]["loc"] == ["lines", 0, "description"]
