"""E-commerce and export targeting: direction, supervision mode, declared IP status, seller and platform
history, campaigns (scope, sectors, periods, contract), the personal-use test per jurisdiction, and parcels
assessed as consignments with their per-parcel results."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.risk.campaigns import CampaignSet, CampaignV1
from services.risk.matcher import RegistryIndex
from services.risk.parcels import parcel_result
from services.risk.pipeline import assess
from services.risk.scoring import DEFAULT_DIRECTION_WEIGHTS, DEFAULT_MODE_WEIGHTS, Context, Scoring, assess_line
from shared.contracts.declaration import DeclarationV1
from shared.contracts.parcels import ManifestV1, to_declaration
from shared.contracts.recordation import RecordationV1
from shared.rules.pack import rule_pack
from shared.rules.personal_use import personal_use
from tests.factories import example_declaration, example_manifest, example_recordation

RATES = {"CNY": Decimal(1), "USD": Decimal("7.10")}
PLAIN = Scoring(fx_rates_to_cny=RATES)
WEIGHTED = Scoring(
    fx_rates_to_cny=RATES, direction_weights=dict(DEFAULT_DIRECTION_WEIGHTS), mode_weights=dict(DEFAULT_MODE_WEIGHTS)
)
NIKE = RecordationV1.model_validate(example_recordation())


def decl(line: dict | None = None, **changes) -> DeclarationV1:
    data = example_declaration(**changes)
    data["lines"] = [{**data["lines"][1], **(line or {})}]  # the unbranded handbags line
    return DeclarationV1.model_validate(data)


def run(d: DeclarationV1, scoring: Scoring = WEIGHTED, context: Context | None = None, recs=(NIKE,)):
    return assess_line(RegistryIndex.build(list(recs)), d, d.lines[0], scoring, context).assessment


def signals(a) -> dict[str, float]:
    return {c.signal: c.points for c in a.contributions}


# --- direction and supervision mode ---------------------------------------------------------------


def test_export_from_cn_scores_above_the_same_import() -> None:
    export, imported = run(decl(direction="export")), run(decl(direction="import"))
    assert signals(export)["direction"] == 0.10 and "direction" not in signals(imported)
    assert export.score == pytest.approx(imported.score + 0.10)
    assert any("export from CN" in r for r in export.reasons)


def test_transit_counts_everywhere_and_export_only_where_configured() -> None:
    assert signals(run(decl(direction="transit")))["direction"] == 0.05
    eu = decl(direction="export", jurisdiction="EU")
    assert "direction" not in signals(run(eu))
    assert "direction" not in signals(run(decl(direction="export"), scoring=PLAIN))  # weights are settings


def test_supervision_mode_weights_e_commerce_channels() -> None:
    mail = decl(
        supervision_mode="9610", business_model="B2C", platform={"id": "P1", "name": "Mall"}, transport_mode="express"
    )
    a = run(mail)
    assert signals(a)["supervision_mode"] == 0.10
    assert any("supervision mode 9610" in r for r in a.reasons)
    b2b = decl(supervision_mode="9710", business_model="B2B", platform={"id": "P1", "name": "Mall"})
    assert signals(run(b2b))["supervision_mode"] == 0.05
    assert "supervision_mode" not in signals(run(decl()))


# --- declared IP status ---------------------------------------------------------------------------

BRANDED = {"hs_code": "640411", "description": "Mens sports shoes", "brand": "NIKE", "unit_value": 50}


def test_false_no_brand_on_a_recorded_mark_is_a_signal_with_its_reason() -> None:
    honest = run(decl({**BRANDED}))
    false = run(decl({**BRANDED, "declared_ip_status": "no_brand"}))
    assert signals(false)["ip_status_false"] == 0.2
    assert false.score == pytest.approx(min(1.0, honest.score + 0.2))
    assert any("declared 'no_brand', but the brand field names recorded mark 'NIKE'" in r for r in false.reasons)


def test_own_brand_and_unsupported_licence_claims() -> None:
    own = run(decl({**BRANDED, "declared_ip_status": "own_brand"}))
    assert signals(own)["ip_status_own_brand"] == 0.15
    assert any("recorded to Nike Innovate C.V." in r for r in own.reasons)
    claimed = run(decl({**BRANDED, "declared_ip_status": "licensed"}))
    assert signals(claimed)["ip_status_unsupported"] == 0.1
    licensee = {"id": "91440300MA5ZZZZ3", "name": "Nike Sports (China) Co., Ltd."}
    real = run(decl({**BRANDED, "declared_ip_status": "licensed"}, consignor=licensee))
    assert not real.suspected and "ip_status_unsupported" not in signals(real)


def test_descriptive_use_with_no_brand_is_truthful() -> None:
    line = {"hs_code": "392690", "description": "case for nike shoes", "brand": None, "declared_ip_status": "no_brand"}
    assert "ip_status_false" not in signals(run(decl(line)))


def test_no_brand_with_a_brand_written_is_inconsistent() -> None:
    a = run(decl({"brand": "ZOOMERA", "declared_ip_status": "no_brand"}))
    assert signals(a)["ip_status_inconsistent"] == 0.1
    assert "ip_status_inconsistent" not in signals(run(decl({"brand": "无品牌", "declared_ip_status": "no_brand"})))


# --- seller and platform history ------------------------------------------------------------------


class History:
    def __init__(self, sellers=None, platforms=None) -> None:
        self.sellers, self.platforms = sellers or {}, platforms or {}

    def confiscations(self, trader_id: str) -> int:
        return 0

    def seller_confiscations(self, key: str) -> int:
        return self.sellers.get(key, 0)

    def platform_record(self, platform_id: str) -> tuple[int, int]:
        return self.platforms.get(platform_id, (0, 0))


def test_seller_history_is_counted_per_platform_and_capped() -> None:
    d = decl(
        supervision_mode="9610",
        business_model="B2C",
        platform={"id": "P1", "name": "Mall"},
        seller={"id": "S9", "name": "Shop nine"},
    )
    a = run(d, context=Context(history=History(sellers={"P1/S9": 1})))
    assert signals(a)["seller_history"] == 0.2
    assert any("seller P1/S9 had 1 earlier case ending in confiscation" in r for r in a.reasons)
    assert signals(run(d, context=Context(history=History(sellers={"P1/S9": 5}))))["seller_history"] == 0.4
    assert "seller_history" not in signals(run(d, context=Context(history=History(sellers={"P2/S9": 3})))), (
        "the same seller id on another platform is another seller"
    )


def test_platform_is_judged_by_its_rate_not_its_size() -> None:
    d = decl(supervision_mode="9610", business_model="B2C", platform={"id": "P1", "name": "Mall"})
    high = run(d, context=Context(history=History(platforms={"P1": (12, 5000)})))
    assert signals(high)["platform_history"] == 0.05
    big_clean = run(d, context=Context(history=History(platforms={"P1": (12, 1_000_000)})))
    assert "platform_history" not in signals(big_clean)
    too_few = run(d, context=Context(history=History(platforms={"P1": (5, 500)})))
    assert "platform_history" not in signals(too_few)


# --- campaigns ------------------------------------------------------------------------------------

EXPORT_CAMPAIGN = {
    "campaign_id": "C-2026-EXPORT",
    "name": "export campaign",
    "owner": "GACC IPR division",
    "valid_from": "2026-07-01",
    "valid_until": "2026-12-31",
    "directions": ["export"],
    "weight": 0.2,
    "sectors": [
        {"name": "consumer electronics", "hs_prefixes": ["8517", "8518", "8471", "8528"]},
        {"name": "auto parts", "hs_prefixes": ["8708", "8512", "4011"]},
        {"name": "personal care", "hs_prefixes": ["33", "3401", "8510", "9603"]},
        {"name": "clothing", "hs_prefixes": ["61", "62"]},
        {"name": "bags", "hs_prefixes": ["4202"]},
        {"name": "footwear", "hs_prefixes": ["64"]},
    ],
}


def campaigns(**changes) -> CampaignSet:
    return CampaignSet([CampaignV1.model_validate({**EXPORT_CAMPAIGN, **changes})])


def test_campaign_adds_its_weight_to_lines_of_its_sectors_with_the_reason() -> None:
    a = run(decl(), context=Context(campaigns=campaigns()))  # handbags 420222, export, 2026-11-20
    assert a.campaign_ids == ["C-2026-EXPORT"]
    assert signals(a)["campaign"] == 0.2
    assert any("campaign C-2026-EXPORT 'export campaign': sector bags (HS 4202)" in r for r in a.reasons)
    electronics = run(decl({"hs_code": "851713"}), context=Context(campaigns=campaigns()))
    assert electronics.campaign_ids == ["C-2026-EXPORT"]
    outside = run(decl({"hs_code": "940540"}), context=Context(campaigns=campaigns()))
    assert outside.campaign_ids == [] and "campaign" not in signals(outside)


@pytest.mark.parametrize(
    ("changes", "hits"),
    [
        ({}, True),
        ({"valid_until": "2026-11-19"}, False),  # ended the day before the consignment
        ({"valid_from": "2026-11-21"}, False),  # not yet started
        ({"directions": ["import"]}, False),
        ({"active": False}, False),  # switched off
        ({"customs_offices": ["CN2200"]}, False),
        ({"customs_offices": ["CN5300"]}, True),
        ({"supervision_modes": ["9610"]}, False),  # the declaration names no mode
        ({"transport_modes": ["post", "express"]}, False),  # it goes by sea
        ({"jurisdiction": "EU"}, False),
    ],
)
def test_campaign_scope(changes: dict, hits: bool) -> None:
    a = run(decl(), context=Context(campaigns=campaigns(**changes)))
    assert (a.campaign_ids == ["C-2026-EXPORT"]) is hits


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"valid_until": "2026-06-30"}, "ends (2026-06-30) before it starts"),
        ({"sectors": [{"name": "x", "hs_prefixes": ["8"]}]}, "2 to 6 digits"),
        ({"sectors": [{"name": "x", "hs_prefixes": ["85A"]}]}, "2 to 6 digits"),
        ({"sectors": []}, "at least 1"),
        ({"weight": 0}, "greater than 0"),
        ({"colour": "red"}, "Extra inputs"),
        ({"directions": ["sideways"]}, "import"),
        ({"supervision_modes": ["1234"]}, "9610"),
    ],
)
def test_campaign_contract_refuses_with_the_reason(changes: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        CampaignV1.model_validate({**EXPORT_CAMPAIGN, **changes})
    assert fragment in str(err.value)


# --- personal use ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "mode", "direction", "model", "qty", "applies", "exempt"),
    [
        ("CN", "post", "export", "C2C", 1, True, True),
        ("CN", "express", "import", "C2C", 2, True, True),
        ("CN", "post", "export", "C2C", 3, True, False),  # beyond the reasonable quantity
        ("CN", "post", "export", "B2C", 1, False, False),  # goods sold: not an individual's articles
        ("CN", "sea", "export", "C2C", 1, False, False),  # cargo, not carried or mailed
        ("CN", "post", "transit", "C2C", 1, False, False),
        ("EU", "post", "import", "C2C", 1, False, False),  # the EU exempts travellers' luggage only
        ("US", "post", "import", "C2C", 1, True, True),
        ("US", "post", "import", "C2C", 2, True, False),
        ("US", "express", "import", "C2C", 1, False, False),
    ],
)
def test_personal_use_per_jurisdiction(jurisdiction, mode, direction, model, qty, applies, exempt) -> None:
    answer = personal_use(
        rule_pack(jurisdiction), transport_mode=mode, direction=direction, business_model=model, quantity=Decimal(qty)
    )
    assert (answer.applies, answer.exempt) == (applies, exempt), answer.reason
    assert answer.basis and answer.reason


def test_personal_use_numbers_are_marked_uncertain_and_can_be_overridden(monkeypatch) -> None:
    cn = rule_pack("CN")
    assert cn.settings["personal_use_quantity"].uncertain is True
    assert cn.setting("personal_use_quantity") == 2
    assert rule_pack("EU").setting("personal_use_quantity") is None
    rule_pack.cache_clear()
    monkeypatch.setenv("RULES_CN_PERSONAL_USE_QUANTITY", "5")
    try:
        answer = personal_use(
            rule_pack("CN"), transport_mode="post", direction="export", business_model="C2C", quantity=Decimal(4)
        )
        assert answer.exempt and answer.limit == 5
    finally:
        monkeypatch.delenv("RULES_CN_PERSONAL_USE_QUANTITY")
        rule_pack.cache_clear()


def test_a_personal_parcel_within_the_quantity_opens_no_case_but_says_why() -> None:
    line = {**BRANDED, "quantity": 1, "unit_value": 5}
    gift = decl(line, transport_mode="post", business_model="C2C")
    index = RegistryIndex.build([NIKE])
    assessed, cases, _ = assess(gift, index, PLAIN, RATES)
    a = assessed.lines[0]
    assert not a.suspected and cases == []
    assert any("personal articles in a reasonable quantity" in r for r in a.reasons)
    assert a.hits and a.hits[0].recordation_id == NIKE.recordation_id  # the hit is kept, for the officer
    many = decl({**line, "quantity": 3}, transport_mode="post", business_model="C2C")
    assessed, cases, _ = assess(many, index, PLAIN, RATES)
    assert assessed.lines[0].suspected and len(cases) == 1
    assert any("exceed the reasonable quantity" in r for r in assessed.lines[0].reasons)
    sold = decl(line, transport_mode="post", business_model="B2C")
    assert assess(sold, index, PLAIN, RATES)[0].lines[0].suspected


# --- parcels are consignments ---------------------------------------------------------------------


def test_each_parcel_is_assessed_as_its_own_consignment_with_a_result() -> None:
    m = ManifestV1.model_validate(example_manifest())
    index = RegistryIndex.build([NIKE])
    now = datetime(2026, 11, 20, 7, tzinfo=UTC)
    results = []
    for p in m.parcels:
        d = to_declaration(m, p)
        assessed, cases, _ = assess(d, index, WEIGHTED, RATES, now=now)
        results.append(
            (
                assessed,
                cases,
                parcel_result(
                    assessed, {"manifest_id": m.manifest_id, "parcel_no": p.parcel_no, "waybill_no": p.waybill_no}
                ),
            )
        )
    (a1, cases1, r1), (a2, cases2, r2), (a3, cases3, r3) = results
    assert r1.suspected and r1.lane == "red" and len(cases1) == 1
    assert cases1[0].declaration_id == "CN5300-9610-20261120-0007-P00001" and r1.case_ids == a1.case_ids
    assert {c.signal for c in r1.lines[0].contributions} >= {"ip_status_false", "direction", "supervision_mode"}
    assert not r2.suspected and cases2 == []
    assert not r3.suspected and cases3 == []
    assert r1.manifest_id == m.manifest_id and r1.parcel_no == 1 and r1.waybill_no == "SF1234567890001"
