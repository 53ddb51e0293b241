"""Stateful property test: no sequence of signals, replies, guarantees and step refusals strands a case.

Hypothesis draws a case of every procedure (CN ex officio and application, EU standard, ex
officio without application and small consignment, US), a program of actions (valid and
invalid replies, guarantees, determinations, court notices, submissions, hearing updates,
disposal facts and malformed signals, each after a pause of skipped time) and how the step
services behave (refusing with a 4xx at random, or down for a number of attempts). The
program runs against the case workflow under the time-skipping test server; then time runs
on until the case ends. Hypothesis shrinks a failing program to a minimal one.

Properties checked on every case:
- the workflow completes (never fails, is never stuck) and no workflow task ever failed;
- it ends in a terminal state that its history makes lawful (detention only against a held
  guarantee, confiscation only on a determination of infringement, destruction only on the
  holder's confirmation or the small-consignment procedure, handing over only on a court
  notice or proceedings);
- no deadline lapses before its due instant, every deadline is closed at the end, and the
  case ends no later than its last deadline allows (plus the time a step service was down);
- the hold follows the outcome, or a refused hold step is an officer's task in the history;
- no amount out of bounds ever reaches a step service, and every malformed signal is
  recorded as ignored; a refusal is recorded only where a service refused.

``WORKFLOW_FUZZ_EXAMPLES`` sets the number of cases (small in ``make test``; ``make
fuzz-workflows`` runs many more and prints the figures).
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.cases.workflow import CaseWorkflow
from shared.contracts.cases import (
    SIGNAL_APPROVAL,
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_DISPOSAL_CHOICE,
    SIGNAL_GUARANTEE,
    SIGNAL_HEARING,
    SIGNAL_HOLDER_REPLY,
    SIGNAL_PARTY_SUBMISSION,
    TERMINAL_STATES,
    CaseState,
)
from tests.factories import case_input
from tests.workflows.pause import Pause
from tests.workflows.scenarios import FakeServices

EXAMPLES = int(os.environ.get("WORKFLOW_FUZZ_EXAMPLES", "6"))
MONEY_MAX = Decimal(10) ** 12

PROCEDURES: dict[str, dict[str, Any]] = {
    "cn_ex_officio": {},
    "cn_application": {"mode": "application"},
    "eu_standard": {"jurisdiction": "EU", "currency": "EUR", "goods_value_cny": None, "application_id": "EU-AFA-1"},
    "eu_ex_officio": {"jurisdiction": "EU", "currency": "EUR", "goods_value_cny": None},
    "eu_small_consignment": {
        "jurisdiction": "EU",
        "currency": "EUR",
        "goods_value_cny": None,
        "quantity": "2",
        "application_id": "EU-AFA-2",
        "transport_mode": "express",
    },
    "us": {"jurisdiction": "US", "currency": "USD", "goods_value_cny": None, "genuine_unit_value": Decimal("120")},
}
PACK_CURRENCY = {"CN": "CNY", "EU": "EUR", "US": "USD"}
HOLD_ACTION_OF = {
    "released": "release",
    "confiscated": "confiscate",
    "destroyed": "destroy",
    "forfeited": "forfeit",
    "handed_to_court": "hand_to_court",
    "excluded": "exclude",
}

# ---------------------------------------------------------------------------- what may be sent

VALID_AMOUNTS = ["14910", "20000", "100", "150000.50", "1000000000000"]
BAD_AMOUNTS = ["2000000000000", "-5", "NaN", "Infinity", "1e400", "0.001", "0", "abc"]
amounts = st.sampled_from(VALID_AMOUNTS + BAD_AMOUNTS)
currencies = st.sampled_from(["CNY", "CNY", "CNY", "USD", "EUR", "cny"])


def amount_ok(text: str, *, positive: bool = False) -> bool:
    """The oracle of the bounds, written independently of the workflow's check."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return False
    if not value.is_finite() or value < 0 or (positive and value == 0) or value > MONEY_MAX:
        return False
    return value == value.quantize(Decimal("0.01"))


