"""A holder's reply: its guarantee is in a currency customs takes, and what a refused guarantee said stays readable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.cases.workflow.definition import _shown
from services.notify.api import ReplyBody


def _reply(currency: str) -> ReplyBody:
    return ReplyBody.model_validate(
        {
            "decision": "detain",
            "guarantee": {"amount": "20000", "currency": currency, "form": "bank_letter", "reference": "BOC-1"},
        }
    )


def test_a_guarantee_in_a_currency_customs_does_not_take_is_refused() -> None:
    assert _reply("CNY").guarantee.currency == "CNY" and _reply("USD").guarantee.currency == "USD"
    with pytest.raises(ValidationError) as refused:
        _reply("ZZZ")
    assert "customs takes guarantees in" in str(refused.value)


def test_a_refused_guarantee_keeps_who_posted_it_as_an_object() -> None:
    shown = _shown(
        {
            "amount": "1e400",
            "posted_by": {"sub": "nike.ip", "name": "Nike", "role": "rights_holder"},
            "extra": None,
            "n": 3,
        }
    )
    assert shown["posted_by"] == {"sub": "nike.ip", "name": "Nike", "role": "rights_holder"}
    assert shown["extra"] is None and shown["n"] == 3 and shown["amount"] == "1e400"
    deep = _shown({"a": {"b": {"c": {"d": 1}}}})
    assert isinstance(deep["a"]["b"], str)  # bounded depth
    assert len(_shown("x" * 1000)) == 128
