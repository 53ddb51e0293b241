"""Typed settings read from the environment; every service subclasses ``ServiceSettings``.

Required values have no defaults and secrets are checked, so a service with a missing
or placeholder secret fails at start instead of running open.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "token", "test", "xxx"}


def check_secret(value: SecretStr | None, name: str) -> SecretStr | None:
    if value is None:
        return value
    raw = value.get_secret_value()
    lowered = raw.lower()
    placeholder = any(word and not lowered.replace(word, "") for word in _PLACEHOLDERS)
    if placeholder or len(raw) < 16 or len(set(raw)) < 8:
        raise ValueError(f"{name} must be a real secret of at least 16 characters")
    return value


class AuthSettings(BaseSettings):
    """Caller credentials every API checks (bearer tokens; rights-holder tokens are HMAC-signed)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    intake_api_token: SecretStr = Field(description="Bearer token of clearance systems")
    officer_api_token: SecretStr = Field(description="Bearer token of customs officers")
    supervisor_api_token: SecretStr = Field(description="Bearer token of supervisors")
    service_api_token: SecretStr = Field(description="Bearer token the case worker uses on step services")
    holder_token_secret: SecretStr = Field(description="HMAC key that signs rights-holder tokens")

    @field_validator(
        "intake_api_token", "officer_api_token", "supervisor_api_token", "service_api_token", "holder_token_secret"
    )
    @classmethod
    def _real(cls, value: SecretStr, info) -> SecretStr:  # noqa: ANN001
        return check_secret(value, info.field_name.upper())  # type: ignore[return-value]


class ServiceSettings(AuthSettings):
    """Settings shared by every FastAPI service."""

    service_name: str = "service"
    database_url: str = Field(description="postgresql+asyncpg://... of this service's own database")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_enable_idempotence: bool = Field(
        default=False, description="Enable on Apache Kafka/Redpanda; the embedded broker lacks InitProducerId"
    )
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 1_000
    kafka_probe_interval_s: float = Field(default=5.0, gt=0, description="How often the broker is probed for "
                                          "ipr_kafka_broker_up")
    outbox_verify_interval_s: float = Field(default=30.0, ge=0, description="How often the outbox relay reads "
                                            "published records back from the broker (0: never)")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "customs-ipr"
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    db_pool_size: int = 5
