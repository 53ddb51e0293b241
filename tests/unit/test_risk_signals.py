"""Risk scoring rules one by one: normalisation tricks, match kinds, descriptive use, common words, the line
signals (vague text, small parcels, transit hubs, trader history, profiles, counterfeit vocabulary), known
infringers, lanes, office capacity and the random control sample."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.risk.capacity import CapacityGovernor
from services.risk.matcher import RegistryIndex, find_candidates
from services.risk.normalise import collapse, fold_key, tokens
from services.risk.profiles import ProfileSet, TargetingProfileV1
from services.risk.scoring import Context, Scoring, assess_line, random_draw
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from tests.factories import example_declaration, example_recordation

S = Scoring(fx_rates_to_cny={"CNY": Decimal(1), "USD": Decimal("7.10"), "EUR": Decimal("7.75")})


def rec(**changes) -> RecordationV1:
    return RecordationV1.model_validate(example_recordation(**changes))


def decl(line: dict | None = None, **changes) -> DeclarationV1:
    data = example_declaration(**changes)
    data["lines"] = [{**data["lines"][0], "unit_value": 50, **(line or {})}]
    return DeclarationV1.model_validate(data)


def run(recs, d, scoring=S, context=None):
    return assess_line(RegistryIndex.build(recs), d, d.lines[0], scoring, context).assessment


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("NIKE", "nike"),
        ("N I K E", "nike"),
        ("N.I.K.E.", "nike"),
        ("ＮＩＫＥ", "nike"),
        ("Nіke", "nike"),
        ("ΝΙΚΕ", "nike"),
        ("Nïke", "nike"),
        ("N1KE", "nike"),
        ("NlKE", "nike"),
        ("NIKE™", "nike"),
        ("NIKE®", "nike"),
        ("ADIDA5", "adidas"),
        ("4DID4S", "adidas"),
        ("ADID@S", "adidas"),
        ("$AMSUNG", "samsung"),
        ("GUCC!", "gucci"),
        ("R0LEX", "rolex"),
        ("8URBERRY", "burberry"),
        ("Hermès", "hermes"),
        ("СНАNЕL", "chanel"),
    ],
)
def test_fold_key_defeats_the_usual_tricks(text: str, key: str) -> None:
    assert fold_key(text) == key


def test_digits_stay_digits_in_numbers_and_one_reads_as_i_or_l() -> None:
    assert tokens("iPhone 15 size 42").folded == ["iphone", "15", "size", "42"]
    t = tokens("APP1E")
    assert t.folded == ["appie"] and t.folded_alt == ["apple"]


def test_collapse_doubled_letters() -> None:
    assert collapse("guccci") == "guci" == collapse("gucci")
    assert collapse("nikee") == "nike"


# --- match kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brand", "match"),
    [
        ("NIKE", "exact"),
        ("nike.", "exact"),
        ("N I K E", "exact"),
        ("SWOOSH", "alias"),
        ("N1KE", "normalised"),
        ("Nіke", "normalised"),
        ("Nikee", "fuzzy"),
    ],
)
def test_match_kinds(brand: str, match: str) -> None:
    a = run([rec()], decl({"brand": brand, "description": "sports shoes"}))
    assert a.suspected and a.hits[0].match == match


def test_disguised_mark_scores_higher_than_the_plain_one_and_names_the_trick() -> None:
    plain = run([rec()], decl({"brand": "NIKE", "description": "shoes"}))
    disguised = run([rec()], decl({"brand": "N1KE", "description": "shoes"}))
    assert disguised.score == plain.score + 0.1
    assert any("disguised" in r and "digits" in r for r in disguised.reasons)


def test_fuzzy_is_bounded_and_does_not_turn_short_marks_into_other_words() -> None:
    r = rec(title="PRADA", aliases=[], goods_hs_prefixes=["4202"], genuine_unit_value=[])
    assert run([r], decl({"brand": "Pradda", "hs_code": "420221", "description": "bags"})).suspected
    assert not run([r], decl({"brand": "PRADO", "hs_code": "420221", "description": "bags"})).hits  # substitution
    assert not run([r], decl({"brand": "PRXDX", "hs_code": "420221", "description": "bags"})).hits


def test_fuzzy_never_applies_to_ordinary_words_in_the_text() -> None:
    r = rec(title="APPLY", aliases=[], goods_hs_prefixes=["6404"], genuine_unit_value=[])  # hypothetical mark
    index = RegistryIndex.build([r])
    assert find_candidates(index, "CN", "description", "shoes apple leather") == []


def test_descriptive_use_is_recognised_and_scored_lower() -> None:
    r = rec(title="APPLE", aliases=["IPHONE"], goods_hs_prefixes=["8517", "3926"], genuine_unit_value=[])
    a = run([r], decl({"brand": None, "hs_code": "392690", "description": "case compatible with iPhone 15"}))
    assert a.hits[0].match == "descriptive" and not a.suspected
    assert any("descriptively" in x for x in a.reasons)
    branded = run([r], decl({"brand": None, "hs_code": "392690", "description": "iPhone 15 case"}))
    assert branded.hits[0].match == "alias" and branded.score > a.score


@pytest.mark.parametrize(
    "description", ["NIKE compatible shoe laces", "nike-compatible insoles", "Nike 270 replacement laces"]
)
def test_a_cue_right_after_the_mark_is_descriptive_use_too(description: str) -> None:
    a = run([rec()], decl({"brand": None, "description": description}))
    assert a.hits[0].match == "descriptive" and not a.suspected, (description, a.hits[0].match, a.score)


@pytest.mark.parametrize(
    "description",
    ["nike running shoes compatible with orthotics", "nike air max 90 sneakers", "NIKE shoes replacement"],
)
def test_a_cue_further_after_the_mark_is_not(description: str) -> None:
    a = run([rec()], decl({"brand": None, "description": description}))
    assert a.hits[0].match != "descriptive", description


def test_descriptive_cue_only_right_before_the_mark() -> None:
    a = run([rec()], decl({"brand": None, "description": "shoes for men nike air max"}))
    assert a.hits[0].match != "descriptive" and a.suspected
    a = run([rec()], decl({"brand": None, "description": "laces for the Nike shoes"}))
    assert a.hits[0].match == "descriptive"


def test_brand_field_overrides_descriptive_wording() -> None:
    a = run([rec()], decl({"brand": "NIKE", "description": "insoles for nike shoes"}))
    assert a.hits[0].match == "exact" and a.suspected


def test_common_word_mark_outside_recorded_goods_is_no_hit_at_all() -> None:
    r = rec(title="APPLE", aliases=[], common_word=True, goods_hs_prefixes=["8517"], genuine_unit_value=[])
    assert run([r], decl({"brand": None, "hs_code": "200971", "description": "apple juice"})).hits == []
    # a distinctive mark outside its goods is still shown, without suspicion
    a = run([rec()], decl({"brand": "NIKE", "hs_code": "950300", "description": "toy"}))
    assert a.hits and not a.suspected


def test_common_word_in_description_is_weak_and_not_compared_with_genuine_value() -> None:
    r = rec(
        title="GAP",
        aliases=[],
        common_word=True,
        goods_hs_prefixes=["6109"],
        genuine_unit_value=[{"hs_prefix": "6109", "min": 8, "currency": "USD"}],
    )
    a = run([r], decl({"brand": None, "hs_code": "610910", "description": "gap year t-shirt", "unit_value": 1}))
    assert not a.suspected and a.score == 0.55
    assert run([r], decl({"brand": "GAP", "hs_code": "610910", "description": "t-shirt", "unit_value": 1})).suspected


def test_licensee_is_not_suspect_even_with_a_disguised_mark() -> None:
    d = decl({"brand": "N1KE"}, consignor={"id": "91440300MA5ZZZZ3", "name": "x", "country": "CN"})
    a = run([rec()], d)
    assert not a.suspected and a.score <= 0.1


def test_undervaluation_converts_currencies() -> None:
    a = run([rec()], decl({"unit_value": 4}, currency="EUR"))  # 35 USD ≈ 32 EUR
    assert any("below 50% of the genuine minimum 35.0 USD (≈" in r for r in a.reasons)


def test_known_infringer_and_port() -> None:
    r = rec(known_infringers={"exporters": [{"id": "91440300MA5YYYY2", "name": "whatever"}], "ports": ["CN5300"]})
    a = run([r], decl({"brand": None, "description": "shoes", "model": None}))
    assert a.hits == []  # no mark, no hit: infringer lists only strengthen a mark hit
    a = run([r], decl({"brand": "NIKE", "description": "shoes"}))
    signals = {c.signal for c in a.contributions}
    assert {"known_infringer", "infringer_port"} <= signals


def test_unusual_port_for_genuine_goods() -> None:
    a = run([rec(genuine_ports=["CN2200"])], decl({"brand": "NIKE", "description": "shoes"}))
    assert "unusual_port" in {c.signal for c in a.contributions}


def test_counterfeit_vocabulary_with_and_without_a_mark() -> None:
    a = run([rec()], decl({"brand": None, "description": "replica nike shoes", "hs_code": "640411"}))
    assert "counterfeit_vocabulary" in {c.signal for c in a.contributions} and a.suspected
    a = run([rec()], decl({"brand": None, "description": "AAA quality handbag", "hs_code": "420221"}))
    assert not a.suspected and a.score == 0.25


def test_expired_or_not_yet_valid_recordation_is_ignored() -> None:
    assert run([rec(valid_until="2026-11-19")], decl()).hits == []
    assert run([rec(valid_from="2026-11-21", valid_until="2036-11-20")], decl()).hits == []


# --- line signals ---------------------------------------------------------------------------------


def contributions(d: DeclarationV1, context: Context | None = None) -> dict[str, float]:
    a = run([], d, S, context)
    return {c.signal: c.points for c in a.contributions}


def test_vague_description() -> None:
    assert contributions(decl({"description": "gift", "brand": None}))["vague_description"] == 0.15
    assert "vague_description" not in contributions(decl({"description": "cotton gift bags", "brand": None}))


def test_small_post_or_express_parcel() -> None:
    d = decl({"quantity": 2, "unit_value": 20}, transport_mode="express")
    assert contributions(d)["small_parcel"] == 0.1
    assert "small_parcel" not in contributions(decl({"quantity": 2, "unit_value": 20}, transport_mode="sea"))
    assert "small_parcel" not in contributions(decl({"quantity": 500, "unit_value": 20}, transport_mode="post"))


def test_transit_hub_or_free_zone() -> None:
    assert contributions(decl(transit_countries=["AE"]))["transit_route"] == 0.1
    assert "transit_route" not in contributions(decl(transit_countries=["DE"]))
    assert contributions(decl(procedure="bonded free zone"))["free_zone"] == 0.1


class _History:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def confiscations(self, trader_id: str) -> int:
        return self.counts.get(trader_id, 0)


def test_trader_history_is_capped() -> None:
    assert contributions(decl(), Context(history=_History({"91440300MA5YYYY2": 1})))["trader_history"] == 0.2
    many = Context(history=_History({"91440300MA5YYYY2": 5, "US-EIN-12-3456789": 1}))
    assert contributions(decl(), many)["trader_history"] == 0.4


def test_profile_adds_its_weight_and_is_reported() -> None:
    p = TargetingProfileV1.model_validate(
        {
            "profile_id": "P-1",
            "name": "sneakers to US",
            "owner": "officer.li",
            "weight": 0.45,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "conditions": [
                {"field": "line.hs_code", "op": "prefix", "value": "6404"},
                {"field": "destination_country", "op": "eq", "value": "US"},
            ],
        }
    )
    a = run([], decl(), S, Context(profiles=ProfileSet([p])))
    assert a.profile_ids == ["P-1"] and a.score == 0.45 and a.lane == "yellow" and not a.suspected
    assert any("targeting profile P-1" in r and "officer.li" in r for r in a.reasons)


# --- lanes, capacity, random sample ---------------------------------------------------------------


def test_lane_thresholds() -> None:
    assert run([], decl()).lane == "green"
    assert run([], decl({"description": "gift"}, transit_countries=["AE"], transport_mode="post")).lane in (
        "green",
        "yellow",
    )
    a = run([rec()], decl({"brand": "NIKE", "hs_code": "950300"}))  # 0.2, not suspected
    assert a.lane == "green"


def test_capacity_raises_the_red_threshold_of_a_busy_office() -> None:
    gov = CapacityGovernor(default_share=0.1, base_threshold=0.7, window=1000, min_samples=100, recompute_every=10)
    for i in range(1000):
        gov.observe("CN5300", 0.9 if i % 4 == 0 else 0.1)  # 25% of lines would be red
    assert gov.threshold("CN5300") > 0.9 - 1e-9
    assert gov.threshold("CN2200") == 0.7
    scoring = Scoring(red_threshold=0.7, yellow_threshold=0.4)
    p = TargetingProfileV1.model_validate(
        {
            "profile_id": "P-2",
            "name": "all",
            "owner": "o",
            "weight": 0.75,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "conditions": [{"field": "direction", "op": "eq", "value": "export"}],
        }
    )
    ctx = Context(profiles=ProfileSet([p]), red_threshold_for=gov.threshold)
    a = run([], decl(), scoring, ctx)
    assert a.score == 0.75 and a.lane == "yellow"
    assert any("red capacity" in r for r in a.reasons)
    # a suspected line is red whatever the capacity
    assert run([rec()], decl({"unit_value": 4}), scoring, ctx).lane == "red"


def test_capacity_share_per_office() -> None:
    gov = CapacityGovernor(default_share=0.05, by_office={"CN5300": 0.5}, base_threshold=0.7)
    assert gov.share("CN5300") == 0.5 and gov.share("X") == 0.05


def test_random_selection_is_reproducible_and_near_its_rate() -> None:
    d = decl()
    assert random_draw(d, 1, "s") == random_draw(d, 1, "s")
    assert random_draw(d, 1, "s") != random_draw(d, 1, "t")
    scoring = Scoring(random_rate=0.05, random_salt="x")
    picked = 0
    for i in range(2000):
        di = decl(declaration_id=f"D-{i}")
        a = run([], di, scoring)
        if a.random_selection:
            picked += 1
            assert a.lane == "red" and not a.suspected
            assert any("random selection" in r for r in a.reasons)
    assert 60 <= picked <= 140


def test_assessment_on_date_defaults_to_jurisdiction_local_date() -> None:
    d = decl(submitted_at="2029-02-28T20:00:00Z")  # already 1 March in Shanghai
    assert run([rec(valid_until="2029-02-28")], d).hits == []
    assert assess_line(
        RegistryIndex.build([rec(valid_until="2029-02-28")]), d, d.lines[0], S, on_date=date(2029, 2, 28)
    ).assessment.hits
