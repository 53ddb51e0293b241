"""The feature vector of an assessed line (pure, schema-versioned).

A line's features are read from what the rules found (the line assessment: match kind and field, the mark,
HS agreement, every signal's points, profile hits) and from the declaration (value against the recorded
genuine price, route, direction, mode, traders, office, words of the description). Categorical values are
stable hash buckets (CRC-32), so the same line gives the same vector in every process and release of this
schema. Changing a feature means a new ``SCHEMA``: a model is served only on the schema it was trained on.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from decimal import Decimal

from shared.contracts.declaration import DeclarationLine, DeclarationV1
from shared.contracts.events import LineAssessmentV1

SCHEMA = "f1"
TEXT_BUCKETS = 32
MATCH_KINDS = {"exact": 1, "alias": 2, "normalised": 3, "fuzzy": 4, "descriptive": 5}
WHERE = {"brand": 1, "model": 2, "description": 3}
MODES = {"sea": 1, "air": 2, "road": 3, "rail": 4, "post": 5, "express": 6, "other": 7}
DIRECTIONS = {"import": 1, "export": 2, "transit": 3}
SIGNALS = (
    "undervalued",
    "known_infringer",
    "infringer_port",
    "unusual_port",
    "counterfeit_vocabulary",
    "vague",
    "small_parcel",
    "transit_route",
    "free_zone",
    "trader_history",
    "mark_obfuscated",
)

NUMERIC = (
    "rule_score",
    "rule_suspected",
    "n_hits",
    "mark_points",
    "common_word_mark",
    "hs_agreement",
    "value_ratio",
    "log_unit_value_cny",
    "log_line_value_cny",
    *(f"sig_{s}" for s in SIGNALS),
    "profile_points",
    "n_profiles",
    "n_transit",
    "brand_field_empty",
    "model_number_in_text",
    "n_words",
    "han_text",
)
CATEGORICAL = (
    "match_kind",
    "match_where",
    "mode",
    "direction",
    "hs_chapter",
    "hs_heading",
    "office",
    "origin",
    "destination",
    "consignor",
    "consignee",
    "mark",
)
TEXT = tuple(f"word_{i}" for i in range(TEXT_BUCKETS))
NAMES: tuple[str, ...] = (*NUMERIC, *CATEGORICAL, *TEXT)
CATEGORICAL_INDEX = tuple(NAMES.index(c) for c in CATEGORICAL)
BUCKETS = {
    "office": 64,
    "origin": 64,
    "destination": 64,
    "consignor": 256,
    "consignee": 256,
    "mark": 256,
    "hs_heading": 512,
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MODEL_NO = re.compile(r"\b(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{2,}\b")
_HAN = re.compile("[\u3400-\u9fff]")


@functools.lru_cache(maxsize=65536)  # traders, offices and marks come again and again
def bucket(value: str | None, n: int) -> int:
    """A stable bucket in 1..n for a value (0 for none)."""
    if not value:
        return 0
    return 1 + zlib.crc32(value.casefold().encode()) % n


def _words(text: str) -> list[str]:
    text = text.casefold()
    words = _WORD.findall(text)
    # Chinese is written without spaces: its character pairs stand for words
    out: list[str] = []
    for w in words:
        if _HAN.search(w):
            out.extend(w[i : i + 2] for i in range(max(1, len(w) - 1)))
        else:
            out.append(w)
    return out


def line_features(
    declaration: DeclarationV1,
    line: DeclarationLine,
    assessment: LineAssessmentV1,
    *,
    genuine_unit_value: Decimal | None = None,
    rates: dict[str, Decimal] | None = None,
) -> list[float]:
    """The vector (in ``NAMES`` order) of one line as the rules assessed it; ``genuine_unit_value`` is the best
    hit's recorded genuine minimum in the declaration's currency, if any."""
    signals: dict[str, float] = {}
    for c in assessment.contributions:
        signals[c.signal] = signals.get(c.signal, 0.0) + c.points
    top = assessment.hits[0] if assessment.hits else None
    mark_points = sum(p for s, p in signals.items() if s.startswith("mark_") and s != "mark_obfuscated")
    hs_agreement = 0.0
    if "hs_recorded_goods" in signals:
        hs_agreement = 1.0
    elif "hs_outside_goods" in signals:
        hs_agreement = -1.0
    common = 1.0 if top and any("ordinary word" in r for r in top.reasons) else 0.0
    rate = (rates or {}).get(declaration.currency)
    unit_cny = float(line.unit_value * rate) if rate else float("nan")
    value_cny = float(line.line_value * rate) if rate else float("nan")
    ratio = float(line.unit_value / genuine_unit_value) if genuine_unit_value else float("nan")
    text = " ".join(t for t in (line.brand, line.model, line.description) if t)
    words = _words(text)
    text_vec = [0.0] * TEXT_BUCKETS
    for w in words:
        text_vec[zlib.crc32(w.encode()) % TEXT_BUCKETS] = 1.0
    hs = line.hs_code
    numeric = [
        assessment.score,
        float(assessment.suspected),
        float(len(assessment.hits)),
        mark_points,
        common,
        hs_agreement,
        ratio,
        math.log10(unit_cny + 1) if unit_cny == unit_cny else unit_cny,
        math.log10(value_cny + 1) if value_cny == value_cny else value_cny,
        *(signals.get(s, 0.0) for s in SIGNALS),
        signals.get("profile", 0.0),
        float(len(assessment.profile_ids)),
        float(len(declaration.transit_countries)),
        float(not line.brand),
        float(bool(_MODEL_NO.search(text.casefold()))),
        float(len(words)),
        float(bool(_HAN.search(text))),
    ]
    categorical = [
        float(MATCH_KINDS.get(top.match, 0)) if top else 0.0,
        float(WHERE.get(top.where or "", 0)) if top else 0.0,
        float(MODES.get(declaration.transport_mode, 0)),
        float(DIRECTIONS.get(declaration.direction, 0)),
        float(int(hs[:2])),
        float(bucket(hs[:4], BUCKETS["hs_heading"])),
        float(bucket(declaration.customs_office, BUCKETS["office"])),
        float(bucket(line.origin_country or declaration.origin_country, BUCKETS["origin"])),
        float(bucket(declaration.destination_country, BUCKETS["destination"])),
        float(bucket(declaration.consignor.id, BUCKETS["consignor"])),
        float(bucket(declaration.consignee.id, BUCKETS["consignee"])),
        float(bucket(top.recordation_id if top else None, BUCKETS["mark"])),
    ]
    return numeric + categorical + text_vec


# What each feature is, as an officer reads it in a reason (the web pages translate these labels). Hashed
# features (office, countries, traders, mark, HS heading, words) are named by what they stand for: the model
# learnt something of this office or this consignor, which the case itself names.
LABELS: dict[str, str] = {
    "rule_score": "rules' score",
    "rule_suspected": "suspected by the rules",
    "n_hits": "recorded marks found",
    "mark_points": "mark match points",
    "common_word_mark": "mark is an ordinary word",
    "hs_agreement": "goods against the recorded goods",
    "value_ratio": "declared value / genuine minimum",
    "log_unit_value_cny": "unit value (CNY)",
    "log_line_value_cny": "line value (CNY)",
    **{f"sig_{s}": s.replace("_", " ") + " signal" for s in SIGNALS},
    "profile_points": "targeting profile points",
    "n_profiles": "targeting profiles hit",
    "n_transit": "transit countries",
    "brand_field_empty": "brand field empty",
    "model_number_in_text": "model number in the text",
    "n_words": "words in the description",
    "han_text": "description in Chinese",
    "match_kind": "mark match",
    "match_where": "mark found in",
    "mode": "transport mode",
    "direction": "direction",
    "hs_chapter": "HS chapter",
    "hs_heading": "this HS heading",
    "office": "this customs office",
    "origin": "this origin country",
    "destination": "this destination country",
    "consignor": "this consignor",
    "consignee": "this consignee",
    "mark": "this recorded mark",
    **{f"word_{i}": "words of the description" for i in range(TEXT_BUCKETS)},
}
_YES_NO = frozenset({"rule_suspected", "common_word_mark", "brand_field_empty", "model_number_in_text", "han_text"})


def describe(name: str, value: float) -> str:
    """A feature's value as an officer reads it in a reason: ``label`` or ``label: value`` (never a comma)."""
    label = LABELS.get(name, name)
    if value != value:  # NaN
        return f"{label}: unknown"
    if name in BUCKETS or name.startswith("word_"):
        return label
    if name in _YES_NO:
        return f"{label}: {'yes' if value else 'no'}"
    if name == "mode":
        return f"{label}: " + next((k for k, v in MODES.items() if v == value), "?")
    if name == "direction":
        return f"{label}: " + next((k for k, v in DIRECTIONS.items() if v == value), "?")
    if name == "match_kind":
        return f"{label}: " + next((k for k, v in MATCH_KINDS.items() if v == value), "none")
    if name == "match_where":
        return f"{label}: " + next((k for k, v in WHERE.items() if v == value), "nothing")
    if name == "hs_agreement":
        return f"{label}: " + {1.0: "among them", -1.0: "outside them"}.get(value, "not recorded")
    if name == "hs_chapter":
        return f"{label} {int(value):02d}"
    if name in ("log_unit_value_cny", "log_line_value_cny"):
        return f"{label}: {10**value - 1:.0f}"
    if name in ("n_hits", "n_profiles", "n_transit", "n_words"):
        return f"{label}: {int(value)}"
    return f"{label}: {value:.2f}"
