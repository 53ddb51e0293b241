"""Schemathesis against the OpenAPI of each of the seven services on the session's stack.

Every operation gets ``IPR_FUZZ_EXAMPLES`` generated requests (15 in ``make test``, more in
``make fuzz``), valid by the schema and invalid on purpose, as an officer, a rights holder and a
clearance system, part of them on records that exist (a live case, its hold and notice). No response
may be a server error, and every documented response must match its schema. These tests run after every other
test of the session (see ``conftest.py``): the data they write through the APIs cannot disturb another test.
"""

from __future__ import annotations

import os

import httpx
import pytest

from shared.contracts.cases import consignment_case_id
from tests.factories import example_declaration
from tests.fuzz.conftest import FUZZ_REPORTS
from tests.fuzz.schemathesis_run import fuzz_service
from tests.helpers import case_in_state, unique_id

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

SERVICES = ("intake", "risk", "cases", "holds", "notify", "disposal", "guarantees")
ROLES = ("officer", "holder", "clearance")
EXAMPLES = int(os.environ.get("IPR_FUZZ_EXAMPLES", "15"))
RANDOM = os.environ.get("IPR_FUZZ_RANDOM") == "1"  # make fuzz: new examples each run; the suite: the same ones


@pytest.fixture(scope="module")
async def known(stack) -> dict[str, str]:
    """Records that exist, so that part of the fuzzing reaches past "not found": a declaration with a suspected
    line, its live case, hold and notice, and the demo recordation."""
    declaration_id = unique_id("FUZZ")
    case_id = consignment_case_id(declaration_id, "RH-0001")  # the example declaration's holder
    async with httpx.AsyncClient(timeout=30) as http:
        sent = await http.post(
            f"{stack.url('intake')}/v1/declarations",
            headers=stack.auth("clearance"),
            json=example_declaration(declaration_id=declaration_id),
        )
        assert sent.status_code == 202, sent.text
        case = await case_in_state(http, stack, case_id, "suspended", within=120)
        notices = (
            await http.get(
                f"{stack.url('notify')}/v1/notices", params={"case_id": case_id}, headers=stack.auth("officer")
            )
        ).json()
    return {
        "declaration_id": declaration_id,
        "case_id": case_id,
        "hold_id": case["hold_id"],
        "notice_id": notices[0]["notice_id"],
        "recordation_id": "CN-T-2019-004211",
        "version": "1",
    }


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("service", SERVICES)
def test_no_server_error_and_documented_responses(
    stack,
    known,
    service: str,
    pytestconfig: pytest.Config,
) -> None:
    report = fuzz_service(
        service,
        stack.url(service),
        {role: stack.auth(role) for role in ROLES},
        examples=EXAMPLES,
        derandomize=not RANDOM,
        known=known,
    )
    pytestconfig.stash[FUZZ_REPORTS].append(report)
    assert report.operations >= 3 and report.examples >= report.operations  # the schema was read and used
    assert not report.failures, "\n\n".join(f"{op}:\n{message}" for op, message in report.failures.items())
