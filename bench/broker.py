"""Benchmark of the embedded broker: produce and consume rates with durable (s3) storage beside memory storage.

    python bench/broker.py [--messages 20000] [--size 1024]

Both storage engines run the same tansu binary, one after the other in the same run, on
127.0.0.1 ports shifted by IPR_TEST_PORT_OFFSET + 60 (the object store on 18048 + offset) and under
.data-bench-<offset>-broker/ (removed afterwards): ``memory://`` (what the stack used before) and ``s3://``
on ``rclone serve s3`` (what the stack runs now). For each it prints, with aiokafka from this process:

* produce rate, batched (linger 20 ms, 256 KiB batches, acks=all) and with the platform's
  producer settings (``shared.kafka.make_producer``: linger 5 ms);
* acknowledgement latency of single records sent one at a time (p50/p99), which is what an
  outbox relay or a dead-letter send waits for;
* group-consumer rate reading everything back from the beginning.

Figures, not a test: the Python client is the bottleneck at the high end, so the broker's own
cost shows most in the single-record latency.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from deploy.local.stack import Profile


def say(msg: str) -> None:
    print(f"[bench-broker] {msg}", flush=True)


def bench_profile() -> Profile:
    from deploy.local import stack

    offset = int(os.environ.get("IPR_TEST_PORT_OFFSET", "0"))
    base = stack._test_profile(offset + 60)
    return dataclasses.replace(
        base, name="bench-broker", data=ROOT / f".data-bench-{offset}-broker", broker_s3_port=18048 + offset
    )


def payloads(n: int, size: int) -> list[tuple[bytes, bytes]]:
    pad = "x" * max(0, size - 120)
    return [
        (
            f"K-{i:08d}".encode(),
            json.dumps({"declaration_id": f"BENCH-{i:08d}", "revision": 1, "seq": i, "pad": pad}).encode(),
        )
        for i in range(n)
    ]


async def produce_rate(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]], **options: Any) -> float:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **options)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k) for k, v in values]
        await asyncio.gather(*futures)
        return len(values) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def ack_latency(bootstrap: str, topic: str, n: int) -> tuple[float, float]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    try:
        samples = []
        for i in range(n):
            t = time.perf_counter()
            await producer.send_and_wait(topic, value=b'{"ping":%d}' % i, key=b"latency")
            samples.append(time.perf_counter() - t)
        samples.sort()
        return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000
    finally:
        await producer.stop()


async def consume_rate(bootstrap: str, topic: str, expected: int) -> float:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        got = 0
        first = await consumer.getmany(timeout_ms=30_000, max_records=5000)  # group join, then time the reading
        started = time.perf_counter()
        got += sum(len(v) for v in first.values())
        while got < expected:
            batch = await consumer.getmany(timeout_ms=5000, max_records=5000)
            if not batch:
                raise RuntimeError(f"only {got} of {expected} records came back")
            got += sum(len(v) for v in batch.values())
        await consumer.commit()
        return (got - sum(len(v) for v in first.values())) / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def measure(bootstrap: str, messages: int, size: int) -> dict[str, float]:
    from shared.kafka import ensure_topics

    tuned, platform, latency = (f"bench.{name}.{uuid.uuid4().hex[:6]}" for name in ("tuned", "platform", "latency"))
    await ensure_topics(bootstrap, [tuned, platform, latency])
    values = payloads(messages, size)
    await produce_rate(bootstrap, tuned, values[:2000], linger_ms=20, max_batch_size=262_144)  # warm-up
    figures = {
        "produce_batched": await produce_rate(bootstrap, tuned, values, linger_ms=20, max_batch_size=262_144),
        "produce_platform": await produce_rate(bootstrap, platform, values, linger_ms=5, max_batch_size=262_144),
    }
    figures["ack_p50_ms"], figures["ack_p99_ms"] = await ack_latency(bootstrap, latency, 500)
    figures["consume"] = await consume_rate(bootstrap, tuned, messages + 2000)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=1024, help="bytes per record (JSON)")
    args = parser.parse_args()
    from deploy.local import stack

    profile = bench_profile()
    results: dict[str, dict[str, float]] = {}
    try:
        for storage in ("memory", "s3"):
            stack.down(profile)
            shutil.rmtree(profile.data, ignore_errors=True)
            sec = stack.load_secrets(profile)
            say(
                f"{storage} storage: broker 127.0.0.1:{profile.broker_port}"
                + (
                    f", object store 127.0.0.1:{profile.broker_s3_port} ({profile.broker_data.name}/)"
                    if storage == "s3"
                    else ""
                )
            )
            stack.start_broker(profile, sec, storage=storage)
            results[storage] = asyncio.run(measure(f"127.0.0.1:{profile.broker_port}", args.messages, args.size))
            if storage == "s3":
                size = sum(f.stat().st_size for f in profile.broker_data.rglob("*") if f.is_file())
                say(f"s3 store holds {size / 1e6:.1f} MB for {2 * args.messages + 2500} records")
            stack.down(profile)
    finally:
        stack.down(profile)
        shutil.rmtree(profile.data, ignore_errors=True)
    rows = [
        ("produce, batched (linger 20 ms)", "produce_batched", "msg/s"),
        ("produce, platform producer (linger 5 ms)", "produce_platform", "msg/s"),
        ("single record acknowledged, p50", "ack_p50_ms", "ms"),
        ("single record acknowledged, p99", "ack_p99_ms", "ms"),
        ("group consume from the beginning", "consume", "msg/s"),
    ]
    print(
        f"\nbroker throughput, {args.messages} records of {args.size} B, acks=all, 3 partitions, aiokafka, loopback\n"
    )
    print(f"  {'':50s} {'memory':>12s} {'s3 (durable)':>14s} {'s3/memory':>10s}")
    for label, key, unit in rows:
        m, s = results["memory"][key], results["s3"][key]
        fmt = "{:>12,.0f}" if unit == "msg/s" else "{:>12.2f}"
        print(f"  {label + ' (' + unit + ')':50s} {fmt.format(m)} {fmt.format(s):>14s} {s / m:>10.2f}")
    print()


if __name__ == "__main__":
    main()
