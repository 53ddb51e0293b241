"""Learning from outcomes against the running stack: every assessed line's features stored with the model that
scored it (consumer path), officers' control-sample results (authorisation, office, idempotency), case outcomes
on cases.events.v1 becoming labels once (redelivery-safe, unbiased for a control line), refusals of the model
registry (too few labels, four eyes, nothing to roll back), each audited."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

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
        d = example_declaration(declaration_id=unique_id("CTL"), submitted_at=datetime.now(timezone.utc).isoformat())
        d["lines"] = [{**d["lines"][0], "brand": None, "description": "plastic tableware", "hs_code": "392410",
                       "line_no": n, "unit_value": 1.0} for n in (1, 2)]
        parsed = DeclarationV1.model_validate(d)
        if random_draw(parsed, 1, SALT) < RATE <= random_draw(parsed, 2, SALT):
            return d


def case_event(declaration_id: str, line_no: int, seq: int, state: str, reason: str | None = None) -> bytes:
    case_id = f"IPR-{declaration_id}-L{line_no}"
    return json.dumps({
        "event_id": str(uuid.uuid4()), "event_type": "case.transition", "producer": "cases", "correlation_id": case_id,
        "payload": {"case_id": case_id, "seq": seq, "state": state, "event": "finished",
                    "detail": {"reason": reason} if reason else {}, "at": datetime.now(timezone.utc).isoformat(),
                    "declaration_id": declaration_id, "line_no": line_no}}).encode()


async def test_features_control_results_and_outcome_labels(http, stack) -> None:
    risk = stack.url("risk")
    d = control_declaration()
    did = d["declaration_id"]
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(d).encode(), did.encode())

    async def stored():  # noqa: ANN202
        r = await http.get(f"{risk}/v1/line-features/{did}", headers=stack.auth("officer"))
        return r.json() if r.status_code == 200 and len(r.json()) == 2 else None

    rows = await eventually(stored, timeout=40, what="line features stored")
    first, second = rows
    assert first["schema"] == "f1" and first["random_selection"] is True and second["random_selection"] is False
    assert first["lane"] == "red" and first["features"]["mode"] == MODES[d["transport_mode"]] and first["features"]["n_hits"] == 0
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

    async def labelled():  # noqa: ANN202
        r = await http.get(f"{risk}/v1/labels", params={"declaration_id": did}, headers=stack.auth("officer"))
        got = {(x["line_no"], x["source"]): x for x in r.json()}
        return got if len(got) == 3 else None

    got = await eventually(labelled, timeout=40, what="case outcomes labelled")
    assert (got[(2, "case")]["label"], got[(2, "case")]["outcome"], got[(2, "case")]["unbiased"]) == \
        (1, "confiscated", False)  # the older release (seq 3) did not replace the confiscation (seq 11)
    assert (got[(1, "case")]["label"], got[(1, "case")]["outcome"], got[(1, "case")]["unbiased"]) == \
        (0, "released_not_infringing", True)
    assert got[(1, "control")]["unbiased"] is True
    unbiased = await http.get(f"{risk}/v1/labels", params={"declaration_id": did, "unbiased": "true"},
                              headers=stack.auth("officer"))
    assert {(x["line_no"], x["source"]) for x in unbiased.json()} == {(1, "case"), (1, "control")}


async def test_model_registry_refusals_are_clear_and_audited(http, stack) -> None:
    risk = stack.url("risk")
    r = await http.post(f"{risk}/v1/models/train", json={"seed": 3}, headers=stack.auth("officer"))
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
