"""Matching declaration lines against recorded marks (pure, no I/O).

The index holds, per jurisdiction, every title and alias of the active recordations by its folded
compact key (``services.risk.normalise``), plus a deletion neighbourhood (SymSpell) of the keys long
enough for a near-misspelling to be meaningful. A line is looked up by the n-grams of its brand,
model and description tokens: exact dictionary probes, then -- only for tokens that are not ordinary
words -- a bounded fuzzy probe whose candidates are verified by edit distance. Nothing here scans
the marks, so the cost per line does not grow with the registry.

``assess_line`` (in ``services.risk.scoring``) turns the hits into a score, a lane and reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import OSA

from services.risk.normalise import collapse, compact, fold_key, normalise, tokens
from shared.contracts.recordation import RecordationV1

__all__ = ["RegistryIndex", "Term", "Candidate", "find_candidates", "normalise", "compact", "ORDINARY_WORDS"]

MAX_NGRAM_CAP = 6
FUZZY_MIN_LEN = 5  # keys shorter than this never match fuzzily ("GAP" is not "CAP")
FUZZY_CACHE_SIZE = 200_000

_WORDS_FILE = Path(__file__).with_name("data") / "ordinary_words.txt"


def _load_words() -> frozenset[str]:
    words: set[str] = set()
    for line in _WORDS_FILE.read_text().splitlines():
        if line.startswith("#"):
            continue
        words.update(w for w in line.split() if w)
    return frozenset(words)


ORDINARY_WORDS: frozenset[str] = _load_words()


def fuzzy_budget(length: int) -> int:
    """Edit operations allowed between a key of this length and a misspelling of it."""
    if length < FUZZY_MIN_LEN:
        return 0
    return 1 if length < 9 else 2


def _is_substitution(a: str, b: str) -> bool:
    """One letter replaced by another (not a swap of neighbours): on a short mark that makes another word
    (PRADO, RAYLAN), not a misspelling, so short marks accept insertions, deletions and swaps only."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return False
    return len(diff) >= 1


def _deletes(key: str, depth: int) -> set[str]:
    """The deletion neighbourhood of ``key`` up to ``depth`` deletions, keeping the first letter.

    Misspellings of a mark keep its first letter (the match requires it), so deleting it would only
    add keys that can never verify.
    """
    out = {key}
    frontier = {key}
    for _ in range(depth):
        nxt = set()
        for s in frontier:
            if len(s) <= 3:
                continue
            for i in range(1, len(s)):
                nxt.add(s[:i] + s[i + 1:])
        out |= nxt
        frontier = nxt
    return out


@dataclass(slots=True, eq=False)
class Term:
    """A title or alias of a recordation, as indexed."""

    recordation: RecordationV1
    term: str
    kind: str  # exact (the title) | alias
    literal: str  # literal compact form ("nikeair")
    folded: str  # folded compact key ("nikeair")
    ntokens: int
    common: bool  # an ordinary word or a very short mark: weak evidence in free text
    fuzzy: int  # edit operations allowed (in the brand field only, for a common word)


@dataclass(slots=True)
class _JurIndex:
    exact: dict[str, list[Term]] = field(default_factory=dict)
    fuzzy: dict[str, list[Term]] = field(default_factory=dict)
    collapsed: dict[str, list[Term]] = field(default_factory=dict)
    max_tokens: int = 1


