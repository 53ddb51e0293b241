"""One way to open a case: consignment case ids, the shared case-input builder (one case per declaration and
rights holder, lines kept apart, consignment facts), and what the risk service's case starter sends for a
revision (pure planning, with a stand-in Temporal client that records the calls)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.risk.case_starter import plan_revision
from shared.case_opening import genuine_unit_value, lines_revision
from shared.contracts.bounds import ID_PATTERNS
from shared.contracts.cases import SIGNAL_LINES, case_id_for, consignment_case_id
from tests.factories import ADIDAS, consignment_cases, declaration, recordation, shoe_line

D = Decimal
NIKE, ADI = recordation(), recordation(**ADIDAS)


def test_consignment_case_ids_are_deterministic_and_never_shared() -> None:
    assert consignment_case_id("CN5300-2026-0000123", "RH-0001") == "IPR-CN5300-2026-0000123-RH-0001"
    # a holder id not in the registry's form is hashed: its part then has no dash
    odd = consignment_case_id("D" * 64, "Nike Innovate C.V. / Beaverton, Oregon")
    assert odd.startswith("IPR-" + "D" * 64 + "-H") and len(odd) == 4 + 64 + 12 == 80 and " " not in odd
    # a registry holder id that would make the id longer than a case id may be is hashed too
    long_plain = consignment_case_id("D" * 64, "ACME-0000000001")
    assert long_plain == "IPR-" + "D" * 64 + "-H" + hashlib.sha256(b"ACME-0000000001").hexdigest()[:10]
    assert consignment_case_id("D" * 40, "ACME-0000000001") == "IPR-" + "D" * 40 + "-ACME-0000000001"
    assert long_plain != consignment_case_id("D" * 64, "ACME-0000000002")
    assert consignment_case_id("D-1", "0001") != consignment_case_id("D", "1-0001")
    # declaration "A-RH" with holder "0001" is not declaration "A" with holder "RH-0001"
    assert consignment_case_id("A-RH", "0001") != consignment_case_id("A", "RH-0001")
    assert consignment_case_id("A", "L1") != case_id_for("A", 1)  # never a per-line id
    assert consignment_case_id("D", "X" * 64) != consignment_case_id("D", "X" * 63 + "Y")
    assert case_id_for("D-1", 3) == "IPR-D-1-L3"  # per-line cases keep their ids


@settings(max_examples=300, deadline=None)
@given(
    d1=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}|[A-Za-z0-9][A-Za-z0-9._-]{56,63}", fullmatch=True),
    d2=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}|[A-Za-z0-9][A-Za-z0-9._-]{56,63}", fullmatch=True),
    h1=st.one_of(st.from_regex(r"[A-Za-z]{1,3}-[0-9]{1,4}", fullmatch=True), st.text(min_size=1, max_size=8)),
    h2=st.one_of(st.from_regex(r"[A-Za-z]{1,3}-[0-9]{1,4}", fullmatch=True), st.text(min_size=1, max_size=8)),
)
def test_property_two_different_pairs_never_share_a_case_id(d1: str, d2: str, h1: str, h2: str) -> None:
    for d, h in ((d1, h1), (d2, h2)):
        assert re.fullmatch(ID_PATTERNS["case_id"], consignment_case_id(d, h)), "a case id of the platform's form"
    if (d1, h1) != (d2, h2):
        assert consignment_case_id(d1, h1) != consignment_case_id(d2, h2)


def test_one_case_per_holder_with_its_lines_and_the_consignment_facts() -> None:
    decl = declaration(
        [
            shoe_line(1, quantity="100"),
            shoe_line(2, quantity="50", hs_code="420222"),
            shoe_line(3, quantity="10"),
            shoe_line(4, quantity="7", brand=None),
        ]
    )
    nike, adidas = consignment_cases(decl, {3: NIKE, 1: NIKE, 2: ADI})
    assert [ln.line_no for ln in nike.lines] == [1, 3] and [ln.line_no for ln in adidas.lines] == [2]
    assert nike.case_id.endswith("-RH-0001") and adidas.holder.id == "RH-0002"
    # the case's totals are its own lines'; each line keeps its own quantity, value and right
    assert nike.goods_value == D("462.00") and nike.quantity == D("110")
    assert [ln.goods_value for ln in nike.lines] == [D("420.00"), D("42.00")]
    assert nike.goods_value_cny == D("3280.20")  # USD 462 at 7.10
    assert nike.lines[0].recordation_id == "CN-T-2019-004211" and nike.lines[0].mark == "NIKE"
    assert nike.lines[0].genuine_unit_value == D("35.0") and adidas.lines[0].genuine_unit_value is None
    assert nike.description.endswith("(and 1 more line)")
    # the consignment: every line's units and weight; the suspected goods of every holder
    facts = nike.consignment
    assert facts == adidas.consignment
    assert facts.units == D("167") and facts.gross_weight_kg == D("1640.0") and facts.line_count == 4
    assert facts.suspected_value == D("672.00") and facts.suspected_line_nos == [1, 2, 3]
    assert facts.declaration_line_nos == [1, 2, 3, 4]


def test_a_line_without_weight_leaves_the_consignment_weight_unknown() -> None:
    decl = declaration([shoe_line(1), shoe_line(2, gross_weight_kg=None)])
    (case,) = consignment_cases(decl, {1: NIKE})
    assert case.consignment.gross_weight_kg is None and case.gross_weight_kg == D("410.0")


def test_genuine_value_is_the_most_specific_prefix_in_the_declaration_currency() -> None:
    rec = recordation(
        genuine_unit_value=[
            {"hs_prefix": "64", "min": 20, "currency": "USD"},
            {"hs_prefix": "6404", "min": 35, "currency": "USD"},
            {"hs_prefix": "640411", "min": 240, "currency": "CNY"},
        ]
    )
    decl = declaration([shoe_line(1)])
    assert genuine_unit_value(rec, decl.lines[0], "USD") == D("35")
    assert genuine_unit_value(rec, decl.lines[0], "CNY") == D("240")
    assert genuine_unit_value(rec, decl.lines[0], "EUR") is None


def test_eu_cases_take_the_recordation_as_application_for_action() -> None:
    decl = declaration([shoe_line(1)], jurisdiction="EU", currency="EUR", customs_office="DE004851")
    (case,) = consignment_cases(decl, {1: recordation(jurisdiction="EU", recordation_id="EU-AFA-9")})
    assert case.application_id == "EU-AFA-9"
    (by_hand,) = consignment_cases(
        decl, {1: recordation(jurisdiction="EU", recordation_id="EU-AFA-9")}, afa_from_recordation=False
    )
    assert by_hand.application_id is None


class RecordingClient:
    """Stands in for the Temporal client: remembers each signal-with-start and signal."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def start_workflow(self, workflow, case, **kw):
        self.calls.append(("start", case.case_id, kw["start_signal"], kw["start_signal_args"][0]))

    def get_workflow_handle(self, case_id: str):
        client = self

        class Handle:
            async def signal(self, name, arg):
                client.calls.append(("signal", case_id, name, arg))

        return Handle()


