from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.fx import FxSettings
from shared.settings import ClientCredentialsSettings, ServiceSettings


class WorkerTuning(BaseSettings):
    """How much the case worker takes on at once (``make bench-cases`` measures the effect).

    Every case runs its workflow tasks and its activities (HTTP calls to the step services, the
    case record) in this one process: enough activity slots keep the step services busy while
    Temporal round trips are under way, and a sticky cache at least as large as the cases in
    flight spares replaying a case's history on each of its workflow tasks.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    worker_max_concurrent_activities: int = Field(default=100, ge=1, description="Activities run at once")
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=2, description="Workflow tasks run at once")
    worker_max_cached_workflows: int = Field(
        default=2500, ge=0, description="Sticky cache: running cases kept in memory between their workflow tasks"
    )
    worker_workflow_threads: int = Field(
        default=0,
        ge=0,
        description="Threads that run workflow tasks (their Python code takes the interpreter lock in turn, so "
        "many threads only make the event loop that runs the activities wait); 0: one per workflow task slot",
    )
    worker_switch_interval_s: float = Field(
        default=0.001,
        gt=0,
        le=0.1,
        description="The interpreter's switch interval in the worker: how long a thread running a workflow task "
        "may keep the lock while the event loop (activities, Temporal's answers) waits (Python's default is 5 ms; "
        "at 1 ms a 1,000-case burst's activities took 169 ms on average instead of 613)",
    )
    worker_workflow_task_pollers: int = Field(default=5, ge=2, description="Concurrent polls for workflow tasks")
    worker_activity_task_pollers: int = Field(default=5, ge=1, description="Concurrent polls for activity tasks")
    worker_sandbox_passthrough: str = Field(
        default="services.cases.workflow",
        description="Comma-separated modules the workflow sandbox shares between "
        "cases instead of importing them anew for each case (modules without mutable state only; the workflow "
        "tests run the same code in the full sandbox); empty: import everything anew per case",
    )
    http_max_connections: int = Field(default=100, ge=1, description="Connections to the step services, in all")
    http_max_keepalive_connections: int = Field(default=100, ge=0, description="Of those, kept open between calls")
    http_keepalive_expiry_s: float = Field(default=30.0, ge=0, description="How long an idle connection is kept")


class Settings(ServiceSettings, FxSettings, ClientCredentialsSettings, WorkerTuning):
    """The cases API and the case worker; each runs with its own OAuth client (OIDC_CLIENT_ID)."""

    service_name: str = "cases"
    workbench_url: str = Field(
        default="http://127.0.0.1:8020",
        description="The officers' workbench (where /console of earlier versions now leads)",
    )
    holds_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"
    disposal_url: str = "http://127.0.0.1:8005"
    guarantees_url: str = "http://127.0.0.1:8006"
    intake_url: str = "http://127.0.0.1:8001"
    risk_url: str = "http://127.0.0.1:8002"
    identity_url: str = Field(
        default="http://127.0.0.1:8011",
        description="The identity service (case access codes for parties without an account)",
    )
    temporal_ui_url: str = Field(default="", description="Link target for cases in the Temporal Web UI")
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="Set 0.0.0.0 in containers so Prometheus can scrape"
    )
    worker_metrics_port: int = 8009
    http_timeout_s: float = 20.0
    metrics_refresh_seconds: float = Field(default=30.0, gt=0, description="How often the case gauges are recounted")
    case_sweep_interval_s: float = Field(default=30.0, gt=0, description="How often the failed-case sweeper runs")
    case_sweep_lookback_days: int = Field(
        default=7, ge=1, description="Closed workflows the sweeper looks at after its first full scan"
    )
    case_auto_repair_max: int = Field(
        default=1,
        ge=0,
        description="Automatic repairs of one case by the sweeper "
        "(then supervisors repair it by hand); 0 turns automatic repair off",
    )
