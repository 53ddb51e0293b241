"""The risk service answers what its OpenAPI says, with every key it always answered.

Real views of the service (a recordation with a Chinese alias, its history and an earlier version, a profile
with every kind of condition value, a campaign with its report, capacity and red quotas, labels, stored line
features, a trained model's registry entry) go through the routes' own response models: the answer must be the
view itself (UTC written ``Z``, as pydantic writes it). Answers the routes send as they are (a recordation or
profile created, an assessment, a model trained, a control result) must validate against the committed document.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
from fastapi.routing import APIRoute, serialize_response
from jsonschema import Draft202012Validator

from services.risk import api, live_registry, pipeline, recordations, targeting
from services.risk.campaigns import CampaignV1
from services.risk.capacity import CapacityGovernor
from services.risk.learning import api as learning_api
from services.risk.learning import features as F
from services.risk.learning import registry
from services.risk.learning.labels import label_view
from services.risk.learning.serving import ModelServer
from services.risk.learning.tables import LineFeatures, LineLabel, ModelEvent, ModelVersion
from services.risk.learning.train import fit
from services.risk.matcher import RegistryIndex
from services.risk.models import (
    Campaign,
    CampaignVersion,
    Recordation,
    RecordationEvent,
    RedQuota,
    RedQuotaDay,
    TargetingProfile,
)
from services.risk.profiles import TargetingProfileV1
from services.risk.scoring import Scoring
from shared.auth import Principal
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from tests.factories import ROOT, example_declaration, example_recordation

OPENAPI = json.loads((ROOT / "contracts" / "openapi" / "risk.json").read_text())
AT = datetime(2026, 11, 20, 8, 15, 7, 123456, tzinfo=UTC)
OFFICER = Principal(sub="wang.wei", role="officer", name="Wang Wei", offices=frozenset({"CN5300"}))
RATES = {"CNY": Decimal(1), "USD": Decimal("7.10")}


class _Scalars(list):
    def first(self) -> Any:
        return self[0] if self else None

    def all(self) -> list:
        return list(self)


class _Result:
    def __init__(self, rows: list) -> None:
        self.rows = rows

    def scalars(self) -> _Scalars:
        return _Scalars(self.rows)

    def all(self) -> list:
        return self.rows


class _Session:
    """Answers each query with the next prepared rows (the views read, they never write)."""

    def __init__(self, *results: list, get: Any = None) -> None:
        self.results = list(results)
        self.row = get

    async def execute(self, *_: Any) -> _Result:
        return _Result(self.results.pop(0))

    async def get(self, *_: Any, **__: Any) -> Any:
        return self.row


def _route(method: str, path: str) -> APIRoute:
    found = [
        r
        for r in (*api.router.routes, *learning_api.router.routes)
        if isinstance(r, APIRoute) and r.path == path and method in r.methods
    ]
    assert len(found) == 1, (method, path)
    return found[0]


async def answered(method: str, path: str, content: Any) -> Any:
    """What FastAPI sends for ``content`` returned by the route: validated and serialised by its response model."""
    route = _route(method, path)
    assert route.response_field is not None
    return await serialize_response(
        field=route.response_field,
        response_content=content,
        exclude_unset=route.response_model_exclude_unset,
        by_alias=route.response_model_by_alias,
    )


def as_sent(value: Any) -> Any:
    """``value`` as JSON, with UTC written ``Z``."""
    if isinstance(value, dict):
        return {k: as_sent(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_sent(v) for v in value]
    if isinstance(value, str) and value.endswith("+00:00") and "T" in value:
        return value[:-6] + "Z"
    return value


def conforms(method: str, path: str, status: int, body: Any) -> None:
    """``body`` validates against the committed OpenAPI's schema of that answer."""
    schema = OPENAPI["paths"][path][method.lower()]["responses"][str(status)]["content"]["application/json"]["schema"]
    Draft202012Validator(
        {**schema, "components": OPENAPI["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    ).validate(body)


async def test_a_recordation_with_a_chinese_alias() -> None:
    rec = RecordationV1.model_validate(
        example_recordation(
            aliases=["NIKE AIR", "耐克"],
            identification_guide={
                "genuine_features": ["swoosh stitched, not printed"],
                "genuine_prices": [
                    {"product": "Air Max 90", "market": "CN retail", "price": "899.00", "currency": "CNY"}
                ],
                "usual_routes": [{"origin_country": "VN", "transport_mode": "sea"}],
            },
        )
    )
    row = Recordation(
        recordation_id=rec.recordation_id, payload=rec.model_dump(mode="json"), version=3, created_at=AT, updated_at=AT
    )
    view = recordations.recordation_view(row)
    assert {"pinyin" in m for m in view["marks"]} == {True, False}  # a Chinese alias has one, a Latin title none
    sent = json.loads(json.dumps(view))
    assert await answered("GET", "/v1/recordations", [view]) == [as_sent(sent)]
    conforms("POST", "/v1/recordations", 201, sent)  # answered as it is when created
    conforms("POST", "/v1/recordations", 200, sent)


async def test_a_recordation_keeps_the_keys_it_was_stored_with() -> None:
    older = RecordationV1.model_validate(example_recordation()).model_dump(mode="json")
    del older["identification_guide"]  # recorded before the guide was part of the contract
    row = Recordation(recordation_id=older["recordation_id"], payload=older, version=1, created_at=AT, updated_at=None)
    out = await answered("POST", "/v1/recordations/{recordation_id}/approve", recordations.recordation_view(row))
    assert "identification_guide" not in out and out["updated_at"] is None and out["version"] == 1

    history = await recordations.history_of(
        _Session(
            [
                RecordationEvent(
                    version=1,
                    event="created",
                    actor="Wang Wei (wang.wei)",
                    actor_sub="wang.wei",
                    at=AT,
                    reason=None,
                    changes=None,
                ),
                RecordationEvent(
                    version=2,
                    event="amended",
                    actor="Nike (rh-0001)",
                    actor_sub=None,
                    at=AT,
                    reason="new licensee",
                    changes=["authorized_licensees"],
                ),
            ]
        ),
        older["recordation_id"],
    )
    full = {**recordations.recordation_view(row), "history": history}
    assert await answered("GET", "/v1/recordations/{recordation_id}", full) == as_sent(json.loads(json.dumps(full)))

    version = await recordations.version_of(_Session([RecordationEvent(version=1, payload=older)]), "x", 1)
    assert await answered("GET", "/v1/recordations/{recordation_id}/versions/{version}", version) == version


async def test_profiles_answer_every_kind_of_condition_value() -> None:
    profile = TargetingProfileV1.model_validate(
        {
            "profile_id": "P-SNEAKERS-EXPRESS",
            "name": "sneakers by express",
            "owner": "officer.li",
            "weight": -0.25,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "customs_offices": ["CN5300"],
            "conditions": [
                {"field": "line.hs_code", "op": "prefix", "value": ["6404", "6403"]},
                {"field": "destination_country", "op": "eq", "value": "US"},
                {"field": "lines.count", "op": "ge", "value": 3},
                {"field": "line.unit_value", "op": "lt", "value": 4.5},
                {"field": "line.brand", "op": "absent"},
            ],
        }
    )
    row = TargetingProfile(
        profile_id=profile.profile_id,
        payload=profile.model_dump(mode="json"),
        version=2,
        hits=41,
        last_hit_at=AT,
        updated_at=None,
    )
    view = targeting.profile_view(row)
    out = await answered("GET", "/v1/profiles/{profile_id}", view)
    assert out == as_sent(view)
    assert [type(c["value"]) for c in out["conditions"]] == [list, str, int, float, type(None)]
    conforms("PUT", "/v1/profiles/{profile_id}", 201, view)
    conforms("PUT", "/v1/profiles/{profile_id}", 200, view)
    imported = {"stored": 1, "created": 0, "profiles": ["P-SNEAKERS-EXPRESS"]}
    assert await answered("POST", "/v1/profiles/import", imported) == imported


async def test_a_campaign_its_history_and_its_report() -> None:
    campaign = CampaignV1.model_validate(
        {
            "campaign_id": "C-2026-EXPORT",
            "name": "export campaign",
            "owner": "GACC IPR division",
            "valid_from": "2026-07-01",
            "valid_until": "2026-12-31",
            "directions": ["export"],
            "weight": 0.2,
            "supervision_modes": ["9610"],
            "transport_modes": ["express", "post"],
            "sectors": [{"name": "footwear", "hs_prefixes": ["64"]}, {"name": "bags", "hs_prefixes": ["4202"]}],
        }
    )
    row = Campaign(
        campaign_id=campaign.campaign_id,
        payload=campaign.model_dump(mode="json"),
        version=1,
        active=True,
        updated_at=AT,
    )
    view = targeting.campaign_view(row)
    assert await answered("POST", "/v1/campaigns/{campaign_id}/switch-on", view) == as_sent(view)
    conforms("PUT", "/v1/campaigns/{campaign_id}", 201, view)

    hits = [("CN5300", date(2026, 11, 1), 3, 10, 2, 1), ("CN2200", date(2026, 11, 1), 1, 1, 0, 0)]
    report = await targeting.campaign_report(
        _Session(hits, get=row),
        campaign_id=campaign.campaign_id,
        date_from=date(2026, 7, 1),
        date_to=None,
        period="month",
        office=None,
    )
    assert report["from"] == "2026-07-01" and report["to"] is None
    assert await answered("GET", "/v1/campaigns/{campaign_id}/report", report) == report
    history = await targeting.campaign_history(
        _Session(
            [
                CampaignVersion(version=1, event="created", actor="Wang Wei (wang.wei)", reason=None, at=AT),
                CampaignVersion(version=2, event="switched_off", actor="Li Na (li.na)", reason="ended early", at=AT),
            ]
        ),
        campaign.campaign_id,
    )
    full = {**view, "totals": report["totals"], "history": history}
    assert await answered("GET", "/v1/campaigns/{campaign_id}", full) == as_sent(full)


async def test_capacity_and_red_quotas() -> None:
    gov = CapacityGovernor(
        default_share=0.05,
        by_office={"CN2200": 0.1},
        base_threshold=0.7,
        window=100,
        min_samples=10,
        recompute_every=10,
    )
    for i in range(40):
        gov.observe("CN5300", i / 40)
    gov.observe("CN2200", 0.3)
    registry_ = live_registry.Registry(None, capacity=gov)  # type: ignore[arg-type]
    registry_.index = RegistryIndex.build([RecordationV1.model_validate(example_recordation())])
    quota = RedQuota(
        customs_office="CN5300", per_day=40, reason="two inspection teams", set_by="Li Na (li.na)", set_at=AT
    )
    day = RedQuotaDay(customs_office="CN5300", day=date(2026, 11, 20), quota=40, granted=40, refused=3)
    got = await api.capacity(registry_, _Session([quota], [day]), OFFICER)  # type: ignore[arg-type]
    assert set(got["offices"]) == {"CN5300", "CN2200"} and got["red_quotas"][0]["latest_day"]["refused"] == 3
    assert await answered("GET", "/v1/capacity", got) == as_sent(got)
    no_quota = await api.capacity(registry_, _Session([]), OFFICER)  # type: ignore[arg-type]
    assert await answered("GET", "/v1/capacity", no_quota) == no_quota
    quota_set = {"customs_office": "CN5300", "per_day": 0, "reason": "closed for the holiday", "set_by": "Li Na"}
    assert await answered("PUT", "/v1/capacity/{customs_office}/red-quota", quota_set) == quota_set


async def test_an_assessment_as_answered_matches_its_schema() -> None:
    registry_ = live_registry.Registry(None, capacity=None)  # type: ignore[arg-type]
    registry_.index = RegistryIndex.build([RecordationV1.model_validate(example_recordation())])
    declaration = DeclarationV1.model_validate(example_declaration())
    response = await api.assess(
        registry_,
        SimpleNamespace(fx_rates_to_cny=RATES),  # type: ignore[arg-type]
        SimpleNamespace(scoring=Scoring(fx_rates_to_cny=RATES)),
        declaration,
        OFFICER,
    )
    body = json.loads(response.body)
    assert response.status_code == 200 and any(line["hits"] for line in body["lines"])
    assert all("case_id" not in line for line in body["lines"])  # assessing opens no case
    conforms("POST", "/v1/assess", 200, body)


async def test_labels_and_line_features() -> None:
    control = label_view(
        LineLabel(
            declaration_id="CN5300-2026-0000123",
            line_no=1,
            source="control",
            label=0,
            weight=1.0,
            outcome="no_infringement_found",
            unbiased=True,
            case_id=None,
            actor="Wang Wei (wang.wei)",
            note="opened two cartons",
            at=AT,
        )
    )
    case = label_view(
        LineLabel(
            declaration_id="CN5300-2026-0000123",
            line_no=2,
            source="case",
            label=None,
            weight=0.0,
            outcome="handed_to_court",
            unbiased=False,
            case_id="IPR-CN5300-2026-0000123-L2",
            actor="case outcome",
            note=None,
            at=AT,
        )
    )
    assert await answered("GET", "/v1/labels", [control, case]) == as_sent([control, case])
    conforms("POST", "/v1/control-results", 201, control)
    conforms("POST", "/v1/control-results", 200, control)

    declaration = DeclarationV1.model_validate(example_declaration(currency="EUR"))  # no rate: unknown values
    index = RegistryIndex.build([RecordationV1.model_validate(example_recordation())])
    assessed = pipeline.assess(declaration, index, Scoring(fx_rates_to_cny=RATES), RATES)[0]
    server = ModelServer()
    server.install(_model_row("m-0002", "champion"), None)
    stored = [LineFeatures(**r, assessed_at=AT) for r in server.apply([(declaration, assessed)], index, RATES)]
    assert stored and stored[0].model_version == "m-0002" and None in stored[0].features  # an unknown feature
    got = await learning_api.line_features(declaration.declaration_id, _Session(stored), OFFICER)  # type: ignore[arg-type]
    assert await answered("GET", "/v1/line-features/{declaration_id}", got) == as_sent(got)


_TRAINED: dict[str, Any] = {}


def _trained() -> Any:
    if not _TRAINED:
        rng = np.random.default_rng(3)
        n = 200
        X = rng.random((n, len(F.NAMES)))
        for j in F.CATEGORICAL_INDEX:
            X[:, j] = rng.integers(0, 5, n)
        y = (X[:, 0] + 0.3 * rng.random(n) > 0.8).astype(int)
        first = fit(
            X, y, np.ones(n), np.arange(n, dtype=float), rng.random(n) < 0.5, X[:, 0], np.zeros(n, bool), seed=2
        )
        from services.risk.learning.train import load_booster

        _TRAINED["trained"] = fit(
            X,
            y,
            np.ones(n),
            np.arange(n, dtype=float),
            rng.random(n) < 0.5,
            X[:, 0],
            np.zeros(n, bool),
            seed=4,
            champion=load_booster(first.artefact),
        )
    return _TRAINED["trained"]


def _model_row(version: str, status: str) -> ModelVersion:
    trained = _trained()
    return ModelVersion(
        version=version,
        status=status,
        schema=F.SCHEMA,
        artefact=trained.artefact.encode(),
        params=json.loads(json.dumps(trained.params)),
        metrics=json.loads(json.dumps(trained.metrics)),
        reference=trained.reference,
        window_from=AT,
        window_to=AT,
        n_labels=trained.n_labels,
        trained_by="Wang Wei (wang.wei)",
        trained_at=AT,
        proposed_by_sub="wang.wei",
        promoted_at=AT if status == "champion" else None,
        previous_champion="m-0001" if status == "champion" else None,
    )


async def test_a_trained_model_in_the_registry() -> None:
    champion, shadow = _model_row("m-0002", "champion"), _model_row("m-0003", "shadow")
    assert "champion" in champion.metrics["control"]  # compared with the champion on the same lines
    del shadow.metrics["control"]["rules"]["brier"]  # a score outside 0..1 has no calibration
    del shadow.metrics["control"]["champion"]  # trained when there was no champion
    listed = {
        "in_use": {"champion": "m-0002", "shadow": None},
        "models": [registry.view(shadow), registry.view(champion)],
    }
    out = await answered("GET", "/v1/models", listed)
    assert out == as_sent(json.loads(json.dumps(listed)))
    assert "brier" not in out["models"][0]["metrics"]["control"]["rules"]
    assert "champion" not in out["models"][0]["metrics"]["control"]

    history = await registry.history(
        _Session(
            [
                ModelEvent(
                    version="m-0002",
                    event="promoted",
                    actor="Li Na (li.na)",
                    actor_sub="li.na",
                    at=AT,
                    detail={"proposed_by": "wang.wei", "reason": None, "replaced": "m-0001", "control": {}},
                ),
                ModelEvent(
                    version=None,
                    event="training_refused",
                    actor="make train",
                    actor_sub=None,
                    at=AT,
                    detail={"reason": "only 3 labelled lines; at least 40 are needed", "labels": 3},
                ),
            ]
        ),
        "m-0002",
    )
    full = {**registry.view(champion), "history": history}
    assert await answered("GET", "/v1/models/{version}", full) == as_sent(json.loads(json.dumps(full)))
    for path in ("/v1/models/{version}/propose", "/v1/models/{version}/promote", "/v1/models/{version}/reject"):
        assert await answered("POST", path, registry.view(shadow)) == as_sent(
            json.loads(json.dumps(registry.view(shadow)))
        )
    rolled = {"rolled_back": "m-0002", "champion": None}
    assert await answered("POST", "/v1/models/rollback", rolled) == rolled
    trained = _trained()
    conforms(
        "POST",
        "/v1/models/train",
        201,
        json.loads(
            json.dumps(
                {"version": "m-0004", "status": "shadow", "labels": trained.n_labels, "metrics": trained.metrics}
            )
        ),
    )


def test_every_operation_declares_its_answer_and_its_errors() -> None:
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            ok = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
            assert ok, (method, path)
            for status, response in ok.items():
                schema = next(iter(response["content"].values()))["schema"]
                assert schema not in ({}, {"type": "object", "additionalProperties": True}), (method, path, status)
            if path.startswith("/v1/"):
                errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
                assert {"401", "403", "422"} <= set(errors), (method, path)
                assert all(
                    r["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
                    for r in errors.values()
                ), (method, path)
