"""The shipped alert rules are valid Prometheus rules and fire on the failure modes they are written for.

``promtool`` comes with Debian's ``prometheus`` package (``make deps-test`` installs it).
``deploy/prometheus/alerts.test.yml`` feeds each rule the series the services export when a
consumer stops, a dead-letter topic grows, an outbox stalls, the flow stops while input arrives,
or the broker stops answering, and lists the alerts that must (and must not) fire.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: `make deps-test` installs Debian's prometheus package, which has it")
    return subprocess.run([tool, *args], capture_output=True, text=True, cwd=PROMETHEUS, timeout=120)


def test_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_on_the_failure_modes() -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_flow_alert_has_a_unit_test() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())
    tested = {a["alertname"] for t in tests["tests"] for a in t.get("alert_rule_test", []) if a.get("exp_alerts")}
    for group in rules["groups"]:
        if group["name"] in ("ipr-flow", "ipr-broker", "ipr-pipeline"):
            for rule in group["rules"]:
                if rule["alert"] != "IprRiskRegistryEmpty":
                    assert rule["alert"] in tested, f"{rule['alert']} fires in no case of alerts.test.yml"


# The conditions the chaos run provokes or the reliability of the flow depends on: each must fire in a case.
NAMED_CONDITIONS = {
    "IprBrokerNotAnswering": "a frozen or dead broker",
    "IprConsumerStopped": "a consumer that stopped",
    "IprConsumerNoProgress": "a stuck consumer: records wait and its offsets do not move",
    "IprConsumerNotPolling": "a consumer that stopped polling",
    "IprConsumerLagHigh": "growing consumer lag",
    "IprOutboxBacklog": "a growing outbox",
    "IprOutboxStalled": "an outbox that does not move",
    "IprDeclarationsNotAssessed": "declarations arriving while none is assessed",
    "IprCaseWorkflowFailed": "a failed case",
}


def test_each_named_reliability_condition_fires_in_a_case() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())
    tested = {a["alertname"] for t in tests["tests"] for a in t.get("alert_rule_test", []) if a.get("exp_alerts")}
    missing = {name: why for name, why in NAMED_CONDITIONS.items() if name not in tested}
    assert not missing, missing
