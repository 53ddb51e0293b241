"""Case benchmark: `make bench-cases`. Prints figures; it is not a timed test and asserts nothing.

A burst of N suspected consignments (2,000 by default) is started as cases, as the risk service's case
starter starts them (``shared.case_opening.start_case``, 200 at a time), and runs through the real
chain: case opened and its rule pack loaded, hold placed at the holds service, the suspension notice
recorded and sent by notify (e-mail to the local sink), the case recorded in the cases database, and
the holder's reply window armed as a durable timer. Printed: cases/s and the time to drain the burst.

Beside it, on the same Temporal server in the same run, two baselines started the same way from a
worker configured like the case worker (``bench/case_baselines.py``): a trivial workflow, and a
workflow of the case's shape (same markers, activities and timers in the same order) whose activities
do nothing. The ratios of the case rate to both are printed; the target is at least 0.7 of the
same-shaped no-op workflow.

Drained means: for every case its row in the cases database says ``suspended`` (the notice is out and
recorded; the next workflow task arms the reply timer), for the no-op shape its last activity before the
reply timer has run, for the trivial workflow it has completed. The bench checks afterwards that one case
and one no-op history have the same events in the same order, ending with the armed reply timer, and
reads one case through the cases API as an officer signed in at the stack's provider.

By default it starts its own stack with ``deploy/local/stack.py`` (the test profile's ports shifted by
IPR_TEST_PORT_OFFSET + 70, data in .data-bench-cases-<offset>/, only on 127.0.0.1) and stops it at the
end; ``--running`` uses the running test stack of IPR_TEST_PORT_OFFSET instead and leaves it up.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import case_baselines  # noqa: E402

if TYPE_CHECKING:
    from temporalio.client import Client

    from deploy.local.stack import Profile
    from shared.contracts.cases import CaseInput

BASELINE_QUEUE = "bench-case-baselines"
# Columns of the CPU table; "broker" is the broker with its object store (tansu, the S3 gate and rclone). The
# chain's other consumers (intake and risk read the holds and case events, the cases API the case record) are in
# it too: a case costs what it costs the whole running system.
PROCESSES = (
    "worker",
    "holds",
    "notify",
    "intake",
    "risk",
    "cases",
    "broker",
    "sinks",
    "postgres",
    "temporal",
    "bench",
    "baselines",
)
BROKER_PROCESSES = ("broker", "broker-s3", "s3gate")
STACK_PROCESSES = ("worker", "holds", "notify", "intake", "risk", "cases", "sinks", "temporal", *BROKER_PROCESSES)


def say(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- stack


def bench_profile() -> Profile:
    from deploy.local import stack

    offset = int(os.environ.get("IPR_TEST_PORT_OFFSET", "0"))
    base = stack._test_profile(offset + 70)
    return dataclasses.replace(base, name="bench", data=ROOT / f".data-bench-cases-{offset}")


def baseline_metrics_port(profile: Profile) -> int:
    """The baseline worker's metrics: the port below the case worker's (moves with the offset like it)."""
    return profile.worker_metrics_port - 1


def scrape(port: int) -> dict[str, float]:
    """Prometheus text of a worker, as {'name{labels}': value}."""
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:  # loopback
            for line in resp.read().decode().splitlines():
                if line and not line.startswith("#"):
                    name, _, value = line.rpartition(" ")
                    out[name] = float(value)
    except OSError:
        pass
    return out


def metric(values: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in values.items() if k.split("{", 1)[0] == name and all(w in k for w in wanted))


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int | None, *, descendants: bool = True) -> float:
    """User + system CPU of a process and (by default) its live descendants (PostgreSQL's backends), Linux
    /proc. The bench's own process counts alone: the stack it started descends from it and is counted apart."""
    if not pid:
        return 0.0
    if not descendants:
        fields = _stat(pid)
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        if fields := _stat(p):
            total += int(fields[11]) + int(fields[12])
        todo.extend(children.get(p, []))
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pid(profile: Profile) -> int | None:
    try:
        return int((profile.data / "pg" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- the burst


def case_inputs(run: str, n: int, first: int = 0) -> list[CaseInput]:
    from shared.contracts.cases import case_id_for
    from tests.factories import case_input

    now = datetime.now(UTC)
    out: list[CaseInput] = []
    for i in range(first, first + n):
        declaration = f"BC{run}-{i:05d}"
        out.append(
            case_input(case_id=case_id_for(declaration, 1), opened_at=now).model_copy(
                update={"declaration_id": declaration, "reasons": ["case benchmark"]}
            )
        )
    return out


async def start_baseline(client: Client, workflow: str, case: CaseInput) -> None:
    """Started exactly as ``start_case`` starts a case, with another workflow type and task queue."""
    from temporalio.common import (
        SearchAttributePair,
        TypedSearchAttributes,
        WorkflowIDConflictPolicy,
        WorkflowIDReusePolicy,
    )

    from shared.case_opening import CASE_ID, DECLARATION_ID, HOLDER_ID, lines_revision
    from shared.contracts.cases import SIGNAL_LINES

    await client.start_workflow(
        workflow,
        case,
        id=f"{workflow}-{case.case_id}",
        task_queue=BASELINE_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CASE_ID, case.case_id),
                SearchAttributePair(HOLDER_ID, case.holder.id),
                SearchAttributePair(DECLARATION_ID, case.declaration_id),
            ]
        ),
        start_signal=SIGNAL_LINES,
        start_signal_args=[lines_revision(case)],
    )


