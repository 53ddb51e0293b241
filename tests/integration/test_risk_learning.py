"""Learning from outcomes against the running stack: every assessed line's features stored with the model that
scored it (consumer path), officers' control-sample results (authorisation, office, idempotency), case outcomes
on cases.events.v1 becoming labels once (redelivery-safe, unbiased for a control line), refusals of the model
registry (too few labels, four eyes, nothing to roll back), each audited."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.risk.learning.features import MODES
from services.risk.scoring import random_draw
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import TOPIC_CASE_EVENTS, TOPIC_DECLARATIONS
from tests.factories import example_declaration
from tests.helpers import eventually, produce, unique_id

pytestmark = pytest.mark.integration
SALT, RATE = "ipr-risk-control-sample", 0.005  # the service's defaults (the test stack does not change them)


def control_declaration() -> dict:
    """Unbranded goods whose line 1 the service draws for the control sample and line 2 it does not."""
    while True:
        d = example_declaration(declaration_id=unique_id("CTL"), submitted_at=datetime.now(UTC).isoformat())
        d["lines"] = [
            {
                **d["lines"][0],
                "brand": None,
                "description": "plastic tableware",
                "hs_code": "392410",
                "line_no": n,
                "unit_value": 1.0,
            }
            for n in (1, 2)
        ]
        parsed = DeclarationV1.model_validate(d)
        if random_draw(parsed, 1, SALT) < RATE <= random_draw(parsed, 2, SALT):
            return d


def case_event(declaration_id: str, line_no: int, seq: int, state: str, reason: str | None = None) -> bytes:
    case_id = f"IPR-{declaration_id}-L{line_no}"
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "event_type": "case.transition",
            "producer": "cases",
            "correlation_id": case_id,
            "payload": {
                "case_id": case_id,
                "seq": seq,
                "state": state,
                "event": "finished",
                "detail": {"reason": reason} if reason else {},
                "at": datetime.now(UTC).isoformat(),
                "declaration_id": declaration_id,
                "line_no": line_no,
            },
        }
    ).encode()


async def test_features_control_results_and_outcome_labels(http, stack) -> None:
    risk = stack.url("risk")
    d = control_declaration()
    did = d["declaration_id"]
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(d).encode(), did.encode())

    async def stored():
        r = await http.get(f"{risk}/v1/line-features/{did}", headers=stack.auth("officer"))
        return r.json() if r.status_code == 200 and len(r.json()) == 2 else None

    rows = await eventually(stored, within=40, what="line features stored")
    first, second = rows
    assert first["schema"] == "f1" and first["random_selection"] is True and second["random_selection"] is False
    assert (
        first["lane"] == "red"
        and first["features"]["mode"] == MODES[d["transport_mode"]]
        and first["features"]["n_hits"] == 0
    )
    assert first["model_version"] is None  # no champion yet: the rules alone scored it
    assert (await http.get(f"{risk}/v1/line-features/{did}", headers=stack.auth("officer_b"))).status_code == 403

    url = f"{risk}/v1/control-results"
    body = {"declaration_id": did, "line_no": 1, "result": "no_infringement_found", "note": "opened two cartons"}
    r = await http.post(url, json=body, headers=stack.auth("clearance"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_role"
    r = await http.post(url, json=body, headers=stack.auth("officer_b"))  # Shanghai officer, Shenzhen declaration
    assert r.status_code == 403 and r.json()["error"]["code"] == "outside_office"
    r = await http.post(url, json={**body, "result": "maybe"}, headers=stack.auth("officer"))
    assert r.status_code == 422
    r = await http.post(url, json=body, headers=stack.auth("officer"))
    assert r.status_code == 201, r.text
    assert r.json()["unbiased"] is True and r.json()["label"] == 0 and r.json()["recorded_by"] == "Wang Wei (wang.wei)"
    again = await http.post(url, json=body, headers=stack.auth("officer"))
    assert again.status_code == 200 and again.json() == r.json()
    other = await http.post(url, json={**body, "result": "infringement_found"}, headers=stack.auth("officer"))
    assert other.status_code == 409 and other.json()["error"]["code"] == "result_recorded"
    r = await http.post(url, json={**body, "line_no": 2}, headers=stack.auth("officer"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_in_control_sample"
    r = await http.post(url, json={**body, "declaration_id": unique_id("NONE")}, headers=stack.auth("officer"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "line_not_assessed"

    # a case outcome for line 2 (targeted) and line 1 (control): each a label once, however often delivered
    raw2 = case_event(did, 2, 11, "confiscated")
    raw1 = case_event(did, 1, 12, "released", "customs determined that the goods do not infringe")
    for raw, line in ((raw2, 2), (raw2, 2), (raw1, 1), (raw1, 1)):
        await produce(stack.kafka, TOPIC_CASE_EVENTS, raw, f"IPR-{did}-L{line}".encode())
    await produce(stack.kafka, TOPIC_CASE_EVENTS, case_event(did, 2, 3, "released"), f"IPR-{did}-L2".encode())

    async def labelled():
        r = await http.get(f"{risk}/v1/labels", params={"declaration_id": did}, headers=stack.auth("officer"))
        got = {(x["line_no"], x["source"]): x for x in r.json()}
        return got if len(got) == 3 else None

    got = await eventually(labelled, within=40, what="case outcomes labelled")
    assert (got[(2, "case")]["label"], got[(2, "case")]["outcome"], got[(2, "case")]["unbiased"]) == (
        1,
        "confiscated",
        False,
    )  # the older release (seq 3) did not replace the confiscation (seq 11)
    assert (got[(1, "case")]["label"], got[(1, "case")]["outcome"], got[(1, "case")]["unbiased"]) == (
        0,
        "released_not_infringing",
        True,
    )
    assert got[(1, "control")]["unbiased"] is True
    unbiased = await http.get(
        f"{risk}/v1/labels", params={"declaration_id": did, "unbiased": "true"}, headers=stack.auth("officer")
    )
    assert {(x["line_no"], x["source"]) for x in unbiased.json()} == {(1, "case"), (1, "control")}


async def test_model_registry_refusals_are_clear_and_audited(http, stack) -> None:
    risk = stack.url("risk")
    r = await http.post(f"{risk}/v1/models/train", json={"seed": 3}, headers=stack.auth("officer"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "training_refused"
    r = await http.post(f"{risk}/v1/models/train", headers=stack.auth("officer"))  # no body: the default seed
    assert r.status_code == 409 and r.json()["error"]["code"] == "training_refused"
    assert "labelled lines" in r.json()["error"]["message"] or "labels" in r.json()["error"]["message"]
    r = await http.post(f"{risk}/v1/models/train", json={}, headers=stack.auth("clearance"))
    assert r.status_code == 403
    r = await http.post(f"{risk}/v1/models/m-9999/promote", json={}, headers=stack.auth("supervisor"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = await http.post(f"{risk}/v1/models/m-9999/promote", json={}, headers=stack.auth("officer"))
    assert r.status_code == 403
    r = await http.post(f"{risk}/v1/models/rollback", json={"reason": "drift alert"}, headers=stack.auth("supervisor"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_champion"
    r = await http.post(f"{risk}/v1/models/not-a-version/promote", json={}, headers=stack.auth("supervisor"))
    assert r.status_code == 422
    models = await http.get(f"{risk}/v1/models", headers=stack.auth("officer"))
    assert models.status_code == 200 and models.json()["in_use"] == {"champion": None, "shadow": None}
    refused = [d for d in models.json()["decisions"] if d["event"] == "training_refused"]
    assert refused and refused[0]["version"] is None and refused[0]["actor"]  # the refusal, by whom
    assert "reason" in refused[0]["detail"]


def control_line(n: int, pattern: bool) -> dict:
    """A one-line declaration the service draws for the control sample: an earphone line of a consignor
    network no rule knows (``pattern``), or plastic tableware of the usual consignor."""
    while True:
        d = example_declaration(declaration_id=unique_id(f"LRN{n:03d}"), submitted_at=datetime.now(UTC).isoformat())
        line = {**d["lines"][0], "line_no": 1, "brand": None, "model": None}
        if pattern:
            d["consignor"] = {"id": "91440300MA5NET07", "name": "Lucky Star Cross-border Trading", "country": "CN"}
            d["transport_mode"] = "express"
            line.update(
                hs_code="851830",
                description="wireless earbuds tws bluetooth headset bass pro",
                unit="piece",
                unit_value=0.9,
                quantity=300,
            )
        else:
            line.update(
                hs_code="392410",
                description="plastic tableware, plates and cups",
                unit="piece",
                unit_value=1.0,
                quantity=300,
            )
        d["lines"] = [line]
        if random_draw(DeclarationV1.model_validate(d), 1, SALT) < RATE:
            return d


async def test_a_model_learns_is_promoted_explains_its_hits_and_is_rolled_back(http, stack) -> None:
    """The whole life of a model on the running stack: control-sample lines assessed by the consumer, examined
    by an officer, trained on, proposed by an officer, promoted by a supervisor through the control-sample gate,
    explaining its points in ``POST /v1/assess``, then rolled back to the rules alone; every step audited."""
    risk = stack.url("risk")
    worlds = [control_line(n, pattern=n % 2 == 0) for n in range(120)]
    for d in worlds:
        await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(d).encode(), d["declaration_id"].encode())

    async def all_stored():
        for d in worlds:
            r = await http.get(f"{risk}/v1/line-features/{d['declaration_id']}", headers=stack.auth("officer"))
            if r.status_code != 200 or len(r.json()) != 1:
                return None
        return True

    await eventually(all_stored, within=120, what="120 control-sample lines assessed and their features stored")
    for n, d in enumerate(worlds):
        result = "infringement_found" if n % 2 == 0 else "no_infringement_found"
        r = await http.post(
            f"{risk}/v1/control-results",
            headers=stack.auth("officer"),
            json={"declaration_id": d["declaration_id"], "line_no": 1, "result": result},
        )
        assert r.status_code == 201, r.text

    trained = await http.post(f"{risk}/v1/models/train", json={"seed": 7}, headers=stack.auth("officer"))
    assert trained.status_code == 201, trained.text
    version = trained.json()["version"]
    assert trained.json()["status"] == "shadow"
    control = trained.json()["metrics"]["control"]
    assert control["model"]["n"] >= 20 and control["model"]["positives"] >= 2

    probe = control_line(999, pattern=True)
    before = await http.post(f"{risk}/v1/assess", json=probe, headers=stack.auth("officer"))
    assert before.status_code == 200 and not any("model m-" in r for r in before.json()["lines"][0]["reasons"])

    # not before it is proposed; four eyes: the proposer cannot promote; an officer cannot promote at all
    r = await http.post(f"{risk}/v1/models/{version}/promote", json={}, headers=stack.auth("supervisor"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_proposed", r.text
    assert (
        await http.post(f"{risk}/v1/models/{version}/propose", json={}, headers=stack.auth("officer"))
    ).status_code == 200
    r = await http.post(f"{risk}/v1/models/{version}/promote", json={}, headers=stack.auth("officer"))
    assert r.status_code == 403
    try:
        r = await http.post(
            f"{risk}/v1/models/{version}/promote",
            json={"reason": "beats the rules on control"},
            headers=stack.auth("supervisor"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "champion"
        models = (await http.get(f"{risk}/v1/models", headers=stack.auth("officer"))).json()
        assert models["in_use"]["champion"] == version

        after = await http.post(f"{risk}/v1/assess", json=probe, headers=stack.auth("officer"))
        line = after.json()["lines"][0]
        explained = [r for r in line["reasons"] if r.startswith(f"model {version}")]
        assert explained, line["reasons"]
        assert "strongest factors" in explained[0]
        assert line["score"] > before.json()["lines"][0]["score"]
        legit = await http.post(
            f"{risk}/v1/assess", json=control_line(998, pattern=False), headers=stack.auth("officer")
        )
        said = [r for r in legit.json()["lines"][0]["reasons"] if r.startswith(f"model {version}")]
        assert all("(+0.00)" in r and "strongest factors" not in r for r in said), said  # no points for tableware
    finally:
        r = await http.post(
            f"{risk}/v1/models/rollback", json={"reason": "end of the trial"}, headers=stack.auth("supervisor")
        )
    assert r.status_code == 200, r.text
    models = (await http.get(f"{risk}/v1/models", headers=stack.auth("officer"))).json()
    assert models["in_use"]["champion"] is None
    again = await http.post(f"{risk}/v1/assess", json=probe, headers=stack.auth("officer"))
    assert not any(r.startswith(f"model {version}") for r in again.json()["lines"][0]["reasons"])

    audit = (await http.get(f"{risk}/v1/models/{version}", headers=stack.auth("officer"))).json()
    events = [e["event"] for e in audit["history"]]
    # newest first; the refusal before the proposal is audited too
    assert events == ["rolled_back", "promoted", "proposed", "promotion_refused", "trained"], events
    promoted = next(e for e in audit["history"] if e["event"] == "promoted")
    assert promoted["actor"] != next(e for e in audit["history"] if e["event"] == "proposed")["actor"]
