"""Per-suite figures at the end of a run (``make test`` loads this plugin with ``-p tests.timing``).

A suite is a folder under ``tests/`` (unit, workflows, integration, e2e, fuzz). Its time is the sum of its
tests' setup, call and teardown, so the shared stack's start counts in the suite that first needs it.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import pytest

_OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


class SuiteTimes:
    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.started = time.monotonic()

    @staticmethod
    def suite(nodeid: str) -> str:
        parts = nodeid.split("::", 1)[0].split("/")
        return parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0].removesuffix(".py")

    def add(self, report: pytest.TestReport) -> None:
        suite = self.suite(report.nodeid)
        self.seconds[suite] += report.duration
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed:
                outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
            elif report.skipped:
                outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
            else:
                outcome = "failed" if report.when == "call" else "error"
            self.outcomes[suite][outcome] += 1
        elif report.when == "teardown" and report.failed:
            self.outcomes[suite]["error"] += 1

    def lines(self) -> list[str]:
        lines = []
        for suite in sorted(self.seconds, key=lambda s: -self.seconds[s]):
            counts = self.outcomes[suite]
            what = ", ".join(f"{counts[o]} {o}" for o in _OUTCOMES if counts[o]) or "no tests"
            lines.append(f"suite {suite}: {what} in {self.seconds[suite]:.1f} s")
        lines.append(f"all suites: {time.monotonic() - self.started:.1f} s wall time (collection included)")
        return lines


_times: SuiteTimes | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _times
    _times = SuiteTimes()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _times is not None:
        _times.add(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _times is None or not _times.seconds:
        return
    terminalreporter.section("time per suite")
    for line in _times.lines():
        terminalreporter.write_line(line)
