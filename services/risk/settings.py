import json
from decimal import Decimal

from pydantic import Field, field_validator

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "risk"
    suspect_threshold: float = Field(default=0.6, ge=0, le=1, description="Score from which a mark hit opens a case")
    red_threshold: float = Field(default=0.7, ge=0, le=1)
    yellow_threshold: float = Field(default=0.4, ge=0, le=1)
    undervalue_ratio: Decimal = Field(
        default=Decimal("0.5"), description="Declared unit value below this share of the genuine value is a signal")
    fx_rates_to_cny: dict[str, Decimal] = Field(
        default_factory=lambda: {"CNY": Decimal(1), "USD": Decimal("7.10"), "EUR": Decimal("7.75"),
                                 "HKD": Decimal("0.91"), "GBP": Decimal("9.00"), "JPY": Decimal("0.047")},
        description="Reference rates used to express goods value in RMB for guarantee tiers (JSON object)",
    )
    registry_refresh_s: float = 30.0

    @field_validator("fx_rates_to_cny", mode="before")
    @classmethod
    def _json(cls, value):  # noqa: ANN001, ANN206
        return json.loads(value) if isinstance(value, str) else value
