"""Quality of the matcher on the labelled corpus (tests/risk_corpus): recall on infringing lines and the
false-positive rate on legitimate ones, for the English part (cases.py) and for the Chinese and mixed-script
part (cases_zh.py, and any Chinese line of cases.py) apart. Each fails below recall 0.95 or above FPR 0.02;
prints the figures per category and every miss and false alarm with its reasons.

The recordations are registry.json with the Chinese marks of registry_zh.json as aliases, as a holder
records them. Which of those are ``common_word_aliases`` follows the contract's rule (an alias that is also
an ordinary word): a Chinese mark is one when, standing alone in a goods description, it ordinarily means
something other than the brand -- 苹果 the fruit, 北面 the north side, 蚬壳 a clam's shell. Transliterations
(耐克, 香奈儿), coined names (盖乐世, 蚝式恒动), a name that says "brand" (壳牌), character names (米老鼠) and
words whose ordinary senses live only in longer words the ordinary-word list holds (三星 alone is Samsung;
三星级, 三星堆 are the ordinary words) are not."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.risk.matcher import RegistryIndex
from services.risk.normalise import is_unspaced
from services.risk.scoring import Scoring, assess_line
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from tests.risk_corpus.cases import CASES
from tests.risk_corpus.cases_zh import CASES_ZH

CORPUS = Path(__file__).resolve().parents[1] / "risk_corpus"
SUBMITTED = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
RATES = {"CNY": 1, "USD": 7.10}
ZH_MARKS: dict[str, list[str]] = json.loads((CORPUS / "registry_zh.json").read_text())
# Chinese marks that are also ordinary Chinese words (see the module docstring for the rule), both scripts.
COMMON_WORD_ALIASES_ZH = frozenset({"苹果", "蘋果", "北面", "蚬壳", "蜆殼"})


def registry() -> list[RecordationV1]:
    out = []
    for i, raw in enumerate(json.loads((CORPUS / "registry.json").read_text())):
        raw = dict(raw)
        raw.pop("note", None)
        holder = raw.pop("holder")
        zh = ZH_MARKS.get(raw["recordation_id"], [])
        raw["aliases"] = [*raw["aliases"], *zh]
        raw["common_word_aliases"] = [a for a in zh if a in COMMON_WORD_ALIASES_ZH]
        out.append(
            RecordationV1.model_validate(
                {
                    "jurisdiction": "CN",
                    "right_type": "trademark",
                    "registration_number": f"R{i:05d}",
                    "holder": {"id": f"RH-C{i:03d}", "name": holder, "contact_email": f"ipr{i}@example.com"},
                    "valid_from": "2019-01-01",
                    "valid_until": "2029-12-31",
                    **raw,
                }
            )
        )
    return out


def test_registry_carries_the_chinese_marks() -> None:
    recs = {r.recordation_id: r for r in registry()}
    assert set(ZH_MARKS) == set(recs)
    assert "耐克" in recs["CN-T-C-NIKE"].aliases and recs["CN-T-C-NIKE"].common_word_aliases == []
    assert recs["CN-T-C-APPLE"].common_word_aliases == ["苹果", "蘋果"]
    assert COMMON_WORD_ALIASES_ZH <= {a for forms in ZH_MARKS.values() for a in forms}


def declaration(n: int, case: tuple) -> DeclarationV1:
    _label, _rid, hs, brand, description, unit_value, extra = case
    consignor = extra.get("consignor", ("91440300MA5YYYY2", "Guangzhou Bright Trading Co."))
    consignee = extra.get("consignee", ("US-EIN-12-3456789", "Discount Goods LLC"))
    line = {
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
    return DeclarationV1.model_validate(
        {
            "declaration_id": f"CORPUS-{n:04d}",
            "revision": 1,
            "submitted_at": SUBMITTED.isoformat(),
            "jurisdiction": "CN",
            "customs_office": "CN5300",
            "direction": "export",
            "procedure": "cross_border_ecommerce",
            "transport_mode": ["express", "post", "sea", "air"][n % 4],
            "declarant": {"id": "91440300MA5XXXX1", "name": "Shenzhen Swift Forwarding Co."},
            "consignor": {"id": consignor[0], "name": consignor[1], "country": "CN"},
            "consignee": {"id": consignee[0], "name": consignee[1], "country": "US"},
            "origin_country": "CN",
            "destination_country": "US",
            "currency": "USD",
            "lines": [line],
        }
    )


def is_chinese(case: tuple) -> bool:
    """A Chinese or mixed-script line: Han (or another unspaced script) in its brand, model or description."""
    texts = [case[3] or "", case[4] or "", (case[6] or {}).get("model") or ""]
    return any(is_unspaced(c) for t in texts for c in t)


def evaluate(cases: list[tuple] | None = None) -> dict:
    cases = CASES if cases is None else cases
    index = RegistryIndex.build(registry())
    scoring = Scoring(fx_rates_to_cny={k: __import__("decimal").Decimal(str(v)) for k, v in RATES.items()})
    tp = fn = fp = tn = wrong_right = 0
    misses, false_alarms, by_match = [], [], Counter()
    by_cat: dict[str, Counter] = {}
    for n, case in enumerate(cases):
        cat = by_cat.setdefault((case[6] or {}).get("cat", "-"), Counter())
        cat[case[0]] += 1
        d = declaration(n, case)
        result = assess_line(index, d, d.lines[0], scoring)
        a = result.assessment
        label, rid = case[0], case[1]
        if label == "I":
            if a.suspected:
                tp += 1
                cat["tp"] += 1
                by_match[next(h.match for h in a.hits if h.suspected)] += 1
                if result.best is None or result.best.recordation_id != rid:
                    wrong_right += 1
                    misses.append(("wrong recordation", case, result.best.recordation_id if result.best else None))
            else:
                fn += 1
                misses.append(("missed", case, a.reasons))
        elif a.suspected:
            fp += 1
            cat["fp"] += 1
            false_alarms.append((case, a.reasons))
        else:
            tn += 1
    return {
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
        "wrong_right": wrong_right,
        "misses": misses,
        "false_alarms": false_alarms,
        "by_match": by_match,
        "by_cat": by_cat,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
    }


def test_corpus_is_several_hundred_labelled_lines() -> None:
    labels = Counter(c[0] for c in CASES)
    assert labels["I"] >= 200 and labels["L"] >= 200, labels
    assert all(c[1] for c in CASES if c[0] == "I") and not any(c[1] for c in CASES if c[0] == "L")


def test_chinese_corpus_is_written_in_chinese() -> None:
    assert len(CASES_ZH) >= 150 and all(is_chinese(c) for c in CASES_ZH)


PARTS = {
    "English": lambda: [c for c in CASES if not is_chinese(c)],
    "Chinese and mixed-script": lambda: [c for c in CASES if is_chinese(c)] + CASES_ZH,
}


def _figures(r: dict) -> list[str]:
    out = [f"{'category':<16} {'I':>4} {'found':>6} {'recall':>7} {'L':>4} {'alarms':>7} {'FPR':>6}"]
    for cat, c in r["by_cat"].items():
        recall = f"{c['tp'] / c['I']:.3f}" if c["I"] else "-"
        fpr = f"{c['fp'] / c['L']:.3f}" if c["L"] else "-"
        out.append(f"{cat:<16} {c['I']:>4} {c['tp']:>6} {recall:>7} {c['L']:>4} {c['fp']:>7} {fpr:>6}")
    return out


@pytest.mark.parametrize("part", list(PARTS))
def test_recall_and_false_positive_rate(part: str) -> None:
    cases = PARTS[part]()
    assert cases, f"the corpus has no {part} lines"
    r = evaluate(cases)
    print(
        f"\nrisk corpus, {part} part: {len(cases)} lines ({r['tp'] + r['fn']} infringing, "
        f"{r['fp'] + r['tn']} legitimate)"
    )
    print(
        f"recall {r['recall']:.3f} ({r['tp']}/{r['tp'] + r['fn']}), false-positive rate {r['fpr']:.3f} "
        f"({r['fp']}/{r['fp'] + r['tn']}), suspected under the wrong recordation: {r['wrong_right']}"
    )
    print(f"suspected hits by match kind: {dict(r['by_match'])}")
    if len(r["by_cat"]) > 1:
        print("\n".join(_figures(r)))
    for kind, case, detail in r["misses"]:
        print(f"  {kind}: {case[:6]} -> {detail}")
    for case, reasons in r["false_alarms"]:
        print(f"  false alarm: {case[:6]} -> {reasons}")
    assert r["recall"] >= 0.95, f"recall {r['recall']:.3f} below 0.95"
    assert r["fpr"] <= 0.02, f"false-positive rate {r['fpr']:.3f} above 0.02"
    assert r["wrong_right"] == 0
