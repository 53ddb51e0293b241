"""Pure parts of the risk consumer path: batch merging (group commit), per-batch de-duplication, the
published envelope, and the same assessment for /v1/assess and the consumer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace

from aiokafka import TopicPartition

from services.risk.consumer import DeclarationBatchConsumer
from services.risk.live_registry import scoring_from
from services.risk.matcher import RegistryIndex
from services.risk.pipeline import AssessmentPipeline, assess, envelope_json
from services.risk.scoring import Context
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import EventEnvelope, RiskAssessedV1, deterministic_event_id
from shared.contracts.recordation import RecordationV1
from tests.factories import example_declaration, example_recordation

SETTINGS = SimpleNamespace(
    suspect_threshold=0.6,
    red_threshold=0.7,
    yellow_threshold=0.4,
    undervalue_ratio=__import__("decimal").Decimal("0.5"),
    small_parcel_value_cny=5000,
    transit_hubs=["AE"],
    random_selection_rate=0.0,
    random_selection_salt="s",
    fx_rates_to_cny={"USD": __import__("decimal").Decimal("7.1")},
)


def test_merge_takes_every_waiting_batch_and_keeps_the_highest_offsets() -> None:
    q: asyncio.Queue = asyncio.Queue()
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    q.put_nowait((2.0, 2.0, 3, {a: 20}, ["r2"], {("D-2", 1): "rec2"}))
    q.put_nowait((3.0, 3.0, 1, {a: 25, b: 7}, ["r3"], {("D-3", 1): "rec3"}))
    merged = DeclarationBatchConsumer._merge((1.0, 1.0, 5, {a: 10, b: 4}, ["r1"], {("D-1", 1): "rec1"}), q)
    assert merged == (
        1.0,
        1.0,
        9,
        {a: 25, b: 7},
        ["r1", "r2", "r3"],
        {("D-1", 1): "rec1", ("D-2", 1): "rec2", ("D-3", 1): "rec3"},
    )
    assert q.empty()


def test_prepare_assesses_each_revision_once_per_batch() -> None:
    registry = SimpleNamespace(
        index=RegistryIndex.build([RecordationV1.model_validate(example_recordation())]),
        context=lambda: Context(),
        capacity=None,
        models=None,
    )
    pipeline = AssessmentPipeline(sessionmaker=None, registry=registry, temporal=None, producer=None, settings=SETTINGS)
    d1 = DeclarationV1.model_validate(example_declaration(declaration_id="D-1"))
    d1r2 = DeclarationV1.model_validate(example_declaration(declaration_id="D-1", revision=2))
    rows = pipeline.prepare([d1, d1, d1r2])
    assert [r.key for r in rows] == [("D-1", 1), ("D-1", 2)]
    assert rows[0].case_inputs[0]["case_id"] == "IPR-D-1-RH-0001"  # one case per declaration and holder
    result = json.loads(rows[0].result_json)
    assert RiskAssessedV1.model_validate(result).lines[0].suspected is True


def test_envelope_is_an_event_envelope_with_a_deterministic_id() -> None:
    event_id = str(deterministic_event_id("assessment", "D-1", 1))
    raw = envelope_json(event_id, "D-1", b'{"declaration_id":"D-1"}', datetime(2026, 11, 22, tzinfo=UTC))
    env = EventEnvelope.model_validate_json(raw)
    assert str(env.event_id) == event_id and env.event_type == "risk.assessed" and env.producer == "risk"
    assert env.correlation_id == "D-1" and env.payload == {"declaration_id": "D-1"}


def test_assess_for_the_api_and_the_consumer_is_the_same_function() -> None:
    index = RegistryIndex.build([RecordationV1.model_validate(example_recordation())])
    d = DeclarationV1.model_validate(example_declaration())
    scoring = scoring_from(SETTINGS)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    first, cases, _ = assess(d, index, scoring, SETTINGS.fx_rates_to_cny, Context(), now=now)
    again, _, _ = assess(d, index, scoring, SETTINGS.fx_rates_to_cny, Context(), now=now)
    assert first == again
    assert [c.case_id for c in cases] == first.case_ids == ["IPR-CN5300-2026-0000123-RH-0001"]
    assert [ln.line_no for ln in cases[0].lines] == [1] and first.lines[0].case_id == cases[0].case_id
    assert cases[0].mark == "NIKE" and cases[0].goods_value_cny is not None
    assert cases[0].marks_zh == [
        a
        for a in index.by_jurisdiction["CN"].exact["nike"][0].recordation.aliases
        if any("\u4e00" <= ch <= "\u9fff" for ch in a)
    ]


def test_a_case_carries_the_recordations_chinese_marks() -> None:
    rec = RecordationV1.model_validate(example_recordation(aliases=["NIKE AIR", "耐克", "耐吉"]))
    d = DeclarationV1.model_validate(example_declaration())
    _, cases, _ = assess(d, RegistryIndex.build([rec]), scoring_from(SETTINGS), SETTINGS.fx_rates_to_cny, Context())
    assert cases and cases[0].marks_zh == ["耐克", "耐吉"]


def test_only_lines_red_on_their_score_draw_on_the_red_quota() -> None:
    from services.risk.pipeline import quota_lines

    registry = SimpleNamespace(
        index=RegistryIndex.build([RecordationV1.model_validate(example_recordation())]),
        context=lambda: Context(),
        capacity=None,
        models=None,
    )
    settings = SimpleNamespace(**{**vars(SETTINGS), "red_threshold": 0.0, "yellow_threshold": 0.0})
    pipeline = AssessmentPipeline(sessionmaker=None, registry=registry, temporal=None, producer=None, settings=settings)
    row = pipeline.prepare([DeclarationV1.model_validate(example_declaration(declaration_id="D-Q"))])[0]
    suspected, plain = row.lines
    assert suspected.suspected and suspected.lane == "red"  # the NIKE line: red whatever the quota
    assert not plain.suspected and plain.lane == "red"  # red on its score (threshold 0)
    assert [ln.line_no for ln in quota_lines(row)] == [plain.line_no]
    assert row.quota_day is not None and row.assessed is not None
    control = plain.model_copy(update={"random_selection": True})
    row.lines = [suspected, control]
    assert quota_lines(row) == []  # the random control sample is never cut short
