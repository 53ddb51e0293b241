"""Matching declaration lines against recorded marks (pure, no I/O).

The index holds, per jurisdiction, every title and alias of the active recordations by its folded
compact key (``services.risk.normalise``), plus a deletion neighbourhood (SymSpell) of the keys long
enough for a near-misspelling to be meaningful. A line is looked up by the n-grams of its brand,
model and description tokens: exact dictionary probes, then -- only for tokens that are not ordinary
words -- a bounded fuzzy probe whose candidates are verified by edit distance. Nothing here scans
the marks, so the cost per line does not grow with the registry.

Scripts written without spaces (Chinese above all) have no tokens to probe: "耐克运动鞋男款" is one run
of characters. Their marks are found by an Aho-Corasick automaton (``pyahocorasick``) over the folded
runs of a field. An automaton rather than a character n-gram index because it reports every mark
occurring anywhere in the run in one pass, whole marks only (no prefix of a mark: "劳力" in "省劳力手推车"
is not "劳力士"), at a cost that grows with the text and the hits, never with the number of marks; an
n-gram index would need a verification step per candidate and more memory per mark. The same automaton
holds the ordinary Chinese words of ``data/ordinary_words_zh.txt``, so a mark inside a longer ordinary
word ("苹果" in "苹果醋", "潘多拉" in "潘多拉魔盒") is read as that word, in the same pass.

Chinese variants of a mark (the fuzzy step of Chinese) are found by two exact probes per window of the
run, for the window lengths that marks have: the toneless pinyin of the window (a *homophone*: "奈克" for
"耐克", at least one character kept) and its look-alike classes (a *near form*: one character replaced by
a look-alike, "劳力土" for "劳力士"). Like the Latin fuzzy step, it never reads ordinary words (a window
that is, lies in or cuts through one), never common-word marks, and its cost is flat in the registry.
A Chinese mark written in pinyin ("NAIKE" for "耐克") is an exact key of the Latin index.

``assess_line`` (in ``services.risk.scoring``) turns the hits into a score, a lane and reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick
from rapidfuzz.distance import OSA

from services.risk.normalise import (
    collapse,
    compact,
    fold_key,
    has_han,
    is_unspaced,
    looks_alike,
    normalise,
    shape,
    sound,
    syllables,
    to_simplified,
    tokens,
)
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


def _load_zh_words() -> frozenset[str]:
    words: set[str] = set()
    for line in (_WORDS_FILE.parent / "ordinary_words_zh.txt").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(to_simplified(w) for w in line.split() if w)
    return frozenset(words)


ORDINARY_WORDS_ZH: frozenset[str] = _load_zh_words()

NEAR_FORM_MAX_LEN = 8  # Chinese marks longer than this are not searched for homophones or near forms
PINYIN_MIN_LEN = 5  # a Chinese mark's pinyin shorter than this is no Latin key ("suoni" yes, "lv" no)
# Characters that never stand in for a character of a mark in a homophone: grammatical words and measure
# words sound like half the syllables of Chinese ("省劳力是关键" is not "劳力士").
_FUNCTION_CHARS = frozenset("的是了在和与及或为于用等个款件双只套条把对型号色码也就都而且并之其这那有无不很")


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
    han: bool = False  # written in an unspaced script: found by the automaton


@dataclass(slots=True)
class _JurIndex:
    exact: dict[str, list[Term]] = field(default_factory=dict)
    fuzzy: dict[str, list[Term]] = field(default_factory=dict)
    collapsed: dict[str, list[Term]] = field(default_factory=dict)
    max_tokens: int = 1
    # unspaced scripts
    unspaced: dict[str, list[Term]] = field(default_factory=dict)  # folded key -> terms
    automaton: object | None = None  # key -> (key, terms, ordinary word?)
    sounds: dict[tuple[str, ...], list[Term]] = field(default_factory=dict)  # toneless pinyin -> terms
    shapes: dict[tuple[str, ...], list[Term]] = field(default_factory=dict)  # look-alike classes -> terms
    near_lengths: tuple[int, ...] = ()

    def finish(self) -> None:
        """Build the automaton over the unspaced marks and the ordinary Chinese words."""
        if not self.unspaced:
            return
        auto = ahocorasick.Automaton()
        for key, terms in self.unspaced.items():
            auto.add_word(key, (key, tuple(terms), key in ORDINARY_WORDS_ZH))
        for word in ORDINARY_WORDS_ZH:
            if word not in self.unspaced:
                auto.add_word(word, (word, (), True))
        auto.make_automaton()
        self.automaton = auto
        self.near_lengths = tuple(sorted({len(k) for ks in (self.sounds, self.shapes) for k in ks}))


def _sound_keys(key: str) -> list[tuple[str, ...]]:
    """The toneless pinyin of a mark, every reading of its polyphonic characters (at most 16 combinations)."""
    out: list[tuple[str, ...]] = [()]
    for ch in key:
        readings = syllables(ch)[:4] or (ch,)
        out = [k + (r,) for k in out for r in readings][:16]
    return out


def _index_unspaced(jur: _JurIndex, rec: RecordationV1, text: str, kind: str, key: str, common: bool,
                    seen: set[str]) -> None:
    """A mark written in an unspaced script: the automaton's key, its homophones and near forms, its pinyin."""
    term = Term(rec, text, kind, key, key, 1, common, 0, han=True)
    jur.unspaced.setdefault(key, []).append(term)
    if common or not 2 <= len(key) <= NEAR_FORM_MAX_LEN or not has_han(key):
        return
    for skey in _sound_keys(key):
        jur.sounds.setdefault(skey, []).append(term)
    shapes = tuple(shape(c) for c in key)
    if shapes != tuple(key):
        jur.shapes.setdefault(shapes, []).append(term)
    pinyin = "".join(sound(c) for c in key)
    if len(pinyin) >= PINYIN_MIN_LEN and pinyin.isascii() and pinyin not in ORDINARY_WORDS and pinyin not in seen:
        seen.add(pinyin)
        jur.exact.setdefault(pinyin, []).append(Term(rec, text, "pinyin", pinyin, pinyin, 1, False, 0))