Start = Callable[["CaseInput"], Awaitable[None]]


@dataclasses.dataclass
class Phase:
    name: str
    n: int
    submit_s: float = float("nan")
    drain_s: float = float("nan")
    done: int = 0
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)
    worker: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.done / self.drain_s if self.drain_s and self.drain_s > 0 else float("nan")


class Bench:
    def __init__(
        self,
        profile: Profile,
        sec: dict[str, str],
        client: Client,
        *,
        batch: int,
        drain_within: float,
        pids: dict[str, Callable[[], int | None]],
    ) -> None:
        self.profile, self.sec, self.client = profile, sec, client
        self.batch, self.drain_within, self.pids = batch, drain_within, pids
        self.engine: Any = None

    async def suspended(self, prefix: str) -> int:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    text("SELECT count(*) FROM cases WHERE case_id LIKE :p AND state = 'suspended'"),
                    {"p": prefix + "%"},
                )
            ).scalar()

    @staticmethod
    async def started(start: Start, case: CaseInput, attempts: int = 10) -> None:
        """A start that times out on a busy server is made again (as the case starter does): the workflow id
        is the same, so a start that did get through is not made twice."""
        from temporalio.exceptions import WorkflowAlreadyStartedError
        from temporalio.service import RPCError

        for attempt in range(attempts):
            try:
                return await start(case)
            except WorkflowAlreadyStartedError:  # an earlier attempt got through and the workflow already ended
                return None
            except RPCError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    async def run(
        self, name: str, inputs: list[CaseInput], start: Start, progress: Callable[[], Awaitable[float]]
    ) -> Phase:
        """Start ``inputs`` ``batch`` at a time, then poll ``progress()`` until it has grown by len(inputs)."""
        phase = Phase(name, len(inputs))
        cpu0 = {k: cpu_seconds(p(), descendants=k != "bench") for k, p in self.pids.items()}
        before = await progress()
        t0 = time.perf_counter()
        for i in range(0, len(inputs), self.batch):
            await asyncio.gather(*(self.started(start, c) for c in inputs[i : i + self.batch]))
        phase.submit_s = time.perf_counter() - t0
        deadline = time.monotonic() + self.drain_within
        while True:
            phase.done = int(await progress() - before)
            now = time.perf_counter()
            if phase.done >= len(inputs) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        phase.drain_s = now - t0
        phase.done = min(phase.done, len(inputs))
        phase.cpu = {k: cpu_seconds(p(), descendants=k != "bench") - cpu0[k] for k, p in self.pids.items()}
        phase.cpu["all"] = sum(phase.cpu.values())
        phase.cpu["broker"] = sum(phase.cpu.pop(k, 0.0) for k in BROKER_PROCESSES)
        return phase


