"""Chaos run: declarations keep arriving while every process of the platform is killed and restarted in turn.

Load: declarations by HTTP (as a clearance system, retrying until intake answers 2xx) and straight onto the
declarations topic (retrying until the broker acknowledges), at a steady rate, with duplicates (the same
declaration sent again by the other way) and poison records (broken JSON, a year-9999 declaration). One
declaration in ``suspect_every`` names a recorded brand and opens a case; the others are plain goods.

Meanwhile each process is killed with ``kill -9`` by its PID and started again the way
``deploy.local.stack`` starts it: every service, the case worker, the broker, its object store gate
and the OpenID provider; then the broker is frozen (SIGSTOP) for ``freeze_s`` seconds and thawed (SIGCONT),
while a Prometheus server loaded with the shipped rules (``deploy/prometheus/alerts.yml``) scrapes every service
and must show ``IprBrokerNotAnswering`` (pending for a short freeze, firing for one longer than its ``for:``).

Then it checks, and prints: 0 declarations lost (every accepted one assessed), 0 duplicate cases (one case
per expected case id -- expected ids come from ``shared.contracts.cases.consignment_case_id``, the platform's
builder -- one hold and one notice of each kind per case), every case in its expected state (suspended,
waiting for the holder), one distinct Message-ID per notice and recipient in the mail sink (and it is
the one notify's delivery log recorded), every poison record on the dead-letter topic, every process
ready again.

    python -m tests.chaos.chaos [--rate 10] [--suspect-every 10] [--freeze 75]   # make chaos

``make chaos`` starts its own test stack (``IPR_TEST_PORT_OFFSET``) and stops it afterwards;
``tests/chaos/test_chaos.py`` runs a small configuration on the session stack of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy.local import stack as stack_mod  # noqa: E402
from shared.contracts.cases import consignment_case_id  # noqa: E402
from shared.contracts.events import TOPIC_DECLARATIONS, TOPIC_DECLARATIONS_DLQ  # noqa: E402
from tests.factories import example_declaration  # noqa: E402
from tests.helpers import eventually, unique_id  # noqa: E402

SERVICES = ("intake", "risk", "holds", "notify", "disposal", "guarantees", "cases")
PROMETHEUS_PORT_BASE = 18035  # + IPR_TEST_PORT_OFFSET, beside the test profile's ports


@dataclass(frozen=True)
class Config:
    rate: float = 4.0  # declarations offered per second (half by HTTP, half on the topic)
    suspect_every: int = 6  # one declaration in n opens a case
    duplicate_every: int = 7  # one in n is sent a second time, by the other way
    poison_every: int = 25  # one poison record after every n declarations
    pause_s: float = 2.0  # load between two faults
    freeze_s: float = 15.0  # the probe (every 2 s, 3 s timeout), a scrape and an evaluation must all see it
    targets: tuple[str, ...] = (*SERVICES, "worker", "broker", "s3gate", "idp")
    settle_timeout_s: float = 600.0
    alert_firing: bool = False  # the freeze lasts past the alert's ``for:``: require it firing, not pending


SMALL = Config(rate=2.0, suspect_every=8, poison_every=20, settle_timeout_s=1200.0)
FULL = Config(
    rate=10.0,
    suspect_every=10,
    duplicate_every=10,
    poison_every=40,
    pause_s=10.0,
    freeze_s=100.0,
    settle_timeout_s=1800.0,
    alert_firing=True,
)


@dataclass
class Tally:
    http: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    suspect: set[str] = field(default_factory=set)
    duplicates: int = 0
    poison: list[str] = field(default_factory=list)
    http_retries: int = 0
    topic_retries: int = 0
    faults: list[str] = field(default_factory=list)
    alert: str = "not checked"
    alert_ok: bool = False

    @property
    def accepted(self) -> set[str]:
        return set(self.http) | set(self.topic)


def say(msg: str) -> None:
    print(f"[chaos] {msg}", flush=True)


def plain(declaration_id: str) -> dict:
    """A declaration of goods no recordation covers."""
    body = example_declaration(declaration_id=declaration_id)
    for line in body["lines"]:
        line.update(hs_code="630260", description="Plain cotton bath towels, terry weave", brand=None, model=None)
    return body


def suspect(declaration_id: str) -> dict:
    """The example declaration: line 1 is NIKE shoes, recorded by RH-0001 (one case, line 1)."""
    return example_declaration(declaration_id=declaration_id)


# ---------------------------------------------------------------- load


class Load:
    def __init__(self, stack, cfg: Config, tally: Tally) -> None:
        self.stack, self.cfg, self.tally = stack, cfg, tally
        self.stop = asyncio.Event()
        self.inflight: set[asyncio.Task] = set()
        self.producer: AIOKafkaProducer | None = None
        self.http = httpx.AsyncClient(timeout=10)
        self.sem = asyncio.Semaphore(32)

    async def post(self, body: dict) -> None:
        url = f"{self.stack.url('intake')}/v1/declarations"
        while True:  # a clearance system retries until intake takes the declaration
            try:
                headers = await asyncio.to_thread(self.stack.auth, "clearance")
                r = await self.http.post(url, json=body, headers=headers)
                if r.status_code in (200, 201, 202):
                    return
                if r.status_code < 500 and r.status_code not in (401, 408, 429):
                    raise AssertionError(f"intake refused {body['declaration_id']}: {r.status_code} {r.text}")
            except (httpx.HTTPError, OSError, Exception) as exc:
                if isinstance(exc, AssertionError):
                    raise
            self.tally.http_retries += 1
            await asyncio.sleep(0.5)

    async def send(self, key: str, value: bytes) -> None:
        while True:  # a producer retries until the broker acknowledges
            try:
                assert self.producer is not None
                await asyncio.wait_for(
                    self.producer.send_and_wait(TOPIC_DECLARATIONS, value=value, key=key.encode()), 15
                )
                return
            except Exception:  # noqa: BLE001
                self.tally.topic_retries += 1
                await asyncio.sleep(0.5)

    async def one(self, i: int) -> None:
        async with self.sem:
            if self.stop.is_set():  # offered while the platform was slower than the load: never sent, not counted
                return
            declaration_id = unique_id("CN5300-CHAOS")
            is_suspect = i % self.cfg.suspect_every == 0
            body = suspect(declaration_id) if is_suspect else plain(declaration_id)
            by_http = i % 2 == 0
            if by_http:
                await self.post(body)
                self.tally.http.append(declaration_id)
            else:
                await self.send(declaration_id, json.dumps(body).encode())
                self.tally.topic.append(declaration_id)
            if is_suspect:
                self.tally.suspect.add(declaration_id)
            if i % self.cfg.duplicate_every == 3:  # the same declaration again, the other way
                if by_http:
                    await self.send(declaration_id, json.dumps(body).encode())
                else:
                    await self.post(body)
                self.tally.duplicates += 1
            if i % self.cfg.poison_every == 5:
                key = unique_id("POISON-CHAOS")
                poison = (
                    b"{not json"
                    if len(self.tally.poison) % 2 == 0
                    else json.dumps(suspect(key) | {"submitted_at": "9999-12-31T23:59:59Z"}).encode()
                )
                await self.send(key, poison)
                self.tally.poison.append(key)

    async def run(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.stack.kafka, acks="all", request_timeout_ms=5000, enable_idempotence=False
        )
        await self.producer.start()
        i, started = 0, time.monotonic()
        while not self.stop.is_set():
            task = asyncio.create_task(self.one(i))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
            i += 1
            delay = started + i / self.cfg.rate - time.monotonic()
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)

    async def finish(self) -> None:
        """Stop offering new declarations and wait until every one started is accepted."""
        self.stop.set()
        while self.inflight:
            done, _ = await asyncio.wait(set(self.inflight), timeout=300)
            for task in done:
                task.result()
            if not done:
                raise AssertionError(f"{len(self.inflight)} declarations never accepted")
        if self.producer is not None:
            await self.producer.stop()
        await self.http.aclose()


# ---------------------------------------------------------------- faults


def process_port(profile, name: str) -> int:
    return {
        "broker": profile.broker_port,
        "worker": profile.worker_metrics_port,
        "s3gate": profile.broker_s3_port,
        "idp": profile.idp_port,
    }.get(name) or profile.service_ports[name]


async def answering(stack, name: str, old_pid: int, within: float = 600) -> None:
    """Wait until a restarted service is ready (the worker: its metrics; the provider: its discovery document)."""
    profile = stack.profile
    if name == "worker":

        def ready() -> bool:
            return stack_mod.http_ok(f"http://127.0.0.1:{profile.worker_metrics_port}/metrics")
    elif name == "idp":

        def ready() -> bool:
            return stack_mod.http_ok(f"{stack_mod.issuer_url(profile)}/.well-known/openid-configuration")
    else:

        def ready() -> bool:  # not yet listening or not yet ready: wait on (service_ready would raise)
            return stack_mod.readiness(profile.service_ports[name])[0]

    deadline = time.monotonic() + within
    while not await asyncio.to_thread(ready):
        pid = stack_mod.running_pid(profile, name)
        if pid is None or time.monotonic() > deadline:
            raise AssertionError(
                f"{name} (pid {pid}, was {old_pid}) not ready again: {stack_mod.log_tail(profile, name)}"
            )
        await asyncio.sleep(0.5)


async def restart_missing(stack, names) -> None:
    """After a failed run: start again whatever is not running, so the stack is whole for what comes next."""
    for name in names:
        if stack_mod.running_pid(stack.profile, name) is not None:
            continue
        with contextlib.suppress(Exception, SystemExit):
            if name == "broker":
                await asyncio.to_thread(stack_mod.start_broker, stack.profile, stack.secrets)
            elif name == "s3gate":
                await asyncio.to_thread(stack_mod.start_broker_s3, stack.profile, stack.secrets)
            else:
                await asyncio.to_thread(stack_mod.start_service, stack.profile, stack.secrets, name, wait=False)
                await answering(stack, name, 0)


async def kill_and_restart(stack, name: str) -> float:
    """kill -9 a process and start it again as the stack does; the seconds until it answered again."""
    pid = stack_mod.running_pid(stack.profile, name)
    if pid is None:
        raise AssertionError(f"{name} is not running")
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    await eventually(lambda: not stack_mod.alive(pid), within=60, every=0.05, what=f"{name} (pid {pid}) gone")
    # The leader of a killed process shows as a zombie before its other threads have let go of its sockets.
    port = process_port(stack.profile, name)
    with contextlib.suppress(AssertionError):  # still bound after 30 s: start it anyway
        await eventually(lambda: not stack_mod.port_open(port), within=30, every=0.1, what=f"port {port} free")
    if name == "broker":
        await asyncio.to_thread(stack_mod.start_broker, stack.profile, stack.secrets)
    elif name == "s3gate":  # the broker's object store gate
        await asyncio.to_thread(stack_mod.start_broker_s3, stack.profile, stack.secrets)
    else:
        # started as the stack starts it; on a loaded machine readiness may take longer than the stack waits
        await asyncio.to_thread(stack_mod.start_service, stack.profile, stack.secrets, name, wait=False)
        await answering(stack, name, pid)
    new = stack_mod.running_pid(stack.profile, name)
    assert new not in (None, pid), f"{name} did not come back"
    return time.monotonic() - t0


class Prometheus:
    """A Prometheus server with the shipped alert rules, scraping the stack's services every 2 s."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.port = PROMETHEUS_PORT_BASE + int(os.environ.get("IPR_TEST_PORT_OFFSET", "0"))
        self.dir = Path(tempfile.mkdtemp(prefix="chaos-prometheus-"))
        self.proc: subprocess.Popen | None = None

    def start(self) -> bool:
        binary = shutil.which("prometheus")
        if binary is None:
            return False
        targets = [f"127.0.0.1:{self.stack.profile.service_ports[s]}" for s in SERVICES]
        (self.dir / "prometheus.yml").write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": "2s", "evaluation_interval": "2s", "scrape_timeout": "1500ms"},
                    "rule_files": [str(ROOT / "deploy" / "prometheus" / "alerts.yml")],
                    "scrape_configs": [{"job_name": "ipr", "static_configs": [{"targets": targets}]}],
                }
            )
        )
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "prometheus.log", "wb"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/-/ready", timeout=1).status_code == 200:
                    return True
            time.sleep(0.3)
        raise AssertionError(f"prometheus did not start: {(self.dir / 'prometheus.log').read_text()[-2000:]}")

    async def alert_state(self, name: str) -> str | None:
        async with httpx.AsyncClient(timeout=3) as client:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                alerts = (await client.get(f"http://127.0.0.1:{self.port}/api/v1/alerts")).json()["data"]["alerts"]
                states = {a["state"] for a in alerts if a["labels"].get("alertname") == name}
                return "firing" if "firing" in states else ("pending" if "pending" in states else None)
        return None

    async def up_count(self) -> int:
        async with httpx.AsyncClient(timeout=3) as client:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                r = await client.get(
                    f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": "count(ipr_kafka_broker_up == 1)"}
                )
                result = r.json()["data"]["result"]
                return int(float(result[0]["value"][1])) if result else 0
        return 0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