@dataclass
class RegistryIndex:
    """Active recordations of every jurisdiction, indexed by folded mark key and its deletion neighbourhood."""

    by_jurisdiction: dict[str, _JurIndex] = field(default_factory=dict)
    size: int = 0
    terms: int = 0
    _fuzzy_cache: dict = field(default_factory=dict, repr=False)
    _unspaced_cache: dict = field(default_factory=dict, repr=False)

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
            common_aliases = {fold_key(a) for a in getattr(rec, "common_word_aliases", ())}
            for text, kind in [(rec.title, "exact")] + [(a, "alias") for a in rec.aliases]:
                key = fold_key(text)
                if not key or key in seen:
                    continue
                seen.add(key)
                index.terms += 1
                if is_unspaced(key) and all(is_unspaced(c) for c in key):
                    _index_unspaced(jur, rec, text, kind, key, (common_flag and kind == "exact")
                                    or key in common_aliases or key in ORDINARY_WORDS_ZH, seen)
                    continue
                ntok = max(1, len(tokens(text).folded))
                # the recordation's common-word flag is about its title; aliases are judged on their own
                common = (common_flag and kind == "exact") or key in ORDINARY_WORDS or len(key) <= 3 \
                    or key in common_aliases
                budget = fuzzy_budget(len(key)) if len(key) >= 6 or not common else 0
                term = Term(rec, text, kind, compact(text), key, ntok, common, budget)
                jur.exact.setdefault(key, []).append(term)
                if len(key) >= 4:
                    jur.collapsed.setdefault(collapse(key), []).append(term)
                jur.max_tokens = min(MAX_NGRAM_CAP, max(jur.max_tokens, ntok))
                if term.fuzzy:
                    for d in _deletes(key, 1):
                        jur.fuzzy.setdefault(d, []).append(term)
        for jur in index.by_jurisdiction.values():
            jur.finish()
        return index

    def lookup(self, jurisdiction: str, key: str) -> list[Term]:
        """Terms whose folded compact key is ``key`` (an exact probe)."""
        jur = self.by_jurisdiction.get(jurisdiction)
        if not jur:
            return []
        return jur.exact.get(key) or jur.unspaced.get(key, [])

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
        self._unspaced_cache.clear()


