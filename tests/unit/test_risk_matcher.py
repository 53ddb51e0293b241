"""Risk matcher: normalisation, the registry index and per-line assessment (pure)."""

from __future__ import annotations

import pytest

from services.risk.matcher import RegistryIndex, Scoring, assess_line, compact, normalise
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from tests.factories import example_declaration, example_recordation

SCORING = Scoring()
LICENSEE_ID = "91440300MA5ZZZZ3"  # from the example recordation


# --- normalise / compact ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NIKE", "nike"),
        ("Nike.", "nike"),
        ("  nIkE!!  ", "nike"),
        ("ＮＩＫＥ", "nike"),  # full-width letters
        ("Ｎｉｋｅ　Ａｉｒ", "nike air"),  # full-width + ideographic space
        ("Nike-Air", "nike air"),
        ("NIKE,AIR...MAX", "nike air max"),
        ("N I K E", "n i k e"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold
        ("ＡＢＣ１２３", "abc123"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("N I K E", "nike"),
        ("n.i.k.e", "nike"),
        ("ＮＩＫＥ", "nike"),
        ("Ｎ　Ｉ　Ｋ　Ｅ", "nike"),
        ("NIKE AIR", "nikeair"),
        ("Nike   Air!", "nikeair"),
        ("  ", ""),
    ],
)
def test_compact(text: str, expected: str) -> None:
    assert compact(text) == expected


# --- helpers ----------------------------------------------------------------------------


def rec(**changes) -> RecordationV1:
    return RecordationV1.model_validate(example_recordation(**changes))


def decl(line: dict | None = None, **changes) -> DeclarationV1:
    data = example_declaration(**changes)
    if line:
        data["lines"][0].update(line)
    return DeclarationV1.model_validate(data)


def assess(recordations: list[RecordationV1], declaration: DeclarationV1, line_index: int = 0):
    index = RegistryIndex.build(recordations)
    return assess_line(index, declaration, declaration.lines[line_index], SCORING)


# --- index ------------------------------------------------------------------------------


def test_index_build_keys_title_and_aliases_by_jurisdiction_and_compact_form() -> None:
    index = RegistryIndex.build([rec()])
    assert index.size == 1
    assert [e.kind for e in index.lookup("CN", "nike")] == ["exact"]
    assert [e.term for e in index.lookup("CN", "nikeair")] == ["NIKE AIR"]
    assert [e.kind for e in index.lookup("CN", "swoosh")] == ["alias"]
    assert index.lookup("CN", "NIKE") == []  # keys are compacted
    assert index.lookup("US", "nike") == []


@pytest.mark.parametrize("status", ["pending", "expired", "revoked", "refused"])
def test_index_skips_inactive_recordations(status: str) -> None:
    index = RegistryIndex.build([rec(status=status)])
    assert index.size == 0
    assert index.lookup("CN", "nike") == []


# --- assess_line ------------------------------------------------------------------------


def test_brand_hit_on_recorded_goods_is_suspected_and_red() -> None:
    r = rec()
    result = assess([r], decl())
    a = result.assessment
    assert a.suspected is True
    assert a.lane == "red"
    assert a.line_no == 1
    assert a.score == 1.0  # brand 0.6 + HS 0.2 + undervalued 0.2
    assert result.best == r
    assert result.best_term == "NIKE"
    assert len(a.hits) == 1
    assert a.hits[0].recordation_id == "CN-T-2019-004211"
    assert a.hits[0].match == "exact"
    assert "brand field names recorded mark 'NIKE' (+0.60)" in a.reasons
    assert "HS 640411 is among the recorded goods (+0.20)" in a.reasons


def test_undervaluation_adds_a_reason() -> None:
    a = assess([rec()], decl()).assessment  # 4.20 USD vs genuine minimum 35 USD (x 0.5 = 17.50)
    undervalue = [r for r in a.reasons if "below" in r]
    assert len(undervalue) == 1
    assert "4.2 USD" in undervalue[0] and "genuine minimum 35" in undervalue[0] and "50%" in undervalue[0]
    assert undervalue[0].endswith("(+0.20)")