guarantees = st.fixed_dictionaries(
    {
        "amount": amounts,
        "currency": currencies,
        "form": st.sampled_from(["cash_deposit", "bank_letter", "general_guarantee"]),
        "reference": st.sampled_from(["LG-1", "LG-2", "GG-RH-0001-2026"]),
    }
)
replies = st.fixed_dictionaries(
    {"decision": st.sampled_from(["detain", "no_detention"])}, optional={"guarantee": guarantees}
)
determinations = st.fixed_dictionaries(
    {"outcome": st.sampled_from(["infringing", "not_infringing", "cannot_determine"])},
    optional={
        "fine_tier": st.sampled_from(["none", "mitigated", "lighter", "ordinary", "heavier"]),
        "fine_amount": amounts,
        "retail_value": amounts,
        "officer": st.just("officer.li"),
    },
)
court_notices = st.fixed_dictionaries(
    {
        "reference": st.just("(2026) Hu 0115 Zhi Bao 12"),
        "court": st.just("Pudong"),
        "action": st.sampled_from(["keep_detained_for_court", "release"]),
    }
)
submissions = st.fixed_dictionaries(
    {
        "party": st.sampled_from(["consignee", "declarant", "importer", "holder"]),
        "kind": st.sampled_from(
            [
                "non_infringement_statement",
                "inspection_request",
                "counter_guarantee",
                "agrees_to_destruction",
                "objects_to_destruction",
                "importer_response",
                "application_for_action",
                "proceedings_started",
                "extension_request",
                "confirms_infringement",
            ]
        ),
    },
    optional={"amount": amounts, "currency": currencies},
)
hearings = st.fixed_dictionaries(
    {"kind": st.sampled_from(["requested", "waived", "concluded"])}, optional={"fine_amount": amounts}
)
disposals = st.fixed_dictionaries({"usable_for_public_welfare": st.booleans(), "holder_buys": st.booleans()})
GARBAGE = {
    "no-payload": (SIGNAL_HOLDER_REPLY, []),
    "two-payloads": (SIGNAL_DETERMINATION, [{"outcome": "infringing"}, {"outcome": "not_infringing"}]),
    "not-an-object": (SIGNAL_COURT_NOTICE, ["release"]),
    "binary": (SIGNAL_PARTY_SUBMISSION, [RawValue(Payload(metadata={"encoding": b"binary/plain"}, data=b"\x00"))]),
    "bad-json": (SIGNAL_HEARING, [RawValue(Payload(metadata={"encoding": b"json/plain"}, data=b"{no"))]),
    "unknown-signal": ("release_everything", [{"now": True}]),
}
PAUSES = [
    timedelta(0),
    timedelta(minutes=5),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=4),
    timedelta(days=12),
]

actions = st.one_of(
    st.tuples(st.just(SIGNAL_HOLDER_REPLY), replies),
    st.tuples(st.just(SIGNAL_DETERMINATION), determinations),  # twice as likely: it moves detained cases on
    st.tuples(st.just(SIGNAL_GUARANTEE), guarantees),
    st.tuples(st.just(SIGNAL_DETERMINATION), determinations),
    st.tuples(st.just(SIGNAL_COURT_NOTICE), court_notices),
    st.tuples(st.just(SIGNAL_PARTY_SUBMISSION), submissions),
    st.tuples(st.just(SIGNAL_HEARING), hearings),
    st.tuples(st.just(SIGNAL_DISPOSAL_CHOICE), disposals),
    st.tuples(st.just("garbage"), st.sampled_from(sorted(GARBAGE))),
)
programs = st.lists(st.tuples(actions, st.sampled_from(PAUSES)), min_size=1, max_size=10)