# Words that, just before a mark, say the goods are *for* the marked product, not of that brand.
DESCRIPTIVE_CUES: tuple[tuple[str, ...], ...] = (
    ("compatible", "with"), ("compatible", "for"), ("compatible",), ("for", "use", "with"), ("for",),
    ("fits",), ("fit", "for"), ("fits", "for"), ("to", "fit"), ("suitable", "for"), ("works", "with"),
    ("replacement", "for"), ("designed", "for"), ("made", "for"), ("intended", "for"), ("compatibility",),
)
_FILLERS = frozenset({"the", "a", "an", "all", "your", "most", "models", "model", "series"})
# The same in Chinese: a cue before the mark ("适用于苹果手机", "兼容乐高") or after it, at most
# ZH_CUE_GAP characters on ("耐克鞋专用鞋带", "乐高配件", "苹果15专用"), or "通用" right after the marks
# ("苹果华为通用充电线"). "男女通用" (unisex) is not one.
ZH_PREFIX_CUES: tuple[str, ...] = ("适用于", "适用", "兼容", "适配", "用于", "适合", "专为", "配套", "可配", "支持",
                                   "替换", "替代", "代替", "匹配", "搭配", "可用于", "给")
ZH_POSTFIX_CUES: tuple[str, ...] = ("专用", "配件")  # not 适用 after the mark: "耐克运动鞋适用于跑步"
ZH_FILLERS: tuple[str, ...] = ("的", "各种", "各款", "所有", "多款", "全系", "系列", "型号", "款", "原装", "新款", "和", "及",
                               "与", "或")
ZH_CUE_GAP = 5
ZH_COMMON_GAP = 2  # "苹果三星通用": 通用 (fits all) right after the marks
_NOT_FITS_ALL = frozenset({"男女", "老少", "四季", "春秋", "冬夏", "大小", "内外", "左右", "男士", "女士", "成人", "儿童"})
_JOIN_SEPARATORS = frozenset(" \t\n\r·・•‧∙.-_~")


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
    # how it was found besides its kind: alias, traditional, full_width, glued_latin, homophone, lookalike,
    # pinyin, spaced_characters, invisible_characters; ``detail`` says it in words for the reason
    how: tuple[str, ...] = ()
    detail: str = ""


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


class _Seg:
    """A run of unspaced-script text: consecutive unspaced tokens joined across spaces and middle dots
    ("路易·威登", "耐 克"), not across other punctuation, Latin words or digits."""

    __slots__ = ("text", "first", "starts", "syl", "shp")

    def __init__(self, toks: list[str], first: int) -> None:
        self.text = "".join(toks)
        self.first = first  # index of its first token
        starts, pos = [], 0
        for t in toks:
            starts.append(pos)
            pos += len(t)
        self.starts = tuple(starts)  # offset of each of its tokens
        self.syl: tuple[str, ...] | None = None
        self.shp: tuple[str, ...] | None = None

    def token_at(self, offset: int) -> int:
        """Index (in the field's tokens) of the token holding character ``offset``."""
        k = 0
        while k + 1 < len(self.starts) and self.starts[k + 1] <= offset:
            k += 1
        return self.first + k

    def spaced_out(self, s: int, e: int) -> bool:
        """The span crosses a token boundary and holds a one-character token: '耐 克', '阿 迪 达 斯'."""
        inner = [k for k, st in enumerate(self.starts) if s < st < e]
        if not inner:
            return False
        bounds = list(self.starts) + [len(self.text)]
        return any(bounds[k + 1] - bounds[k] == 1 and s <= bounds[k] < e for k in range(len(self.starts)))

    def sounds(self) -> tuple[str, ...]:
        if self.syl is None:
            self.syl = tuple(sound(c) for c in self.text)
        return self.syl

    def shapes(self) -> tuple[str, ...]:
        if self.shp is None:
            self.shp = tuple(shape(c) for c in self.text)
        return self.shp


