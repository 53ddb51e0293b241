from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "intake"
    max_manifest_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest parcel-manifest body POST /v1/manifests reads (it is read as a stream, never held "
        "whole; 10,000 parcels of a few lines take 5-20 MB)",
    )
    consumer_batch_max: int = Field(
        default=500, ge=1, le=5000, description="Parcel records and results applied per database transaction"
    )
    reconcile_after_s: float = Field(
        default=300.0,
        gt=0,
        description="A declaration stored but not assessed this long (seconds) is published again for risk",
    )
    reconcile_interval_s: float = Field(
        default=30.0, gt=0, description="How often unassessed declarations are looked for"
    )
    reconcile_max_republish: int = Field(
        default=5,
        ge=0,
        description="How often one declaration revision is published again before it is left to an operator (alert)",
    )
