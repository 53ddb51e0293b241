"""Text as traders write it, against the real stack: Chinese marks in the registry, Chinese and mixed-script
declarations assessed by HTTP and from the topic, and text no field may carry refused with a 422 naming the
field (or dead-lettered on the topic) while the consumers go on."""

from __future__ import annotations

import json

import pytest

from shared.contracts.events import TOPIC_DECLARATIONS, TOPIC_DECLARATIONS_DLQ
from tests.factories import example_declaration, example_recordation
from tests.helpers import eventually, find_on_topic, produce, unique_id

pytestmark = pytest.mark.integration

BAD_TEXT = [
    ("\\ud800", "unpaired surrogate"),  # sent as a JSON escape: no UTF-8 encoder would write it
    ("\\u0000", "control character"),
    ("\\u001b[2J", "control character"),
    ("\\u202eEKIN", "direction override"),
]


def chinese_declaration(description: str, brand: str | None = None) -> dict:
    d = example_declaration(declaration_id=unique_id("CN5300-ZH"))
    d["lines"] = [{**d["lines"][0], "description": description, "brand": brand, "unit_value": 4.2}]
    return d


async def record(http, stack, title: str, aliases: list[str], goods: list[str]) -> str:
    rid = unique_id("CN-T-ZH")
    rec = example_recordation(
        recordation_id=rid,
        title=title,
        aliases=aliases,
        goods_hs_prefixes=goods,
        authorized_licensees=[],
        genuine_unit_value=[],
    )
    created = await http.post(f"{stack.url('risk')}/v1/recordations", json=rec, headers=stack.auth("officer"))
    assert created.status_code == 201, created.text
    return rid


def raw_with(field_path: tuple, escaped: str) -> bytes:
    """A declaration as JSON text with ``escaped`` (a JSON string escape) spliced into one field."""
    d = chinese_declaration("运动鞋")
    marker = "@@MARK@@"
    target = d
    for key in field_path[:-1]:
        target = target[key]
    target[field_path[-1]] = f"x{marker}"
    return json.dumps(d).replace(marker, escaped).encode()


async def test_chinese_marks_are_recorded_shown_and_found_in_unsegmented_text(http, stack) -> None:
    mark = f"ZHMARK{unique_id('')[-5:]}"
    rid = await record(http, stack, mark, ["耐克伦特"], ["6404"])
    view = (await http.get(f"{stack.url('risk')}/v1/recordations/{rid}", headers=stack.auth("officer"))).json()
    assert view["aliases"] == ["耐克伦特"]
    assert {
        "text": "耐克伦特",
        "kind": "alias",
        "script": "Han",
        "folded": "耐克伦特",
        "pinyin": "nai ke lun te",
        "common_word": False,
    } in view["marks"]

    async def assess(description: str, brand: str | None = None) -> dict:
        r = await http.post(
            f"{stack.url('risk')}/v1/assess",
            json=chinese_declaration(description, brand),
            headers=stack.auth("officer"),
        )
        assert r.status_code == 200, r.text
        return r.json()["lines"][0]

    plain = await assess("耐克伦特运动鞋男款")
    assert plain["suspected"] is True
    hit = next(h for h in plain["hits"] if h["recordation_id"] == rid)
    assert hit["match"] == "alias" and hit["how"] == ["alias"] and hit["found"] == "耐克伦特"
    traditional = await assess("耐克倫特運動鞋")
    hit = next(h for h in traditional["hits"] if h["recordation_id"] == rid)
    assert "traditional" in hit["how"] and any("Traditional" in r for r in hit["reasons"])
    glued = await assess("运动鞋", brand=f"{mark}运动鞋")
    hit = next(h for h in glued["hits"] if h["recordation_id"] == rid)
    assert hit["how"] == ["glued_latin"] and glued["suspected"] is True
    homophone = await assess("奈克伦特运动鞋")
    hit = next(h for h in homophone["hits"] if h["recordation_id"] == rid)
    assert hit["match"] == "fuzzy" and hit["how"] == ["homophone"]
    descriptive = await assess("适用于耐克伦特运动鞋的鞋带")
    assert descriptive["suspected"] is False
    assert next(h for h in descriptive["hits"] if h["recordation_id"] == rid)["match"] == "descriptive"


@pytest.mark.parametrize(("escaped", "what"), BAD_TEXT)
@pytest.mark.parametrize("field_path", [("lines", 0, "description"), ("lines", 0, "brand"), ("consignor", "name")])
async def test_bad_text_is_refused_naming_the_field_at_intake_and_assess(
    http, stack, escaped, what, field_path
) -> None:
    raw = raw_with(field_path, escaped)
    for url, who in (
        (f"{stack.url('intake')}/v1/declarations", "clearance"),
        (f"{stack.url('risk')}/v1/assess", "officer"),
    ):
        r = await http.post(url, content=raw, headers={**stack.auth(who), "Content-Type": "application/json"})
        assert r.status_code == 422, (url, r.text)
        error = r.json()["error"]
        assert error["code"] == "schema_violation"
        locs = [d["loc"][1:] for d in error["details"]]  # after "body"
        assert list(field_path) in locs, error


async def test_over_long_and_mixed_script_text(http, stack) -> None:
    too_long = chinese_declaration("耐" * 1025)
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=too_long, headers=stack.auth("clearance"))
    assert r.status_code == 422 and ["lines", 0, "description"] in [d["loc"][1:] for d in r.json()["error"]["details"]]
    mixed = chinese_declaration("Ｎｉｋｅ\u200b運動鞋 Nіke ΝΙΚΕ \u200fنايك\ttab")
    r = await http.post(f"{stack.url('risk')}/v1/assess", json=mixed, headers=stack.auth("officer"))
    assert r.status_code == 200, r.text


async def test_bad_text_on_the_topic_is_dead_lettered_and_the_next_chinese_declaration_assessed(http, stack) -> None:
    bad = chinese_declaration("耐克\u202e运动鞋")
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(bad).encode(), key=bad["declaration_id"].encode())
    good = chinese_declaration("NIKE运动鞋 高仿")
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(good).encode(), key=good["declaration_id"].encode())

    async def assessed():
        r = await http.get(
            f"{stack.url('intake')}/v1/declarations/{good['declaration_id']}", headers=stack.auth("clearance")
        )
        return r.json() if r.status_code == 200 and r.json()["status"] == "assessed" else None

    view = await eventually(assessed, what="the Chinese declaration after a bad one assessed")
    line = view["lines"][0]["assessment"]
    assert line["suspected"] is True
    assert any("counterfeit vocabulary '高仿'" in r for r in line["reasons"])
    dead = await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == bad["declaration_id"])
    assert dead["reason"] == "schema_violation" and "direction override" in json.dumps(dead["details"])
