"""The production shape under deploy/: compose, Kubernetes, Prometheus and Grafana files agree with the code.

Pure file checks (no Docker, no cluster, no network): every process is present with its
command, health checks, migrations and secrets; and every metric a dashboard or alert
queries is one the code really exports (found by scanning shared/ and services/).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local.stack import PROFILES
from shared.contracts.events import ALL_TOPICS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = ("intake", "risk", "holds", "notify", "disposal", "guarantees", "cases", "identity", "web")
KAFKA_SERVICES = tuple(s for s in SERVICES if s not in ("identity", "web"))
PLATFORM_SECRETS = ("CLIENT_SECRET_CASES", "CLIENT_SECRET_CASE_WORKER", "CLIENT_SECRET_RISK_1")
IDENTITY_SECRETS = ("IDENTITY_JWKS", "IDENTITY_COOKIE_KEYS", "IDENTITY_ADMIN_PASSWORD")
NOTIFY_SECRETS = ("WEBHOOK_KEY_ENCRYPTION_SECRET",)  # only notify gets these
RETIRED_TOKENS = (
    "INTAKE_API_TOKEN",
    "OFFICER_API_TOKEN",
    "SUPERVISOR_API_TOKEN",
    "SERVICE_API_TOKEN",
    "DEMO_HOLDER_TOKEN",
    "HOLDER_TOKEN_SECRET",
)
WEB_SECRETS = ("WEB_SESSION_SECRET", "OBJECT_STORE_ACCESS_KEY", "OBJECT_STORE_SECRET_KEY")
COMPOSE_SECRETS = (
    *PLATFORM_SECRETS,
    *IDENTITY_SECRETS,
    *NOTIFY_SECRETS,
    *WEB_SECRETS,
    "POSTGRES_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
)
SECRET_KEY = re.compile(r"TOKEN(?!_URL)|SECRET|PASSWORD|PWD")

# Series that do not come from the platform's own code: Prometheus' scrape health and
# the Temporal SDK metrics of the case worker (counters are exposed without _total).
EXTERNAL_METRICS = frozenset(
    {
        "up",
        "temporal_workflow_task_execution_failed",
        "temporal_activity_execution_failed",
        "temporal_activity_execution_latency_bucket",
        "temporal_activity_execution_latency_sum",
        "temporal_activity_execution_latency_count",
    }
)


# What the flow alerts and the reliability row of the dashboard watch: stopped consumers and loops,
# dead letters, outbox backlog, lag and progress, the broker answering, records the broker lost.
RELIABILITY_METRICS = (
    "ipr_background_task_up",
    "ipr_background_task_restarts_total",
    "ipr_kafka_consumer_lag",
    "ipr_kafka_consumed_total",
    "ipr_outbox_pending",
    "ipr_outbox_oldest_pending_seconds",
    "ipr_kafka_broker_up",
    "ipr_outbox_republished_total",
    "ipr_kafka_offset_resets_total",
    "ipr_intake_unassessed_declarations",
    "ipr_declarations_received_total",
    "ipr_risk_lines_assessed_total",
)

# ---------------------------------------------------------------- helpers


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@cache
def compose() -> dict[str, Any]:
    return load_yaml(DEPLOY / "compose.yaml")


def compose_service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def env(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in (compose_service(name).get("environment") or {}).items()}


@cache
def k8s_docs() -> tuple[dict[str, Any], ...]:
    kustomization = load_yaml(DEPLOY / "k8s" / "kustomization.yaml")
    docs: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        docs.extend(d for d in yaml.safe_load_all((DEPLOY / "k8s" / resource).read_text()) if d)
    return tuple(docs)


def k8s(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["spec"]["template"]["spec"]["containers"]


_DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*[\"']([A-Za-z_:][A-Za-z0-9_:]*)[\"']")


@cache
def exported_metrics() -> frozenset[str]:
    """Every series name prometheus_client exposes for the metrics defined under shared/ and services/."""
    names: set[str] = set()
    for folder in ("shared", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            for kind, name in _DEFINITION.findall(path.read_text()):
                if kind == "Counter":
                    base = name.removesuffix("_total")
                    names |= {f"{base}_total", f"{base}_created"}
                elif kind == "Gauge":
                    names.add(name)
                elif kind == "Histogram":
                    names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
                else:
                    names |= {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
    return frozenset(names)


_PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def promql_metrics(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (Grafana's $variables allowed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # label values
    text = re.sub(r"\{[^{}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        before = text[match.start() - 1] if match.start() else " "
        if before.isdigit() or before == ".":
            continue  # 1e3, 5m
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or aggregation
        if match.group(0).lower() not in _PROMQL_WORDS:
            names.add(match.group(0))
    return names


def dashboard() -> dict[str, Any]:
    return json.loads((DEPLOY / "grafana" / "dashboards" / "ipr-overview.json").read_text())


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"] for rule in group["rules"]]


# ---------------------------------------------------------------- metric names


def test_metric_scan_finds_the_platform_metrics() -> None:
    found = exported_metrics()
    for name in (
        "ipr_http_requests_total",
        "ipr_http_request_duration_seconds_bucket",
        "ipr_kafka_dead_lettered_total",
        "ipr_notice_deliveries_total",
        "ipr_risk_registry_active_recordations",
    ):
        assert name in found
    assert "ipr_http_request_duration_seconds" not in found  # a histogram has no bare series


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (service, le) (rate(a_bucket{route!~"/x|/y"}[5m]))', {"a_bucket"}),
        ("histogram_quantile(0.95, sum by (le) (rate(b_bucket[$__rate_interval])))", {"b_bucket"}),
        ("count(up == 0) or vector(0)", {"up"}),
        ("sum(rate(x_total[5m])) / on (job) group_left sum(y) > 1e3", {"x_total", "y"}),
    ],
)
def test_promql_metric_extraction(expr: str, names: set[str]) -> None:
    assert promql_metrics(expr) == names


def test_dashboard_queries_only_exported_metrics() -> None:
    allowed = exported_metrics() | EXTERNAL_METRICS
    exprs = dashboard_exprs()
    assert exprs
    for expr in exprs:
        unknown = promql_metrics(expr) - allowed
        assert not unknown, f"dashboard query uses metrics the code does not export: {unknown} in {expr}"


def test_alerts_query_only_exported_metrics() -> None:
    allowed = exported_metrics() | EXTERNAL_METRICS
    for rule in alert_rules():
        unknown = promql_metrics(rule["expr"]) - allowed
        assert not unknown, f"alert {rule['alert']} uses metrics the code does not export: {unknown}"


def test_dashboard_covers_the_platform_flow() -> None:
    used = set().union(*(promql_metrics(e) for e in dashboard_exprs()))
    for name in (
        "ipr_declarations_received_total",
        "ipr_risk_lines_assessed_total",
        "ipr_risk_cases_started_total",
        "ipr_holds_transitions_total",
        "ipr_notice_deliveries_total",
        "ipr_dispositions_total",
        "ipr_http_requests_total",
        "ipr_http_request_duration_seconds_bucket",
        "ipr_kafka_dead_lettered_total",
        "ipr_guarantee_general_balance",
        "ipr_guarantee_alerts",
        "ipr_guarantee_holds_total",
        "ipr_guarantee_refusals_total",
        "ipr_guarantee_settlements_total",
        *RELIABILITY_METRICS,
    ):
        assert name in used, f"no dashboard panel shows {name}"


def test_dashboard_panels_are_well_formed() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert board["uid"] == "ipr-overview"
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"]["uid"] == "${datasource}"


def test_alerts_are_well_formed_and_cover_the_failure_modes() -> None:
    rules = alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
    used = set().union(*(promql_metrics(r["expr"]) for r in rules))
    for name in (
        "up",
        "ipr_kafka_dead_lettered_total",
        "ipr_http_requests_total",
        "ipr_notice_deliveries_total",
        "ipr_notice_delivery_attempts_total",
        "ipr_notice_delivery_oldest_open_seconds",
        "ipr_background_task_restarts_total",
        "ipr_guarantee_alerts",
        "ipr_risk_model_load_failures_total",
        "ipr_risk_model_feature_psi",
        "ipr_risk_model_score_psi",
        *RELIABILITY_METRICS,
    ):
        assert name in used, f"no alert watches {name}"


def test_reliability_metrics_are_defined_where_the_rules_expect_them() -> None:
    """The metrics the flow alerts need exist in the code, with the labels the rules group by."""
    from services.intake import service as intake
    from shared import kafka, supervise

    labels = {
        "ipr_background_task_up": (supervise.TASK_UP, {"service", "task", "kind"}),
        "ipr_background_task_restarts_total": (supervise.TASK_RESTARTS, {"service", "task", "kind", "error"}),
        "ipr_kafka_consumer_lag": (kafka.CONSUMER_LAG, {"service", "group", "topic", "partition"}),
        "ipr_kafka_broker_up": (kafka.BROKER_UP, {"service"}),
        "ipr_outbox_pending": (kafka.OUTBOX_PENDING, {"service"}),
        "ipr_outbox_oldest_pending_seconds": (kafka.OUTBOX_OLDEST, {"service"}),
        "ipr_outbox_republished_total": (kafka.OUTBOX_REPUBLISHED, {"service", "topic"}),
        "ipr_kafka_offset_resets_total": (kafka.OFFSET_RESETS, {"service", "group", "topic"}),
        "ipr_intake_unassessed_declarations": (intake.UNASSESSED, {"republished_out"}),
    }
    for name, (metric, expected) in labels.items():
        assert set(metric._labelnames) == expected, name
        assert name in exported_metrics()


# ---------------------------------------------------------------- Prometheus scrape configs


def scrape_targets(path: Path) -> dict[str, list[str]]:
    config = load_yaml(path)
    for rule_file in config["rule_files"]:
        assert (path.parent / rule_file).is_file()
    return {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]] for job in config["scrape_configs"]
    }


def test_local_scrape_config_matches_the_embedded_stack() -> None:
    dev = PROFILES["dev"]
    targets = scrape_targets(DEPLOY / "prometheus" / "prometheus.yml")
    expected = {name: [f"127.0.0.1:{port}"] for name, port in dev.service_ports.items()}
    expected["worker"] = [f"127.0.0.1:{dev.worker_metrics_port}"]
    assert targets == expected


def test_compose_scrape_config_targets_compose_services() -> None:
    targets = scrape_targets(DEPLOY / "prometheus" / "prometheus.compose.yml")
    for name in SERVICES:
        assert targets[name] == [f"{name}:8000"]
    assert targets["worker"] == ["worker:8009"]
    for job, hosts in targets.items():
        for host in hosts:
            assert host.split(":")[0] in compose()["services"] or host.startswith("127.0.0.1"), (job, host)


# ---------------------------------------------------------------- compose


def test_compose_has_every_process() -> None:
    services = compose()["services"]
    expected = {
        *SERVICES,
        "worker",
        *(f"migrate-{s}" for s in SERVICES),
        "postgres",
        "kafka",
        "kafka-topics",
        "temporal",
        "temporal-schema",
        "temporal-namespace",
        "temporal-ui",
        "prometheus",
        "grafana",
        "idp",
        "identity-bootstrap",
    }
    assert expected <= set(services)


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_runs_its_app_after_its_migration(name: str) -> None:
    service = compose_service(name)
    assert service["command"][:6] == ["uvicorn", f"services.{name}.main:app", "--host", "0.0.0.0", "--port", "8000"]
    assert service["depends_on"][f"migrate-{name}"]["condition"] == "service_completed_successfully"
    if name in KAFKA_SERVICES:
        assert service["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
    assert "http://127.0.0.1:8000/healthz" in service["healthcheck"]["test"]
    assert not service["healthcheck"].get("disable")
    migrate = compose_service(f"migrate-{name}")
    assert migrate["command"] == ["python", "-m", "shared.migrate", name]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(env(f"migrate-{name}")) == {"DATABASE_URL"}


def test_compose_worker() -> None:
    worker = compose_service("worker")
    assert worker["command"] == ["python", "-m", "services.cases.worker"]
    assert worker["depends_on"]["migrate-cases"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["temporal-namespace"]["condition"] == "service_completed_successfully"
    assert "http://127.0.0.1:8009/metrics" in worker["healthcheck"]["test"]
    e = env("worker")
    for step in ("holds", "notify", "disposal", "guarantees"):
        assert e[f"{step.upper()}_URL"] == f"http://{step}:8000"
    assert e["WORKER_METRICS_PORT"] == "8009"


def test_compose_dependencies_exist() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for dep, spec in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec["condition"] in {"service_healthy", "service_completed_successfully", "service_started"}
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no healthcheck"


@pytest.mark.parametrize("name", [*SERVICES, "worker"])
def test_compose_platform_environment(name: str) -> None:
    e = env(name)
    assert not set(e) & set(RETIRED_TOKENS), "static API tokens are gone"
    assert e["OIDC_ISSUER"].startswith("${OIDC_ISSUER")
    assert e["OIDC_AUDIENCE"] == "urn:ipr:api"
    assert "idp:8010" in e["OIDC_JWKS_URL"]
    database = "cases" if name == "worker" else name
    assert e["DATABASE_URL"].startswith("postgresql+asyncpg://ipr:${POSTGRES_PASSWORD:?")
    assert e["DATABASE_URL"].endswith(f"@postgres:5432/{database}")
    assert e["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert e["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert e["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert e["TEMPORAL_NAMESPACE"] == "customs-ipr"


def test_compose_identity_provider() -> None:
    idp = compose_service("idp")
    assert idp["build"]["context"] == "../services/identity/provider"
    assert (DEPLOY.parent / "services" / "identity" / "provider" / "Dockerfile").is_file()
    e = env("idp")
    assert e["IDENTITY_ISSUER"] == env("cases")["OIDC_ISSUER"]
    assert e["IDENTITY_DB_URL"].startswith("postgresql://ipr:${POSTGRES_PASSWORD:?")
    assert e["IDENTITY_DB_URL"].endswith("@postgres:5432/identity")
    assert idp["depends_on"]["identity-bootstrap"]["condition"] == "service_completed_successfully"
    boot = compose_service("identity-bootstrap")
    assert boot["command"] == ["python", "-m", "services.identity.bootstrap", "services/identity/platform.json"]
    assert boot["depends_on"]["migrate-identity"]["condition"] == "service_completed_successfully"
    spec = (DEPLOY.parent / "services" / "identity" / "platform.json").read_text()
    for variable in re.findall(r"\$\{([A-Z_0-9]+)\}", spec):
        assert variable in env("identity-bootstrap"), f"bootstrap needs {variable}"
    # the processes that call other services have their own clients
    assert (env("cases")["OIDC_CLIENT_ID"], env("worker")["OIDC_CLIENT_ID"]) == ("cases", "case-worker")
    assert "HOLDER_TOKEN_SECRET" not in env("notify")


def test_compose_notify_environment() -> None:
    e = env("notify")
    assert e["SMTP_HOST"].startswith("${SMTP_HOST")
    assert e["SMTP_PORT"].startswith("${SMTP_PORT")
    assert e["WEBHOOK_ALLOWED_HOSTS"] == "${WEBHOOK_ALLOWED_HOSTS:-}"  # none allowed until configured
    for name in NOTIFY_SECRETS:
        assert e[name].startswith(f"${{{name}:?"), name
    for other in (*SERVICES, "worker"):
        if other != "notify":
            assert not set(NOTIFY_SECRETS) & set(env(other)), f"{other} gets notify's secrets"
    example = (DEPLOY / ".env.example").read_text()
    for name in NOTIFY_SECRETS:
        assert re.search(rf"^{name}=$", example, re.M), f"{name} missing from .env.example"


def test_compose_secrets_are_required_never_defaulted() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for name in COMPOSE_SECRETS:
        uses = re.findall(r"\$\{" + name + r"([^A-Za-z0-9_])(.)", text)
        assert uses, f"{name} is not used"
        assert all(u == (":", "?") for u in uses), f"{name} is not always ${{{name}:?...}}"
    for service_name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_KEY.search(key):
                assert re.search(r"\$\{[A-Z_0-9]+:\?", str(value)), f"{service_name}.{key} is not a required variable"


def test_compose_bind_mounts_exist() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_compose_infrastructure() -> None:
    assert compose_service("postgres")["image"].startswith("postgres:16")
    kafka = compose_service("kafka")
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    temporal = env("temporal")
    assert temporal["DB"].startswith("postgres")
    assert compose_service("temporal-ui")["image"].startswith("temporalio/ui:")
    assert compose_service("temporal-namespace")["image"].startswith("temporalio/admin-tools:")


def test_postgres_init_creates_every_database() -> None:
    script = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+) OWNER", script))
    assert created == {*SERVICES, "temporal", "temporal_visibility"}
    mounts = compose_service("postgres")["volumes"]
    assert any(m.startswith("./postgres/init-databases.sh:/docker-entrypoint-initdb.d/") for m in mounts)


def retention_hours(value: str) -> int:
    match = re.fullmatch(r"(\d+)h", value)
    assert match, value
    return int(match.group(1))


def test_temporal_namespace_setup() -> None:
    assert retention_hours(env("temporal-namespace")["TEMPORAL_RETENTION"]) == 90 * 24
    assert env("temporal-namespace")["TEMPORAL_NAMESPACE"] == "customs-ipr"
    compose_script = (DEPLOY / "temporal" / "create-namespace.sh").read_text()
    k8s_script = pod_containers(k8s("Job", "temporal-namespace"))[0]["args"][0]
    for script in (compose_script, k8s_script):
        for attribute in ("CaseId", "HolderId", "DeclarationId"):
            assert attribute in script
        assert "--type Keyword" in script
        assert "--retention" in script
    config = k8s("ConfigMap", "ipr-config")["data"]
    assert retention_hours(config["TEMPORAL_RETENTION"]) == 90 * 24


def test_kafka_topics_match_the_contracts() -> None:
    script = (DEPLOY / "kafka" / "create-topics.sh").read_text()
    listed = re.search(r'^TOPICS="([^"]+)"', script, re.M)
    assert listed and tuple(listed.group(1).split()) == ALL_TOPICS
    k8s_script = pod_containers(k8s("Job", "kafka-topics"))[0]["args"][0]
    for topic in ALL_TOPICS:
        assert topic in k8s_script


def test_grafana_provisioning_matches_compose() -> None:
    grafana = compose_service("grafana")
    datasource = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    provider = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "ipr.yaml")["providers"][0]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in grafana["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    prometheus = compose_service("prometheus")
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in prometheus["command"]


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "python:3.11-slim" in text
    assert "requirements.txt" in text
    assert re.search(r"^COPY shared/ ", text, re.M) and re.search(r"^COPY services/ ", text, re.M)
    assert re.search(r"^HEALTHCHECK .*ipr-healthcheck", text, re.M)
    assert re.search(r"^USER \d+", text, re.M)
    assert 'DEFAULT_URL = "http://127.0.0.1:8000/healthz"' in (DEPLOY / "healthcheck.py").read_text()


# ---------------------------------------------------------------- Kubernetes


def test_kustomization_lists_existing_files_and_no_secret_values() -> None:
    kustomization = load_yaml(DEPLOY / "k8s" / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]
    assert not [d for d in k8s_docs() if d["kind"] == "Secret"]
    assert [i["name"] for i in kustomization["images"]] == ["customs-ipr", "customs-ipr-idp"]


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_service_manifests(name: str) -> None:
    deployment = k8s("Deployment", name)
    (container,) = pod_containers(deployment)
    assert container["image"] == "customs-ipr"
    assert container["command"][:6] == ["uvicorn", f"services.{name}.main:app", "--host", "0.0.0.0", "--port", "8000"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    db = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
    assert db[0]["valueFrom"]["secretKeyRef"]["key"] == name
    service = k8s("Service", name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    port_names = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    job = k8s("Job", f"migrate-{name}")
    assert pod_containers(job)[0]["command"] == ["python", "-m", "shared.migrate", name]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_k8s_worker() -> None:
    (container,) = pod_containers(k8s("Deployment", "worker"))
    assert container["command"] == ["python", "-m", "services.cases.worker"]
    db = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
    assert db[0]["valueFrom"]["secretKeyRef"]["key"] == "cases"


def test_every_k8s_deployment_has_probes_and_resources() -> None:
    deployments = [d for d in k8s_docs() if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {*SERVICES, "worker", "idp"}
    for deployment in deployments:
        for container in pod_containers(deployment):
            label = f"{deployment['metadata']['name']}/{container['name']}"
            assert container.get("readinessProbe"), f"{label} has no readiness probe"
            assert container.get("livenessProbe"), f"{label} has no liveness probe"
            requests = container["resources"]["requests"]
            assert requests.get("cpu") and requests.get("memory"), label
            assert container["resources"]["limits"].get("memory"), label
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, label


def test_every_k8s_job_is_bounded() -> None:
    jobs = [d for d in k8s_docs() if d["kind"] == "Job"]
    assert {j["metadata"]["name"] for j in jobs} >= {f"migrate-{s}" for s in SERVICES}
    for job in jobs:
        assert job["spec"]["backoffLimit"] <= 10
        assert job["spec"]["activeDeadlineSeconds"] > 0
        for container in pod_containers(job):
            assert container["resources"]["requests"], job["metadata"]["name"]


def test_k8s_secret_references_exist_in_the_template() -> None:
    text = (DEPLOY / "k8s" / "secret.example.yaml").read_text()
    template = {d["metadata"]["name"]: d for d in yaml.safe_load_all(text)}
    for secret in template.values():
        assert all(v == "" for v in secret["stringData"].values()), "the template must not carry values"
    assert set(template["ipr-secrets"]["stringData"]) == set(PLATFORM_SECRETS)
    assert set(template["ipr-identity"]["stringData"]) == set(IDENTITY_SECRETS)
    assert set(template["ipr-database"]["stringData"]) == {*SERVICES, "identity-provider"}
    assert set(template["ipr-notify-keys"]["stringData"]) == set(NOTIFY_SECRETS)
    (notify,) = pod_containers(k8s("Deployment", "notify"))
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in notify["env"] if "valueFrom" in e}
    for name in NOTIFY_SECRETS:
        assert refs[name] == {"name": "ipr-notify-keys", "key": name}
    for doc in k8s_docs():
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        for container in pod_containers(doc):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in template
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in template[ref["name"]]["stringData"], (doc["metadata"]["name"], ref)


def test_k8s_config_map() -> None:
    data = k8s("ConfigMap", "ipr-config")["data"]
    assert not [k for k in data if SECRET_KEY.search(k)], "secrets belong in a Secret"
    assert data["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert data["TEMPORAL_NAMESPACE"] == "customs-ipr"
    assert data["WEBHOOK_ALLOWED_HOSTS"] == ""
    for step in ("holds", "notify", "disposal", "guarantees"):
        assert data[f"{step.upper()}_URL"] == f"http://{step}:8000"
    for key in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "TEMPORAL_ADDRESS",
        "SMTP_HOST",
        "SMTP_PORT",
        "OIDC_ISSUER",
        "OIDC_AUDIENCE",
        "OIDC_JWKS_URL",
        "CASES_PUBLIC_URL",
        "IDENTITY_PUBLIC_URL",
    ):
        assert data[key], key


def test_k8s_identity_provider_and_clients() -> None:
    (idp,) = pod_containers(k8s("Deployment", "idp"))
    assert idp["image"] == "customs-ipr-idp"
    names = {e["name"] for e in idp["env"]}
    assert {"IDENTITY_ISSUER", "IDENTITY_DB_URL", "IDENTITY_JWKS", "IDENTITY_COOKIE_KEYS"} <= names
    assert k8s("Service", "idp")["spec"]["ports"][0]["port"] == 8010
    (boot,) = pod_containers(k8s("Job", "identity-bootstrap"))
    assert boot["command"] == ["python", "-m", "services.identity.bootstrap", "services/identity/platform.json"]
    for name, client in (("cases", "cases"), ("worker", "case-worker"), ("risk", "risk-1")):
        (container,) = pod_containers(k8s("Deployment", name))
        env_ = {e["name"]: e for e in container["env"]}
        assert env_["OIDC_CLIENT_ID"]["value"] == client
        assert env_["OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "ipr-secrets"
    resources = load_yaml(DEPLOY / "k8s" / "kustomization.yaml")["resources"]
    text = "\n".join((DEPLOY / "k8s" / p).read_text() for p in resources)
    for retired in RETIRED_TOKENS:
        assert retired not in text


def test_notify_accepts_the_shipped_delivery_settings() -> None:
    """The config map's delivery settings pass notify's own checks (the lease outlasts an attempt, and so on)."""
    import os
    from unittest import mock

    from services.notify.settings import Settings

    data = k8s("ConfigMap", "ipr-config")["data"]
    secrets = {name: f"{name.lower()}-0123456789abcdef" for name in (*NOTIFY_SECRETS,)}
    with mock.patch.dict(
        os.environ,
        {**data, **secrets, "DATABASE_URL": "postgresql+asyncpg://u:p@db/notify", "OIDC_ISSUER": data["OIDC_ISSUER"]},
        clear=True,
    ):
        settings = Settings()
    assert settings.delivery_retry_window_seconds == 86400
    assert settings.delivery_lease_seconds > max(settings.smtp_timeout_s, settings.webhook_timeout_s)
    assert settings.webhook_key_overlap_hours == 24


def test_intake_and_risk_accept_the_shipped_parcel_and_targeting_settings() -> None:
    """The config map's manifest and e-commerce targeting settings pass the services' own checks."""
    import os
    from unittest import mock

    from services.intake.settings import Settings as IntakeSettings
    from services.risk.scoring import DEFAULT_DIRECTION_WEIGHTS, DEFAULT_MODE_WEIGHTS
    from services.risk.settings import Settings as RiskSettings

    data = k8s("ConfigMap", "ipr-config")["data"]
    with mock.patch.dict(os.environ, {**data, "DATABASE_URL": "postgresql+asyncpg://u:p@db/x"}, clear=True):
        intake, risk = IntakeSettings(), RiskSettings()
    assert intake.max_manifest_bytes == 64 * 1024 * 1024 > intake.max_body_bytes
    assert risk.direction_weights == DEFAULT_DIRECTION_WEIGHTS
    assert risk.supervision_mode_weights == DEFAULT_MODE_WEIGHTS
    assert risk.platform_min_consignments == 1000