# The moves that take each procedure to its later states (detention, determination, hearing, court), so that the
# random actions after them also land there; a program starts with them or not, as Hypothesis draws.
GOOD_GUARANTEE = {"amount": "14910", "currency": "CNY", "form": "bank_letter", "reference": "LG-OK"}
LATER_STATES: dict[str, list] = {
    "cn_ex_officio": [((SIGNAL_HOLDER_REPLY, {"decision": "detain", "guarantee": GOOD_GUARANTEE}), PAUSES[1])],
    "cn_application": [((SIGNAL_GUARANTEE, GOOD_GUARANTEE), PAUSES[1])],
    "eu_standard": [((SIGNAL_PARTY_SUBMISSION, {"party": "holder", "kind": "confirms_infringement"}), PAUSES[1])],
    "eu_ex_officio": [((SIGNAL_PARTY_SUBMISSION, {"party": "holder", "kind": "application_for_action"}), PAUSES[1])],
    "eu_small_consignment": [],
    "us": [],
}
INFRINGING = (
    SIGNAL_DETERMINATION,
    {
        "outcome": "infringing",
        "fine_tier": "heavier",
        "officer": "officer.li",
        "actor": {"sub": "officer-li", "name": "Li Na", "role": "officer"},
    },
)
APPROVED = (
    SIGNAL_APPROVAL,
    {"decision": "approve", "actor": {"sub": "supervisor-zhang", "name": "Zhang Min", "role": "supervisor"}},
)
DECISIVE: dict[str, list] = {
    "cn_ex_officio": [(INFRINGING, PAUSES[1]), (APPROVED, PAUSES[1])],
    "cn_application": [
        (
            (
                SIGNAL_COURT_NOTICE,
                {"reference": "(2026) Yue 03 Zhi Bao 7", "court": "Shenzhen", "action": "keep_detained_for_court"},
            ),
            PAUSES[1],
        )
    ],
    "eu_standard": [((SIGNAL_PARTY_SUBMISSION, {"party": "declarant", "kind": "objects_to_destruction"}), PAUSES[1])],
    "eu_ex_officio": [((SIGNAL_PARTY_SUBMISSION, {"party": "holder", "kind": "proceedings_started"}), PAUSES[1])],
    "eu_small_consignment": [
        ((SIGNAL_PARTY_SUBMISSION, {"party": "declarant", "kind": "objects_to_destruction"}), PAUSES[1])
    ],
    "us": [(INFRINGING, PAUSES[1]), (APPROVED, PAUSES[1])],
}


@dataclass
class Behaviour:
    """How the step services treat one case: refuse each step with ``refuse_p``; be down ``down`` attempts."""

    seed: int
    refuse_p: float
    down: int
    down_steps: frozenset[str]

    def refuses(self, name: str, key: str) -> bool:
        return self.refuse_p > 0 and random.Random(f"{self.seed}:{name}:{key}").random() < self.refuse_p

    def outage(self) -> timedelta:
        """The longest a step waits for a service that is down (the retry policy's backoff)."""
        return timedelta(seconds=sum(min(2**i, 300) for i in range(self.down)) + self.down * 30)


behaviours = st.builds(
    Behaviour,
    seed=st.integers(0, 2**31),
    refuse_p=st.sampled_from([0.0, 0.0, 0.15, 0.4]),
    down=st.sampled_from([0, 0, 3, 22]),
    down_steps=st.frozensets(
        st.sampled_from(
            ["place_hold", "hold_action", "send_notice", "record_disposition", "hold_guarantee", "settle_guarantee"]
        ),
        max_size=2,
    ),
)


@dataclass
class Figures:
    cases: int = 0
    signals: int = 0
    refused_steps: int = 0
    delayed_steps: int = 0
    ends: dict[str, int] = field(default_factory=dict)
    procedures: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


FIGURES = Figures()


class Services(FakeServices):
    """One set of fake step services for every case of the test; each case has its own ``Behaviour``."""

    def __init__(self) -> None:
        self.behaviour: dict[str, Behaviour] = {}
        super().__init__(general_balance=Decimal(10) ** 9, refuse=self._refuse, failing=self._failing)

    @staticmethod
    def _case(req: Any) -> str:
        return req.idempotency_key.split(":", 1)[0]

    def _refuse(self, name: str, req: Any) -> bool:
        b = self.behaviour[self._case(req)]
        return b.refuses(name, req.idempotency_key)

    def _failing(self, name: str, req: Any) -> int:
        b = self.behaviour[self._case(req)]
        return b.down if name in b.down_steps else 0

    def of_case(self, name: str, case_id: str) -> list:
        return [r for r in self.of(name) if self._case(r) == case_id]


