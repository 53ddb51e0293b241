"""Fuzz one service's OpenAPI with schemathesis (as a library) and collect what broke.

Each operation gets ``examples`` generated requests, valid by the schema and invalid on purpose,
each sent with one of the callers' credentials; every response is checked for a server error and
for conformance to the documented response schema. Failures are collected per operation (the
smallest example Hypothesis finds, with a curl line to reproduce it) instead of stopping at the
first, so one run shows everything.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class Report:
    service: str
    operations: int = 0
    examples: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)

    def line(self) -> str:
        return (
            f"{self.service:<11} {self.operations:>3} operations {self.examples:>6} examples "
            f"{len(self.failures):>3} failures {self.seconds:>7.1f} s  "
            + " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        )


def fuzz_service(
    service: str,
    base_url: str,
    credentials: dict[str, dict[str, str]],
    *,
    examples: int,
    derandomize: bool = True,
    known: dict[str, str] | None = None,
    skip: Callable[[str, str], bool] = lambda method, path: False,
) -> Report:
    """Fuzz every operation of the service at ``base_url``; ``credentials`` maps a role to its headers.

    ``derandomize``: the same examples on every run (the suite); False draws new ones each time (``make fuzz``).
    ``known``: ids of records that exist (path parameter name -> value); half of the examples of an operation
    with such a path parameter use them, so the fuzzing reaches past "not found" into the records themselves.
    """
    started = time.monotonic()
    report = Report(service)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    roles = sorted(credentials)
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if skip(operation.method.upper(), operation.path):
            continue
        report.operations += 1
        positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        strategies = [positive, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
        names = {p.name for p in operation.path_parameters}
        fixed = {name: value for name, value in (known or {}).items() if name in names}
        if fixed:
            strategies += [operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=fixed)] * 2
        strategy = st.one_of(*strategies)
        allowed = _allowed_roles(positive, base_url, session, credentials) or roles

        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=derandomize,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        @hypothesis.given(case=strategy, role=st.sampled_from(allowed))
        def run(case, role) -> None:
            report.examples += 1
            headers = {**(case.headers or {}), **credentials[role]}
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
            report.statuses[f"{response.status_code // 100}xx"] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is reported, go on
            report.failures[operation.label] = f"{type(exc).__name__}: {exc}"[:4000]
    report.seconds = time.monotonic() - started
    return report


def _allowed_roles(
    strategy,
    base_url: str,
    session: requests.Session,
    credentials: dict[str, dict[str, str]],
) -> list[str]:
    """The roles the operation lets past authorisation (checked before the request is validated), so the
    examples are spent on the service's own checks rather than on 403s."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        case = strategy.example()
    allowed = []
    for role, headers in sorted(credentials.items()):
        response = case.call(
            base_url=base_url, session=session, headers={**(case.headers or {}), **headers}, timeout=60
        )
        if response.status_code not in (401, 403):
            allowed.append(role)
    return allowed