@dataclass
class RegistryIndex:
    """Active recordations of every jurisdiction, indexed by folded mark key and its deletion neighbourhood."""

    by_jurisdiction: dict[str, _JurIndex] = field(default_factory=dict)
    size: int = 0
    terms: int = 0
    _fuzzy_cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, recordations: list[RecordationV1]) -> "RegistryIndex":
        index = cls()
        for rec in recordations:
            if rec.status != "active":
                continue
            index.size += 1
            jur = index.by_jurisdiction.setdefault(rec.jurisdiction, _JurIndex())
            common_flag = bool(getattr(rec, "common_word", False))
            seen: set[str] = set()
            for text, kind in [(rec.title, "exact")] + [(a, "alias") for a in rec.aliases]:
                key = fold_key(text)
                if not key or key in seen:
                    continue
                seen.add(key)
                ntok = max(1, len(tokens(text).folded))
                # the recordation's common-word flag is about its title; aliases are judged on their own
                common = (common_flag and kind == "exact") or key in ORDINARY_WORDS or len(key) <= 3
                budget = fuzzy_budget(len(key)) if len(key) >= 6 or not common else 0
                term = Term(rec, text, kind, compact(text), key, ntok, common, budget)
                jur.exact.setdefault(key, []).append(term)
                if len(key) >= 4:
                    jur.collapsed.setdefault(collapse(key), []).append(term)
                jur.max_tokens = min(MAX_NGRAM_CAP, max(jur.max_tokens, ntok))
                index.terms += 1
                if term.fuzzy:
                    for d in _deletes(key, 1):
                        jur.fuzzy.setdefault(d, []).append(term)
        return index

    def lookup(self, jurisdiction: str, key: str) -> list[Term]:
        """Terms whose folded compact key is ``key`` (an exact probe)."""
        jur = self.by_jurisdiction.get(jurisdiction)
        return jur.exact.get(key, []) if jur else []

    def fuzzy_lookup(self, jurisdiction: str, key: str) -> list[tuple[Term, int]]:
        """Terms within their edit budget of ``key`` (not equal to it), verified by OSA distance; cached.

    Candidates come from one deletion on each side (SymSpell with depth 1): that finds every
    single edit, and the two-edit misspellings of long marks where each side lost one letter
    (a substitution plus an insertion or deletion, two substitutions in the same place);
    two insertions into a long mark are not found. One-deletion keys keep the index at about
    ten keys per mark and the probe at about ten lookups per token."""
        cache_key = (jurisdiction, key)
        cached = self._fuzzy_cache.get(cache_key)
        if cached is not None:
            return cached
        jur = self.by_jurisdiction.get(jurisdiction)
        found: list[tuple[Term, int]] = []
        budget = fuzzy_budget(len(key))
        if jur is not None and jur.fuzzy and budget:
            seen: set[int] = set()
            for d in _deletes(key, 1):
                for term in jur.fuzzy.get(d, ()):
                    if id(term) in seen:
                        continue
                    seen.add(id(term))
                    if term.folded == key or term.folded[0] != key[0]:
                        continue
                    if abs(len(term.folded) - len(key)) > term.fuzzy:
                        continue
                    dist = OSA.distance(key, term.folded, score_cutoff=term.fuzzy)
                    if dist <= term.fuzzy and not (len(term.folded) < 7 and _is_substitution(key, term.folded)):
                        found.append((term, dist))
        if len(self._fuzzy_cache) >= FUZZY_CACHE_SIZE:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[cache_key] = found
        return found

    def clear_cache(self) -> None:
        self._fuzzy_cache.clear()


# Words that, just before a mark, say the goods are *for* the marked product, not of that brand.
DESCRIPTIVE_CUES: tuple[tuple[str, ...], ...] = (
    ("compatible", "with"), ("compatible", "for"), ("compatible",), ("for", "use", "with"), ("for",),
    ("fits",), ("fit", "for"), ("fits", "for"), ("to", "fit"), ("suitable", "for"), ("works", "with"),
    ("replacement", "for"), ("designed", "for"), ("made", "for"), ("intended", "for"), ("compatibility",),
)
_FILLERS = frozenset({"the", "a", "an", "all", "your", "most", "models", "model", "series"})


@dataclass(slots=True)
class Candidate:
    """One term found in one field of a line."""

    term: Term
    where: str  # brand | model | description
    match: str  # exact | alias | normalised | fuzzy
    found: str  # the text as found
    distance: int = 0
    descriptive: bool = False
    tricks: tuple[str, ...] = ()


def _grams(toks: list[str], max_n: int):
    n_tok = len(toks)
    for i in range(n_tok):
        acc = ""
        for n in range(1, min(max_n, n_tok - i) + 1):
            acc += toks[i + n - 1]
            yield i, n, acc


@lru_cache(maxsize=4096)
def _cue_ends(seq: tuple[str, ...]) -> frozenset[int]:
    """Positions just after each descriptive cue in a token sequence."""
    ends = set()
    for cue in DESCRIPTIVE_CUES:
        k = len(cue)
        for i in range(len(seq) - k + 1):
            if seq[i:i + k] == cue:
                ends.add(i + k)
    return frozenset(ends)


def _is_descriptive(literal: tuple[str, ...], start: int, mark_positions: set[int]) -> bool:
    ends = _cue_ends(literal)
    if not ends:
        return False
    pos = start
    # skip back over fillers and other marks ("for the Apple iPhone")
    while True:
        if pos in ends:
            return True
        if pos == 0:
            return False
        prev = pos - 1
        if literal[prev] in _FILLERS or prev in mark_positions:
            pos = prev
            continue
        return False