class _Plan:
    """What a text offers to the index, independent of the registry: its grams and fuzzy-eligible grams, and
    its runs of unspaced-script text."""

    __slots__ = ("tk", "exact_grams", "fuzzy_grams", "segs", "unspaced_tok")

    def __init__(self, text: str, max_n: int) -> None:
        tk = tokens(text)
        self.tk = tk
        variants = [tk.folded] if tk.folded_alt is None else [tk.folded, tk.folded_alt]
        unspaced_tok = tuple(is_unspaced(t) for t in tk.folded) if tk.unspaced else ()
        self.unspaced_tok = unspaced_tok
        grams = []
        for v, variant in enumerate(variants):
            for start, n, key in _grams(variant, max_n):
                if unspaced_tok and any(unspaced_tok[start:start + n]):
                    continue
                grams.append((key, start, n, v))
        self.exact_grams = tuple(grams)
        folded = tk.folded
        fuzzy = []
        for start, n, key in _grams(folded, min(2, max_n)):
            if len(key) < 4 or key.isdigit():
                continue
            if unspaced_tok and any(unspaced_tok[start:start + n]):
                continue
            if all(folded[i] in ORDINARY_WORDS or folded[i].isdigit() for i in range(start, start + n)):
                continue
            fuzzy.append((key, start, n, collapse(key)))
        self.fuzzy_grams = tuple(fuzzy)
        segs: list[_Seg] = []
        if unspaced_tok:
            i, n_tok = 0, len(folded)
            while i < n_tok:
                if not unspaced_tok[i]:
                    i += 1
                    continue
                j = i + 1
                while j < n_tok and unspaced_tok[j] and set(tk.seps[j]) <= _JOIN_SEPARATORS:
                    j += 1
                segs.append(_Seg(folded[i:j], i))
                i = j
        self.segs = tuple(segs)


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
    cand_spans: list[tuple[int, int]] = []  # (first token, tokens) of each candidate in ``out``
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
        glued = tk.unspaced and any(tk.glued[start:start + n])
        for term in terms:
            kind = term.kind if term.literal in literal_set else "normalised"
            tricks = () if kind != "normalised" else tk.tricks
            if kind != "normalised" and "invisible characters inside the word" in tk.tricks:
                kind, tricks = "normalised", ("invisible characters inside the word",)
            how: list[str] = ["alias"] if term.kind == "alias" else []
            detail = []
            if term.kind == "pinyin":
                kind = "fuzzy"
                how.append("pinyin")
                detail.append(f"{found!r} is the pinyin of recorded mark {term.term!r}")
            if glued:
                how.append("glued_latin")
                detail.append(f"{found!r} written against Chinese text")
            if _full_width(text, term.literal):
                how.append("full_width")
                detail.append("in full-width letters")
            if "invisible characters inside the word" in tricks:
                how.append("invisible_characters")
            out.append(Candidate(term, field_name, kind, found, tricks=tricks, how=tuple(how),
                                 detail="; ".join(detail), distance=0))
            cand_spans.append((start, n))
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
                glued = plan.tk.unspaced and any(plan.tk.glued[start:start + n])
                out.append(Candidate(term, field_name, "fuzzy", " ".join(folded[start:start + n]), distance=dist,
                                     how=("glued_latin",) if glued else ()))
                cand_spans.append((start, n))
                matched_spans.append((start, n))
    descriptive_field = field_name == "description"
    if descriptive_field and out:
        folded = tuple(plan.tk.folded)
        positions = {s + k for s, n in matched_spans for k in range(n)}
        for cand, (start, n) in zip(out, cand_spans):
            if _is_descriptive(folded, start, {p for p in positions if p < start}):
                cand.descriptive = True
            elif plan.segs and _zh_descriptive_latin(plan, start, n, positions):
                cand.descriptive = True
    if plan.segs and jur.automaton is not None:
        latin_marks = {s + k for s, n in matched_spans for k in range(n)}
        for seg in plan.segs:
            _find_unspaced(index, jurisdiction, jur, plan, seg, field_name, out, descriptive_field, latin_marks)
    return out