async def freeze_broker(stack, cfg: Config, prom: Prometheus | None, tally: Tally) -> None:
    pid = stack_mod.running_pid(stack.profile, "broker")
    assert pid
    if prom is not None:  # every service sees the broker before the freeze (the rule's input is there)

        async def all_up() -> bool:
            return await prom.up_count() >= len(SERVICES)

        with contextlib.suppress(AssertionError):  # not all after a minute: freeze anyway
            await eventually(all_up, within=60, every=1, what="every service up in Prometheus")
    os.kill(pid, signal.SIGSTOP)
    seen: str | None = None
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < cfg.freeze_s:
            if prom is not None:
                state = await prom.alert_state("IprBrokerNotAnswering")
                if state == "firing" or (state == "pending" and seen is None):
                    seen = state
            await asyncio.sleep(1)
    finally:
        os.kill(pid, signal.SIGCONT)
    tally.faults.append(f"broker frozen {cfg.freeze_s:.0f} s (SIGSTOP/SIGCONT)")
    if prom is None:
        tally.alert = "not checked: no prometheus binary"
        return
    tally.alert = f"IprBrokerNotAnswering {seen or 'never active'} during the freeze"
    if seen is None:
        tally.alert += f" ({await prom.up_count()} services see the broker after the thaw)"
    wanted = ("firing",) if cfg.alert_firing else ("pending", "firing")
    deadline = time.monotonic() + 120
    while await prom.alert_state("IprBrokerNotAnswering") is not None:
        if time.monotonic() > deadline:
            tally.alert += ", still active two minutes after the thaw"
            return
        await asyncio.sleep(1)
    tally.alert += ", resolved after the thaw"
    tally.alert_ok = seen in wanted