@pytest.mark.parametrize(
    ("unit_value", "undervalued", "score"),
    [("17.49", True, 1.0), ("17.50", False, 0.8), ("20", False, 0.8), ("100", False, 0.8)],
)
def test_undervaluation_threshold(unit_value: str, undervalued: bool, score: float) -> None:
    a = assess([rec()], decl(line={"unit_value": unit_value})).assessment
    assert any("below" in r for r in a.reasons) is undervalued
    assert a.score == score
    assert a.suspected is True and a.lane == "red"


def test_undervaluation_needs_same_currency() -> None:
    a = assess([rec()], decl(currency="EUR")).assessment
    assert not any("below" in r for r in a.reasons)
    assert a.score == 0.8


def test_hs_outside_recorded_goods_is_not_suspected() -> None:
    result = assess([rec()], decl(line={"hs_code": "950300"}))
    a = result.assessment
    assert a.suspected is False
    assert result.best is None and result.best_term is None
    assert a.score == 0.2  # 0.6 - 0.4
    assert a.lane == "green"
    assert "HS 950300 is outside the recorded goods (-0.40)" in a.reasons
    assert len(a.hits) == 1  # still reported as a hit, with its reasons


def test_hs_outside_but_undervalued_is_yellow_not_suspected() -> None:
    r = rec(genuine_unit_value=[{"hs_prefix": "95", "min": 35, "currency": "USD"}])
    a = assess([r], decl(line={"hs_code": "950300"})).assessment
    assert a.score == 0.4  # 0.6 - 0.4 + 0.2
    assert a.suspected is False
    assert a.lane == "yellow"


def test_licensee_consignor_is_not_suspected() -> None:
    d = decl(consignor={"id": LICENSEE_ID, "name": "Some other name", "country": "CN"})
    result = assess([rec()], d)
    a = result.assessment
    assert a.suspected is False
    assert result.best is None
    assert a.score == 0.1
    assert a.lane == "green"
    assert "consignor or consignee is a recorded licensee of the mark (not suspect)" in a.reasons


def test_licensee_matched_by_name_on_consignee() -> None:
    d = decl(consignee={"id": "X-1", "name": "NIKE SPORTS (CHINA) CO LTD", "country": "US"})
    a = assess([rec()], d).assessment
    assert a.suspected is False
    assert a.score == 0.1


@pytest.mark.parametrize(
    ("role", "party"),
    [
        ("consignee", {"id": "RH-0001", "name": "Nike Innovate C.V.", "country": "NL"}),  # by id
        ("consignor", {"id": "NL-8123", "name": "NIKE INNOVATE CV", "country": "NL"}),  # by name
    ],
)
def test_goods_consigned_to_or_from_the_holder_itself_are_not_suspected(role: str, party: dict) -> None:
    # At the genuine price (USD 35 a pair) such a shipment scored 0.80 (brand 0.60 + recorded goods 0.20).
    d = decl(line={"unit_value": "35.00"}, **{role: party})
    result = assess([rec()], d)
    a = result.assessment
    assert a.suspected is False and result.best is None
    assert a.score == 0.1 and a.lane == "green"
    assert f"{role} {party['name']!r} is the rights holder itself: its own goods are not suspect" in a.reasons
    # the same shipment to anybody else is suspected
    assert assess([rec()], decl(line={"unit_value": "35.00"})).assessment.suspected is True


def test_recordation_expired_before_submission_does_not_hit() -> None:
    # declaration submitted 2026-11-20T08:15:00Z
    a = assess([rec(valid_until="2026-11-19")], decl()).assessment
    assert a.suspected is False
    assert a.hits == []
    assert a.score == 0.0
    assert a.lane == "green"
    assert a.reasons == ["no recorded right matched"]


def test_recordation_not_yet_valid_does_not_hit() -> None:
    a = assess([rec(valid_from="2026-11-21", valid_until="2030-01-01")], decl()).assessment
    assert a.hits == [] and a.suspected is False


def test_validity_dates_are_inclusive() -> None:
    assert assess([rec(valid_until="2026-11-20")], decl()).assessment.suspected is True
    assert assess([rec(valid_from="2026-11-20")], decl()).assessment.suspected is True


@pytest.mark.parametrize("status", ["pending", "expired", "revoked", "refused"])
def test_inactive_recordation_does_not_hit(status: str) -> None:
    a = assess([rec(status=status)], decl()).assessment
    assert a.hits == [] and a.suspected is False and a.lane == "green"


