"""What operators read: `make status` names each not-ready service's failing check, and `make up` says why a
process did not come up instead of 'last error: None'."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from deploy.local import stack as stack_mod

NOT_READY = {
    "status": "not_ready",
    "service": "risk",
    "checks": {
        "database": "ok",
        "broker": "ok",
        "risk-declarations": "failed: RuntimeError: consumer risk-declarations down: CommitFailedError: Commit cannot "
        "be completed (restart 2 in 1.3s)",
    },
}


@pytest.fixture
def fake_readyz():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(NOT_READY).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readiness_names_the_failing_checks(fake_readyz: int) -> None:
    ready, why = stack_mod.readiness(fake_readyz)
    assert not ready
    assert why == (
        "risk-declarations: failed: RuntimeError: consumer risk-declarations down: CommitFailedError: "
        "Commit cannot be completed (restart 2 in 1.3s)"
    )
    assert stack_mod.readiness(free_port())[1].startswith("not answering")


def test_status_prints_the_reason_of_each_service_that_is_not_ready(fake_readyz: int, tmp_path, capsys) -> None:
    profile = dataclasses.replace(stack_mod.PROFILES["test"], data=tmp_path, service_ports={"risk": fake_readyz})
    assert stack_mod.status(profile) == 1
    out = capsys.readouterr().out
    assert "NOT READY: risk-declarations: failed: RuntimeError: consumer risk-declarations down" in out


def test_a_service_that_never_gets_ready_fails_with_its_failing_check(fake_readyz: int) -> None:
    with pytest.raises(SystemExit) as exc:
        stack_mod.wait_for("risk service", lambda: stack_mod.service_ready(fake_readyz), timeout=0.5)
    assert "last error: None" not in str(exc.value)
    assert "risk service did not become ready within 0s: risk-declarations: failed:" in str(exc.value)


def test_a_process_that_exits_fails_at_once_with_the_end_of_its_log(tmp_path) -> None:
    profile = dataclasses.replace(stack_mod.PROFILES["test"], data=tmp_path)
    port = free_port()
    stack_mod.spawn(
        profile, "intake", [sys.executable, "-c", "import sys; print('TypeError: bad setting KAFKA_X'); sys.exit(3)"]
    )
    with pytest.raises(SystemExit) as exc:
        stack_mod.wait_for(
            "intake service",
            lambda: stack_mod.service_ready(port),
            timeout=60,
            explain=lambda: stack_mod.log_tail(profile, "intake"),
            process=(profile, "intake"),
        )
    message = str(exc.value)
    assert "intake service did not become ready (it stopped): the process exited (not answering" in message
    assert "TypeError: bad setting KAFKA_X" in message
