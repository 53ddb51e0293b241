"""Schemathesis against the OpenAPI of each of the seven services on the session's stack.

Every operation gets ``IPR_FUZZ_EXAMPLES`` generated requests (15 in ``make test``, more in
``make fuzz``), valid by the schema and invalid on purpose, as an officer, a rights holder and a
clearance system. No response may be a server error, and every documented response must match its
schema. These tests run after every other test of the session (see ``conftest.py``): the data they
write through the APIs cannot disturb another test.
"""

from __future__ import annotations

import os

import pytest

from tests.fuzz.conftest import FUZZ_REPORTS
from tests.fuzz.schemathesis_run import fuzz_service

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

SERVICES = ("intake", "risk", "cases", "holds", "notify", "disposal", "guarantees")
ROLES = ("officer", "holder", "clearance")
EXAMPLES = int(os.environ.get("IPR_FUZZ_EXAMPLES", "15"))
RANDOM = os.environ.get("IPR_FUZZ_RANDOM") == "1"  # make fuzz: new examples each run; the suite: the same ones


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("service", SERVICES)
def test_no_server_error_and_documented_responses(stack, service: str, pytestconfig: pytest.Config) -> None:
    report = fuzz_service(service, stack.url(service), {role: stack.auth(role) for role in ROLES},
                          examples=EXAMPLES, derandomize=not RANDOM)
    pytestconfig.stash[FUZZ_REPORTS].append(report)
    assert report.operations >= 3 and report.examples >= report.operations  # the schema was read and used
    assert not report.failures, "\n\n".join(f"{op}:\n{message}" for op, message in report.failures.items())
