"""Learning from outcomes, the pure parts: feature extraction (stable, versioned), labels from case events,
deterministic training and its refusals, explanations that add up, the promotion gate, serving (a model that
does not load keeps the rules; the shadow model changes nothing), and the simulator in a small configuration."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from bench import simulate_learning as sim
from services.risk.learning import features as F
from services.risk.learning.blend import flagged, model_points
from services.risk.learning.labels import NO_ACTION_WEIGHT, line_of, line_outcomes, outcome_of
from services.risk.learning.metrics import at_least_as_good, evaluate
from services.risk.learning.registry import gate
from services.risk.learning.serving import ModelServer
from services.risk.learning.tables import ModelVersion
from services.risk.learning.train import TrainingRefused, fit, load_booster
from services.risk.matcher import RegistryIndex
from services.risk.pipeline import assess
from services.risk.scoring import Scoring
from shared.contracts.events import CaseEventV1

RATES = sim.RATES
INDEX = RegistryIndex.build(sim.registry())
SCORING = Scoring(fx_rates_to_cny=RATES)


def _line(desc: str, hs: str, value: float, *, office: str = "CN5300", mode: str = "express", n: int = 1):
    w = sim.World(seed=n, weeks=2, prevalence=0.0)
    d, _ = w.line(0)
    d = d.model_copy(
        update={
            "customs_office": office,
            "transport_mode": mode,
            "lines": [
                d.lines[0].model_copy(
                    update={"description": desc, "hs_code": hs, "unit_value": Decimal(str(value)), "brand": None}
                )
            ],
        }
    )
    return d, assess(d, INDEX, SCORING, RATES)[0]


# ---------------------------------------------------------------- features


def test_feature_schema_is_pinned() -> None:
    # Changing, adding or reordering a feature must come with a new SCHEMA (models are served per schema).
    digest = hashlib.sha256("|".join(F.NAMES).encode()).hexdigest()[:12]
    assert (F.SCHEMA, len(F.NAMES), digest) == ("f1", 71, "c122de1d9e9a")


def test_feature_vector_is_stable_and_reads_the_rules() -> None:
    d, a = _line("beats solo wireless headphones", "851830", 5.0)
    v1 = F.line_features(d, d.lines[0], a.lines[0], genuine_unit_value=Decimal(80), rates=RATES)
    v2 = F.line_features(d, d.lines[0], a.lines[0], genuine_unit_value=Decimal(80), rates=RATES)
    assert v1 == v2 and len(v1) == len(F.NAMES)
    f = dict(zip(F.NAMES, v1, strict=True))
    assert f["rule_score"] == a.lines[0].score
    assert f["hs_agreement"] == 1.0 and f["common_word_mark"] == 1.0  # beats: an ordinary word, recorded goods
    assert f["value_ratio"] == pytest.approx(5 / 80)
    assert f["mode"] == F.MODES["express"] and f["match_where"] == F.WHERE["description"]
    assert f["office"] == F.bucket("CN5300", 64) == 1 + __import__("zlib").crc32(b"cn5300") % 64
    d2, a2 = _line("cotton t-shirts plain", "610910", 2.0, mode="sea")
    g = dict(zip(F.NAMES, F.line_features(d2, d2.lines[0], a2.lines[0], rates=RATES), strict=True))
    assert g["n_hits"] == 0 and g["match_kind"] == 0 and math.isnan(g["value_ratio"])
    assert g["mode"] == F.MODES["sea"]


# ---------------------------------------------------------------- labels


def _event(state: str, reason: str | None = None, seq: int = 9) -> CaseEventV1:
    return CaseEventV1(
        case_id="IPR-CN5300-2026-0000123-L2",
        seq=seq,
        state=state,
        event="x",
        detail={"reason": reason} if reason else {},
        at=datetime(2026, 11, 2, tzinfo=UTC),
    )


def test_case_outcomes_become_labels() -> None:
    assert outcome_of(_event("confiscated")).label == 1
    assert outcome_of(_event("destroyed")).label == 1 and outcome_of(_event("forfeited")).label == 1
    o = outcome_of(_event("released", "customs determined that the goods do not infringe"))
    assert (o.label, o.weight, o.outcome) == (0, 1.0, "released_not_infringing")
    o = outcome_of(_event("released", "no reply from the rights holder within 3 working days"))
    assert (o.label, o.weight, o.outcome) == (0, NO_ACTION_WEIGHT, "released_no_action")
    assert outcome_of(_event("handed_to_court")).label is None
    assert outcome_of(_event("detained")) is None and outcome_of(_event("suspended")) is None
    assert line_of(_event("confiscated")) == ("CN5300-2026-0000123", 2)


def test_a_consignment_case_labels_each_line_by_its_own_status() -> None:
    from shared.contracts.events import CaseLineEventV1

    def consignment(state: str, lines: dict[int, str], reason: str | None = None) -> CaseEventV1:
        return CaseEventV1(
            case_id="IPR-CN5300-2026-0000123-RH-0001",
            seq=20,
            state=state,
            event="x",
            detail={"reason": reason} if reason else {},
            at=datetime(2026, 11, 2, tzinfo=UTC),
            declaration_id="CN5300-2026-0000123",
            line_no=1,
            line_nos=sorted(lines),
            lines=[CaseLineEventV1(line_no=n, status=s) for n, s in lines.items()],
        )

    got = {
        n: (o.label, o.weight, o.outcome)
        for _, n, o in line_outcomes(
            consignment("confiscated", {1: "confiscated", 2: "confiscated", 3: "released", 4: "withdrawn"})
        )
    }
    assert got == {1: (1, 1.0, "confiscated"), 2: (1, 1.0, "confiscated"), 3: (0, 1.0, "released_not_infringing")}
    silence = line_outcomes(consignment("released", {1: "released", 2: "released"}, "no reply within 3 working days"))
    assert [(n, o.label, o.weight) for _, n, o in silence] == [(1, 0, NO_ACTION_WEIGHT), (2, 0, NO_ACTION_WEIGHT)]
    assert line_outcomes(consignment("detained", {1: "held"})) == []  # not an outcome yet
    # a per-line case's event labels its one line
    assert [(d, n) for d, n, _ in line_outcomes(_event("confiscated"))] == [("CN5300-2026-0000123", 2)]


# ---------------------------------------------------------------- training


def _data(n: int = 400, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, len(F.NAMES)))
    for j in F.CATEGORICAL_INDEX:
        X[:, j] = rng.integers(0, 5, n)
    y = (X[:, 0] + 0.3 * rng.random(n) > 0.8).astype(int)
    times = np.arange(n, dtype=float)
    unbiased = rng.random(n) < 0.5
    return X, y, np.ones(n), times, unbiased, X[:, 0], np.zeros(n, dtype=bool)


def test_training_is_deterministic_with_a_seed() -> None:
    a = fit(*_data(), seed=11)
    b = fit(*_data(), seed=11)
    assert a.artefact == b.artefact and a.metrics == b.metrics
    assert a.metrics["split"] == {"train": 300, "validation": 100, "validation_share": 0.25}  # time-ordered
    assert a.metrics["validation"]["model"]["auc"] > 0.8
    assert load_booster(a.artefact).num_feature() == len(F.NAMES)


def test_training_refuses_too_few_labels_or_one_class() -> None:
    X, y, w, t, u, r, s = _data(30)
    with pytest.raises(TrainingRefused, match="only 30 labelled lines"):
        fit(X, y, w, t, u, r, s)
    X, y, w, t, u, r, s = _data(200)
    with pytest.raises(TrainingRefused, match="0 infringing"):
        fit(X, np.zeros(200), w, t, u, r, s)


def test_explanations_sum_to_the_score() -> None:
    booster = fit(*_data(), seed=3).booster
    X = _data(50, seed=9)[0]
    p = booster.predict(X)
    contrib = booster.predict(X, pred_contrib=True)
    assert np.allclose(contrib.sum(axis=1), np.log(p / (1 - p)), atol=1e-6)


def test_schema_mismatch_is_refused_on_load() -> None:
    import lightgbm as lgb

    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1},
        lgb.Dataset(np.random.default_rng(0).random((50, 5)), label=[0, 1] * 25),
        num_boost_round=2,
    )
    with pytest.raises(ValueError, match="features"):
        load_booster(booster.model_to_string())


# ---------------------------------------------------------------- promotion gate


def test_gate_needs_control_labels_and_no_worse_metrics() -> None:
    good = {"n": 60, "positives": 6, "auc": 0.95, "average_precision": 0.8, "recall": 0.9, "fpr": 0.01}
    worse = {**good, "recall": 0.5}
    rules = {"n": 60, "positives": 6, "auc": 0.7, "average_precision": 0.5, "recall": 0.6, "fpr": 0.01}
    assert gate({"control": {"model": good, "rules": rules}}, None)[0] is True
    ok, failed, _ = gate({"control": {"model": worse, "rules": rules}}, None)
    assert not ok and failed == ["recall 0.5 below the current 0.6"]
    ok, failed, _ = gate({"control": {"model": {**good, "n": 5}, "rules": rules}}, None)
    assert not ok and "at least 20" in failed[0]
    champ = ModelVersion(version="m-0001")
    ok, _, compared = gate({"control": {"model": good, "rules": rules, "champion": {**good, "auc": 0.97}}}, champ)
    assert not ok and compared["compared_with"] == "champion"
    assert at_least_as_good({**good, "fpr": 0.02}, good) == (False, ["fpr 0.02 above the current 0.01"])


def test_metrics_count_what_they_claim() -> None:
    m = evaluate([1, 1, 0, 0, 0], [0.9, 0.2, 0.8, 0.1, 0.1])
    assert (m["recall"], m["precision"], m["fpr"], m["auc"]) == (0.5, 0.5, pytest.approx(1 / 3, abs=1e-4), 0.8333)
    assert model_points([0.4, 0.5, 0.75, 0.95, 1.0]).tolist() == [0.0, 0.0, 0.4, 0.72, 0.8]
    assert flagged([0.65, 0.3], [False, False], [0.8, 0.6]).tolist() == [True, False]


# ---------------------------------------------------------------- serving


def _model_row(version: str, artefact: str | bytes, schema: str = F.SCHEMA) -> ModelVersion:
    return ModelVersion(
        version=version,
        status="champion",
        schema=schema,
        artefact=artefact if isinstance(artefact, bytes) else artefact.encode(),
        reference={},
    )


def test_a_model_that_does_not_load_keeps_the_rules() -> None:
    server = ModelServer()
    failures = server.install(_model_row("m-0001", b"not a model"), None)
    assert failures and failures[0][0] == "m-0001" and server.champion is None
    trained = fit(*_data(), seed=1)
    assert server.install(_model_row("m-0002", trained.artefact, schema="f0"), None)[0][1].startswith("ValueError")
    d, a = _line("beats solo wireless headphones", "851830", 5.0)
    before = a.lines[0].model_dump()
    rows = server.apply([(d, a)], INDEX, RATES)
    assert a.lines[0].model_dump() == before and rows[0]["model_version"] is None  # rules alone, features stored
    assert not server.install(_model_row("m-0003", trained.artefact), None) and server.champion.version == "m-0003"


def _world_model() -> str:
    """A model trained on the simulated world's outcomes (the simulator's own weeks)."""
    table = sim.run(weeks=3, lines=1200, holdout=10, prevalence=0.05, control_rate=0.05, seed=5, out=lambda *_: None)
    assert table
    return sim.LAST_TRAINED["artefact"]


def test_champion_explains_and_raises_the_lane_shadow_changes_nothing() -> None:
    artefact = _world_model()
    d, a = _line("beats solo wireless headphones", "851830", 5.0)
    rules_lane, rules_score = a.lines[0].lane, a.lines[0].score
    shadow = ModelServer()
    shadow.install(
        None, ModelVersion(version="m-0009", status="shadow", schema=F.SCHEMA, artefact=artefact.encode(), reference={})
    )
    rows = shadow.apply([(d, a)], INDEX, RATES)
    assert (a.lines[0].lane, a.lines[0].score) == (rules_lane, rules_score)  # scored and stored, not used
    assert rows[0]["shadow_version"] == "m-0009" and rows[0]["shadow_score"] > 0.5
    assert not any(c.signal == "model" for c in a.lines[0].contributions)
    champion = ModelServer()
    champion.install(_model_row("m-0009", artefact), None)
    d, a = _line("beats solo wireless headphones", "851830", 5.0)
    champion.apply([(d, a)], INDEX, RATES)
    line = a.lines[0]
    model = [c for c in line.contributions if c.signal == "model"]
    assert len(model) == 1 and model[0].points > 0 and "model m-0009: probability" in model[0].reason
    assert "strongest factors" in model[0].reason and model[0].reason in line.reasons
    assert line.score == round(min(1.0, rules_score + model[0].points), 2) and line.lane == "red"
    assert line.suspected is False  # only the rules make a line suspected
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("ipr_risk_model_hit_rate") == 1.0  # from the first batch on


def test_simulated_weeks_learning_raises_recall_on_the_planted_pattern() -> None:
    table = sim.run(weeks=4, lines=1500, holdout=800, prevalence=0.03, control_rate=0.03, seed=7, out=lambda *_: None)
    last = table[-1]
    assert last["pattern_recall_rules"] < 0.5
    assert last["pattern_recall_model"] >= 0.9
    assert last["fpr_model"] <= last["fpr_rules"] + 0.01 and last["fpr_model"] <= 0.02


def test_the_batch_histogram_exposes_what_a_histogram_fed_one_value_at_a_time_exposes() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from services.risk.learning.serving import BatchHistogram

    bounds = (0.05, 0.1, 0.5, 0.9)
    values = np.array([0.0, 0.05, 0.07, 0.1, 0.3, 0.5, 0.5, 0.91, 1.0, 0.9])
    one_by_one, batched = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("ipr_x_score", "doc", ["role"], buckets=bounds, registry=one_by_one)
    for v in values:
        reference.labels("champion").observe(float(v))
    mine = BatchHistogram("ipr_x_score", "doc", "role", buckets=bounds, registry=batched)
    mine.observe_many("champion", values[:4])
    mine.observe_many("champion", values[4:])

    def samples(registry: CollectorRegistry) -> dict:
        text = generate_latest(registry).decode()
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line and not line.startswith("#") and "_created" not in line
        }

    assert samples(batched) == pytest.approx(samples(one_by_one))
    assert samples(batched)['ipr_x_score_bucket{le="0.05",role="champion"}'] == 2  # a bound is in its own bucket


def test_the_officers_case_names_the_models_points_beside_the_rules() -> None:
    from services.risk.pipeline import with_model_reasons
    from shared.contracts.events import ContributionV1
    from tests.factories import case_input

    _, a = _line("beats solo wireless headphones", "851830", 5.0)
    case = case_input()
    assert with_model_reasons([case], a) == [case]  # no champion: the case is as the rules made it
    said = "model m-0009: probability 0.97 of infringement (+0.75); strongest factors (log-odds): mark #121 (+3.68)"
    a.lines[0].contributions.append(ContributionV1(signal="model", points=0.75, reason=said))
    [explained] = with_model_reasons([case], a)
    assert explained.reasons == [*case.reasons, said]
    other = case_input(case_id="IPR-T-1-L2").model_copy(update={"line_no": 2})
    assert with_model_reasons([other], a) == [other]  # another line of the declaration: nothing added
