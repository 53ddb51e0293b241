from pydantic import Field, SecretStr, field_validator

from shared.settings import ServiceSettings, check_secret


class Settings(ServiceSettings):
    """The workbench and portal: pages signed in through the platform's provider, calling the services' APIs."""

    service_name: str = "web"
    public_url: str = Field(
        default="http://127.0.0.1:8020",
        description="Where people reach the pages (redirect URIs are registered for it at the provider)",
    )
    oidc_web_client_id: str = Field(
        default="web", description="The pages' client at the provider (authorization code + PKCE)"
    )
    oidc_public_issuer: str = Field(default="", description="The provider as browsers reach it (empty: OIDC_ISSUER)")
    web_session_secret: SecretStr = Field(description="Encrypts the tokens kept with each session")
    session_idle_minutes: int = Field(default=60, ge=5, le=24 * 60, description="Sign out after this long unused")
    cookie_secure: bool = Field(default=False, description="Send cookies over HTTPS only (set in production)")
    cases_url: str = "http://127.0.0.1:8000"
    intake_url: str = "http://127.0.0.1:8001"
    risk_url: str = "http://127.0.0.1:8002"
    notify_url: str = "http://127.0.0.1:8004"
    guarantees_url: str = "http://127.0.0.1:8006"
    http_timeout_s: float = 20.0
    s3_endpoint_url: str = Field(default="", description="S3-compatible endpoint (empty: AWS S3 of S3_REGION)")
    s3_region: str = "us-east-1"
    s3_access_key: SecretStr = Field(description="Access key of the object store holding evidence and guide images")
    s3_secret_key: SecretStr = Field(description="Its secret key")
    s3_bucket: str = Field(default="ipr-evidence", description="Bucket for evidence and guide images")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    max_body_bytes: int = 21 * 1024 * 1024  # one upload and its form fields

    @field_validator("web_session_secret")
    @classmethod
    def _real(cls, value: SecretStr) -> SecretStr:
        return check_secret(value, "WEB_SESSION_SECRET")  # type: ignore[return-value]
