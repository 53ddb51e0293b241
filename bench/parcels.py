"""Parcel-manifest benchmark: `make bench-parcels`. Prints figures; it is not a timed test and asserts nothing.

1. Reading a manifest (pure, in this process): a 10,000-parcel manifest body, in 64 KiB pieces, read by
   intake's stream parser with every parcel checked against the contract; seconds, and the peak of Python
   allocations (tracemalloc, a second run) beside the body's size and beside reading the same body whole
   (json + ManifestV1).
2. Accepting manifests over HTTP (the real intake service under uvicorn, with its PostgreSQL and broker):
   manifests of 1,000 and 10,000 parcels sent as a stream; seconds and parcels/s to the 202 answer, and how
   much the intake process's peak resident memory (VmHWM) grew while accepting each.

It starts its own PostgreSQL, broker and OpenID provider on the test ports shifted by IPR_TEST_PORT_OFFSET + 70, under
.data-bench-parcels-<offset>/, only on 127.0.0.1, and stops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import random
import shutil
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import synth  # noqa: E402

if TYPE_CHECKING:
    from deploy.local.stack import Profile


def say(msg: str) -> None:
    print(msg, flush=True)


def recorded() -> list[dict]:
    return synth.recordations(synth.mark_names(200))


# ---------------------------------------------------------------- 1. reading


def read_phase(parcels: int) -> dict:
    from pydantic import ValidationError

    from services.intake.manifest_stream import ManifestStream
    from shared.contracts.parcels import ManifestHeaderV1, ManifestV1, ParcelV1, parcel_problems, to_declaration

    # the body's pieces are made before measuring: neither their making nor their bytes count
    chunks = list(synth.manifest_body(random.Random(5), 1, parcels, recorded(), run="R", mark_rate=0.02))
    size = sum(len(c) for c in chunks)

    def streamed() -> int:
        stream, header, good = ManifestStream(), None, 0
        for chunk in chunks:
            for kind, value in stream.feed(chunk):
                if kind == "header":
                    header = ManifestHeaderV1.model_validate(value)
                elif kind == "parcel":
                    try:
                        parcel = ParcelV1.model_validate(value)
                    except ValidationError:
                        continue
                    if not parcel_problems(header, parcel):
                        to_declaration(header, parcel)
                        good += 1
        stream.close()
        return good

    def whole() -> None:
        ManifestV1.model_validate(json.loads(b"".join(chunks)))

    def measure(fn: Callable[[], object]) -> tuple[float, int]:
        gc.collect()
        t0 = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t0
        gc.collect()
        tracemalloc.start()  # a second run under tracemalloc (slower) for the peak of allocations
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return seconds, peak

    good = streamed()
    streamed_s, streamed_peak = measure(streamed)
    whole_s, whole_peak = measure(whole)
    return {
        "parcels": parcels,
        "good": good,
        "body_bytes": size,
        "streamed_peak": streamed_peak,
        "streamed_s": streamed_s,
        "whole_peak": whole_peak,
        "whole_s": whole_s,
    }


# ---------------------------------------------------------------- 2. accepting over HTTP


def bench_profile() -> Profile:
    from deploy.local import stack

    offset = int(os.environ.get("IPR_TEST_PORT_OFFSET", "0")) + 70
    base = stack._test_profile(offset)
    return dataclasses.replace(base, name="bench", data=ROOT / f".data-bench-parcels-{offset - 70}")


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def post_manifest(url: str, token: str, body_pieces: Iterable[bytes]) -> tuple[int, dict, float]:
    import httpx

    async def gen() -> AsyncIterator[bytes]:
        for piece in body_pieces:
            yield piece

    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=600) as client:
        r = await client.post(
            f"{url}/v1/manifests",
            content=gen(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    return r.status_code, r.json(), time.perf_counter() - t0


def http_phase(sizes: list[int]) -> list[dict]:
    from deploy.local import stack

    profile = bench_profile()
    say(f"-- accepting over HTTP (intake on 127.0.0.1:{profile.service_ports['intake']}, data {profile.data.name})")
    stack.down(profile)
    shutil.rmtree(profile.data, ignore_errors=True)
    out = []
    try:
        sec = stack.load_secrets(profile)
        stack.start_postgres(profile, sec)
        stack.start_broker(profile)
        asyncio.run(_topics(profile))
        for service in ("identity", "intake"):
            stack.run(
                [sys.executable, "-m", "shared.migrate", service],
                env=stack.service_env(profile, sec, service),
                cwd=ROOT,
            )
        stack.bootstrap_identity(profile, sec, demo=True)
        stack.start_idp(profile, sec)  # intake checks the clearance system's access token against its keys
        stack.start_service(profile, sec, "intake")
        pid = int(stack.pid_file(profile, "intake").read_text().strip())
        url = f"http://127.0.0.1:{profile.service_ports['intake']}"
        from deploy.local.tokens import token_for

        def token() -> str:  # a fresh one for each manifest (tokens last minutes)
            return token_for(profile, sec, "clearance_system").access_token

        recs = recorded()
        # warm up: imports, connection pool, prepared statements
        asyncio.run(post_manifest(url, token(), synth.manifest_body(random.Random(9), 900, 50, recs, run="W")))
        for i, n in enumerate(sizes):
            before = vm_hwm_kib(pid)
            status, answer, seconds = asyncio.run(
                post_manifest(
                    url, token(), synth.manifest_body(random.Random(10 + i), 1 + i, n, recs, run="H", mark_rate=0.02)
                )
            )
            after = vm_hwm_kib(pid)
            body = sum(
                len(c) for c in synth.manifest_body(random.Random(10 + i), 1 + i, n, recs, run="H", mark_rate=0.02)
            )
            out.append(
                {
                    "parcels": n,
                    "status": status,
                    "accepted": answer.get("accepted"),
                    "seconds": seconds,
                    "body_bytes": body,
                    "hwm_before_kib": before,
                    "hwm_after_kib": after,
                }
            )
            say(f"  {n:>6,} parcels: HTTP {status} in {seconds:.2f}s")
    finally:
        stack.down(profile)
    return out


async def _topics(profile: Profile) -> None:
    from shared.contracts.events import ALL_TOPICS
    from shared.kafka import ensure_topics

    await ensure_topics(f"127.0.0.1:{profile.broker_port}", ALL_TOPICS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parcels", type=int, default=10_000, help="parcels of the manifest read in phase 1")
    ap.add_argument("--http-sizes", default="1000,10000")
    ap.add_argument("--only", choices=["read", "http"], default=None)
    args = ap.parse_args()
    say("== parcel-manifest benchmark (figures, not a test) ==")
    read = http = None
    if args.only in (None, "read"):
        say("-- reading a manifest (pure, in-process) --")
        read = read_phase(args.parcels)
    if args.only in (None, "http"):
        http = http_phase([int(s) for s in args.http_sizes.split(",")])
    mib = 1024 * 1024
    say("")
    say("== results ==")
    say(f"machine: {os.cpu_count()} cores")
    if read:
        say(f"reading {read['parcels']:,} parcels ({read['body_bytes'] / mib:.1f} MiB body, {read['good']:,} valid):")
        say(
            f"  as a stream (intake):  peak Python allocations {read['streamed_peak'] / mib:6.2f} MiB, "
            f"{read['streamed_s']:.2f}s ({read['parcels'] / read['streamed_s']:,.0f} parcels/s)"
        )
        say(
            f"  whole (json + model):  peak Python allocations {read['whole_peak'] / mib:6.2f} MiB, "
            f"{read['whole_s']:.2f}s ({read['parcels'] / read['whole_s']:,.0f} parcels/s)"
        )
    if http:
        say("accepting over HTTP (stored in batches, outbox rows for the topics, 202 answer):")
        for h in http:
            grew = (h["hwm_after_kib"] - h["hwm_before_kib"]) / 1024
            say(
                f"  {h['parcels']:>6,} parcels, {h['body_bytes'] / mib:5.1f} MiB body: HTTP {h['status']}, "
                f"{h['accepted']:,} accepted in {h['seconds']:.2f}s ({h['parcels'] / h['seconds']:,.0f} parcels/s); "
                f"intake peak RSS {h['hwm_before_kib'] / 1024:.0f} -> {h['hwm_after_kib'] / 1024:.0f} MiB "
                f"(+{grew:.1f} MiB)"
            )


if __name__ == "__main__":
    main()
