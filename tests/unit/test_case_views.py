"""The typed answers of the cases service say what its routes build, key for key and value for value: a case from
its workflow, from the database (with or without a snapshot), as a party reads it; and the instructions' answers
whose keys depend on the case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from services.cases.api import _for_reader
from services.cases.records import deadlines_from_history
from shared.auth import Principal
from shared.contracts.case_views import (
    AnswerAccepted,
    AssignmentEventView,
    CaseView,
    DeterminationAccepted,
    GuaranteeAccepted,
    Seizures,
    WorkbenchEntry,
)
from shared.contracts.cases import HistoryEntry, PartyNotice, PartySubmission
from tests.factories import notice_case_file

AT = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)


def _answer(model: type[BaseModel], body: dict) -> dict:
    """What FastAPI sends for ``body`` under ``response_model=model, response_model_exclude_unset=True``."""
    return json.loads(model.model_validate(body).model_dump_json(exclude_unset=True, by_alias=True))


def _plain(body: dict) -> dict:
    return json.loads(json.dumps(body, default=str))


def _live_case() -> dict:
    f = notice_case_file("CN")
    state = f.snapshot().model_copy(
        update={
            "history": [
                HistoryEntry(
                    seq=1,
                    at=AT,
                    state="opened",
                    event="case_opened",
                    detail={"reasons": ["brand"], "score": 0.9, "mark": "NIKE"},
                ),
                HistoryEntry(
                    seq=2,
                    at=AT,
                    state="suspended",
                    event="goods_suspended",
                    detail={"hold_id": "HOLD-1", "amount": "14910.00"},
                ),
            ],
            "submissions": [
                PartySubmission(
                    party="consignee",
                    kind="non_infringement_statement",
                    text="genuine",
                    amount=Decimal("100.50"),
                    currency="CNY",
                )
            ],
            "party_notices": [
                PartyNotice(
                    key="party_detention:consignee",
                    kind="party_detention",
                    role="consignee",
                    party_id="C2",
                    party_name="Consignee Ltd",
                    notice_id="NTC-0123456789ABCDEF",
                    sent_at=AT,
                )
            ],
            "required_guarantee_cny": Decimal("14910.00"),
            "guarantee_status": "held",
        }
    )
    body = state.model_dump(mode="json")
    body.update(
        {
            "workflow_state": state.state,
            "failure": None,
            "source": "workflow",
            "interventions": [
                {
                    "at": AT.isoformat(),
                    "event": "case_access_issued",
                    "by": "Wang Wei (wang.wei)",
                    "detail": {"access_id": "CA-0123456789ABCDEF"},
                }
            ],
            "opened_at": AT.isoformat(),
            "closed_at": None,
            "updated_at": AT.isoformat(),
            "links": {"self": f"/v1/cases/{state.case_id}", "temporal_ui": None},
        }
    )
    return body


def _same_instants(body: dict) -> dict:
    """The answer with every ``+00:00`` written ``Z``, as a typed answer writes a UTC time."""
    return json.loads(json.dumps(body).replace("+00:00", "Z"))


def test_a_running_case_keeps_every_key_and_value() -> None:
    body = _live_case()
    assert _answer(CaseView, body) == _same_instants(_plain(body))


def test_a_party_reads_it_without_the_holders_guarantee_keys() -> None:
    party = Principal(sub="case-access:CA-1", role="party", party_id="C2", case_id="IPR-CN5300-2026-0000123-RH-0001")
    seen = _for_reader(_live_case(), party)
    answer = _answer(CaseView, seen)
    assert not {"required_guarantee", "required_guarantee_cny", "guarantee_currency", "guarantee_status"} & set(answer)
    assert answer == _same_instants(_plain(seen))


def test_a_case_of_the_first_version_without_a_snapshot_is_answered_as_recorded() -> None:
    history = [
        {
            "seq": 1,
            "at": AT.isoformat(),
            "state": "suspended",
            "event": "deadline_set",
            "detail": {
                "name": "holder_reply",
                "working_days": 3,
                "due_date": "2026-11-25",
                "due_at": "2026-11-25T16:00:00Z",
            },
        },
        {
            "seq": 2,
            "at": AT.isoformat(),
            "state": "suspended",
            "event": "deadline_met",
            "detail": {"name": "holder_reply"},
        },
    ]
    body = {
        "case_id": "IPR-D1-L1",
        "jurisdiction": "CN",
        "holder_id": "RH-0001",
        "declaration_id": "CN5300-2026-0000001",
        "line_no": 1,
        "goods_value": "2100.00",
        "currency": "USD",
        "deadlines": deadlines_from_history(history),
        "state": "released",
        "workflow_state": "released",
        "history": history,
        "source": "database",
        "failure": {
            "status": "terminated",
            "reason": "terminated by ops: stuck",
            "run_id": "0196f1a2-7c1e",
            "closed_at": None,
            "detected_at": AT.isoformat(),
            "state_before": "detained",
        },
        "interventions": [],
        "opened_at": AT.isoformat(),
        "closed_at": AT.isoformat(),
        "updated_at": AT.isoformat(),
        "links": {"self": "/v1/cases/IPR-D1-L1", "temporal_ui": "http://ui/x"},
    }
    answer = _answer(CaseView, body)
    assert answer == _same_instants(body)
    assert answer["deadlines"][0]["start"] is None and "provisional" not in answer["deadlines"][0]


def test_optional_keys_of_instructions_stay_out_unless_the_route_set_them() -> None:
    plain = {"case_id": "IPR-D1-L1", "accepted": "determination", "outcome": "not_infringing", "lines": []}
    assert _answer(DeterminationAccepted, plain) == plain
    proposal = {
        **plain,
        "outcome": "infringing",
        "lines": [{"line_no": 2, "outcome": "not_infringing"}],
        "approval": "pending",
        "approve_at": "/v1/cases/IPR-D1-L1/approval",
    }
    assert _answer(DeterminationAccepted, proposal) == proposal
    answer = {
        "case_id": "IPR-D1-L1",
        "accepted": "answer",
        "kind": "hearing_request",
        "as": "consignee",
        "basis": "Measures Art. 29",
    }
    assert _answer(AnswerAccepted, answer) == answer
    # the guarantee route writes what the case has computed, or "None" before it has
    for required in ("14910.00", "None"):
        body = {"case_id": "IPR-D1-L1", "accepted": "guarantee", "required_cny": required}
        assert _answer(GuaranteeAccepted, body) == body


def test_sums_beyond_one_goods_value_are_answered_as_written() -> None:
    row = {"cases": 3, "lines": 4, "items": "1E+2", "value_cny": "3000000000000.00"}  # beyond Money's 10^12
    body = {
        "by": "mark",
        "period": "month",
        "from": "2026-01-01",
        "to": None,
        "rows": [{"key": "NIKE", **row}],
        "totals": row,
    }
    assert _answer(Seizures, body) == body
    with pytest.raises(ValidationError):
        Seizures.model_validate({**body, "totals": {**row, "items": "lots"}})


def test_the_workbench_entry_names_who_worked_the_case_from_whom() -> None:
    event = {
        "event": "handed_over",
        "from": "wang.wei",
        "to": "li.na",
        "to_name": "Li Na",
        "by": "Wang Wei (wang.wei)",
        "note": None,
        "at": "2026-11-20T08:15:00Z",
    }
    assert _answer(AssignmentEventView, event) == event
    assert "from" in WorkbenchEntry.model_json_schema(by_alias=True)["$defs"]["AssignmentEventView"]["properties"]