class _Plan:
    """What a text offers to the index, independent of the registry: its grams and fuzzy-eligible grams."""

    __slots__ = ("tk", "exact_grams", "fuzzy_grams")

    def __init__(self, text: str, max_n: int) -> None:
        tk = tokens(text)
        self.tk = tk
        variants = [tk.folded] if tk.folded_alt is None else [tk.folded, tk.folded_alt]
        grams = []
        for v, variant in enumerate(variants):
            for start, n, key in _grams(variant, max_n):
                grams.append((key, start, n, v))
        self.exact_grams = tuple(grams)
        folded = tk.folded
        fuzzy = []
        for start, n, key in _grams(folded, min(2, max_n)):
            if len(key) < 4 or key.isdigit():
                continue
            if all(folded[i] in ORDINARY_WORDS or folded[i].isdigit() for i in range(start, start + n)):
                continue
            fuzzy.append((key, start, n, collapse(key)))
        self.fuzzy_grams = tuple(fuzzy)


@lru_cache(maxsize=65536)
def _plan(text: str, max_n: int) -> _Plan:
    return _Plan(text, max_n)


def find_candidates(index: RegistryIndex, jurisdiction: str, field_name: str, text: str | None) -> list[Candidate]:
    """Every recorded term found in one field of a line, with how it was found."""
    if not text:
        return []
    jur = index.by_jurisdiction.get(jurisdiction)
    if jur is None:
        return []
    plan = _plan(text, jur.max_tokens)
    exact = jur.exact
    out: list[Candidate] = []
    starts: list[int] = []
    matched_spans: list[tuple[int, int]] = []
    tk = None
    literal_set = None
    for key, start, n, v in plan.exact_grams:
        terms = exact.get(key)
        if not terms:
            continue
        if tk is None:
            tk = plan.tk
            literal_set = set(_literal_grams(tk.literal, jur.max_tokens + 2))
        variant = tk.folded if v == 0 else tk.folded_alt
        found = " ".join(variant[start:start + n])
        for term in terms:
            kind = term.kind if term.literal in literal_set else "normalised"
            out.append(Candidate(term, field_name, kind, found, tricks=() if kind != "normalised" else tk.tricks))
            starts.append(start)
        matched_spans.append((start, n))
    # Bounded fuzzy step: only tokens (and pairs) that are not ordinary words and were not found exactly.
    if plan.fuzzy_grams:
        covered = {s + k for s, n in matched_spans for k in range(n)}
        folded = plan.tk.folded
        in_brand = field_name == "brand"
        for key, start, n, c_key in plan.fuzzy_grams:
            if key in exact or any(i in covered for i in range(start, start + n)):
                continue
            found_terms: dict[int, tuple[Term, int]] = {}
            for term in jur.collapsed.get(c_key, ()):  # doubled or undoubled letters: 'Guccci', 'GUCI', 'Nikee'
                if term.folded != key and (in_brand or not term.common):
                    found_terms[id(term)] = (term, max(1, abs(len(term.folded) - len(key))))
            if jur.fuzzy:
                for term, dist in index.fuzzy_lookup(jurisdiction, key):
                    if (in_brand or not term.common) and id(term) not in found_terms:
                        found_terms[id(term)] = (term, dist)
            for term, dist in found_terms.values():
                if term.ntokens > n + 1 or n > term.ntokens + 1:
                    continue
                out.append(Candidate(term, field_name, "fuzzy", " ".join(folded[start:start + n]), distance=dist))
                starts.append(start)
                matched_spans.append((start, n))
    if field_name == "description" and out:
        folded = tuple(plan.tk.folded)
        positions = {s + k for s, n in matched_spans for k in range(n)}
        for cand, start in zip(out, starts):
            if _is_descriptive(folded, start, {p for p in positions if p < start}):
                cand.descriptive = True
    return out


def _literal_grams(toks: list[str], max_n: int):
    joined = _join_runs(toks)
    for seq in (toks, joined):
        for _, _, key in _grams(seq, max_n):
            yield key


def _join_runs(toks: list[str]) -> list[str]:
    out, run = [], []
    for t in toks:
        if len(t) == 1 and t.isalpha():
            run.append(t)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(t)
    if run:
        out.append("".join(run))
    return out


def __getattr__(name: str):  # noqa: ANN202 - scoring API re-exported lazily (it imports this module)
    if name in ("Scoring", "assess_line", "LineResult", "Context"):
        from services.risk import scoring

        return getattr(scoring, name)
    raise AttributeError(name)