async def pause(env, queue: str, how_long: timedelta) -> None:
    await env.client.execute_workflow(Pause.run, how_long.total_seconds(), id=f"pause-{uuid.uuid4()}", task_queue=queue)


@pytest.fixture(scope="module")
def services() -> Services:
    yield Services()
    f = FIGURES
    print(
        f"\ncase workflow properties: {f.cases} cases, {f.signals} signals, {f.refused_steps} refused steps, "
        f"{f.delayed_steps} delayed steps in {time.monotonic() - f.started:.1f} s; procedures {f.procedures}; "
        f"ends {f.ends}"
    )


@asynccontextmanager
async def fleet(services: Services):
    """A time-skipping test server of its own for each case, its clock at today: the server leaves the timeout
    timer of a closed workflow behind and jumps ten years to it once idle, so a shared one would drift."""
    path = shutil.which("temporal-test-server", path=str(Path(sys.executable).parent))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=path
    )
    queue = f"props-{uuid.uuid4()}"
    try:
        async with Worker(
            env.client, task_queue=queue, workflows=[CaseWorkflow, Pause], activities=services.activities()
        ):
            yield env, queue
    finally:
        await env.shutdown()


def expected_ignored(jurisdiction: str, program: list) -> int:
    """Signals the case must record as ``signal_ignored`` whatever its state (malformed, out of bounds)."""
    count = 0
    for (kind, payload), _ in program:
        if kind == "garbage":
            count += 1
        elif kind == SIGNAL_DETERMINATION:
            count += not all(amount_ok(payload[k]) for k in ("fine_amount", "retail_value") if k in payload)
        elif kind == SIGNAL_HEARING:
            count += "fine_amount" in payload and not amount_ok(payload["fine_amount"])
        elif kind == SIGNAL_PARTY_SUBMISSION:
            count += ("amount" in payload and not amount_ok(payload["amount"])) or payload.get("currency") == "cny"
    return count


