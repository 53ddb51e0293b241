"""Integrity of the Chinese and mixed-script risk corpus (tests/risk_corpus/cases_zh.py): every line is a
valid declaration line, every infringing line names a valid recordation whose recorded goods cover its HS
code, licensee lines carry a recorded licensee, the Chinese marks file covers the registry, and the mix of
labels and categories is what the corpus claims. These checks read only the corpus and the recordations;
how the matcher scores the lines is tested in test_risk_quality.py."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from shared.contracts.declaration import DeclarationLine
from tests.risk_corpus.cases_zh import CASES_ZH, counts

CORPUS = Path(__file__).resolve().parents[1] / "risk_corpus"
SUBMITTED = date(2026, 11, 20)
REGISTRY = {r["recordation_id"]: r for r in json.loads((CORPUS / "registry.json").read_text())}
ZH_MARKS: dict[str, list[str]] = json.loads((CORPUS / "registry_zh.json").read_text())
CATEGORIES = {
    "zh_brand",
    "zh_desc",
    "glued_latin",
    "fullwidth",
    "spacing",
    "traditional",
    "vocab",
    "homophone",
    "homophone_trap",
    "genuine_price",
    "known_infringer",
    "vague",
    "descriptive",
    "ordinary",
    "licensee",
    "outside_goods",
    "status",
    "unrecorded",
    "plain",
}
CJK = re.compile(r"[\u3400-\u9fff]")


def _compact(text: str) -> str:
    """Width, case, spaces and punctuation folded away: enough to see whether a recorded form is written."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())


def _forms(rid: str) -> set[str]:
    r = REGISTRY[rid]
    return {_compact(f) for f in [r["title"], *r["aliases"], *ZH_MARKS[rid]]}


def _written(rid: str, case: tuple) -> bool:
    text = _compact(f"{case[3] or ''} {case[4]}")
    return any(f in text for f in _forms(rid))


def _in_force(r: dict) -> bool:
    valid_from = date.fromisoformat(r.get("valid_from", "2019-01-01"))
    valid_until = date.fromisoformat(r.get("valid_until", "2029-12-31"))
    return r.get("status", "active") == "active" and valid_from <= SUBMITTED <= valid_until


LICENSEE_IDS = {lic["id"] for r in REGISTRY.values() for lic in r.get("authorized_licensees", [])}


@pytest.mark.parametrize("n", range(len(CASES_ZH)))
def test_line_is_well_formed(n: int) -> None:
    label, rid, hs, brand, description, unit_value, extra = CASES_ZH[n]
    assert label in {"I", "L"}
    assert set(extra) <= {"consignor", "consignee", "model", "quantity", "cat"}
    assert extra["cat"] in CATEGORIES
    assert re.fullmatch(r"[0-9]{6}", hs)
    DeclarationLine.model_validate(
        {
            "line_no": 1,
            "hs_code": hs,
            "description": description,
            "brand": brand,
            "model": extra.get("model"),
            "quantity": extra.get("quantity", 10),
            "unit": "piece",
            "unit_value": unit_value,
            "origin_country": "CN",
        }
    )
    assert CJK.search(f"{brand or ''}{description}"), "every line is Chinese or mixed script"


@pytest.mark.parametrize("n", [i for i, c in enumerate(CASES_ZH) if c[0] == "I"])
def test_infringing_line_names_a_valid_right_on_its_recorded_goods(n: int) -> None:
    case = CASES_ZH[n]
    _label, rid, hs, _brand, _description, _value, extra = case
    r = REGISTRY[rid]
    assert _in_force(r)
    assert any(hs.startswith(p) for p in r["goods_hs_prefixes"])
    assert not ({extra.get("consignor", ("",))[0], extra.get("consignee", ("",))[0]} & LICENSEE_IDS)
    if extra["cat"] == "homophone":
        # a homophone line must not also carry the recorded form, or it would not test the homophone
        assert not _written(rid, case)
    else:
        assert _written(rid, case)
    others = [o for o, r2 in REGISTRY.items() if o != rid and _in_force(r2) and _written(o, case)]
    assert not others, f"also names {others}: the right to suspect would be ambiguous"


def test_legitimate_lines_name_no_recordation() -> None:
    assert not any(c[1] for c in CASES_ZH if c[0] == "L")
    for c in CASES_ZH:
        if c[6]["cat"] in {"descriptive", "licensee", "outside_goods", "status"}:
            assert any(_written(rid, c) for rid in REGISTRY), c
        if c[6]["cat"] == "licensee":
            assert {c[6].get("consignor", ("",))[0], c[6].get("consignee", ("",))[0]} & LICENSEE_IDS, c
        if c[6]["cat"] == "outside_goods":
            assert all(
                not any(c[2].startswith(p) for p in REGISTRY[rid]["goods_hs_prefixes"])
                for rid in REGISTRY
                if _written(rid, c)
            ), c
        if c[6]["cat"] == "status":
            assert all(not _in_force(REGISTRY[rid]) for rid in REGISTRY if _written(rid, c)), c


def test_chinese_marks_cover_the_registry() -> None:
    assert set(ZH_MARKS) == set(REGISTRY)
    for rid, forms in ZH_MARKS.items():
        assert all(CJK.search(f) and f == f.strip() for f in forms), rid
        assert len(forms) == len(set(forms)), rid
    # every right with a Chinese mark is tested in Chinese by at least one infringing line
    tested = {c[1] for c in CASES_ZH if c[0] == "I"}
    assert {rid for rid, forms in ZH_MARKS.items() if forms and _in_force(REGISTRY[rid])} <= tested


def test_mix_of_labels_and_categories() -> None:
    by_label, by_cat = counts()
    n = len(CASES_ZH)
    assert n >= 150
    assert 0.50 <= by_label["I"] / n <= 0.60
    assert 0.06 <= by_label["L-descriptive"] / n <= 0.10
    # every trick has several lines
    for cat in CATEGORIES - {"known_infringer", "homophone_trap", "genuine_price"}:
        assert sum(v for (c, _), v in by_cat.items() if c == cat) >= 3, cat
    assert by_cat[("homophone", "I")] >= 10 and by_cat[("vocab", "I")] >= 5 and by_cat[("vocab", "L")] >= 3
    assert len({c[4] for c in CASES_ZH}) + 8 >= n, Counter(c[4] for c in CASES_ZH).most_common(3)