def _full_width(text: str, literal: str) -> bool:
    """The mark is written in full-width letters in the original text ('ＮＩＫＥ')."""
    if text.isascii() or not any("\uff01" <= c <= "\uff5e" for c in text):
        return False
    run = "".join(c for c in text if "\uff10" <= c <= "\uff5a")
    return literal in compact(run)


def _find_unspaced(index: RegistryIndex, jurisdiction: str, jur: _JurIndex, plan: _Plan, seg: _Seg,
                   field_name: str, out: list[Candidate], descriptive_field: bool, latin_marks: set[int]) -> None:
    """Marks in one run of unspaced text: whole marks by the automaton, then homophones and near forms.
    What a run holds is cached per index (goods texts repeat); where it sits in the line is not."""
    cache_key = (jurisdiction, seg.text, seg.starts)  # where its pieces were spaced apart matters
    cached = index._unspaced_cache.get(cache_key)
    if cached is None:
        cached = _search_run(jur, seg)
        if len(index._unspaced_cache) >= FUZZY_CACHE_SIZE:
            index._unspaced_cache.clear()
        index._unspaced_cache[cache_key] = cached
    found, spans = cached
    text = seg.text
    for term, kind, s, e, tricks, how, detail, distance in found:
        how = list(how)
        if kind != "fuzzy":
            as_written = _as_written(plan, seg, s, e)
            if as_written != text[s:e]:
                how.append("traditional")
                detail = f"written in Traditional characters {as_written!r}"
        cand = Candidate(term, field_name, kind, text[s:e], distance=distance, tricks=tricks, how=tuple(how),
                         detail=detail)
        if descriptive_field and _zh_descriptive_han(plan, seg, s, e, spans, latin_marks):
            cand.descriptive = True
        out.append(cand)


def _search_run(jur: _JurIndex, seg: _Seg) -> tuple[list[tuple], list[tuple[int, int]]]:
    """The marks a run holds, whatever field or line it is in: (term, kind, start, end, tricks, how, detail,
    distance) each, and the spans of the marks found as written."""
    text = seg.text
    marks: list[tuple[int, int, tuple[Term, ...]]] = []
    ordinary: list[tuple[int, int]] = []
    for end, (key, terms, is_word) in jur.automaton.iter(text):
        s, e = end - len(key) + 1, end + 1
        if is_word:
            ordinary.append((s, e))
        if terms:
            marks.append((s, e, terms))
    # a mark inside a longer ordinary word is that word ("苹果醋", "潘多拉魔盒", "三星级"); so is a mark whose
    # first character ends an ordinary word ("快乐高尔夫" is 快乐 + 高尔夫, not 乐高)
    marks = [(s, e, t) for s, e, t in marks
             if not any((os_ <= s and e <= oe and oe - os_ > e - s) or os_ < s < oe < e for os_, oe in ordinary)]
    spans: list[tuple[int, int]] = [(s, e) for s, e, _ in marks]
    found: list[tuple] = []
    for s, e, terms in marks:
        spaced = seg.spaced_out(s, e)
        for term in terms:
            how = ("alias",) if term.kind == "alias" else ()
            if spaced:
                found.append((term, "normalised", s, e, ("characters spaced out",), how + ("spaced_characters",), "",
                              0))
            else:
                found.append((term, term.kind, s, e, (), how, "", 0))
    if jur.near_lengths:
        _near_forms(jur, seg, spans, ordinary, found)
    return found, spans


def _as_written(plan: _Plan, seg: _Seg, s: int, e: int) -> str:
    """The characters of a span as the declaration wrote them (Traditional when it did)."""
    trad = plan.tk.traditional
    if not trad:
        return seg.text[s:e]
    pieces = []
    for k, st in enumerate(seg.starts):
        tok = seg.first + k
        tok_text = plan.tk.folded[tok]
        written = trad.get(tok, tok_text)
        if len(written) != len(tok_text):
            written = tok_text
        pieces.append(written)
    return "".join(pieces)[s:e]


