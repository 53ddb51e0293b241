from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from shared.settings import ServiceSettings, check_secret


class Settings(ServiceSettings):
    service_name: str = "notify"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "ipr-notices@customs.example"
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    smtp_message_id_domain: str | None = Field(
        default=None, description="Domain part of notice Message-IDs (default: the sender's domain)"
    )
    webhook_allowed_hosts: str = Field(
        default="127.0.0.1,localhost,::1",
        description="Comma-separated host names, IP addresses or CIDR ranges webhooks may be sent to",
    )
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_key_encryption_secret: SecretStr = Field(
        description="Key that encrypts the recipients' webhook signing keys at rest"
    )
    webhook_key_overlap_hours: float = Field(
        default=24.0, ge=0, le=168, description="How long a rotated-out signing key keeps signing beside the new one"
    )
    delivery_retry_base_seconds: float = Field(default=30.0, gt=0, description="First retry delay")
    delivery_retry_max_interval_seconds: float = Field(default=3600.0, gt=0, description="Longest retry delay")
    delivery_retry_window_seconds: float = Field(
        default=86400.0, gt=0, description="How long a delivery is retried, counted from when the notice was recorded"
    )
    delivery_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A claimed delivery with no outcome after this long is sent again "
        "(same Message-ID / event id); must exceed the SMTP and webhook timeouts",
    )
    delivery_first_attempt_wait_seconds: float = Field(
        default=3.0,
        ge=0,
        le=25,
        description="How long issuing a notice waits for the first attempt's outcome "
        "before answering with the status known so far (the attempt goes on in the background)",
    )
    delivery_poll_seconds: float = Field(default=1.0, gt=0, description="How often the sender looks for due deliveries")
    delivery_concurrency: int = Field(default=8, ge=1, le=64, description="Deliveries sent at once per process")
    public_url: str = Field(
        default="http://127.0.0.1:8004",
        validation_alias=AliasChoices("NOTIFY_PUBLIC_URL", "NOTIFY_URL"),
        description="Address of this service as rights holders reach it (reply links)",
    )

    @field_validator("webhook_key_encryption_secret")
    @classmethod
    def _real_key(cls, value: SecretStr) -> SecretStr:
        return check_secret(value, "WEBHOOK_KEY_ENCRYPTION_SECRET")  # type: ignore[return-value]

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> "Settings":
        longest = max(self.smtp_timeout_s, self.webhook_timeout_s)
        if self.delivery_lease_seconds < longest + 2:
            raise ValueError(
                f"DELIVERY_LEASE_SECONDS ({self.delivery_lease_seconds}) must exceed the longest "
                f"attempt (SMTP/webhook timeout {longest} s) by at least 2 s, or a slow attempt "
                "would be sent twice"
            )
        return self

    @property
    def message_id_domain(self) -> str:
        return self.smtp_message_id_domain or self.smtp_sender.rpartition("@")[2] or "customs.example"