async def shape_check(client: Client, case_id: str, shape_id: str) -> tuple[bool, list[str], list[str]]:
    """Event types of a case's history and a no-op shape's, from the first marker on (the starts differ only in
    their payloads); both must end with the reply timer started."""
    out = []
    for wid in (case_id, shape_id):
        history = await client.get_workflow_handle(wid).fetch_history()
        kinds = [e.WhichOneof("attributes").removesuffix("_event_attributes") for e in history.events]
        out.append(_without_retried_tasks(kinds))
    same = out[0] == out[1] and out[0][-1] == "timer_started"
    return same, out[0], out[1]


def _without_retried_tasks(kinds: list[str]) -> list[str]:
    """A workflow task that timed out or failed (on a loaded machine) and was tried again is one attempt more,
    not another shape: its scheduled/started/timed-out events are left out of the comparison."""
    out: list[str] = []
    for kind in kinds:
        if kind in ("workflow_task_timed_out", "workflow_task_failed"):
            if out and out[-1] == "workflow_task_started":
                out.pop()
            if out and out[-1] == "workflow_task_scheduled":
                out.pop()
            continue
        out.append(kind)
    return out


def read_case(profile: Profile, sec: dict[str, str], case_id: str) -> dict:
    """One case through the cases API, as the demo officer signed in at the stack's provider."""
    import httpx

    from deploy.local.tokens import token_for

    token = token_for(profile, sec, "officer").access_token
    url = f"http://127.0.0.1:{profile.service_ports['cases']}/v1/cases/{case_id}"
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def start_baselines(profile: Profile, env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """The baseline worker in a process of its own, its output appended to the stack's logs."""
    log = open(profile.logs / "bench-baselines.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.case_baselines", BASELINE_QUEUE, str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def stop_baselines(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


async def measure(
    profile: Profile, sec: dict[str, str], *, n: int, batch: int, warmup: int, drain_within: float
) -> dict:
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from deploy.local import stack
    from shared.case_opening import start_case
    from shared.db import make_engine

    client = await Client.connect(
        f"127.0.0.1:{profile.temporal_port}", namespace=stack.NAMESPACE, data_converter=pydantic_data_converter
    )
    port = baseline_metrics_port(profile)
    env = stack.process_env(profile, sec, "worker")
    baselines, log = await asyncio.to_thread(start_baselines, profile, env, port)
    pids: dict[str, Callable[[], int | None]] = {
        name: functools.partial(stack.running_pid, profile, name) for name in STACK_PROCESSES
    }
    pids["postgres"] = lambda: postgres_pid(profile)
    pids["bench"] = os.getpid
    pids["baselines"] = lambda: baselines.pid
    bench = Bench(profile, sec, client, batch=batch, drain_within=drain_within, pids=pids)
    bench.engine = make_engine(stack.database_url(profile, sec, "cases"))
    try:
        stack.wait_for("baseline worker", lambda: stack.http_ok(f"http://127.0.0.1:{port}/metrics"), 60, 0.3)
        run = f"{int(time.time()) % 100_000_000}"

        async def completed() -> float:
            return metric(
                await asyncio.to_thread(scrape, port),
                "temporal_workflow_completed",
                workflow_type=case_baselines.TRIVIAL,
            )

        async def shaped() -> float:
            return metric(
                await asyncio.to_thread(scrape, port),
                "temporal_activity_execution_latency_count",
                activity_type=case_baselines.LAST_ACTIVITY,
            )

        async def trivial(c: CaseInput) -> None:
            await start_baseline(client, case_baselines.TRIVIAL, c)

        async def shape(c: CaseInput) -> None:
            await start_baseline(client, case_baselines.SHAPE, c)

        async def case(c: CaseInput) -> None:
            await start_case(client, c)

        def cases_done(prefix: str) -> Callable[[], Awaitable[float]]:
            async def suspended() -> float:
                return await bench.suspended(prefix)

            return suspended

        if warmup:
            say(f"  warm-up: {warmup} of each (not measured)")
            w = case_inputs(run + "W", warmup)
            await bench.run("warm-up trivial", w, trivial, completed)
            await bench.run("warm-up shape", w, shape, shaped)
            await bench.run("warm-up cases", w, case, cases_done(f"IPR-BC{run}W-"))
        inputs = case_inputs(run, n)
        phases = []
        for name, start, progress in (
            ("trivial workflow", trivial, completed),
            ("no-op case shape", shape, shaped),
            ("cases", case, cases_done(f"IPR-BC{run}-")),
        ):
            before = scrape(profile.worker_metrics_port) if name == "cases" else {}
            phase = await bench.run(name, inputs, start, progress)
            if name == "cases":
                after = scrape(profile.worker_metrics_port)
                phase.worker = {
                    k: metric(after, k) - metric(before, k)
                    for k in (
                        "temporal_sticky_cache_hit",
                        "temporal_sticky_cache_miss",
                        "temporal_sticky_cache_total_forced_eviction",
                        "temporal_workflow_task_execution_latency_count",
                        "temporal_workflow_task_execution_latency_sum",
                        "temporal_workflow_task_schedule_to_start_latency_sum",
                        "temporal_workflow_task_schedule_to_start_latency_count",
                        "temporal_activity_schedule_to_start_latency_sum",
                        "temporal_activity_schedule_to_start_latency_count",
                        "temporal_activity_execution_latency_sum",
                        "temporal_activity_execution_latency_count",
                    )
                }
            say(
                f"  {name}: {phase.done:,}/{phase.n:,} in {phase.drain_s:.1f}s = {phase.rate:.1f}/s "
                f"(all started in {phase.submit_s:.1f}s)"
            )
            phases.append(phase)
        same, case_events, shape_events = await shape_check(
            client, inputs[0].case_id, f"{case_baselines.SHAPE}-{inputs[0].case_id}"
        )
        shown = await asyncio.to_thread(read_case, profile, sec, inputs[-1].case_id)
        return {
            "phases": phases,
            "same_shape": same,
            "case_events": case_events,
            "shape_events": shape_events,
            "api_case": shown,
            "cores": os.cpu_count(),
            "load": os.getloadavg(),
        }
    finally:
        await bench.engine.dispose()
        await asyncio.to_thread(stop_baselines, baselines, log)


def report(result: dict, n: int) -> None:
    trivial, shape, cases = result["phases"]
    say("")
    say(f"== results ({result['cores']} cores; load average at the end {result['load'][0]:.1f}) ==")
    for p in result["phases"]:
        say(
            f"{p.name:<18} {p.done:>6,}/{p.n:,} drained in {p.drain_s:7.1f} s = {p.rate:7.1f}/s  "
            f"(started in {p.submit_s:5.1f} s)"
        )
    say(
        f"cases/s: {cases.rate:.1f}; ratio to the trivial workflow {cases.rate / trivial.rate:.2f}, "
        f"to the same-shaped no-op workflow {cases.rate / shape.rate:.2f} (target ≥ 0.70)"
    )
    say(f"time to drain {n:,} cases: {cases.drain_s:.1f} s")
    events = result["case_events"]
    say(
        f"same shape: {'yes' if result['same_shape'] else 'NO'} ({len(events)} events, the last "
        f"{events[-1] if events else '-'}; no-op: {len(result['shape_events'])} events)"
    )
    if not result["same_shape"]:
        say(f"  case:  {' '.join(events)}")
        say(f"  no-op: {' '.join(result['shape_events'])}")
    shown = result["api_case"]
    pending = [d["name"] for d in shown.get("deadlines", []) if d.get("status") == "pending"]
    say(f"cases API, as the officer: {shown.get('case_id')} {shown.get('state')}, pending deadlines {pending}")
    say("CPU seconds per process in each run: " + ", ".join(PROCESSES))
    for p in result["phases"]:
        say(
            f"  {p.name:<18} "
            + "  ".join(f"{k} {p.cpu.get(k, 0):5.1f}" for k in PROCESSES)
            + f"  = {p.cpu.get('all', 0) / max(1, p.done) * 1000:4.0f} ms per workflow"
            + f" ({p.cpu.get('all', 0) / max(p.drain_s, 1e-9):.2f} of {os.cpu_count()} cores busy)"
        )
    by_name = {p.name: p for p in result["phases"]}
    noop, real = by_name.get("no-op case shape"), by_name.get("cases")
    if noop is not None and real is not None and noop.done and real.done:
        per_noop, per_case = noop.cpu.get("all", 0) / noop.done, real.cpu.get("all", 0) / real.done
        say(
            f"when the cores are busy, cases/s cannot exceed the no-op shape's by more than the ratio of their CPU: "
            f"{per_noop * 1000:.0f} / {per_case * 1000:.0f} ms per workflow = {per_noop / per_case:.2f}"
        )
    w = cases.worker
    if w.get("temporal_workflow_task_execution_latency_count"):

        def mean(key: str) -> float:
            count = w.get(f"{key}_count", 0)
            return w.get(f"{key}_sum", 0) / count if count else float("nan")

        say(
            f"case worker over the run: {w['temporal_workflow_task_execution_latency_count']:,.0f} workflow tasks "
            f"(mean {mean('temporal_workflow_task_execution_latency'):.0f} ms, waited "
            f"{mean('temporal_workflow_task_schedule_to_start_latency'):.0f} ms to start), "
            f"{w['temporal_activity_execution_latency_count']:,.0f} activities (mean "
            f"{mean('temporal_activity_execution_latency'):.0f} ms, waited "
            f"{mean('temporal_activity_schedule_to_start_latency'):.0f} ms to start); sticky cache "
            f"{w['temporal_sticky_cache_hit']:,.0f} hits, {w['temporal_sticky_cache_miss']:,.0f} misses, "
            f"{w['temporal_sticky_cache_total_forced_eviction']:,.0f} forced evictions"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000, help="cases in the burst (and workflows per baseline)")
    ap.add_argument("--batch", type=int, default=200, help="starts in flight at once (the risk case starter's 200)")
    ap.add_argument("--warmup", type=int, default=20, help="workflows of each kind run first, not measured")
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for a burst to drain")
    ap.add_argument("--running", action="store_true", help="use the running test stack of IPR_TEST_PORT_OFFSET")
    args = ap.parse_args()

    from deploy.local import stack

    say(f"== case benchmark ({os.cpu_count()} cores; figures, not a test) ==")
    if args.running:
        profile = stack.PROFILES["test"]
        sec = stack.load_secrets(profile)
        if stack.status(profile) != 0:
            raise SystemExit("the test stack is not running: python -m deploy.local.stack up --profile test")
    else:
        profile = bench_profile()
        say(f"-- starting the stack (Temporal 127.0.0.1:{profile.temporal_port}, data {profile.data.name}) --")
        stack.down(profile)
        shutil.rmtree(profile.data, ignore_errors=True)
        sec = stack.up(profile)
    try:
        say(f"-- a burst of {args.cases:,} of each, started {args.batch} at a time --")
        result = asyncio.run(
            measure(profile, sec, n=args.cases, batch=args.batch, warmup=args.warmup, drain_within=args.timeout)
        )
    finally:
        if not args.running:
            stack.down(profile)
    report(result, args.cases)


if __name__ == "__main__":
    main()