def _near_forms(jur: _JurIndex, seg: _Seg, spans: list[tuple[int, int]], ordinary: list[tuple[int, int]],
                found: list) -> None:  # noqa: ANN001
    """Homophones and one-look-alike-character forms of Chinese marks, window by window: two probes each."""
    text = seg.text
    n = len(text)
    sounds, shapes, unspaced = jur.sounds, jur.shapes, jur.unspaced
    seen: set[tuple[int, int]] = set()
    for length in jur.near_lengths:
        if length > n:
            break
        syl = seg.sounds()
        shp = seg.shapes()
        for s in range(n - length + 1):
            e = s + length
            window = text[s:e]
            if window in unspaced:
                continue
            if any(s < me and ms < e for ms, me in spans):
                continue  # overlaps a mark found as written
            if any((os_ <= s and e <= oe) or (os_ < s < oe < e) or (s < os_ < e < oe) for os_, oe in ordinary):
                continue  # is, lies in or cuts through an ordinary word
            cands = []
            by_sound = sounds.get(syl[s:e])
            if by_sound:
                cands.extend((t, "homophone") for t in by_sound)
            by_shape = shapes.get(shp[s:e])
            if by_shape:
                cands.extend((t, "lookalike") for t in by_shape)
            for term, how in cands:
                if (id(term), s) in seen:
                    continue
                diffs = [k for k in range(length) if window[k] != term.folded[k]]
                # a variant keeps at least one character of the mark ("奈克" is 耐克; "老立式", all three
                # characters replaced, is an ordinary word with the sound of 劳力士, not a variant of it)
                if not diffs or len(diffs) == length or any(window[k] in _FUNCTION_CHARS for k in diffs):
                    continue
                if how == "lookalike":
                    if len(diffs) != 1 or not looks_alike(window[diffs[0]], term.folded[diffs[0]]):
                        continue
                    k = diffs[0]
                    detail = f"{window[k]!r} for {term.folded[k]!r}, a look-alike character"
                else:
                    if not all(has_han(window[k]) for k in diffs):
                        continue
                    detail = f"same pinyin {' '.join(syl[s:e])}"
                seen.add((id(term), s))
                found.append((term, "fuzzy", s, e, (), (how,), detail, len(diffs)))


def _zh_prefix(text: str, pos: int, spans: list[tuple[int, int]]) -> int | None:
    """Walk back from ``pos`` over fillers and other marks; True-ish (-1) if a Chinese cue ends there,
    else the position reached (0 when the run is used up)."""
    ends = {e: s for s, e in spans}
    while pos > 0:
        if any(text.endswith(cue, 0, pos) for cue in ZH_PREFIX_CUES):
            return -1
        filler = next((f for f in ZH_FILLERS if text.endswith(f, 0, pos)), None)
        if filler:
            pos -= len(filler)
        elif pos in ends and ends[pos] < pos:
            pos = ends[pos]
        else:
            return pos
    return 0


def _zh_postfix(text: str, pos: int, budget: int) -> bool | None:
    """A Chinese cue within ``budget`` characters after ``pos``; None when the run ends before the budget.

    "通用" (fits all) counts right after the marks ("苹果华为通用充电线", "iPhone通用"), not after "男女"
    (unisex) or the like."""
    rest = text[pos:pos + budget + 4]
    for cue in ZH_POSTFIX_CUES:
        i = rest.find(cue)
        if 0 <= i <= budget:
            return True
    i = rest.find("通用")
    if 0 <= i <= min(budget, ZH_COMMON_GAP) and rest[max(0, i - 2):i] not in _NOT_FITS_ALL:
        return True
    return None if len(text) - pos <= budget else False


def _is_latin_filler(tok: str, i: int, marks: set[int]) -> bool:
    return i in marks or tok in _FILLERS or any(c.isdigit() for c in tok) or len(tok) <= 4


