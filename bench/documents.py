"""Legal documents benchmark: `python bench/documents.py [ROUNDS]`. Prints figures; asserts nothing.

Renders one sample document per jurisdiction (the two-page CN suspension notice, the EU suspension
notice, the US notice of detention) as HTML, plain text and PDF, ``ROUNDS`` times after one warm-up,
and prints the median wall time, CPU time and PDF size. Wall time on a shared machine includes waiting
for the CPU; CPU time is the cost of the rendering itself.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.notify.documents import render_html, render_pdf, render_text  # noqa: E402
from tests.unit.document_samples import sample  # noqa: E402

if TYPE_CHECKING:
    from shared.contracts.documents import DocumentData

SAMPLES = (("CN", "suspension_notice"), ("EU", "suspension_notice"), ("US", "party_detention_notice"))


def measure(fn: Callable[[DocumentData], str | bytes], data: DocumentData, rounds: int) -> tuple[float, float, int]:
    fn(data)  # warm-up: templates compiled, fonts found
    walls, cpus, size = [], [], 0
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        size = len(out)
    return statistics.median(walls), statistics.median(cpus), size


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"legal documents, median of {rounds} rounds")
    print(f"{'document':32} {'format':6} {'wall ms':>9} {'cpu ms':>9} {'size':>10}")
    for j, kind in SAMPLES:
        data = sample(kind, j)
        for name, fn in (("html", render_html), ("text", render_text), ("pdf", render_pdf)):
            wall, cpu, size = measure(fn, data, rounds)
            print(f"{j + ' ' + kind:32} {name:6} {wall * 1000:9.1f} {cpu * 1000:9.1f} {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