def test_description_hit_via_multi_word_alias() -> None:
    r = rec(title="ACME", aliases=["NIKE AIR"], genuine_unit_value=[])
    d = decl(line={"brand": None, "description": "Running shoes NIKE AIR MAX style"})
    result = assess([r], d)
    a = result.assessment
    assert len(a.hits) == 1
    assert a.hits[0].match == "alias"
    assert a.hits[0].term == "NIKE AIR"
    assert "description names recorded mark 'NIKE AIR' (an alias of 'ACME') (+0.50)" in a.reasons
    assert a.score == 0.7  # 0.5 + 0.2
    assert a.suspected is True and a.lane == "red"
    assert result.best_term == "NIKE AIR"


@pytest.mark.parametrize("description", ["shoes nike-air", "shoes Nike.Air", "ＮＩＫＥ　ＡＩＲ shoes", "N I K E"])
def test_description_hit_is_normalised(description: str) -> None:
    r = rec(title="N I K E" if description == "N I K E" else "ACME", aliases=["NIKE AIR"], genuine_unit_value=[])
    a = assess([r], decl(line={"brand": None, "description": description})).assessment
    assert len(a.hits) == 1


def test_description_only_hit_outside_recorded_goods_is_green() -> None:
    d = decl(line={"brand": None, "hs_code": "950300", "description": "toy with NIKE print"})
    a = assess([rec()], d).assessment
    assert a.suspected is False
    assert a.score == 0.1  # 0.5 - 0.4
    assert a.lane == "green"


@pytest.mark.parametrize("brand", ["ＮＩＫＥ", "N I K E", "nike.", "Nike"])
def test_brand_hit_is_normalised(brand: str) -> None:
    a = assess([rec()], decl(line={"brand": brand, "description": "sports shoes"})).assessment
    assert a.suspected is True
    assert a.hits[0].match == "exact"


def test_brand_wins_over_description_for_the_same_recordation() -> None:
    a = assess([rec()], decl()).assessment  # brand NIKE and description "... NIKE AIR MAX ..."
    assert len(a.hits) == 1
    assert any(r.startswith("brand field") for r in a.reasons)
    assert not any(r.startswith("description names") for r in a.reasons)


def test_unrelated_line_has_no_hits() -> None:
    result = assess([rec()], decl(), line_index=1)  # handbags, no brand
    a = result.assessment
    assert a.line_no == 2
    assert a.hits == [] and a.suspected is False and a.lane == "green" and a.score == 0.0


def test_other_jurisdictions_recordation_does_not_hit() -> None:
    # Only CN has a rule pack, so a foreign recordation can only exist unvalidated (model_copy).
    foreign = rec().model_copy(update={"jurisdiction": "US", "recordation_id": "US-T-1"})
    index = RegistryIndex.build([foreign])
    assert index.size == 1
    assert index.lookup("US", "nike") and not index.lookup("CN", "nike")
    d = decl()
    a = assess_line(index, d, d.lines[0], SCORING).assessment
    assert a.hits == [] and a.suspected is False


def test_best_of_several_suspected_hits() -> None:
    strong = rec()  # brand NIKE, undervalued -> 1.0
    weak = rec(recordation_id="CN-T-2020-000001", title="AIR MAX", aliases=[], genuine_unit_value=[])  # desc 0.7
    result = assess([weak, strong], decl())
    assert {h.recordation_id for h in result.assessment.hits} == {"CN-T-2019-004211", "CN-T-2020-000001"}
    assert result.best == strong
    assert result.assessment.score == 1.0


def test_same_instant_gives_same_validity_whatever_the_utc_offset() -> None:
    """Validity must not depend on how the same submission instant is written.

    2029-02-28T20:00:00Z and 2029-03-01T04:00:00+08:00 are the same instant (already
    1 March in Shanghai); the recordation is valid until 2029-02-28.
    """
    r = rec(valid_until="2029-02-28")
    in_utc = decl(submitted_at="2029-02-28T20:00:00Z")
    in_shanghai = decl(submitted_at="2029-03-01T04:00:00+08:00")
    assert in_utc.submitted_at == in_shanghai.submitted_at
    assert assess([r], in_utc).assessment.suspected == assess([r], in_shanghai).assessment.suspected
