"""Risk benchmark: `make bench-risk`. Prints figures; it is not a timed test and asserts nothing.

1. Matcher time per line (pure, in this process) with 100, 1,000, 10,000 and 100,000 recorded marks
   (a quarter of them with a Chinese mark too): the same lines against nested registries; cold (fuzzy
   cache empty) and warm; for English, Chinese and mixed-script lines apart; CPU time of the process.
2. Model: what learning adds per line on the assessment path (feature vector, champion, shadow).
3. Throughput: N declarations (lines 60% English, 25% Chinese, 15% mixed script) are put on
   customs.declarations.v1 first, then the real risk service (uvicorn, 10,000 marks; ``--replicas 2`` runs two,
   each its own process, in one consumer group) drains them; lines/s from the first to the last
   assessment published, against the raw aiokafka consume rate of the same records in the same run.
4. Latency: declarations offered at fixed rates (2,000 and 5,000 lines/s); p50/p99 from publish to the
   assessment arriving on risk.assessments.v1.
5. Parcels: manifests of 1,000 single-line parcels (one record per parcel, keyed by the manifest id) put on
   customs.parcels.v1 while the replicas are stopped, then drained: parcels/s from the first to the last
   result published on customs.parcel-results.v1, beside the raw consume rate of the same records.

It starts its own PostgreSQL, broker and Temporal (no worker: started cases just wait) on the
test ports shifted by IPR_TEST_PORT_OFFSET + 50, under .data-bench-<offset>/, only on 127.0.0.1,
and stops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import synth  # noqa: E402

if TYPE_CHECKING:
    from deploy.local.stack import Profile
    from services.risk.matcher import RegistryIndex
    from shared.contracts.declaration import DeclarationLine, DeclarationV1
    from shared.contracts.recordation import RecordationV1


def say(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- 1. matcher


SCRIPTS = ("latin", "chinese", "mixed")


def matcher_phase(sizes: list[int], n_lines: int, rounds: int = 5) -> dict[tuple[str, int], tuple]:
    """Per line kind (English, Chinese, mixed-script) and registry size: cold, warm and no-hit µs per line."""
    from services.risk.matcher import RegistryIndex
    from services.risk.scoring import Scoring, assess_line
    from shared.contracts.declaration import DeclarationV1
    from shared.contracts.recordation import RecordationV1

    titles = synth.mark_names(max(sizes))
    recs_raw = synth.recordations(titles)
    scoring = Scoring()
    on_date = synth.TODAY
    all_recs = [RecordationV1.model_validate(r) for r in recs_raw]
    indexes, builds = {}, {}
    for size in sizes:
        t0 = time.perf_counter()
        indexes[size] = RegistryIndex.build(all_recs[:size])
        builds[size] = time.perf_counter() - t0
        jur = indexes[size].by_jurisdiction["CN"]
        say(
            f"  built index of {size:>7,} marks in {time.perf_counter() - t0:5.1f}s ({indexes[size].terms:,} terms, "
            f"{len(jur.unspaced):,} Chinese, {len(jur.fuzzy):,} deletion keys, {len(jur.sounds):,} pinyin keys, "
            f"{len(jur.shapes):,} look-alike keys)"
        )
    gc.collect()
    gc.freeze()  # as the service does after a rebuild: the index is long-lived, keep it out of GC passes

    def one_pass(index: RegistryIndex, work: list[tuple[DeclarationV1, DeclarationLine]]) -> float:
        # CPU time of this process: on a shared machine, time spent waiting for a core is not the matcher's
        t0 = time.process_time()
        for d, ln in work:
            assess_line(index, d, ln, scoring, None, on_date)
        return (time.process_time() - t0) / len(work) * 1e6

    out = {}
    biggest = indexes[max(sizes)]
    for script in SCRIPTS:
        rng = random.Random(3)
        # Lines reference marks of the smallest registry only, so every registry sees the same lines and hits.
        decls, n = [], 0
        while sum(len(d["lines"]) for d in decls) < n_lines:
            decls.append(synth.declaration(rng, n, recs_raw[: min(sizes)], run="M", mark_rate=0.05, script=script))
            n += 1
        parsed = [DeclarationV1.model_validate(d) for d in decls]
        pairs = [(d, ln) for d in parsed for ln in d.lines]
        hits = {
            s: sum(len(assess_line(indexes[s], d, ln, scoring, None, on_date).assessment.hits) for d, ln in pairs)
            for s in sizes
        }
        no_hit = [(d, ln) for d, ln in pairs if not assess_line(biggest, d, ln, scoring, None, on_date).assessment.hits]
        # Rounds over all sizes in turn, best of each: the machine is shared, so noise only ever adds time.
        cold = {s: float("inf") for s in sizes}
        warm = {s: float("inf") for s in sizes}
        quiet = {s: float("inf") for s in sizes}
        for _ in range(rounds):
            for size in sizes:
                indexes[size].clear_cache()
                _clear_text_caches()
                cold[size] = min(cold[size], one_pass(indexes[size], pairs))
                warm[size] = min(warm[size], one_pass(indexes[size], pairs))
                quiet[size] = min(quiet[size], one_pass(indexes[size], no_hit))
        for size in sizes:
            say(
                f"  matcher {script:>7} {size:>7,} marks: {cold[size]:6.1f} µs/line cold, {warm[size]:6.1f} µs/line "
                f"warm, {quiet[size]:6.1f} µs/line for the {len(no_hit):,} lines without a hit; "
                f"{hits[size] / len(pairs):.3f} hits/line ({len(pairs):,} lines, best of {rounds} rounds)"
            )
            out[(script, size)] = (cold[size], warm[size], quiet[size], hits[size] / len(pairs))
    out["updates"] = update_phase(indexes, all_recs, builds)
    gc.unfreeze()
    return out


def update_phase(indexes: dict, all_recs: list, builds: dict) -> dict[int, dict]:
    """A change to one recordation taken into a live index as the service does it (``take_in``): a Latin alias
    added, a Chinese mark added (the automaton rebuilt in a thread), the recordation revoked; wall time until
    it is in force and the longest the event loop waited meanwhile, against rebuilding the index."""
    from services.risk.live_registry import take_in

    rng = random.Random(17)
    out = {}

    async def timed(index: RegistryIndex, changed: list[RecordationV1], removed: list[str]) -> tuple[float, float]:
        longest, stop = 0.0, False

        async def tick() -> None:
            nonlocal longest
            last = time.perf_counter()
            while not stop:
                await asyncio.sleep(0.0005)
                now = time.perf_counter()
                longest = max(longest, now - last - 0.0005)
                last = now

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.002)
        t0 = time.perf_counter()
        await take_in(index, changed, removed)
        took = time.perf_counter() - t0
        stop = True
        await ticker
        return took * 1000, longest * 1000

    for size, index in indexes.items():
        rec = all_recs[size // 2]
        zh = synth.zh_mark(rng) + synth.zh_mark(rng)[:1]
        best: dict[str, tuple[float, float]] = {}
        for _ in range(3):
            for what, changed, removed in (
                ("latin", [rec.model_copy(update={"aliases": [*rec.aliases, f"{rec.title} PRO"]})], []),
                ("chinese", [rec.model_copy(update={"aliases": [*rec.aliases, zh]})], []),
                ("revoke", [], [rec.recordation_id]),
            ):
                took, stall = asyncio.run(timed(index, changed, removed))
                prev = best.get(what)
                best[what] = (min(took, prev[0]), min(stall, prev[1])) if prev else (took, stall)
                asyncio.run(timed(index, [rec], []))  # back as it was
        out[size] = {**best, "rebuild_s": builds[size]}
        say(
            f"  change taken in, {size:>7,} marks: Latin alias {best['latin'][0]:6.1f} ms, Chinese mark "
            f"{best['chinese'][0]:6.1f} ms, revoked {best['revoke'][0]:6.1f} ms; longest event-loop wait "
            f"{max(v[1] for v in best.values()):5.1f} ms (rebuilding the index: {builds[size]:.1f} s)"
        )
    return out


def _clear_text_caches() -> None:
    from services.risk import matcher, normalise, scoring

    normalise.tokens.cache_clear()
    matcher._plan.cache_clear()
    scoring._is_vague.cache_clear()
    scoring._counterfeit_vocabulary.cache_clear()


# ---------------------------------------------------------------- stack


def bench_profile() -> Profile:
    from deploy.local import stack

    offset = int(os.environ.get("IPR_TEST_PORT_OFFSET", "0")) + 50
    base = stack._test_profile(offset)
    # the broker's object store just below the test stack's (18050 + offset), clear of other stacks' services
    return dataclasses.replace(
        base, name="bench", data=ROOT / f".data-bench-{offset - 50}", broker_s3_port=17997 + offset
    )


def start_infra(profile: Profile, *, fresh: bool = True, storage: str = "s3") -> dict[str, str]:
    from deploy.local import stack

    stack.down(profile)
    if fresh:
        shutil.rmtree(profile.data, ignore_errors=True)
    sec = stack.load_secrets(profile)
    stack.start_postgres(profile, sec)
    stack.start_broker(profile, sec, storage=storage)
    stack.start_temporal(profile)
    stack.run([sys.executable, "-m", "shared.migrate", "risk"], env=stack.service_env(profile, sec, "risk"), cwd=ROOT)
    return sec


async def load_marks(url: str, recs: list[dict]) -> None:
    from sqlalchemy import delete, insert

    from services.risk.models import Recordation
    from shared.db import make_engine

    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(delete(Recordation.__table__))
        for i in range(0, len(recs), 2000):
            chunk = recs[i : i + 2000]
            await conn.execute(
                insert(Recordation.__table__),
                [
                    {
                        "recordation_id": r["recordation_id"],
                        "jurisdiction": "CN",
                        "status": "active",
                        "holder_id": r["holder"]["id"],
                        "valid_from": synth.date(2020, 1, 1),
                        "valid_until": synth.date(2029, 12, 31),
                        "version": 1,
                        "payload": r,
                    }
                    for r in chunk
                ],
            )
    await engine.dispose()


# ---------------------------------------------------------------- 2. throughput


async def produce_all(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> float:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=262_144)
    await producer.start()
    t0 = time.perf_counter()
    try:
        futures = []
        for key, value in values:
            futures.append(await producer.send(topic, value=value, key=key))
            if len(futures) >= 5000:
                await asyncio.gather(*futures)
                futures = []
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - t0


async def raw_consume_rate(bootstrap: str, topic: str, expected: int) -> tuple[float, float]:
    """msgs/s of a plain aiokafka group consumer over the same records (first to last record)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{time.time_ns()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    seen, first, last = 0, None, None
    deadline = time.monotonic() + 120
    try:
        while seen < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for recs in batches.values():
                if recs and first is None:
                    first = time.perf_counter()
                seen += len(recs)
            if batches:
                last = time.perf_counter()
    finally:
        await consumer.stop()
    span = (last - first) if first and last and last > first else float("nan")
    return seen / span, span


class AssessmentReader:
    """Reads risk.assessments.v1 for the whole run (partitions assigned directly: no group join delay) and
    notes when each declaration's assessment arrived (by key: no parsing)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.arrived: dict[bytes, float] = {}  # when this reader got it (perf_counter)
        self.stamped: dict[bytes, float] = {}  # when the risk service published it (record time, epoch s)
        self._task: asyncio.Task | None = None
        self._consumer = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(self.topic) or set()
        if not partitions:
            await self._consumer.client.force_metadata_update()
            partitions = self._consumer.partitions_for_topic(self.topic) or {0, 1, 2}
        self._consumer.assign([TopicPartition(self.topic, p) for p in partitions])
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=50, max_records=10_000)
            now = time.perf_counter()
            for recs in batches.values():
                for r in recs:
                    self.arrived.setdefault(r.key, now)
                    self.stamped.setdefault(r.key, r.timestamp / 1000)

    async def wait_for(self, keys: list[bytes], within: float) -> int:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            missing = sum(1 for k in keys if k not in self.arrived)
            if not missing:
                return len(keys)
            await asyncio.sleep(0.2)
        return sum(1 for k in keys if k in self.arrived)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self._consumer:
            await self._consumer.stop()


async def paced_load(
    bootstrap: str, topic: str, decls: list[dict], lines_per_s: float, sent_at: dict[bytes, float]
) -> float:
    from aiokafka import AIOKafkaProducer

    # Batches up to 256 KiB: with the default 16 KiB a partition's batch fills while the one before waits for
    # the durable broker's acknowledgement, and the load fell short of the rate offered.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1, max_batch_size=262_144)
    await producer.start()
    t0 = time.perf_counter()
    sent_lines = 0
    try:
        for d in decls:
            due = t0 + sent_lines / lines_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = d["declaration_id"].encode()
            sent_at[key] = time.perf_counter()
            await producer.send(topic, value=json.dumps(d).encode(), key=key)
            sent_lines += len(d["lines"])
        await producer.flush()
    finally:
        await producer.stop()
    return sent_lines / (time.perf_counter() - t0)


def free_port() -> int:
    """A free port of 127.0.0.1 (for the replicas after the first, which has the profile's risk port)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_risk(profile: Profile, sec: dict[str, str], replicas: int) -> list[tuple[str, int]]:
    """Start ``replicas`` risk services (one consumer group: the partitions are shared out among them, the red
    quota and trader history are shared through PostgreSQL), each its own process; (name, port) of each."""
    from deploy.local import stack

    started = []
    for replica in range(1, replicas + 1):
        name, port = ("risk", profile.service_ports["risk"]) if replica == 1 else (f"risk-{replica}", free_port())
        stack.spawn(profile, name, stack.service_argv("risk", port), stack.process_env(profile, sec, "risk"), port=port)
        started.append((name, port))
    for name, port in started:
        stack.wait_for(
            f"{name} service",
            lambda port=port: stack.service_ready(port),
            180,
            0.3,
            explain=lambda name=name: stack.log_tail(profile, name),
            process=(profile, name),
        )
    return started


def stop_risk(profile: Profile, started: list[tuple[str, int]]) -> None:
    from deploy.local import stack

    for name, _ in started:
        stack.stop_pid(profile, name)


def scrape_all(started: list[tuple[str, int]]) -> dict[str, float]:
    """The replicas' figures added up."""
    total: dict[str, float] = {}
    for _, port in started:
        for k, v in scrape(f"http://127.0.0.1:{port}/metrics").items():
            total[k] = total.get(k, 0.0) + v
    return total


class ResultCounter(AssessmentReader):
    """Counts every record of a topic whose records share keys (parcel results, keyed by the manifest id):
    how many arrived, and when the first and the last were published (the record time)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self._target = 0
        self._reached = asyncio.Event()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=50, max_records=10_000)
            for recs in batches.values():
                for r in recs:
                    self.count += 1
                    at = r.timestamp / 1000
                    self.first = at if self.first is None else min(self.first, at)
                    self.last = at if self.last is None else max(self.last, at)
            if self._target and self.count >= self._target:
                self._reached.set()

    async def wait_count(self, expected: int, within: float) -> int:
        self._target = expected
        if self.count < expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reached.wait(), within)
        return self.count


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


async def pipeline_phases(
    profile: Profile,
    sec: dict[str, str],
    *,
    marks: int,
    backlog_lines: int,
    loads: list[float],
    load_seconds: float,
    replicas: int,
    manifests: int,
    manifest_size: int,
) -> dict:
    from deploy.local import stack
    from shared.contracts.events import TOPIC_ASSESSMENTS, TOPIC_DECLARATIONS, TOPIC_PARCEL_RESULTS, TOPIC_PARCELS

    bootstrap = f"127.0.0.1:{profile.broker_port}"
    titles = synth.mark_names(marks)
    recs = synth.recordations(titles)
    await load_marks(stack.database_url(profile, sec, "risk"), recs)
    say(f"  loaded {marks:,} recordations into the risk database")

    rng = random.Random(5)
    run = f"{int(time.time())}"
    backlog, lines_of, n = [], {}, 0
    total_lines = 0
    while total_lines < backlog_lines:
        d = synth.declaration(rng, n, recs, run=run + "B", mark_rate=0.01, script=synth.SCRIPT_MIX)
        key = d["declaration_id"].encode()
        lines_of[key] = len(d["lines"])
        total_lines += len(d["lines"])
        backlog.append((key, json.dumps(d).encode()))
        n += 1
    produce_s = await produce_all(bootstrap, TOPIC_DECLARATIONS, backlog)
    say(f"  put {len(backlog):,} declarations ({total_lines:,} lines) on {TOPIC_DECLARATIONS} in {produce_s:.1f}s")

    raw_rate, raw_span = await raw_consume_rate(bootstrap, TOPIC_DECLARATIONS, len(backlog))
    raw_lines_rate = raw_rate * total_lines / len(backlog)

    reader = AssessmentReader(bootstrap, TOPIC_ASSESSMENTS)
    await reader.start()
    say(f"  starting {replicas} risk service replica(s) (uvicorn, one process each, one consumer group) ...")
    started: list[tuple[str, int]] = []
    latency: list[dict] = []
    parcels: dict = {}
    try:
        started = await asyncio.to_thread(start_risk, profile, sec, replicas)
        keys = list(lines_of)
        done = await reader.wait_for(keys, within=300)
        # publication times as the risk service's producer stamped them (the reader may lag behind)
        times = sorted(reader.stamped[k] for k in keys if k in reader.stamped)
        span = times[-1] - times[0] if len(times) > 1 else float("nan")
        done_lines = sum(lines_of[k] for k in keys if k in reader.arrived)
        pipe_lines_rate = done_lines / span if span and span > 0 else float("nan")
        pipe_decl_rate = done / span if span and span > 0 else float("nan")
        # let the case starter open the backlog's cases first, so the load meets a quiet service
        settled = await cases_settled(stack.database_url(profile, sec, "risk"), within=120)
        say(f"  backlog drained; its cases opened {settled:.1f}s later")
        for point, load_lines_s in enumerate(loads):
            latency.append(
                await latency_phase(bootstrap, reader, recs, rng, run + f"L{point}", load_lines_s, load_seconds)
            )
        service_metrics = scrape_all(started)

        if manifests:
            # parcels: the replicas are stopped, the manifests put on the topic, then the replicas drain them
            stop_risk(profile, started)
            started = []
            records, total_parcels = [], 0
            for m in range(manifests):
                header = synth.manifest_header(rng, m, manifest_size, run=run + "P")
                key = header["manifest_id"].encode()
                for no in range(1, manifest_size + 1):
                    parcel = synth.parcel(rng, no, recs, run=run + f"P{m}", mark_rate=0.01)
                    records.append((key, json.dumps({"manifest": header, "parcel": parcel}).encode()))
                    total_parcels += 1
            produce_s = await produce_all(bootstrap, TOPIC_PARCELS, records)
            say(
                f"  put {manifests} manifests of {manifest_size:,} single-line parcels ({total_parcels:,} records) "
                f"on {TOPIC_PARCELS} in {produce_s:.1f}s"
            )
            raw_parcels, _ = await raw_consume_rate(bootstrap, TOPIC_PARCELS, total_parcels)
            counter = ResultCounter(bootstrap, TOPIC_PARCEL_RESULTS)
            await counter.start()
            try:
                started = await asyncio.to_thread(start_risk, profile, sec, replicas)
                got = await counter.wait_count(total_parcels, within=600)
                pspan = (counter.last - counter.first) if counter.first and counter.last else float("nan")
            finally:
                await counter.stop()
            parcels = {
                "parcels": total_parcels,
                "results": got,
                "span": pspan,
                "rate": got / pspan if pspan and pspan > 0 else float("nan"),
                "raw": raw_parcels,
                "manifests": manifests,
                "size": manifest_size,
            }
    finally:
        await reader.stop()
        stop_risk(profile, started)
    return {
        "marks": marks,
        "replicas": replicas,
        "backlog_decls": len(backlog),
        "backlog_lines": total_lines,
        "raw_msgs_s": raw_rate,
        "raw_lines_s": raw_lines_rate,
        "raw_span": raw_span,
        "pipe_lines_s": pipe_lines_rate,
        "pipe_decls_s": pipe_decl_rate,
        "pipe_span": span,
        "pipe_decls_done": done,
        "latency": latency,
        "parcels": parcels,
        "service": service_metrics,
    }


async def latency_phase(
    bootstrap: str,
    reader: AssessmentReader,
    recs: list[dict],
    rng: random.Random,
    run: str,
    load_lines_s: float,
    load_seconds: float,
) -> dict:
    """Declarations offered at a fixed rate of lines for ``load_seconds`` (after a 2 s warm-up at the same rate that
    is not measured); latency from publish to the assessment arriving on risk.assessments.v1."""
    from shared.contracts.events import TOPIC_DECLARATIONS

    decls, load_lines, m = [], 0, 0
    while load_lines < load_lines_s * load_seconds:
        d = synth.declaration(rng, m, recs, run=run, mark_rate=0.01, script=synth.SCRIPT_MIX)
        decls.append(d)
        load_lines += len(d["lines"])
        m += 1
    warm, warm_lines = [], 0
    while warm_lines < load_lines_s * 2:
        w = synth.declaration(rng, len(warm), recs, run=run + "W", mark_rate=0.01, script=synth.SCRIPT_MIX)
        warm.append(w)
        warm_lines += len(w["lines"])
    hop = await broker_hop(bootstrap, decls, load_lines_s)
    say(f"  offering {load_lines_s:,.0f} lines/s for {load_seconds:.0f}s (after a 2 s warm-up)")
    await paced_load(bootstrap, TOPIC_DECLARATIONS, warm, load_lines_s, {})
    await asyncio.sleep(1)
    sent_at: dict[bytes, float] = {}
    offered = await paced_load(bootstrap, TOPIC_DECLARATIONS, decls, load_lines_s, sent_at)
    done = await reader.wait_for(list(sent_at), within=120)
    latencies = [reader.arrived[k] - t for k, t in sent_at.items() if k in reader.arrived]
    series = sorted(
        (t - min(sent_at.values()), reader.arrived[k] - t) for k, t in sent_at.items() if k in reader.arrived
    )
    await asyncio.sleep(2)  # the next load point meets a quiet service
    return {
        "target_lines_s": load_lines_s,
        "offered_lines_s": offered,
        "decls": len(decls),
        "done": done,
        "p50_ms": pct(latencies, 0.50) * 1000,
        "p90_ms": pct(latencies, 0.90) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "over_100": sum(1 for x in latencies if x > 0.1) / max(1, len(latencies)),
        "worst_s": worst_second(series),
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "hop": hop,
    }


async def broker_hop(bootstrap: str, decls: list[dict], lines_per_s: float) -> dict:
    """The broker alone at the same load: the same records offered at the same rate to a topic of their own and
    read by a plain aiokafka consumer (the service's fetch wait); p50/p99 of one hop, publish to read. The
    assessment crosses two such hops (declarations in, assessments out)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from shared.kafka import ensure_topics

    topic = f"bench-hop-{time.time_ns()}"
    await ensure_topics(bootstrap, [topic], partitions=3)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", fetch_max_wait_ms=100
    )
    await consumer.start()
    consumer.assign([TopicPartition(topic, p) for p in range(3)])
    arrived: dict[bytes, float] = {}
    expected = len(decls)
    all_read = asyncio.Event()

    async def read() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            now = time.perf_counter()
            for recs in batches.values():
                for r in recs:
                    if r.key is not None:
                        arrived.setdefault(r.key, now)
            if len(arrived) >= expected:
                all_read.set()

    reading = asyncio.create_task(read())
    sent_at: dict[bytes, float] = {}
    try:
        await paced_load(bootstrap, topic, decls, lines_per_s, sent_at)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_read.wait(), 30)
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await consumer.stop()
    hops = [arrived[k] - t for k, t in sent_at.items() if k in arrived]
    return {"p50_ms": pct(hops, 0.5) * 1000, "p99_ms": pct(hops, 0.99) * 1000, "n": len(hops)}


async def cases_settled(url: str, within: float) -> float:
    from sqlalchemy import text

    from shared.db import make_engine

    engine = make_engine(url)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < within:
            async with engine.connect() as conn:
                left = (
                    await conn.execute(text("SELECT count(*) FROM assessments WHERE cases_started_at IS NULL"))
                ).scalar()
            if not left:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    return time.monotonic() - t0


def worst_second(series: list[tuple[float, float]]) -> tuple[int, float]:
    """The second of the load with the highest p99 (to tell a stall from a steady tail)."""
    by_second: dict[int, list[float]] = {}
    for at, latency in series:
        by_second.setdefault(int(at), []).append(latency)
    if not by_second:
        return (0, float("nan"))
    return max(((sec, pct(v, 0.99) * 1000) for sec, v in by_second.items()), key=lambda x: x[1])


def scrape(url: str) -> dict[str, float]:
    """A few of the risk service's own figures (totals over the run) for the explanation of the results."""
    import urllib.request

    wanted = (
        "ipr_risk_batch_seconds_count",
        "ipr_risk_batch_seconds_sum",
        "ipr_risk_assess_seconds_count",
        "ipr_risk_assess_seconds_sum",
        "ipr_risk_cases_started_total",
        "process_cpu_seconds_total",
    )
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                name, _, value = line.partition(" ")
                if name in wanted:
                    out[name] = float(value)
                elif name.startswith(
                    (
                        "ipr_risk_stage_seconds_sum",
                        "ipr_risk_stage_seconds_count",
                        "ipr_risk_gc_pause_seconds_sum",
                        "ipr_risk_gc_pause_seconds_count",
                    )
                ):
                    out[name] = float(value)
    except OSError:
        pass
    return out


def model_phase(n_lines: int = 5000, batch: int = 500, rounds: int = 7) -> dict:
    """Cost per line of learning on the assessment path (ModelServer.apply, one call per batch): the feature
    vector alone (no model), then with a champion (probability and tree SHAP contributions) and a shadow model."""
    import numpy as np

    from bench import simulate_learning as sim
    from services.risk.learning import features as F
    from services.risk.learning.serving import ModelServer
    from services.risk.learning.tables import ModelVersion
    from services.risk.matcher import RegistryIndex
    from services.risk.pipeline import assess
    from services.risk.scoring import Scoring

    sim.run(weeks=3, lines=1500, holdout=10, prevalence=0.05, control_rate=0.05, seed=5, out=lambda *_: None)
    row = ModelVersion(
        version="m-0001",
        status="champion",
        schema=F.SCHEMA,
        artefact=sim.LAST_TRAINED["artefact"].encode(),
        reference={},
    )
    index = RegistryIndex.build(sim.registry())
    scoring = Scoring(fx_rates_to_cny=sim.RATES)
    world = sim.World(seed=3, weeks=2, prevalence=0.03)
    decls = [world.line(1)[0] for _ in range(n_lines)]
    servers = {"features only": ModelServer(), "champion": ModelServer(), "champion + shadow": ModelServer()}
    servers["champion"].install(row, None)
    servers["champion + shadow"].install(
        row, ModelVersion(version="m-0002", status="shadow", schema=F.SCHEMA, artefact=row.artefact, reference={})
    )
    out: dict = {}
    started = time.perf_counter()
    assessed = [(d, assess(d, index, scoring, sim.RATES)[0]) for d in decls]
    out["rules"] = (time.perf_counter() - started) / n_lines * 1e6
    # Rounds interleave the three servers (best of each, CPU time of this process): a burst of load on the
    # machine then touches all of them alike instead of one.
    best = dict.fromkeys(servers, float("inf"))
    for _ in range(rounds):
        for name, server in servers.items():
            fresh = [(d, a.model_copy(deep=True)) for d, a in assessed]
            t0 = time.process_time()
            for i in range(0, n_lines, batch):
                server.apply(fresh[i : i + batch], index, sim.RATES)
            best[name] = min(best[name], time.process_time() - t0)
    for name in servers:
        out[name] = best[name] / n_lines * 1e6
    booster = servers["champion"].champion.booster
    X = np.random.default_rng(0).random((batch, len(F.NAMES)))
    t0 = time.perf_counter()
    for _ in range(20):
        booster.predict(X, num_threads=1)
        booster.predict(X, pred_contrib=True, num_threads=1)
    out["predict"] = (time.perf_counter() - t0) / (20 * batch) * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000,100000")
    ap.add_argument("--matcher-lines", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5, help="matcher rounds over all sizes (best of)")
    ap.add_argument("--marks", type=int, default=10_000)
    ap.add_argument("--backlog-lines", type=int, default=60_000)
    ap.add_argument("--load-lines-per-s", default="2000,5000", help="load points, lines/s offered (comma list)")
    ap.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="risk service replicas (processes) in one consumer group; on the embedded broker, group rebalances "
        "with two members can leave a partition unassigned for a long time",
    )
    ap.add_argument("--manifests", type=int, default=20, help="manifests put on the parcels topic (0: no parcel phase)")
    ap.add_argument("--manifest-size", type=int, default=1000, help="single-line parcels per manifest")
    ap.add_argument("--load-seconds", type=float, default=15)
    ap.add_argument("--only", choices=["matcher", "pipeline", "model"], default=None)
    ap.add_argument(
        "--broker-storage",
        choices=["s3", "memory"],
        default="s3",
        help="the broker's storage engine: s3 (durable, what the stack runs) or memory (for comparison)",
    )
    args = ap.parse_args()

    say("== risk benchmark (2-core machine; figures, not a test) ==")
    matcher = {}
    if args.only in (None, "matcher"):
        say("-- matcher time per line (pure, in-process) --")
        matcher = matcher_phase([int(s) for s in args.sizes.split(",")], args.matcher_lines, args.rounds)
    model = {}
    if args.only in (None, "model"):
        say("-- targeting model cost per line (pure, in-process, batches of 500) --")
        model = model_phase()
    pipe = None
    if args.only in (None, "pipeline"):
        from deploy.local import stack

        profile = bench_profile()
        say(
            f"-- pipeline (broker 127.0.0.1:{profile.broker_port}, {args.broker_storage} storage, "
            f"data {profile.data.name}) --"
        )
        try:
            sec = start_infra(profile, storage=args.broker_storage)
            pipe = asyncio.run(
                pipeline_phases(
                    profile,
                    sec,
                    marks=args.marks,
                    backlog_lines=args.backlog_lines,
                    loads=[float(x) for x in str(args.load_lines_per_s).split(",") if x],
                    load_seconds=args.load_seconds,
                    replicas=args.replicas,
                    manifests=args.manifests,
                    manifest_size=args.manifest_size,
                )
            )
        finally:
            stack.down(profile)
    say("")
    say("== results ==")
    if matcher:
        updates = matcher.pop("updates", {})
        sizes = sorted({size for _, size in matcher})
        say(f"{'matcher µs/line':<17}{'marks':>9} {'cold':>14} {'warm':>14} {'no-hit lines':>16}  hits/line")
        for script in SCRIPTS:
            base = matcher[(script, sizes[0])]
            for size in sizes:
                cold, warm, quiet, hpl = matcher[(script, size)]
                say(
                    f"  {script:<15}{size:>9,} {cold:7.1f} ({cold / base[0] - 1:+4.0%}) {warm:7.1f} "
                    f"({warm / base[1] - 1:+4.0%}) {quiet:9.1f} ({quiet / base[2] - 1:+4.0%})  {hpl:.3f}"
                )
        for script in SCRIPTS:
            spreads = []
            for i, name in ((0, "cold"), (1, "warm"), (2, "no-hit")):
                vals = [matcher[(script, size)][i] for size in sizes]
                spreads.append(f"{name} {max(vals) / min(vals) - 1:+.0%}")
            say(
                f"matcher spread {sizes[0]:,} -> {sizes[-1]:,} marks, {script} lines: {', '.join(spreads)} "
                f"(target within ±20%)"
            )
        if updates:
            say(
                f"{'change taken in':<17}{'marks':>9} {'Latin alias':>12} {'Chinese mark':>13} {'revoked':>9} "
                f"{'loop wait':>10} {'full rebuild':>13}"
            )
            for size in sorted(updates):
                u = updates[size]
                say(
                    f"  {'':<15}{size:>9,} {u['latin'][0]:9.1f} ms {u['chinese'][0]:10.1f} ms {u['revoke'][0]:6.1f} ms "
                    f"{max(u[k][1] for k in ('latin', 'chinese', 'revoke')):7.1f} ms {u['rebuild_s']:11.1f} s"
                )
    if model:
        say(
            f"rules (matcher + scoring) {model['rules']:.1f} µs/line; learning on top: feature vector "
            f"{model['features only']:.1f} µs/line, + champion (probability and tree SHAP, explanation) "
            f"{model['champion']:.1f} µs/line, + shadow {model['champion + shadow']:.1f} µs/line; model scoring "
            f"alone (LightGBM predict + pred_contrib, vectorised) {model['predict']:.1f} µs/line; the model adds "
            f"{model['champion'] - model['features only']:.1f} µs/line to the feature vector (target ≤ 20)"
        )
    if pipe:
        say(
            f"throughput with {pipe['marks']:,} marks: {pipe['pipe_lines_s']:,.0f} lines/s "
            f"({pipe['pipe_decls_s']:,.0f} declarations/s; {pipe['pipe_decls_done']:,}/{pipe['backlog_decls']:,} "
            f"declarations, {pipe['backlog_lines']:,} lines in {pipe['pipe_span']:.1f}s) topic -> assessments "
            f"published by {pipe['replicas']} replica(s)"
        )
        say(
            f"raw aiokafka consume of the same records: {pipe['raw_msgs_s']:,.0f} msgs/s = "
            f"{pipe['raw_lines_s']:,.0f} lines/s"
        )
        say(f"ratio pipeline / raw consume: {pipe['pipe_lines_s'] / pipe['raw_lines_s']:.3f} (target ≥ 0.05)")
        targets = {2000: 100, 5000: 250}
        for lat in pipe["latency"]:
            target = targets.get(int(lat["target_lines_s"]))
            say(
                f"latency publish -> assessment at {lat['target_lines_s']:,.0f} lines/s offered "
                f"({lat['offered_lines_s']:,.0f} sent): p50 {lat['p50_ms']:.1f} ms, p90 {lat['p90_ms']:.1f} ms, "
                f"p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms ({lat['done']:,}/{lat['decls']:,} "
                f"declarations{f'; target p99 < {target} ms' if target else ''}); {lat['over_100']:.1%} over 100 ms; "
                f"worst second of the load: #{lat['worst_s'][0]} with p99 {lat['worst_s'][1]:.0f} ms"
            )
            say(
                f"  the broker alone at that load (one hop, publish -> plain consumer; an assessment crosses two): "
                f"p50 {lat['hop']['p50_ms']:.1f} ms, p99 {lat['hop']['p99_ms']:.1f} ms"
            )
        pc = pipe["parcels"]
        if pc:
            say(
                f"parcels: {pc['rate']:,.0f} parcels/s assessed and their results published ({pc['results']:,}/"
                f"{pc['parcels']:,} from {pc['manifests']} manifests of {pc['size']:,} single-line parcels in "
                f"{pc['span']:.1f}s; target ≥ 20,000); raw aiokafka consume of the same records {pc['raw']:,.0f}/s; "
                f"ratio {pc['rate'] / pc['raw']:.3f}"
            )
        m = pipe["service"]
        if m.get("ipr_risk_batch_seconds_count"):
            say(
                f"risk service over the run: {m['ipr_risk_batch_seconds_count']:,.0f} batches, mean "
                f"{m['ipr_risk_batch_seconds_sum'] / m['ipr_risk_batch_seconds_count'] * 1000:.1f} ms fetch->commit; "
                f"assess {m['ipr_risk_assess_seconds_sum'] / m['ipr_risk_assess_seconds_count'] * 1e6:.0f} µs per "
                f"declaration; {m.get('ipr_risk_cases_started_total', 0):,.0f} cases started; "
                f"{m.get('process_cpu_seconds_total', 0):.1f} s CPU"
            )
            stages = []
            for key, total in m.items():
                if key.startswith("ipr_risk_stage_seconds_sum"):
                    label = key.split('"')[1]
                    count = m.get(key.replace("_sum", "_count"), 0)
                    if count:
                        stages.append(f"{label} {total / count * 1000:.1f}")
            if stages:
                say("  mean ms per batch by stage: " + ", ".join(stages))
            gcs = []
            for key, total in m.items():
                if key.startswith("ipr_risk_gc_pause_seconds_sum"):
                    count = m.get(key.replace("_sum", "_count"), 0)
                    gcs.append(f"gen {key.split(chr(34))[1]}: {count:,.0f} pauses, {total * 1000:,.0f} ms")
            if gcs:
                say("  garbage collector: " + "; ".join(sorted(gcs)))


if __name__ == "__main__":
    main()
