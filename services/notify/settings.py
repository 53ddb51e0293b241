from pydantic import AliasChoices, Field, SecretStr, field_validator

from shared.settings import ServiceSettings, check_secret


class Settings(ServiceSettings):
    service_name: str = "notify"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "ipr-notices@customs.example"
    smtp_timeout_s: float = 10.0
    webhook_allowed_hosts: str = Field(
        default="127.0.0.1,localhost,::1",
        description="Comma-separated host names, IP addresses or CIDR ranges webhooks may be sent to",
    )
    webhook_timeout_s: float = 5.0
    public_url: str = Field(default="http://127.0.0.1:8004", validation_alias=AliasChoices("NOTIFY_PUBLIC_URL", "NOTIFY_URL"),
                            description="Address of this service as rights holders reach it (reply links)")
    # Signs the webhooks to rights holders (X-IPR-Signature); no longer an API credential.
    holder_token_secret: SecretStr = Field(description="HMAC key signing holder webhooks")

    @field_validator("holder_token_secret")
    @classmethod
    def _real(cls, value: SecretStr) -> SecretStr:
        return check_secret(value, "HOLDER_TOKEN_SECRET")  # type: ignore[return-value]
