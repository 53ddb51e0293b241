"""Fuzzing runs after every other test of the session (it writes random data through every API) and
prints its figures at the end of the run."""

from __future__ import annotations

import pytest

FUZZ_REPORTS = pytest.StashKey[list]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: schemathesis against the OpenAPI of a running service (runs last)")
    config.stash[FUZZ_REPORTS] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("fuzz") is not None)  # stable: the rest keep their order


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    reports = config.stash.get(FUZZ_REPORTS, [])
    if not reports:
        return
    terminalreporter.section("schemathesis")
    for report in reports:
        terminalreporter.write_line(report.line())
    terminalreporter.write_line(
        f"{'total':<11} {sum(r.operations for r in reports):>3} operations {sum(r.examples for r in reports):>6} "
        f"examples {sum(len(r.failures) for r in reports):>3} failures {sum(r.seconds for r in reports):>7.1f} s"
    )
