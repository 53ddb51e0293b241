from decimal import Decimal

from pydantic import Field, field_validator

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "guarantees"
    risk_url: str = Field(
        default="http://127.0.0.1:8002",
        description="The risk service, where the recordations a general guarantee's holder must have are kept",
    )
    risk_timeout_s: float = Field(default=10.0, gt=0)

    # GACC Announcement 2006 No. 31 (DOMAIN 1.5): a general ("overall", 总担保) guarantee is a bank
    # letter of at least RMB 200,000, or last year's storage, custody and disposal costs if higher.
    general_guarantee_min_cny: Decimal = Field(
        default=Decimal("200000"),
        ge=0,
        description="Least amount of a CN general guarantee, RMB (GACC Announcement 2006 No. 31)",
    )
    # PLACEHOLDER: no per-day storage tariff is published and warehouse rates vary by port
    # (DOMAIN 1.6, marked uncertain). Set the real rate per port/warehouse contract. Keys are
    # "<jurisdiction>/<currency>"; a pair with no rate accrues no storage (and says so).
    storage_rates_per_day: dict[str, Decimal] = Field(
        default_factory=lambda: {"CN/CNY": Decimal("50.00")},
        description='Storage charged per day held, e.g. {"CN/CNY": "50.00"} (placeholder, see DOMAIN 1.6)',
    )
    low_balance_ratio: Decimal = Field(
        default=Decimal("0.20"),
        ge=0,
        le=1,
        description="Alert when a general guarantee's balance falls below this share of its amount (0: off)",
    )
    low_balance_floor_cny: Decimal = Field(
        default=Decimal("100000"),
        ge=0,
        description="Alert when a CNY general guarantee's balance falls below this, the largest ex officio "
        "per-case guarantee (RMB 100,000 for goods above RMB 200,000; 0: off)",
    )
    guarantee_alert_days: int = Field(
        default=30,
        ge=0,
        le=366,
        description="Alert when coverage ends or the letter expires within this many days",
    )
    guarantee_metrics_refresh_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often balances and alert counts are recomputed for /metrics",
    )

    @field_validator("storage_rates_per_day")
    @classmethod
    def _rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for key, rate in value.items():
            jurisdiction, _, currency = key.partition("/")
            if len(jurisdiction) != 2 or len(currency) != 3 or not key.isupper():
                raise ValueError(f"storage rate key {key!r} must look like 'CN/CNY'")
            if rate < 0:
                raise ValueError(f"storage rate for {key} must not be negative")
        return value

    def storage_rate(self, jurisdiction: str, currency: str) -> Decimal | None:
        return self.storage_rates_per_day.get(f"{jurisdiction}/{currency}")
