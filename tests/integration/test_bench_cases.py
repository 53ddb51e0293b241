"""`make bench-cases` runs: a small burst against the session's test stack (figures are printed, not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deploy.local import stack as stack_mod
from tests.conftest import Stack

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)
def test_case_benchmark_runs_a_small_burst(stack: Stack) -> None:
    env = {**os.environ, "PYTHONPATH": str(stack_mod.ROOT)}
    out = subprocess.run(
        [sys.executable, "bench/cases.py", "--running", "--cases", "10", "--warmup", "0", "--timeout", "240"],
        cwd=stack_mod.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=880,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    results = lines[next(i for i, line in enumerate(lines) if line.startswith("== results")) :]
    for name in ("trivial workflow", "no-op case shape", "cases"):
        assert any(line.startswith(name) and " 10/10 drained" in line for line in results), out.stdout
    assert any(line.startswith("cases/s:") and "same-shaped no-op workflow" in line for line in results)
    assert any(line.startswith("same shape: yes") for line in results), out.stdout
    assert any(
        "cases API, as the officer" in line and " suspended, pending deadlines ['holder_reply']" in line
        for line in results
    ), out.stdout