async def send(handle, kind: str, payload: Any) -> bool:
    """Signal the case; False once it has ended (Temporal refuses signals to a closed workflow)."""
    name, args = GARBAGE[payload] if kind == "garbage" else (kind, [payload])
    try:
        await handle.signal(name, args=args)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def check(case: CaseState, procedure: str, behaviour: Behaviour, program: list, services: Services, ended_at) -> None:
    history, events = case.history, [h.event for h in case.history]
    assert case.state in TERMINAL_STATES, case.state
    assert [h.seq for h in history] == list(range(1, len(history) + 1))

    # deadlines: none lapses early, all are closed, the case ends when the last one allows
    slack = timedelta(minutes=1) + behaviour.outage() * 6
    due = {d.name: d.due_at for d in case.deadlines}
    for h in history:
        if h.event == "deadline_lapsed":
            assert due[h.detail["name"]] <= h.at <= due[h.detail["name"]] + slack, (h, due)
    assert all(d.status != "pending" for d in case.deadlines), case.deadlines
    assert ended_at <= max(due.values()) + slack, (ended_at, due)

    # lawful end state, as the history shows it
    if "goods_detained" in events and procedure.startswith("cn"):
        assert "guarantee_held" in events[: events.index("goods_detained")], events
    if case.state == "confiscated":
        assert any(h.event == "customs_determined" and h.detail["outcome"] == "infringing" for h in history)
        # four-eyes: approved by a supervisor who did not propose it
        granted = [h.detail for h in history if h.event == "approval_granted"]
        assert granted and all(g["by_sub"] != "officer-li" for g in granted), events
    if case.state == "destroyed":
        subs = {(s.kind) for s in case.submissions}
        assert "confirms_infringement" in subs or "small_consignment_procedure" in events, events
    if case.state == "handed_to_court":
        assert "court_notice_received" in events or any(s.kind == "proceedings_started" for s in case.submissions)
    if case.state == "forfeited":
        assert not any(h.event == "customs_determined" and h.detail["outcome"] == "not_infringing" for h in history)

    # the hold follows the outcome, or the refusal is an officer's task
    action = HOLD_ACTION_OF[case.state]
    sent = [r.action for r in services.of_case("hold_action", case.case_id)]
    refused = [h.detail["step"] for h in history if h.event == "step_refused"]
    assert action in sent or f"hold_action:{action}" in refused, (sent, refused)
    if behaviour.refuse_p == 0:
        assert not refused, refused

    # nothing out of bounds reaches a step service; malformed signals are recorded as ignored
    for g in services.of_case("hold_guarantee", case.case_id):
        assert 0 < g.amount <= MONEY_MAX and g.currency == PACK_CURRENCY[case.jurisdiction]
    for d in services.of_case("record_disposition", case.case_id):
        assert d.fine_amount is None or 0 <= d.fine_amount <= MONEY_MAX
    assert events.count("signal_ignored") >= expected_ignored(case.jurisdiction, program), [
        h.detail for h in history if h.event == "signal_ignored"
    ]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    phases=tuple(Phase) if os.environ.get("WORKFLOW_FUZZ_SHRINK", "1") == "1" else (Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    procedure=st.sampled_from(sorted(PROCEDURES)),
    behaviour=behaviours,
    depth=st.sampled_from([0, 1, 2]),
    program=programs,
)
async def test_no_sequence_of_signals_or_refusals_strands_a_case(
    services, procedure, behaviour, depth, program
) -> None:
    """``depth`` 1 starts with the moves to detention, 2 adds the decisive one (determination, objection, court)."""
    program = (LATER_STATES[procedure] if depth else []) + (DECISIVE[procedure] if depth == 2 else []) + program
    async with fleet(services) as (env, queue):
        await run_case(env, queue, services, procedure, behaviour, program)


async def run_case(
    env,
    queue: str,
    services: Services,
    procedure: str,
    behaviour: Behaviour,
    program: list,
) -> None:
    case = case_input(
        case_id=f"IPR-F-{uuid.uuid4().hex[:10]}-L1", opened_at=await env.get_current_time(), **PROCEDURES[procedure]
    )
    services.behaviour[case.case_id] = behaviour
    handle = await env.client.start_workflow(CaseWorkflow.run, case, id=case.case_id, task_queue=queue)
    began = time.monotonic()
    sent = 0
    for (kind, payload), wait in program:
        if not await send(handle, kind, payload):
            break
        sent += 1
        if wait:
            await pause(env, queue, wait)
    result = await handle.result()

    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    history = await handle.fetch_history()
    failed = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
        or (
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            # the server's own: a signal arrived while the task was completing the workflow; it runs again at once
            and e.workflow_task_failed_event_attributes.cause
            != WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
        )
    ]
    assert not failed, failed
    try:
        check(result, procedure, behaviour, program[:sent], services, result.history[-1].at)
    except AssertionError:
        print(f"\n{procedure} {behaviour} {program[:sent]}")
        for h in result.history:
            print(f"  {h.seq:3} {h.at.isoformat()} {h.state:12} {h.event:24} {h.detail}")
        raise

    f = FIGURES
    f.cases += 1
    f.signals += sent
    f.refused_steps += sum(1 for h in result.history if h.event == "step_refused")
    f.delayed_steps += sum(1 for h in result.history if h.event == "step_delayed")
    f.ends[result.state] = f.ends.get(result.state, 0) + 1
    f.procedures[procedure] = f.procedures.get(procedure, 0) + 1
    if os.environ.get("WORKFLOW_FUZZ_VERBOSE"):
        print(
            f"  {procedure}: {sent} signals, {behaviour}, {result.state}, {time.monotonic() - began:.1f} s, "
            f"opened {case.opened_at.isoformat()} ended {result.history[-1].at.isoformat()}, "
            f"clock {(await env.get_current_time()).isoformat()}"
        )