async def run(jobs) -> list[tuple]:
    client = RecordingClient()
    for job in jobs:
        await job(client)
    return client.calls


async def test_a_revision_moving_a_line_opens_or_signals_both_cases() -> None:
    first = declaration([shoe_line(1), shoe_line(2), shoe_line(3)])
    (nike1,) = consignment_cases(first, {1: NIKE, 2: NIKE, 3: NIKE})
    second = declaration([shoe_line(1), shoe_line(2), shoe_line(3)], revision=2)
    cases = consignment_cases(second, {1: NIKE, 2: NIKE, 3: ADI})
    calls = await run(plan_revision(second.declaration_id, 2, cases, {1: [nike1]}))
    assert [(c[0], c[1]) for c in calls] == [("start", cases[0].case_id), ("start", cases[1].case_id)]
    nike_rev, adidas_rev = calls[0][3], calls[1][3]
    assert calls[0][2] == SIGNAL_LINES and nike_rev.revision == 2
    assert [ln.line_no for ln in nike_rev.lines] == [1, 2] and nike_rev.line_cases[3] == cases[1].case_id
    assert adidas_rev.previous_line_cases == {1: nike1.case_id, 2: nike1.case_id, 3: nike1.case_id}


async def test_a_revision_without_a_holders_lines_tells_its_case() -> None:
    first = declaration([shoe_line(1), shoe_line(2)])
    nike1, adi1 = consignment_cases(first, {1: NIKE, 2: ADI})
    second = declaration([shoe_line(1), shoe_line(2, brand=None)], revision=2)
    cases = consignment_cases(second, {1: NIKE})
    calls = await run(plan_revision(second.declaration_id, 2, cases, {1: [nike1, adi1]}))
    assert [(c[0], c[1]) for c in calls] == [("start", nike1.case_id), ("signal", adi1.case_id)]
    withdrawn = calls[1][3]
    assert withdrawn.lines == [] and withdrawn.revision == 2 and withdrawn.consignment.declaration_line_nos == [1, 2]
    # a revision with no suspected line at all still reaches the earlier cases
    calls = await run(plan_revision(second.declaration_id, 3, [], {1: [nike1, adi1]}))
    assert sorted((c[0], c[1]) for c in calls) == [("signal", nike1.case_id), ("signal", adi1.case_id)]


async def test_lines_with_a_per_line_case_from_before_stay_with_it() -> None:
    first = declaration([shoe_line(1), shoe_line(2)])
    legacy = consignment_cases(first, {1: NIKE})[0].model_copy(
        update={"case_id": case_id_for(first.declaration_id, 1), "lines": []}
    )
    second = declaration([shoe_line(1), shoe_line(2)], revision=2)
    (nike,) = consignment_cases(second, {1: NIKE, 2: NIKE})
    calls = await run(plan_revision(second.declaration_id, 2, [nike], {1: [legacy]}))
    (start,) = calls
    assert [ln.line_no for ln in start[3].lines] == [2]
    assert calls[0][1] == nike.case_id
    # and when every line has one, no consignment case opens
    assert await run(plan_revision(second.declaration_id, 2, consignment_cases(second, {1: NIKE}), {1: [legacy]})) == []


@pytest.mark.parametrize("kind", ["revision", "added"])
def test_lines_revision_carries_the_case_lines(kind: str) -> None:
    (case,) = consignment_cases(declaration([shoe_line(1), shoe_line(2)]), {1: NIKE, 2: NIKE})
    rev = lines_revision(case, kind=kind, by="officer.li")
    assert rev.kind == kind and [ln.line_no for ln in rev.lines] == [1, 2] and rev.by == "officer.li"
    assert rev.line_cases == {1: case.case_id, 2: case.case_id}


def test_the_lines_of_an_action_keep_its_idempotency_key_within_bounds() -> None:
    from services.cases.workflow.state import lines_key

    case_id = consignment_case_id("D" * 64, "Nike Innovate C.V.")  # the longest case id
    assert lines_key([3, 1, 2]) == "L1.2.3"
    many = list(range(1, 1000))
    for action in ("confiscate", "notice:partial_release"):
        for lines in ([4], [1, 2, 3], many):
            key = f"{case_id}:{action}:{lines_key(lines)}"
            assert re.fullmatch(ID_PATTERNS["idempotency_key"], key), key
    assert lines_key(many) == lines_key(list(reversed(many))) != lines_key(many[:-1])
