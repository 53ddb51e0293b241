"""Reference exchange rates used to express goods values in a rule pack's currency (e.g. RMB guarantee tiers)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from shared.contracts.bounds import in_money_range

DEFAULT_RATES_TO_CNY = {
    "CNY": Decimal(1),
    "USD": Decimal("7.10"),
    "EUR": Decimal("7.75"),
    "HKD": Decimal("0.91"),
    "GBP": Decimal("9.00"),
    "JPY": Decimal("0.047"),
}


class FxSettings(BaseSettings):
    fx_rates_to_cny: dict[str, Decimal] = Field(
        default_factory=lambda: dict(DEFAULT_RATES_TO_CNY),
        description="Reference rates used to express goods value in RMB for guarantee tiers (JSON object)",
    )

    @field_validator("fx_rates_to_cny", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:  # the raw setting: a JSON object, or the rates themselves
        return json.loads(value) if isinstance(value, str) else value


def to_cny(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    """``amount`` in RMB, or None when no rate is configured for ``currency`` or the converted amount
    lies beyond the money bounds (``shared.contracts.bounds.MONEY_MAX``): an RMB value is then not known,
    as for a currency without a rate, and no guarantee tier is derived from it."""
    rate = rates.get(currency)
    if rate is None:
        return None
    converted = (amount * rate).quantize(Decimal("0.01"))
    return converted if in_money_range(converted) else None
