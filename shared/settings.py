"""Typed settings read from the environment; every service subclasses ``ServiceSettings``.

Required values have no defaults and secrets are checked, so a service with a missing
or placeholder secret fails at start instead of running open.
"""

from __future__ import annotations

import json
from typing import Any, overload

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "token", "test", "xxx"}
PLATFORM_ROLES = ("officer", "supervisor", "administrator", "clearance_system", "rights_holder", "party", "system")


@overload
def check_secret(value: SecretStr, name: str) -> SecretStr: ...
@overload
def check_secret(value: None, name: str) -> None: ...
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
    """How every API checks its callers: OIDC access tokens (JWT) of one issuer, for one audience.

    The claim names are settings so that the platform can trust any OpenID provider: its own
    (``services/identity``), Keycloak (``OIDC_ROLE_CLAIM=realm_access.roles``) or Azure AD
    (``OIDC_ROLE_CLAIM=roles``, ``OIDC_CLIENT_ID_CLAIM=azp``) with ``OIDC_ROLE_MAP`` translating their role names.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    oidc_issuer: str = Field(description="Issuer URL; tokens must carry exactly this `iss`")
    oidc_audience: str = Field(default="urn:ipr:api", description="Audience (`aud`) the platform's API tokens carry")
    oidc_jwks_url: str = Field(default="", description="JWKS URL; empty: from the issuer's discovery document")
    oidc_algorithms: list[str] = Field(default=["RS256"], description="Accepted asymmetric signature algorithms")
    oidc_clock_skew_s: int = Field(default=30, ge=0, le=300, description="Leeway for exp, nbf and iat")
    oidc_jwks_cache_s: int = Field(default=600, ge=10, description="How long fetched signing keys are trusted")
    oidc_jwks_min_refresh_s: float = Field(
        default=10.0, ge=0, description="At most one JWKS fetch per interval for tokens with an unknown key id"
    )
    oidc_role_claim: str = Field(default="role", description="Claim (dotted path) holding the role or a list of roles")
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description='JSON: the issuer\'s role names -> platform roles, e.g. {"ipr-officer": "officer"}',
    )
    oidc_offices_claim: str = Field(default="offices", description="Claim with the officer's customs offices")
    oidc_holder_claim: str = Field(default="holder_id", description="Claim with the rights holder's id")
    oidc_party_claim: str = Field(default="party_id", description="Claim with a declarant's or trader's party id")
    oidc_case_claim: str = Field(default="case_id", description="Claim binding a party to a single case")
    oidc_name_claim: str = Field(default="name", description="Claim with the display name of the person or system")
    oidc_client_id_claim: str = Field(default="client_id", description="Claim with the OAuth client id")

    @field_validator("oidc_algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: Any) -> Any:  # the raw setting: a JSON list or comma-separated names
        if isinstance(value, str):
            value = json.loads(value) if value.strip().startswith("[") else [v.strip() for v in value.split(",")]
        bad = [a for a in value if a.upper().startswith("HS") or a.lower() == "none"]
        if bad:
            raise ValueError(f"symmetric or unsigned algorithms are never accepted: {bad}")
        return value

    @field_validator("oidc_role_map")
    @classmethod
    def _role_map(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - set(PLATFORM_ROLES))
        if unknown:
            raise ValueError(f"OIDC_ROLE_MAP maps to unknown platform roles {unknown}")
        return value


class ClientCredentialsSettings(BaseSettings):
    """A service that calls another gets its own tokens from the issuer (OAuth client credentials)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    oidc_client_id: str = Field(description="This process's OAuth client id at the issuer")
    oidc_client_secret: SecretStr = Field(description="Its client secret")
    oidc_token_url: str = Field(default="", description="Token endpoint; empty: from the issuer's discovery document")

    @field_validator("oidc_client_secret")
    @classmethod
    def _real(cls, value: SecretStr) -> SecretStr:
        return check_secret(value, "OIDC_CLIENT_SECRET")


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
    kafka_probe_interval_s: float = Field(
        default=5.0, gt=0, description="How often the broker is probed for ipr_kafka_broker_up"
    )
    outbox_verify_interval_s: float = Field(
        default=30.0,
        ge=0,
        description="How often the outbox relay reads published records back from the broker (0: never)",
    )
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "customs-ipr"
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    db_pool_size: int = 5