# ---------------------------------------------------------------- checks


async def wait_for(probe, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = await probe()
        if last is True:
            return True
        await asyncio.sleep(2)
    raise AssertionError(f"{what} not reached within {within:.0f} s; last: {last}")


async def check(stack, cfg: Config, tally: Tally) -> dict[str, Any]:
    engines = {
        db: create_async_engine(stack_mod.database_url(stack.profile, stack.secrets, db), pool_size=1)
        for db in ("intake", "cases", "holds", "notify")
    }
    accepted = sorted(tally.accepted)
    expected_cases = {consignment_case_id(d, "RH-0001") for d in tally.suspect}  # NIKE, the example's mark
    figures: dict[str, Any] = {}

    async def q(db: str, sql: str, **params: Any) -> list:
        async with engines[db].connect() as conn:
            return list(await conn.execute(text(sql), params))

    try:

        async def all_assessed() -> bool | str:
            rows = await q(
                "intake",
                "SELECT declaration_id, status FROM declarations WHERE declaration_id = ANY(:ids)",
                ids=accepted,
            )
            status = {r[0]: r[1] for r in rows}
            figures["lost"] = sum(1 for d in accepted if d not in status)
            figures["not_assessed"] = sum(1 for d in accepted if status.get(d) != "assessed")
            return figures["not_assessed"] == 0 or f"{figures['not_assessed']} of {len(accepted)} not assessed"

        async def cases_settled() -> bool | str:
            rows = await q(
                "cases",
                "SELECT case_id, state, failure IS NOT NULL FROM cases WHERE declaration_id = ANY(:ids)",
                ids=accepted,
            )
            states = {r[0]: r[1] for r in rows}
            waiting = [c for c in expected_cases if states.get(c) != "suspended"]
            notices = await q(
                "notify",
                "SELECT n.case_id, count(*) FILTER (WHERE d.status <> 'delivered') "
                "FROM notices n JOIN deliveries d USING (notice_id) WHERE n.case_id = ANY(:ids) "
                "AND d.channel = 'email' GROUP BY n.case_id",
                ids=sorted(expected_cases),
            )
            undelivered = sum(1 for r in notices if r[1]) + len(expected_cases - {r[0] for r in notices})
            return (
                not waiting and not undelivered
            ) or f"{len(waiting)} cases not suspended, {undelivered} notices not delivered"

        await wait_for(all_assessed, cfg.settle_timeout_s, "every accepted declaration assessed")
        await wait_for(cases_settled, cfg.settle_timeout_s, "every case suspended with its notice delivered")

        rows = await q(
            "cases",
            "SELECT case_id, declaration_id, line_no, state FROM cases WHERE declaration_id = ANY(:ids)",
            ids=accepted,
        )
        cases = {r[0]: r[3] for r in rows}
        per_line = Counter((r[1], r[2]) for r in rows)
        figures["cases"] = len(cases)
        figures["cases_expected"] = len(expected_cases)
        figures["cases_missing"] = len(expected_cases - set(cases))
        figures["cases_unexpected"] = len(set(cases) - expected_cases)
        figures["cases_duplicate"] = sum(n - 1 for n in per_line.values())
        figures["cases_not_in_expected_state"] = sum(1 for c in expected_cases if cases.get(c) != "suspended")
        holds = await q(
            "holds",
            "SELECT case_id, count(*) FROM holds WHERE case_id = ANY(:ids) GROUP BY case_id",
            ids=sorted(expected_cases),
        )
        figures["holds_duplicate"] = sum(r[1] - 1 for r in holds)
        figures["holds_missing"] = len(expected_cases - {r[0] for r in holds})
        notices = await q(
            "notify",
            "SELECT case_id, kind, count(*) FROM notices WHERE case_id = ANY(:ids) GROUP BY case_id, kind",
            ids=sorted(expected_cases),
        )
        figures["notices"] = sum(r[2] for r in notices)
        figures["notices_duplicate"] = sum(r[2] - 1 for r in notices)

        # one Message-ID per notice and recipient, the one notify's delivery log recorded
        logged = await q(
            "notify",
            "SELECT n.notice_id, d.target, d.message_id FROM notices n JOIN deliveries d "
            "USING (notice_id) WHERE n.case_id = ANY(:ids) AND d.channel = 'email'",
            ids=sorted(expected_cases),
        )
        logged_ids = {(r[0], r[1]): r[2] for r in logged}
        async with httpx.AsyncClient(timeout=60) as client:
            mails = (await client.get(f"{stack.sink}/mail")).json()
        seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        copies = 0
        for m in mails:
            if m["headers"].get("X-IPR-Case-Id") in expected_cases:
                seen[(m["headers"].get("X-IPR-Notice-Id"), m["to"])].add(m["headers"].get("Message-ID"))
                copies += 1
        figures["emails"] = copies
        figures["notices_mailed"] = len(seen)
        figures["message_ids_extra"] = sum(len(ids) - 1 for ids in seen.values())
        figures["message_ids_not_logged"] = sum(1 for k, ids in seen.items() if ids != {logged_ids.get(k)})
        figures["notices_never_mailed"] = len(set(logged_ids) - set(seen))

        # every poison record kept on the dead-letter topic
        figures["dead_letters_expected"] = len(tally.poison)
        found = await dead_letter_keys(stack, set(tally.poison))
        figures["dead_letters_missing"] = len(set(tally.poison) - found)

        # every process ready again
        not_ready = []
        async with httpx.AsyncClient(timeout=10) as client:
            for service in SERVICES:
                r = await client.get(f"{stack.url(service)}/readyz")
                if r.status_code != 200:
                    not_ready.append(f"{service}: {r.text[:200]}")
        for name in ("worker", "broker", "idp"):
            if stack_mod.running_pid(stack.profile, name) is None:
                not_ready.append(name)
        figures["not_ready"] = not_ready
        return figures
    finally:
        for engine in engines.values():
            await engine.dispose()


async def dead_letter_keys(stack, wanted: set[str], within: float = 60) -> set[str]:
    consumer = AIOKafkaConsumer(
        TOPIC_DECLARATIONS_DLQ,
        bootstrap_servers=stack.kafka,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: set[str] = set()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and not wanted <= found:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError, AttributeError):
                        key = json.loads(record.value).get("key")
                        if key in wanted:
                            found.add(key)
    finally:
        await consumer.stop()
    return found


# ---------------------------------------------------------------- the run


async def run(stack, cfg: Config = SMALL) -> dict[str, Any]:
    tally = Tally()
    prom = Prometheus(stack)
    prom_started = await asyncio.to_thread(prom.start)
    started = time.monotonic()
    load = Load(stack, cfg, tally)
    loader = asyncio.create_task(load.run())
    restart_s: dict[str, float] = {}
    try:
        await asyncio.sleep(cfg.pause_s)
        for name in random.Random(7).sample(cfg.targets, len(cfg.targets)):
            restart_s[name] = await kill_and_restart(stack, name)
            tally.faults.append(f"{name} killed (-9), back in {restart_s[name]:.1f} s")
            say(tally.faults[-1])
            await asyncio.sleep(cfg.pause_s)
        await freeze_broker(stack, cfg, prom if prom_started else None, tally)
        say(tally.faults[-1] + "; " + tally.alert)
        await asyncio.sleep(cfg.pause_s)
    finally:
        try:
            await load.finish()
            await loader
        finally:
            prom.stop()
            await restart_missing(stack, cfg.targets)
    load_s = time.monotonic() - started
    say(f"load done: {len(tally.accepted)} declarations accepted in {load_s:.0f} s; checking")
    figures = await check(stack, cfg, tally)
    figures.update(
        accepted=len(tally.accepted),
        by_http=len(set(tally.http)),
        by_topic=len(set(tally.topic)),
        duplicates_sent=tally.duplicates,
        poison_sent=len(tally.poison),
        http_retries=tally.http_retries,
        topic_retries=tally.topic_retries,
        faults=tally.faults,
        alert=tally.alert,
        alert_ok=tally.alert_ok,
        load_s=round(load_s),
        total_s=round(time.monotonic() - started),
    )
    print(summary(figures), flush=True)
    return figures


def summary(f: dict[str, Any]) -> str:
    lines = [
        "chaos summary",
        f"  declarations accepted   {f['accepted']} ({f['by_http']} by HTTP, {f['by_topic']} on the topic; "
        f"{f['duplicates_sent']} sent twice; {f['http_retries']} HTTP and {f['topic_retries']} topic retries) "
        f"over {f['load_s']} s",
        f"  lost                    {f['lost']}  (accepted, never stored)",
        f"  not assessed            {f['not_assessed']}",
        f"  cases                   {f['cases']} of {f['cases_expected']} expected; missing {f['cases_missing']}, "
        f"unexpected {f['cases_unexpected']}, duplicate {f['cases_duplicate']}",
        f"  cases not suspended     {f['cases_not_in_expected_state']}",
        f"  holds                   missing {f['holds_missing']}, duplicate {f['holds_duplicate']}",
        f"  notices                 {f['notices']}, duplicate {f['notices_duplicate']}; e-mails {f['emails']} for "
        f"{f['notices_mailed']} notice recipients, extra Message-IDs {f['message_ids_extra']}, "
        f"not the logged one {f['message_ids_not_logged']}, never mailed {f['notices_never_mailed']}",
        f"  dead letters            {f['dead_letters_expected'] - f['dead_letters_missing']} of "
        f"{f['dead_letters_expected']} poison records",
        f"  not ready afterwards    {', '.join(f['not_ready']) or 'none'}",
        f"  alert                   {f['alert']}",
        "  faults                  " + "\n                          ".join(f["faults"]),
        f"  total                   {f['total_s']} s",
    ]
    return "\n".join(lines)


def failures(f: dict[str, Any]) -> list[str]:
    """What the run got wrong (empty when the platform rode every fault out)."""
    bad = [
        k
        for k in (
            "lost",
            "not_assessed",
            "cases_missing",
            "cases_unexpected",
            "cases_duplicate",
            "cases_not_in_expected_state",
            "holds_missing",
            "holds_duplicate",
            "notices_duplicate",
            "message_ids_extra",
            "message_ids_not_logged",
            "notices_never_mailed",
            "dead_letters_missing",
        )
        if f[k]
    ]
    if f["not_ready"]:
        bad.append("not_ready")
    if not f["alert_ok"]:
        bad.append("alert")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=FULL.rate)
    parser.add_argument("--suspect-every", type=int, default=FULL.suspect_every)
    parser.add_argument("--pause", type=float, default=FULL.pause_s)
    parser.add_argument("--freeze", type=float, default=FULL.freeze_s)
    parser.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    args = parser.parse_args()
    cfg = Config(
        rate=args.rate,
        suspect_every=args.suspect_every,
        duplicate_every=FULL.duplicate_every,
        poison_every=FULL.poison_every,
        pause_s=args.pause,
        freeze_s=args.freeze,
        settle_timeout_s=FULL.settle_timeout_s,
        alert_firing=args.freeze >= 90,
    )

    from tests.conftest import Stack

    profile = stack_mod.PROFILES["test"]
    stack_mod.down(profile)
    shutil.rmtree(profile.data, ignore_errors=True)
    secrets = stack_mod.up(profile, demo=True)
    try:
        figures = asyncio.run(run(Stack(profile=profile, secrets=secrets), cfg))
    finally:
        if not args.keep:
            stack_mod.down(profile)
    bad = failures(figures)
    if bad:
        raise SystemExit(f"[chaos] FAILED: {', '.join(bad)}")
    say("passed: 0 lost, 0 duplicated, every case in its expected state")


if __name__ == "__main__":
    main()
