"""Matching declaration lines against recorded rights, and scoring them (pure, no I/O).

Marks are indexed by their normalised form, and each line is looked up by the n-grams
of its brand field and description, so the cost per line does not grow with the number
of recorded marks. Every hit carries the reasons that produced its score.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from shared.contracts.declaration import DeclarationLine, DeclarationV1
from shared.contracts.events import LineAssessmentV1, RiskHitV1
from shared.contracts.recordation import RecordationV1
from shared.rules.calendar import calendar_for

MAX_NGRAM = 4
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Case-, width- and punctuation-insensitive form: 'Nike.' and 'ＮＩＫＥ' -> 'nike'."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_ALNUM.sub(" ", folded).strip()


def compact(text: str) -> str:
    """Normalised with spacing removed: 'N I K E' -> 'nike'."""
    return normalise(text).replace(" ", "")


@dataclass(frozen=True)
class Scoring:
    suspect_threshold: float = 0.6
    red_threshold: float = 0.7
    yellow_threshold: float = 0.4
    undervalue_ratio: Decimal = Decimal("0.5")


@dataclass
class _Entry:
    recordation: RecordationV1
    term: str
    kind: str  # exact | alias


@dataclass
class RegistryIndex:
    """Active recordations of all jurisdictions, indexed by compacted mark."""

    by_term: dict[tuple[str, str], list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    size: int = 0

    @classmethod
    def build(cls, recordations: list[RecordationV1]) -> "RegistryIndex":
        index = cls()
        for rec in recordations:
            if rec.status != "active":
                continue
            index.size += 1
            terms = [(rec.title, "exact")] + [(a, "alias") for a in rec.aliases]
            for term, kind in terms:
                key = compact(term)
                if key:
                    index.by_term[(rec.jurisdiction, key)].append(_Entry(rec, term, kind))
        return index

    def lookup(self, jurisdiction: str, key: str) -> list[_Entry]:
        return self.by_term.get((jurisdiction, key), [])


def _ngrams(tokens: list[str]) -> list[str]:
    out = []
    for n in range(1, MAX_NGRAM + 1):
        for i in range(len(tokens) - n + 1):
            out.append("".join(tokens[i : i + n]))
    return out


def _is_licensee(rec: RecordationV1, declaration: DeclarationV1) -> bool:
    ids = {lic.id for lic in rec.authorized_licensees}
    names = {compact(lic.name) for lic in rec.authorized_licensees}
    return any(p.id in ids or compact(p.name) in names for p in (declaration.consignor, declaration.consignee))


def _genuine_min(rec: RecordationV1, line: DeclarationLine, currency: str) -> Decimal | None:
    best = None
    for gv in rec.genuine_unit_value:
        if line.hs_code.startswith(gv.hs_prefix) and gv.currency == currency:
            if best is None or len(gv.hs_prefix) > len(best[0]):
                best = (gv.hs_prefix, gv.min)
    return best[1] if best else None


@dataclass
class LineResult:
    assessment: LineAssessmentV1
    best: RecordationV1 | None
    best_term: str | None


def assess_line(
    index: RegistryIndex, declaration: DeclarationV1, line: DeclarationLine, scoring: Scoring
) -> LineResult:
    """Score one line against the registry; the best suspected hit names the recordation of the case."""
    # Validity is judged on the declaration's date in the jurisdiction's own time zone.
    on_date: date = calendar_for(declaration.jurisdiction).local_date(declaration.submitted_at)
    found: dict[str, tuple[_Entry, str]] = {}
    if line.brand:
        for entry in index.lookup(declaration.jurisdiction, compact(line.brand)):
            found.setdefault(entry.recordation.recordation_id, (entry, "brand"))
    desc_tokens = normalise(line.description).split()
    for gram in _ngrams(desc_tokens):
        for entry in index.lookup(declaration.jurisdiction, gram):
            found.setdefault(entry.recordation.recordation_id, (entry, "description"))

    hits: list[RiskHitV1] = []
    best: tuple[float, RecordationV1, str] | None = None
    top_score = 0.0
    for entry, where in found.values():
        rec = entry.recordation
        if not rec.valid_from <= on_date <= rec.valid_until:
            continue
        reasons: list[str] = []
        if where == "brand":
            score = 0.6
            reasons.append(f"brand field names recorded mark {entry.term!r} (+0.60)")
        else:
            score = 0.5
            reasons.append(f"description names recorded mark {entry.term!r} (+0.50)")
        hs_ok = any(line.hs_code.startswith(p) for p in rec.goods_hs_prefixes)
        if hs_ok:
            score += 0.2
            reasons.append(f"HS {line.hs_code} is among the recorded goods (+0.20)")
        else:
            score -= 0.4
            reasons.append(f"HS {line.hs_code} is outside the recorded goods (-0.40)")
        genuine = _genuine_min(rec, line, declaration.currency)
        if genuine is not None and line.unit_value < genuine * scoring.undervalue_ratio:
            score += 0.2
            reasons.append(
                f"declared unit value {line.unit_value} {declaration.currency} is below "
                f"{scoring.undervalue_ratio:%} of the genuine minimum {genuine} (+0.20)"
            )
        licensee = _is_licensee(rec, declaration)
        if licensee:
            score = min(score, 0.1)
            reasons.append("consignor or consignee is a recorded licensee of the mark (not suspect)")
        score = round(max(0.0, min(1.0, score)), 2)
        hits.append(RiskHitV1(
            recordation_id=rec.recordation_id, match="exact" if entry.kind == "exact" else "alias",
            term=entry.term, reasons=reasons,
        ))
        top_score = max(top_score, score)
        if hs_ok and not licensee and score >= scoring.suspect_threshold:
            if best is None or score > best[0]:
                best = (score, rec, entry.term)

    suspected = best is not None
    if suspected or top_score >= scoring.red_threshold:
        lane = "red"
    elif top_score >= scoring.yellow_threshold:
        lane = "yellow"
    else:
        lane = "green"
    reasons = [r for h in hits for r in h.reasons] or ["no recorded right matched"]
    return LineResult(
        assessment=LineAssessmentV1(
            line_no=line.line_no, suspected=suspected, score=top_score, lane=lane, hits=hits, reasons=reasons
        ),
        best=best[1] if best else None,
        best_term=best[2] if best else None,
    )
