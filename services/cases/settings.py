from pydantic import Field

from shared.fx import FxSettings
from shared.settings import ClientCredentialsSettings, ServiceSettings


class Settings(ServiceSettings, FxSettings, ClientCredentialsSettings):
    """The cases API and the case worker; each runs with its own OAuth client (OIDC_CLIENT_ID)."""

    service_name: str = "cases"
    console_client_id: str = Field(default="console", description="Browser client of the officers' console")
    holds_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"
    disposal_url: str = "http://127.0.0.1:8005"
    guarantees_url: str = "http://127.0.0.1:8006"
    intake_url: str = "http://127.0.0.1:8001"
    risk_url: str = "http://127.0.0.1:8002"
    temporal_ui_url: str = Field(default="", description="Link target for cases in the Temporal Web UI")
    worker_metrics_host: str = Field(default="127.0.0.1", description="Set 0.0.0.0 in containers so Prometheus can scrape")
    worker_metrics_port: int = 8009
    http_timeout_s: float = 20.0
    metrics_refresh_seconds: float = Field(default=30.0, gt=0, description="How often the case gauges are recounted")
    case_sweep_interval_s: float = Field(default=30.0, gt=0, description="How often the failed-case sweeper runs")
    case_sweep_lookback_days: int = Field(default=7, ge=1, description="Closed workflows the sweeper looks at after "
                                          "its first full scan")
    case_auto_repair_max: int = Field(default=1, ge=0, description="Automatic repairs of one case by the sweeper "
                                      "(then supervisors repair it by hand); 0 turns automatic repair off")