def _seg_of(plan: _Plan, tok: int) -> _Seg | None:
    for seg in plan.segs:
        if seg.first <= tok < seg.first + len(seg.starts):
            return seg
    return None


def _zh_descriptive_han(plan: _Plan, seg: _Seg, s: int, e: int, spans: list[tuple[int, int]],
                        latin_marks: set[int]) -> bool:
    """A Chinese mark used descriptively: '适用于苹果手机', '乐高配件', 'for 苹果', '苹果 15 专用'."""
    back = _zh_prefix(seg.text, s, [sp for sp in spans if sp[1] <= s])
    if back == -1:
        return True
    folded = plan.tk.folded
    if back == 0:  # the run is used up: look at the words before it
        i = seg.first - 1
        steps = 0
        cue_ends = _cue_ends(tuple(folded))  # an English cue: "strap for 劳力士"
        while i >= 0 and steps < 3:
            if (i + 1) in cue_ends:
                return True
            if plan.unspaced_tok[i]:
                prev = _seg_of(plan, i)
                return prev is not None and _zh_prefix(prev.text, len(prev.text), []) == -1
            if not _is_latin_filler(folded[i], i, latin_marks):
                break
            i -= 1
            steps += 1
    after = _zh_postfix(seg.text, e, ZH_CUE_GAP)
    if after is not None:
        return after
    return _postfix_beyond(plan, seg.first + len(seg.starts), latin_marks, ZH_CUE_GAP - (len(seg.text) - e))


def _postfix_beyond(plan: _Plan, i: int, latin_marks: set[int], budget: int) -> bool:
    folded = plan.tk.folded
    steps = 0
    while i < len(folded) and steps < 4:
        if plan.unspaced_tok[i]:
            nxt = _seg_of(plan, i)
            return nxt is not None and bool(_zh_postfix(nxt.text, 0, max(0, budget)))
        if not _is_latin_filler(folded[i], i, latin_marks):
            return False
        i += 1
        steps += 1
    return False


def _zh_descriptive_latin(plan: _Plan, start: int, n: int, latin_marks: set[int]) -> bool:
    """A Latin mark used descriptively in Chinese: '适用于iPhone 15', 'iPhone 15专用', 'Apple Watch 表带 兼容'."""
    folded = plan.tk.folded
    i = start - 1
    steps = 0
    while i >= 0 and steps < 3:
        if plan.unspaced_tok[i]:
            prev = _seg_of(plan, i)
            if prev is not None and _zh_prefix(prev.text, len(prev.text), []) == -1:
                return True
            break
        if not _is_latin_filler(folded[i], i, latin_marks):
            break
        i -= 1
        steps += 1
    return _postfix_beyond(plan, start + n, latin_marks, ZH_CUE_GAP)


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


def describe_marks(payload: dict) -> list[dict]:
    """The forms a recordation's title and aliases are looked for in, as the registry shows them: the script,
    the folded key, for a Chinese mark its pinyin (and so its homophones), and whether it is an ordinary word."""
    common_aliases = {fold_key(a) for a in payload.get("common_word_aliases") or ()}
    out = []
    for text, kind in [(payload.get("title", ""), "title")] + [(a, "alias") for a in payload.get("aliases") or ()]:
        key = fold_key(text)
        if not key:
            continue
        han = has_han(key)
        unspaced = [is_unspaced(c) for c in key]
        script = ("Han" if han else "unspaced") if all(unspaced) else ("mixed" if any(unspaced) else "Latin")
        entry = {"text": text, "kind": kind, "script": script, "folded": key}
        if han:
            entry["pinyin"] = " ".join(sound(c) for c in key)
        entry["common_word"] = bool((kind == "title" and payload.get("common_word")) or key in common_aliases
                                    or key in ORDINARY_WORDS or key in ORDINARY_WORDS_ZH)
        out.append(entry)
    return out


def __getattr__(name: str):  # noqa: ANN202 - scoring API re-exported lazily (it imports this module)
    if name in ("Scoring", "assess_line", "LineResult", "Context"):
        from services.risk import scoring

        return getattr(scoring, name)
    raise AttributeError(name)
