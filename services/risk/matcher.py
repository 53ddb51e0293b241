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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import ahocorasick
from rapidfuzz.distance import OSA

from services.risk.normalise import (
    collapse,
    compact,
    fold_key,
    has_han,
    has_lookalike,
    is_unspaced,
    looks_alike,
    near_sounds,
    near_syllable,
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


def _load_zh_words(name: str) -> frozenset[str]:
    words: set[str] = set()
    for line in (_WORDS_FILE.parent / name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(to_simplified(w) for w in line.split() if w)
    return frozenset(words)


# Names of goods (手机, 机油, 冲锋衣): ordinary words, and what a mark directly before them names the maker of.
GOODS_WORDS_ZH: frozenset[str] = _load_zh_words("goods_words_zh.txt")
ORDINARY_WORDS_ZH: frozenset[str] = _load_zh_words("ordinary_words_zh.txt") | GOODS_WORDS_ZH
_GOODS_MAX_LEN = max(map(len, GOODS_WORDS_ZH))
# Words that may stand between a mark and the name of the goods without changing what the mark says:
# 苹果原装充电器, 北面男士冲锋衣, 三星新款手机.
ZH_GOODS_QUALIFIERS: tuple[str, ...] = (
    "原装",
    "正品",
    "官方",
    "全新",
    "新款",
    "男士",
    "女士",
    "男款",
    "女款",
    "男式",
    "女式",
    "儿童",
    "男",
    "女",
)

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
                nxt.add(s[:i] + s[i + 1 :])
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


class Automaton(Protocol):
    """What the index reads of a ``pyahocorasick`` automaton (the library ships no types)."""

    def iter(self, text: str) -> Iterator[tuple[int, tuple[str, bool]]]: ...


@dataclass(slots=True)
class _JurIndex:
    exact: dict[str, list[Term]] = field(default_factory=dict)
    fuzzy: dict[str, list[Term]] = field(default_factory=dict)
    collapsed: dict[str, list[Term]] = field(default_factory=dict)
    max_tokens: int = 1
    # unspaced scripts
    unspaced: dict[str, list[Term]] = field(default_factory=dict)  # folded key -> terms
    automaton: Automaton | None = None  # key -> (key, ordinary word?); the terms of a key are in ``unspaced``
    sounds: dict[tuple[str, ...], list[Term]] = field(default_factory=dict)  # toneless pinyin -> terms
    shapes: dict[tuple[str, ...], list[Term]] = field(default_factory=dict)  # look-alike classes -> terms
    near_lengths: tuple[int, ...] = ()

    def finish(self) -> None:
        """Build the automaton over the unspaced marks and the ordinary Chinese words."""
        self.install(self.build_automaton(tuple(self.unspaced)))

    @staticmethod
    def build_automaton(keys: tuple[str, ...]) -> Automaton | None:
        """An automaton over these mark keys and the ordinary Chinese words; it holds keys only (the terms are
        read from ``unspaced`` when a key is found), so it can be built apart, from a snapshot of the keys, while
        the index goes on answering. Pure: safe in another thread."""
        if not keys:
            return None
        auto = ahocorasick.Automaton()
        for key in keys:
            auto.add_word(key, (key, key in ORDINARY_WORDS_ZH))
        marks = set(keys)
        for word in ORDINARY_WORDS_ZH:
            if word not in marks:
                auto.add_word(word, (word, True))
        auto.make_automaton()
        return auto

    def install(self, automaton: Automaton | None) -> None:
        self.automaton = automaton
        self.near_lengths = tuple(sorted({len(k) for ks in (self.sounds, self.shapes) for k in ks}))

    def places(self, term: Term) -> Iterator[tuple[dict[Any, list[Term]], str | tuple[str, ...]]]:
        """The tables and keys a term is indexed under (the same for adding and for removing it)."""
        key = term.folded
        if term.han:
            yield self.unspaced, key
            if not term.common and 2 <= len(key) <= NEAR_FORM_MAX_LEN and has_han(key):
                for skey in _sound_keys(key):
                    yield self.sounds, skey
                if any(has_lookalike(c) for c in key):  # (a character may head its group: its class is itself)
                    yield self.shapes, tuple(shape(c) for c in key)
            return
        yield self.exact, key
        if term.kind == "pinyin":
            return
        if len(key) >= 4:
            yield self.collapsed, collapse(key)
        if term.fuzzy:
            for d in _deletes(key, 1):
                yield self.fuzzy, d

    def add(self, term: Term) -> None:
        for table, key in self.places(term):
            table.setdefault(key, []).append(term)
        if not term.han:
            self.max_tokens = min(MAX_NGRAM_CAP, max(self.max_tokens, term.ntokens))

    def remove(self, term: Term) -> None:
        for table, key in self.places(term):
            terms = table.get(key)
            if terms is None:
                continue
            kept = [t for t in terms if t is not term]
            if kept:
                table[key] = kept  # a new list: a reader iterating the old one is not disturbed
            else:
                del table[key]


def _sound_keys(key: str) -> list[tuple[str, ...]]:
    """The toneless pinyin of a mark with the southern merges (``near_syllable``), every reading of its polyphonic
    characters (at most 16 combinations)."""
    out: list[tuple[str, ...]] = [()]
    for ch in key:
        readings = near_sounds(ch) or (ch,)
        out = [k + (r,) for k in out for r in readings][:16]
    return out


WINDOW_READINGS = 8  # sound probes per window at most (a window of polyphonic characters has several readings)


def _window_sounds(per_char: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for readings in per_char:
        out = [k + (r,) for k in out for r in readings][:WINDOW_READINGS]
    return out


def _pinyin_detail(window: str, mark: str) -> str:
    """How a homophone sounds like the mark, for the reason: 'same pinyin le gao', or 'near pinyin di si ni for
    di shi ni (...)' when it takes the southern merges."""
    said, heard, near = [], [], False
    for w, m in zip(window, mark, strict=False):
        ws, ms = syllables(w) or (w,), syllables(m) or (m,)
        shared = next((r for r in ms if r in ws), None)
        if shared is not None:
            said.append(shared)
            heard.append(shared)
            continue
        pair = next(((a, b) for b in ms[:3] for a in ws[:3] if near_syllable(a) == near_syllable(b)), (ws[0], ms[0]))
        said.append(pair[0])
        heard.append(pair[1])
        near = True
    if not near:
        return f"same pinyin {' '.join(said)}"
    return (
        f"near pinyin {' '.join(said)} for {' '.join(heard)}: zh ch sh and z c s, -ng and -n sound alike in "
        f"southern Mandarin"
    )


def _terms_of(rec: RecordationV1) -> list[Term]:
    """The terms a recordation is looked for by: its title and aliases (a Chinese mark also by its pinyin)."""
    out: list[Term] = []
    common_flag = bool(getattr(rec, "common_word", False))
    seen: set[str] = set()
    common_aliases = {fold_key(a) for a in getattr(rec, "common_word_aliases", ())}
    for text, kind in [(rec.title, "exact")] + [(a, "alias") for a in rec.aliases]:
        key = fold_key(text)
        if not key or key in seen:
            continue
        seen.add(key)
        if is_unspaced(key) and all(is_unspaced(c) for c in key):
            common = (common_flag and kind == "exact") or key in common_aliases or key in ORDINARY_WORDS_ZH
            out.append(Term(rec, text, kind, key, key, 1, common, 0, han=True))
            if common or not 2 <= len(key) <= NEAR_FORM_MAX_LEN or not has_han(key):
                continue
            pinyin = "".join(sound(c) for c in key)  # a Chinese mark written in pinyin ("NAIKE")
            if (
                len(pinyin) >= PINYIN_MIN_LEN
                and pinyin.isascii()
                and pinyin not in ORDINARY_WORDS
                and pinyin not in seen
            ):
                seen.add(pinyin)
                out.append(Term(rec, text, "pinyin", pinyin, pinyin, 1, False, 0))
            continue
        ntok = max(1, len(tokens(text).folded))
        # the recordation's common-word flag is about its title; aliases are judged on their own
        common = (common_flag and kind == "exact") or key in ORDINARY_WORDS or len(key) <= 3 or key in common_aliases
        budget = fuzzy_budget(len(key)) if len(key) >= 6 or not common else 0
        out.append(Term(rec, text, kind, compact(text), key, ntok, common, budget))
    return out


@dataclass
class RegistryIndex:
    """Active recordations of every jurisdiction, indexed by folded mark key and its deletion neighbourhood.

    Built once from the whole registry (``build``), then kept up to date a recordation at a time (``update``):
    a change costs the few keys of that recordation, not a rebuild of the registry. Only the automaton of the
    Chinese marks is rebuilt as a whole when a Chinese mark comes or goes, and that can happen apart
    (``build_automata`` in another thread, then ``install_automata``): meanwhile the old automaton goes on
    finding the marks it knows, the terms of each read from the live tables."""

    by_jurisdiction: dict[str, _JurIndex] = field(default_factory=dict)
    size: int = 0
    terms: int = 0
    _fuzzy_cache: dict = field(default_factory=dict, repr=False)
    _unspaced_cache: dict = field(default_factory=dict, repr=False)
    _by_recordation: dict = field(default_factory=dict, repr=False)  # id -> (jurisdiction, its terms)

    @classmethod
    def build(cls, recordations: list[RecordationV1]) -> RegistryIndex:
        index = cls()
        for rec in recordations:
            index._add(rec)
        for jur in index.by_jurisdiction.values():
            jur.finish()
        return index

    def _add(self, rec: RecordationV1) -> str | None:
        """Index an active recordation; the jurisdiction whose Chinese marks changed, if they did."""
        if rec.status != "active":
            return None
        jur = self.by_jurisdiction.setdefault(rec.jurisdiction, _JurIndex())
        terms = _terms_of(rec)
        for term in terms:
            jur.add(term)
        self._by_recordation[rec.recordation_id] = (rec.jurisdiction, terms)
        self.size += 1
        self.terms += sum(1 for t in terms if t.kind != "pinyin")
        return rec.jurisdiction if any(t.han for t in terms) else None

    def _remove(self, recordation_id: str) -> str | None:
        entry = self._by_recordation.pop(recordation_id, None)
        if entry is None:
            return None
        jurisdiction, terms = entry
        jur = self.by_jurisdiction[jurisdiction]
        for term in terms:
            jur.remove(term)
        self.size -= 1
        self.terms -= sum(1 for t in terms if t.kind != "pinyin")
        return jurisdiction if any(t.han for t in terms) else None

    def __contains__(self, recordation_id: str) -> bool:
        return recordation_id in self._by_recordation

    def update(self, changed: Sequence[RecordationV1] = (), removed: Sequence[str] = ()) -> set[str]:
        """Take in changed recordations (re-indexed; one no longer active is dropped) and removed ones.
        Returns the jurisdictions whose Chinese marks changed: their automata need ``build_automata``
        and ``install_automata`` (until then a new Chinese mark is not found, a dropped one already not)."""
        dirty: set[str] = set()
        for rid in [*removed, *(r.recordation_id for r in changed)]:
            j = self._remove(rid)
            if j:
                dirty.add(j)
        for rec in changed:
            j = self._add(rec)
            if j:
                dirty.add(j)
        self.clear_cache()
        return dirty

    def build_automata(self, jurisdictions: set[str]) -> dict[str, Automaton | None]:
        """New automata for these jurisdictions, from a snapshot of their Chinese marks (safe in a thread)."""
        snapshot = {j: tuple(self.by_jurisdiction[j].unspaced) for j in jurisdictions if j in self.by_jurisdiction}
        return {j: _JurIndex.build_automaton(keys) for j, keys in snapshot.items()}

    def install_automata(self, automata: dict[str, Automaton | None]) -> None:
        for j, automaton in automata.items():
            self.by_jurisdiction[j].install(automaton)
        self._unspaced_cache.clear()

    def update_now(self, changed: Sequence[RecordationV1] = (), removed: Sequence[str] = ()) -> None:
        """``update`` with the automata rebuilt at once (tests, tools)."""
        self.install_automata(self.build_automata(self.update(changed, removed)))

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
    ("compatible", "with"),
    ("compatible", "for"),
    ("compatible",),
    ("for", "use", "with"),
    ("for",),
    ("fits",),
    ("fit", "for"),
    ("fits", "for"),
    ("to", "fit"),
    ("suitable", "for"),
    ("works", "with"),
    ("replacement", "for"),
    ("designed", "for"),
    ("made", "for"),
    ("intended", "for"),
    ("compatibility",),
)
_FILLERS = frozenset({"the", "a", "an", "all", "your", "most", "models", "model", "series"})
# The same right after the mark ("NIKE compatible shoe laces", "iPhone 15 replacement screen", "Dyson-compatible
# filter"), past at most EN_POSTFIX_GAP model words (digits, "pro", "max", ...) or other marks.
EN_POSTFIX_CUES = frozenset({"compatible", "replacement", "compatibility"})
EN_POSTFIX_GAP = 2
_MODEL_WORDS = frozenset({"pro", "max", "plus", "mini", "ultra", "air", "lite", "se"})
# The same in Chinese: a cue before the mark ("适用于苹果手机", "兼容乐高") or after it, at most
# ZH_CUE_GAP characters on ("耐克鞋专用鞋带", "乐高配件", "苹果15专用"), or "通用" right after the marks
# ("苹果华为通用充电线"). "男女通用" (unisex) is not one.
ZH_PREFIX_CUES: tuple[str, ...] = (
    "适用于",
    "适用",
    "兼容",
    "适配",
    "用于",
    "适合",
    "专为",
    "配套",
    "可配",
    "支持",
    "替换",
    "替代",
    "代替",
    "匹配",
    "搭配",
    "可用于",
    "给",
)
ZH_POSTFIX_CUES: tuple[str, ...] = ("专用", "配件")  # not 适用 after the mark: "耐克运动鞋适用于跑步"
ZH_FILLERS: tuple[str, ...] = (
    "的",
    "各种",
    "各款",
    "所有",
    "多款",
    "全系",
    "系列",
    "型号",
    "款",
    "原装",
    "新款",
    "和",
    "及",
    "与",
    "或",
)
ZH_CUE_GAP = 5
ZH_CONJUNCTIONS = frozenset({"和", "及", "与", "或"})
ZH_LIST_ITEM = 4  # characters of one other item of a list a cue covers ("兼容华为和苹果")
_LIST_SEPARATORS = frozenset("、/,，&+ ")
ZH_COMMON_GAP = 2  # "苹果三星通用": 通用 (fits all) right after the marks
_NOT_FITS_ALL = frozenset(
    {"男女", "老少", "四季", "春秋", "冬夏", "大小", "内外", "左右", "男士", "女士", "成人", "儿童"}
)
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
    # how it was found besides its kind: alias, traditional, full_width, glued_latin, joined_words, homophone,
    # lookalike, pinyin, spaced_characters, invisible_characters; ``detail`` says it in words for the reason
    how: tuple[str, ...] = ()
    detail: str = ""
    # whether the mark reads as an ordinary word here (None: as the term is indexed), and why it does not
    common: bool | None = None
    reading: str = ""

    @property
    def is_common(self) -> bool:
        return self.term.common if self.common is None else self.common


def _grams(toks: list[str], max_n: int) -> Iterator[tuple[int, int, str]]:
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
            if seq[i : i + k] == cue:
                ends.add(i + k)
    return frozenset(ends)


def _is_descriptive_after(literal: tuple[str, ...], end: int, mark_positions: set[int]) -> bool:
    """A descriptive cue right after the mark ending at ``end`` (past model words and other marks)."""
    pos, skipped = end, 0
    while pos < len(literal):
        word = literal[pos]
        if word in EN_POSTFIX_CUES:
            return True
        if pos in mark_positions or word in _FILLERS:
            pos += 1
            continue
        if skipped < EN_POSTFIX_GAP and (any(ch.isdigit() for ch in word) or word in _MODEL_WORDS):
            pos, skipped = pos + 1, skipped + 1
            continue
        return False
    return False


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
        self.syl: tuple[tuple[str, ...], ...] | None = None
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

    def sounds(self) -> tuple[tuple[str, ...], ...]:
        """Each character's readings with the southern merges (``near_sounds``); a character without one is its
        own sound."""
        if self.syl is None:
            self.syl = tuple(near_sounds(c) or (c,) for c in self.text)
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
        grams: list[tuple[str, int, int, int, str | None]] = []
        for v, variant in enumerate(variants):
            for start, n, key in _grams(variant, max_n):
                if unspaced_tok and any(unspaced_tok[start : start + n]):
                    continue
                grams.append((key, start, n, v, None))
        if tk.pieces:  # words written together ("iPhone15ProMax"): whole marks among their pieces
            words = [p for p, _ in tk.pieces]
            owner = [i for _, i in tk.pieces]
            last = len(words) - 1
            for start, n, key in _grams(words, max_n + 2):
                a, b = owner[start], owner[start + n - 1]
                end = start + n - 1
                if (start == 0 or owner[start - 1] != a) and (end == last or owner[end + 1] != b):
                    continue  # whole tokens: probed above
                if key.isdigit() or (unspaced_tok and any(unspaced_tok[a : b + 1])):
                    continue
                grams.append((key, a, b - a + 1, 2, " ".join(words[start : start + n])))
        self.exact_grams = tuple(grams)
        folded = tk.folded
        fuzzy = []
        for start, n, key in _grams(folded, min(2, max_n)):
            if len(key) < 4 or key.isdigit():
                continue
            if unspaced_tok and any(unspaced_tok[start : start + n]):
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
    for key, start, n, v, found in plan.exact_grams:
        terms = exact.get(key)
        if not terms:
            continue
        if tk is None:
            tk = plan.tk
            literal_set = set(_literal_grams(tk.literal, jur.max_tokens + 2))
            if tk.literal_pieces:
                literal_set.update(k for _, _, k in _grams(list(tk.literal_pieces), jur.max_tokens + 2))
        if found is None:
            variant = tk.folded if v == 0 else tk.folded_alt
            assert variant is not None  # v is 1 only for a line with a second folding
            found = " ".join(variant[start : start + n])
        assert literal_set is not None  # set with ``tk`` above
        glued = tk.unspaced and any(tk.glued[start : start + n])
        in_chinese = tk.unspaced and _among_chinese(plan, start, n)
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
            if v == 2:
                how.append("joined_words")
                owner_text = " ".join(tk.folded[start : start + n])
                detail.append(f"{found.replace(' ', '')!r} written together with other words in {owner_text!r}")
            if _full_width(text, term.literal):
                how.append("full_width")
                detail.append("in full-width letters")
            if "invisible characters inside the word" in tricks:
                how.append("invisible_characters")
            cand = Candidate(
                term, field_name, kind, found, tricks=tricks, how=tuple(how), detail="; ".join(detail), distance=0
            )
            if term.common and in_chinese and not term.han:
                cand.common = False
                cand.reading = "a Latin name among Chinese words, not an English word"
            out.append(cand)
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
                glued = plan.tk.unspaced and any(plan.tk.glued[start : start + n])
                out.append(
                    Candidate(
                        term,
                        field_name,
                        "fuzzy",
                        " ".join(folded[start : start + n]),
                        distance=dist,
                        how=("glued_latin",) if glued else (),
                    )
                )
                cand_spans.append((start, n))
                matched_spans.append((start, n))
    descriptive_field = field_name == "description"
    if descriptive_field and out:
        folded_words = tuple(plan.tk.folded)
        positions = {s + k for s, n in matched_spans for k in range(n)}
        for cand, (start, n) in zip(out, cand_spans, strict=True):
            if _is_descriptive(folded_words, start, {p for p in positions if p < start}) or _is_descriptive_after(
                folded_words, start + n, {p for p in positions if p >= start + n}
            ):
                cand.descriptive = True
            elif plan.segs and _zh_descriptive_latin(plan, start, n, positions):
                cand.descriptive = True
    if plan.segs and jur.automaton is not None:
        latin_marks = {s + k for s, n in matched_spans for k in range(n)}
        for seg in plan.segs:
            _find_unspaced(index, jurisdiction, jur, plan, seg, field_name, out, descriptive_field, latin_marks)
    return out


def _among_chinese(plan: _Plan, start: int, n: int) -> bool:
    """A Latin word written among Chinese words: glued to Chinese text ('GAP纯棉T恤', 'LV手袋'), or with Chinese
    text on one side and nothing but numbers or the end of the field on the other ('Beats 头戴式耳机')."""
    if any(plan.tk.glued[start : start + n]):
        return True
    folded, unspaced = plan.tk.folded, plan.unspaced_tok

    def side(i: int, step: int) -> bool | None:
        while 0 <= i < len(folded) and folded[i].isdigit():
            i += step
        return unspaced[i] if 0 <= i < len(folded) else None

    before, after = side(start - 1, -1), side(start + n, 1)
    return bool(before or after) and before is not False and after is not False


def _full_width(text: str, literal: str) -> bool:
    """The mark is written in full-width letters in the original text ('ＮＩＫＥ')."""
    if text.isascii() or not any("\uff01" <= c <= "\uff5e" for c in text):
        return False
    run = "".join(c for c in text if "\uff10" <= c <= "\uff5a")
    return literal in compact(run)


def _find_unspaced(
    index: RegistryIndex,
    jurisdiction: str,
    jur: _JurIndex,
    plan: _Plan,
    seg: _Seg,
    field_name: str,
    out: list[Candidate],
    descriptive_field: bool,
    latin_marks: set[int],
) -> None:
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
        cand = Candidate(
            term, field_name, kind, text[s:e], distance=distance, tricks=tricks, how=tuple(how), detail=detail
        )
        if descriptive_field and _zh_descriptive_han(plan, seg, s, e, spans, latin_marks):
            cand.descriptive = True
        elif term.common and kind != "fuzzy":
            goods = _goods_after(plan, seg, e)
            if goods:  # 苹果手机: the ordinary word names the maker of the goods
                cand.common = False
                cand.reading = f"directly before {goods!r}, the name of the goods: used as a mark"
        out.append(cand)


def _goods_after(plan: _Plan, seg: _Seg, e: int, across: bool = True) -> str | None:
    """The name of the goods directly after position ``e`` of a run ('苹果手机' -> '手机'), past qualifiers that do
    not change what the word before says (原装, 男士, 新款) and, where the run ends, past model names and numbers
    ('苹果 15 手机'); None when anything else comes first ('苹果造型音箱', '苹果醋')."""
    text = seg.text
    pos = e
    while True:
        qualifier = next((q for q in ZH_GOODS_QUALIFIERS if text.startswith(q, pos)), None)
        if qualifier is None:
            break
        pos += len(qualifier)
    if pos < len(text):
        for length in range(min(_GOODS_MAX_LEN, len(text) - pos), 1, -1):
            if text[pos : pos + length] in GOODS_WORDS_ZH:
                return text[pos : pos + length]
        return None
    if not across:
        return None
    folded = plan.tk.folded
    i = seg.first + len(seg.starts)
    for _ in range(3):
        if i >= len(folded):
            return None
        if plan.unspaced_tok[i]:
            nxt = _seg_of(plan, i)
            return _goods_after(plan, nxt, 0, across=False) if nxt is not None else None
        if not (any(c.isdigit() for c in folded[i]) or len(folded[i]) <= 4):
            return None
        i += 1
    return None


def _search_run(jur: _JurIndex, seg: _Seg) -> tuple[list[tuple], list[tuple[int, int]]]:
    """The marks a run holds, whatever field or line it is in: (term, kind, start, end, tricks, how, detail,
    distance) each, and the spans of the marks found as written."""
    text = seg.text
    marks: list[tuple[int, int, list[Term]]] = []
    ordinary: list[tuple[int, int]] = []
    unspaced = jur.unspaced
    automaton = jur.automaton
    assert automaton is not None  # a run is searched only in a jurisdiction with an automaton
    for end, (key, is_word) in automaton.iter(text):
        s, e = end - len(key) + 1, end + 1
        if is_word:
            ordinary.append((s, e))
        terms = unspaced.get(key)
        if terms:
            marks.append((s, e, terms))
    # a mark inside a longer ordinary word is that word ("苹果醋", "潘多拉魔盒", "三星级"); so is a mark whose
    # first character ends an ordinary word ("快乐高尔夫" is 快乐 + 高尔夫, not 乐高)
    marks = [
        (s, e, t)
        for s, e, t in marks
        if not any((os_ <= s and e <= oe and oe - os_ > e - s) or os_ < s < oe < e for os_, oe in ordinary)
    ]
    spans: list[tuple[int, int]] = [(s, e) for s, e, _ in marks]
    found: list[tuple] = []
    for s, e, terms in marks:
        spaced = seg.spaced_out(s, e)
        for term in terms:
            how = ("alias",) if term.kind == "alias" else ()
            if spaced:
                found.append(
                    (term, "normalised", s, e, ("characters spaced out",), how + ("spaced_characters",), "", 0)
                )
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
    for k in range(len(seg.starts)):
        tok = seg.first + k
        tok_text = plan.tk.folded[tok]
        written = trad.get(tok, tok_text)
        if len(written) != len(tok_text):
            written = tok_text
        pieces.append(written)
    return "".join(pieces)[s:e]


def _near_forms(
    jur: _JurIndex, seg: _Seg, spans: list[tuple[int, int]], ordinary: list[tuple[int, int]], found: list
) -> None:
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
            cands: list[tuple[Term, str]] = []
            by_shape = shapes.get(shp[s:e])  # first: a look-alike that also sounds alike (弛 for 驰) is a near form
            if by_shape:
                cands.extend((t, "lookalike") for t in by_shape)
            for key in _window_sounds(syl[s:e]):
                by_sound = sounds.get(key)
                if by_sound:
                    cands.extend((t, "homophone") for t in by_sound)
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
                    same_sound = set(syllables(window[k])) & set(syllables(term.folded[k]))
                    detail = (
                        f"{window[k]!r} for {term.folded[k]!r}, a look-alike character"
                        f"{' of the same sound' if same_sound else ''}"
                    )
                else:
                    if not all(has_han(window[k]) for k in diffs):
                        continue
                    detail = _pinyin_detail(window, term.folded)
                seen.add((id(term), s))
                found.append((term, "fuzzy", s, e, (), (how,), detail, len(diffs)))


def _zh_prefix(text: str, pos: int, spans: list[tuple[int, int]], item: int = 0) -> int | None:
    """Walk back from ``pos`` over fillers and other marks; True-ish (-1) if a Chinese cue ends there,
    else the position reached (0 when the run is used up).

    A cue covers every item of a list: past a conjunction (和, 与, 及, 或) the walk also passes one item of
    up to ZH_LIST_ITEM characters that is no recorded mark ("兼容华为和苹果手机": 兼容 covers 苹果 too); ``item``
    starts it so when the list continues across punctuation ("兼容华为、苹果")."""
    ends = {e: s for s, e in spans}
    while pos > 0:
        if any(text.endswith(cue, 0, pos) for cue in ZH_PREFIX_CUES):
            return -1
        filler = next((f for f in ZH_FILLERS if text.endswith(f, 0, pos)), None)
        if filler:
            pos -= len(filler)
            if filler in ZH_CONJUNCTIONS:
                item = ZH_LIST_ITEM
        elif pos in ends and ends[pos] < pos:
            pos = ends[pos]
        elif item > 0:
            pos -= 1
            item -= 1
        else:
            return pos
    return 0


def _list_item(plan: _Plan, tok: int) -> int:
    """ZH_LIST_ITEM when the separator before token ``tok`` joins items of a list ('华为、苹果', '华为/苹果')."""
    sep = plan.tk.seps[tok] if tok < len(plan.tk.seps) else ""
    return ZH_LIST_ITEM if sep.strip() and set(sep) <= _LIST_SEPARATORS else 0


def _zh_postfix(text: str, pos: int, budget: int) -> bool | None:
    """A Chinese cue within ``budget`` characters after ``pos``; None when the run ends before the budget.

    "通用" (fits all) counts right after the marks ("苹果华为通用充电线", "iPhone通用"), not after "男女"
    (unisex) or the like."""
    rest = text[pos : pos + budget + 4]
    for cue in ZH_POSTFIX_CUES:
        i = rest.find(cue)
        if 0 <= i <= budget:
            return True
    i = rest.find("通用")
    if 0 <= i <= min(budget, ZH_COMMON_GAP) and rest[max(0, i - 2) : i] not in _NOT_FITS_ALL:
        return True
    return None if len(text) - pos <= budget else False


def _is_latin_filler(tok: str, i: int, marks: set[int]) -> bool:
    return i in marks or tok in _FILLERS or any(c.isdigit() for c in tok) or len(tok) <= 4


def _seg_of(plan: _Plan, tok: int) -> _Seg | None:
    for seg in plan.segs:
        if seg.first <= tok < seg.first + len(seg.starts):
            return seg
    return None


def _zh_descriptive_han(
    plan: _Plan, seg: _Seg, s: int, e: int, spans: list[tuple[int, int]], latin_marks: set[int]
) -> bool:
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
                return prev is not None and _zh_prefix(prev.text, len(prev.text), [], _list_item(plan, i + 1)) == -1
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
            if prev is not None and _zh_prefix(prev.text, len(prev.text), [], _list_item(plan, i + 1)) == -1:
                return True
            break
        if not _is_latin_filler(folded[i], i, latin_marks):
            break
        i -= 1
        steps += 1
    return _postfix_beyond(plan, start + n, latin_marks, ZH_CUE_GAP)


def _literal_grams(toks: list[str], max_n: int) -> Iterator[str]:
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
        entry["common_word"] = bool(
            (kind == "title" and payload.get("common_word"))
            or key in common_aliases
            or key in ORDINARY_WORDS
            or key in ORDINARY_WORDS_ZH
        )
        out.append(entry)
    return out


def __getattr__(name: str) -> Any:  # scoring API re-exported lazily (it imports this module)
    if name in ("Scoring", "assess_line", "LineResult", "Context"):
        from services.risk import scoring

        return getattr(scoring, name)
    raise AttributeError(name)
