import json
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from services.risk.scoring import DEFAULT_DIRECTION_WEIGHTS, DEFAULT_MODE_WEIGHTS
from shared.fx import FxSettings
from shared.settings import ServiceSettings


class Settings(ServiceSettings, FxSettings):
    service_name: str = "risk"
    suspect_threshold: float = Field(default=0.6, ge=0, le=1, description="Score from which a mark hit opens a case")
    red_threshold: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="Score from which a line goes to physical "
        "examination (raised per office when its red capacity would be exceeded)",
    )
    yellow_threshold: float = Field(
        default=0.4, ge=0, le=1, description="Score from which a line gets a documentary check"
    )
    undervalue_ratio: Decimal = Field(
        default=Decimal("0.5"), description="Declared unit value below this share of the genuine value is a signal"
    )
    red_capacity: float = Field(
        default=0.05, ge=0, le=1, description="Expected share of lines an office can examine physically (red)"
    )
    red_capacity_by_office: dict[str, float] = Field(
        default_factory=dict, description="Red capacity per customs office, JSON object (overrides red_capacity)"
    )
    capacity_window: int = Field(
        default=5000, ge=100, description="Recent lines per office the red threshold is calibrated on"
    )
    capacity_min_samples: int = Field(default=500, ge=10)
    random_selection_rate: float = Field(
        default=0.005, ge=0, le=0.2, description="Share of lines sent to red at random (unbiased control sample)"
    )
    random_selection_salt: str = Field(default="ipr-risk-control-sample", min_length=1)
    transit_hubs: list[str] = Field(
        default_factory=lambda: ["AE", "HK", "SG", "PA", "TR", "MY"],
        description="Transit countries that count as a routing signal (JSON list)",
    )
    small_parcel_value_cny: Decimal = Field(
        default=Decimal(5000), description="Post/express consignments up to this value (RMB) count as small parcels"
    )
    direction_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_DIRECTION_WEIGHTS),
        description="Score added per direction, as '<jurisdiction>/<direction>' or '*/<direction>' (JSON object)",
    )
    supervision_mode_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_MODE_WEIGHTS),
        description="Score added per e-commerce supervision mode (JSON object)",
    )
    platform_min_consignments: int = Field(
        default=1000, ge=1, description="Consignments a platform must have before its confiscation rate counts"
    )
    platform_confiscation_rate: float = Field(
        default=0.001,
        gt=0,
        le=1,
        description="Confiscations per consignment from which a platform's history raises the score",
    )
    registry_refresh_s: float = 30.0
    gc_young_threshold: int = Field(
        default=30_000,
        ge=700,
        description="Allocations between young-generation "
        "collections (Python's default 700 promotes every batch's objects)",
    )
    consumer_batch_max: int = Field(
        default=500, ge=1, le=10_000, description="Declarations assessed per database transaction on the topic"
    )
    # The broker answers a fetch as soon as records are there; this is how long it may wait when there are none.
    # The embedded broker's durable (s3) storage gives up a read that takes longer than the wait and answers
    # nothing, so a few milliseconds stall the consumer there (each read goes to the object store).
    consumer_fetch_max_wait_ms: int = Field(default=100, ge=0, le=1000)
    assessments_linger_ms: int = Field(default=1, ge=0, le=1000, description="Producer linger for assessments")
    switch_interval_s: float = Field(
        default=0.001,
        gt=0,
        le=0.1,
        description="How long the assessing thread keeps the interpreter lock while the event loop waits for it",
    )
    consumer_linger_ms: float = Field(
        default=1, ge=0, le=1000, description="How long a batch may wait to fill up after its first record"
    )

    @field_validator(
        "red_capacity_by_office", "transit_hubs", "direction_weights", "supervision_mode_weights", mode="before"
    )
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value
