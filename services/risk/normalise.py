"""Text normalisation for mark matching: the tricks counterfeiters use to slip a mark past a filter.

Two forms of every token are kept:

* the *literal* form: Unicode compatibility (NFKC: full-width letters, ligatures), case folding,
  punctuation and spacing removed -- "Nike." and "ＮＩＫＥ" are literally "nike";
* the *folded* form: additionally confusable letters mapped to Latin (Cyrillic "а", Greek "Ν"),
  diacritics stripped ("Nïke"), symbols and digits standing for letters inside words mapped back
  ("ADID@S", "N1KE", "ADIDA5", "L0UIS"), and runs of single letters joined ("N I K E").

A hit found through the folded form but not through the literal one is a *normalised* match: the
reason names the trick, so an officer sees why the line was stopped.

Both forms also:

* drop invisible characters (zero-width spaces and joiners, direction marks, soft hyphens: "NI\u200bKE")
  and read control characters as spaces;
* write Traditional Chinese as Simplified (OpenCC ``t2s``: "勞力士" is "劳力士"), so a mark recorded in one
  form is found in the other, and the reason says which form the declaration used;
* split a token where the script changes between a spaced script (Latin, digits, Cyrillic, Hangul...)
  and a script written without spaces (Han, kana, Thai...): "NIKE运动鞋" is the tokens "nike" and
  "运动鞋", the first marked as *glued* to the Chinese text. Tokens of unspaced scripts are matched by
  the automaton in ``services.risk.matcher``, not by word n-grams.

A third reading, ``pieces``, reads words written together as a model name is: a new word starts where
letters meet digits and where a small letter meets a capital ("iPhone15ProMax" is i Phone 15 Pro Max,
"NewBalance574" is New Balance 574). It is only probed for whole marks, never fuzzily, and only where a
token splits at all: "N1KE" keeps its reading as "nike" (digits for letters) in the other forms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Look-alike letters mapped to the Latin letter they imitate. Upper case first (Greek capital Nu looks
# like N, its small form like v), applied before case folding.
_CONFUSABLE_PAIRS = {
    # Cyrillic capitals
    "А": "A",
    "В": "B",
    "Е": "E",
    "Ё": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "У": "Y",
    "Ѕ": "S",
    "І": "I",
    "Ї": "I",
    "Ј": "J",
    "Ԛ": "Q",
    "Ԝ": "W",
    "Ӏ": "I",
    # Cyrillic small
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "х": "x",
    "у": "y",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
    "ь": "b",
    "п": "n",
    "г": "r",
    # Greek capitals
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    # Greek small
    "α": "a",
    "β": "b",
    "γ": "y",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "μ": "u",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "ς": "s",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "ŀ": "l",
    "ɡ": "g",
    "ɑ": "a",
    "ʀ": "r",
}
_CONFUSABLES = str.maketrans(_CONFUSABLE_PAIRS)

# Digits that stand for letters inside a word ("N1KE", "ADIDA5"). '1' is ambiguous (I or L): both
# readings are tried.
_LEET_I = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_LEET_L = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
# Symbols that stand for letters when they touch a letter ("ADID@S", "$HELL", "N!KE", "GUCC|").
_SYMBOL_LETTERS = re.compile(r"(?<=[a-z])[@$!|]|[@$!|](?=[a-z])")
_SYMBOL_MAP = {"@": "a", "$": "s", "!": "i", "|": "l"}

# Scripts written without spaces between words: Han (with the iteration marks), kana, Thai, Lao, Khmer,
# Myanmar. Their tokens are runs of characters, found by substring search rather than by words.
_UNSPACED = (
    "\u3005\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\U00020000-\U0003134f"
)
_HAN = "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAS_UNSPACED = re.compile(f"[{_UNSPACED}]")
_HAS_HAN = re.compile(f"[{_HAN}]")
_SCRIPT_RUNS = re.compile(f"[{_UNSPACED}]+|[^{_UNSPACED}]+")
_ALL_UNSPACED = re.compile(f"[{_UNSPACED}]+")
# Characters that are not seen (format characters: zero-width space and joiners, direction marks and
# embeddings, word joiner, byte-order mark, soft hyphen, Mongolian vowel separator): dropped, so that
# "NI\u200bKE" reads "NIKE". Control characters are read as spaces.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NON_ALNUM = re.compile(r"[\W_]+")
_TOKEN_SPLIT = re.compile(r"[\W_]+")
_TOKEN_SPLIT_KEEP = re.compile(r"([\W_]+)")
_HAS_DIGIT = re.compile(r"[0-9]")
_HAS_LETTER = re.compile(r"[a-z]")
# Words written together: letters against digits, a small letter against a capital.
_JOINED = re.compile(r"[a-z][A-Z]|[A-Za-z][0-9]|[0-9][A-Za-z]")
_CAMEL_RUN = re.compile(r"[A-Za-z]{2,}")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_LETTER_DIGIT_RUNS = re.compile(r"[a-z]+|[0-9]+|[^a-z0-9]+")


def normalise(text: str) -> str:
    """Literal form, space separated: case-, width- and punctuation-insensitive ('Nike.' -> 'nike'),
    Traditional Chinese as Simplified."""
    folded = to_simplified(unicodedata.normalize("NFKC", _pre(text)).casefold())
    return _NON_ALNUM.sub(" ", folded).strip()


_T2S = None


def to_simplified(text: str) -> str:
    """Traditional Chinese characters written as Simplified (OpenCC t2s); text without Han is returned as is."""
    global _T2S
    if text.isascii() or not _HAS_HAN.search(text):
        return text
    if _T2S is None:
        import opencc

        _T2S = opencc.OpenCC("t2s")
    try:
        return _T2S.convert(text)
    except UnicodeEncodeError:  # an unpaired surrogate: not text, read as a space
        return _T2S.convert(_CONTROL.sub(" ", text))


def is_unspaced(token: str) -> bool:
    """A token of a script written without spaces (Han, kana, Thai...): matched as a run of characters."""
    return not token.isascii() and _HAS_UNSPACED.match(token) is not None


def has_han(text: str) -> bool:
    return not text.isascii() and _HAS_HAN.search(text) is not None


def compact(text: str) -> str:
    """Literal form with spacing removed: 'N I K E' -> 'nike'."""
    return normalise(text).replace(" ", "")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed == text and text.isascii():
        return text
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_MARK_SIGNS = str.maketrans({"™": " ", "®": " ", "©": " ", "℠": " ", "℗": " "})
# A small l between capitals reads as a capital I ("NlKE"); so does a capital I between small letters.
_L_FOR_I = re.compile(r"(?<=[A-Z])l(?=[A-Z])|^l(?=[A-Z]{2})|(?<=[A-Z]{2})l$")


def _pre(text: str) -> str:
    """Before NFKC: trade-mark signs are separators, not the letters 'TM' glued to the mark; invisible
    characters are dropped and control characters (and unpaired surrogates, which no text may carry) are
    read as spaces."""
    if not text.isascii():
        text = _INVISIBLE.sub("", text.translate(_MARK_SIGNS))
        if _CONTROL.search(text):
            text = _CONTROL.sub(" ", text)
    elif not text.isprintable() and _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return text


def has_invisible(text: str) -> bool:
    """Invisible characters inside a word ('NI\u200bKE'): a way to break a mark for a filter but not for the eye."""
    return not text.isascii() and _INVISIBLE.search(text) is not None


def _fold_text(text: str) -> str:
    """Unicode + confusables + diacritics + symbol letters, lower case; tokens still separated by anything."""
    t = unicodedata.normalize("NFKC", _pre(text))
    if "l" in t:
        t = " ".join(_L_FOR_I.sub("I", w) for w in t.split(" "))
    if not t.isascii():
        t = _strip_marks(t.translate(_CONFUSABLES))
    t = t.casefold()
    if "@" in t or "$" in t or "!" in t or "|" in t:
        t = _SYMBOL_LETTERS.sub(lambda m: _SYMBOL_MAP[m.group(0)], t)
    return t


def _leet(token: str, table: dict) -> str:
    if _HAS_DIGIT.search(token) and _HAS_LETTER.search(token):
        return token.translate(table)
    return token


def _single_letter_groups(tokens: list[str]) -> list[tuple[int, int]]:
    """Index ranges of the tokens as joined: a run of two or more one-letter tokens of a spaced script is one
    range ('n i k e' -> 'nike'); every other token is its own."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        j = i
        while j < n and len(tokens[j]) == 1 and tokens[j].isalpha() and not is_unspaced(tokens[j]):
            j += 1
        if j - i >= 2:
            out.append((i, j))
            i = j
        else:
            out.append((i, i + 1))
            i += 1
    return out


def _split_scripts(tokens: list[str], seps: list[str]) -> tuple[list[str], list[bool], list[str], list[str]]:
    """Split tokens where a spaced script meets an unspaced one ('nike运动鞋' -> 'nike', '运动鞋'); unspaced runs
    are written as Simplified. Returns the tokens, which spaced-script tokens were glued to unspaced text, each
    token as written (before Traditional -> Simplified) and the separator before each token."""
    out: list[str] = []
    glued: list[bool] = []
    written: list[str] = []
    out_seps: list[str] = []
    for tok, sep in zip(tokens, seps, strict=True):
        if tok.isascii() or not _HAS_UNSPACED.search(tok):
            out.append(tok)
            glued.append(False)
            written.append(tok)
            out_seps.append(sep)
            continue
        parts = _SCRIPT_RUNS.findall(tok)
        many = len(parts) > 1
        for k, part in enumerate(parts):
            written.append(part)
            out_seps.append(sep if k == 0 else "")
            if _HAS_UNSPACED.match(part):
                out.append(to_simplified(part))
                glued.append(False)
            else:
                out.append(part)
                glued.append(many)
    return out, glued, written, out_seps


class Tokens:
    """The literal and folded token sequences of one text (folded may have a second reading for '1').

    ``glued`` runs parallel to ``folded``: a spaced-script token written against unspaced text ('NIKE运动鞋').
    ``traditional`` maps an unspaced token of ``folded`` to its form as written when that was Traditional.
    """

    __slots__ = (
        "literal",
        "folded",
        "folded_alt",
        "tricks",
        "glued",
        "traditional",
        "unspaced",
        "seps",
        "pieces",
        "literal_pieces",
    )

    def __init__(
        self,
        literal: list[str],
        folded: list[str],
        folded_alt: list[str] | None,
        tricks: tuple[str, ...],
        glued: tuple[bool, ...] = (),
        traditional: dict[int, str] | None = None,
        unspaced: bool = False,
        seps: tuple[str, ...] = (),
        pieces: tuple[tuple[str, int], ...] | None = None,
        literal_pieces: tuple[str, ...] | None = None,
    ) -> None:
        self.literal = literal
        self.folded = folded
        self.folded_alt = folded_alt
        self.tricks = tricks
        self.glued = glued or (False,) * len(folded)
        self.traditional = traditional or {}
        self.unspaced = unspaced  # the text has unspaced-script tokens
        self.seps = seps  # the separator before each folded token ('' when glued); only for unspaced text
        # words written together read apart ("iphone15promax" -> i, phone, 15, pro, max), each with the index of
        # its token in ``folded``; None when no token splits
        self.pieces = pieces
        self.literal_pieces = literal_pieces


@lru_cache(maxsize=65536)
def tokens(text: str) -> Tokens:
    """Tokenise a brand, model or description field for matching (cached: goods texts repeat a lot)."""
    nfkc = unicodedata.normalize("NFKC", _pre(text)).casefold()
    literal = [t for t in _TOKEN_SPLIT.split(nfkc) if t]
    unspaced = not text.isascii() and _HAS_UNSPACED.search(nfkc) is not None
    if unspaced:
        raw, seps = [], []
        pending = ""
        for k, part in enumerate(_TOKEN_SPLIT_KEEP.split(_fold_text(text))):
            if k % 2:
                pending = part
            elif part:
                raw.append(part)
                seps.append(pending)
                pending = ""
        literal = _split_scripts(literal, [""] * len(literal))[0]
        raw, glued, written, seps = _split_scripts(raw, seps)
    else:
        raw = [t for t in _TOKEN_SPLIT.split(_fold_text(text)) if t]
        glued, written, seps = [False] * len(raw), raw, []
    tricks: list[str] = []
    raw_g = raw
    folded = [_leet(t, _LEET_I) for t in raw]
    alt = [_leet(t, _LEET_L) for t in raw]
    if folded != raw or _SYMBOL_LETTERS.search(unicodedata.normalize("NFKC", text).casefold()):
        tricks.append("digits or symbols for letters")
    groups = _single_letter_groups(folded)
    if len(groups) != len(folded):
        tricks.append("spaced-out letters")
        folded = ["".join(folded[a:b]) for a, b in groups]
        raw_g = ["".join(raw[a:b]) for a, b in groups]
        alt = ["".join(alt[a:b]) for a, b in groups]
        glued = [any(glued[a:b]) for a, b in groups]
        written = ["".join(written[a:b]) for a, b in groups]
        if seps:
            seps = [seps[a] for a, _ in groups]
    folded_alt = alt if alt != folded else None
    if not text.isascii() and _fold_text(text) != nfkc:
        tricks.append("look-alike or accented letters")
    if has_invisible(text):
        tricks.append("invisible characters inside the word")
    traditional = (
        {i: w for i, (t, w) in enumerate(zip(folded, written, strict=True)) if t != w and is_unspaced(t)}
        if unspaced
        else None
    )
    pieces = literal_pieces = None
    cased = unicodedata.normalize("NFKC", _pre(text))
    if _JOINED.search(cased):
        camel = _camel_parts(cased)
        split = [(p, i) for i, t in enumerate(raw_g) for p in _pieces(t, camel)]
        if len(split) > len(raw_g):
            pieces = tuple(split)
            literal_pieces = tuple(p for t in literal for p in _pieces(t, camel))
    return Tokens(
        literal,
        folded,
        folded_alt,
        tuple(tricks),
        tuple(glued),
        traditional,
        unspaced,
        tuple(seps),
        pieces,
        literal_pieces,
    )


def _camel_parts(cased: str) -> dict[str, tuple[str, ...]]:
    """Letter runs of a text that change from small letters to capitals, by their folded form: 'iPhone' ->
    ('i', 'phone'), 'NewBalance' -> ('new', 'balance'); 'LVMH', 'Nike' and 'NIKE' are one word each."""
    out: dict[str, tuple[str, ...]] = {}
    for run in _CAMEL_RUN.findall(cased):
        parts = _CAMEL_PART.findall(run)
        if len(parts) > 1:
            out[run.casefold()] = tuple(p.casefold() for p in parts)
    return out


def _pieces(token: str, camel: dict[str, tuple[str, ...]]) -> list[str]:
    """A token read as the words written together in it: at letters against digits, and where the text changed
    from a small letter to a capital ('iphone15promax' -> i, phone, 15, pro, max)."""
    if is_unspaced(token):
        return [token]
    out: list[str] = []
    for run in _LETTER_DIGIT_RUNS.findall(token):
        out.extend(camel.get(run, (run,)))
    return out


_RUNS = re.compile(r"(.)\1+")


def collapse(key: str) -> str:
    """Doubled letters as one ('guccci' -> 'guci', 'nikee' -> 'nike'): the commonest misspelling of a mark."""
    return _RUNS.sub(r"\1", key)


def fold_key(text: str) -> str:
    """Folded compact key of a mark or alias, as it is indexed."""
    return "".join(tokens(text).folded)


def fold_tokens(text: str) -> list[str]:
    return tokens(text).folded


# ---------------------------------------------------------------- Han: sounds and shapes

_DATA = Path(__file__).with_name("data")
_SYLLABLES: dict[str, tuple[str, ...]] = {}


def syllables(ch: str) -> tuple[str, ...]:
    """Toneless pinyin readings of a Han character, the commonest first ('乐' -> ('le', 'yue')); () if none."""
    found = _SYLLABLES.get(ch)
    if found is None:
        from pypinyin.pinyin_dict import pinyin_dict

        raw = pinyin_dict.get(ord(ch))
        out: list[str] = []
        for reading in raw.split(",") if raw else ():
            plain = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
            if plain and plain not in out:
                out.append(plain)
        found = _SYLLABLES[ch] = tuple(out)
    return found


def near_syllable(syllable: str) -> str:
    """A toneless syllable with the sounds southern Mandarin merges merged: retroflex initials as flat ones (zh, ch,
    sh as z, c, s) and back nasal finals as front ones (ang, eng, ing as an, en, in). Chinese input methods offer
    the same merges as "fuzzy pinyin" (模糊音); 迪斯尼 (di si ni) sounds like 迪士尼 (di shi ni)."""
    if syllable[:2] in ("zh", "ch", "sh"):
        syllable = syllable[0] + syllable[2:]
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


@lru_cache(maxsize=65536)
def near_sounds(ch: str) -> tuple[str, ...]:
    """The merged readings of a Han character, at most its three commonest ('勒' -> ('lei', 'le')); () if none."""
    out: list[str] = []
    for reading in syllables(ch)[:3]:
        near = near_syllable(reading)
        if near not in out:
            out.append(near)
    return tuple(out)


def sound(ch: str) -> str:
    """The commonest toneless reading of a character, or the character itself when it has none."""
    readings = syllables(ch)
    return readings[0] if readings else ch


def _load_lookalikes() -> tuple[dict[str, str], frozenset[tuple[str, str]]]:
    """Look-alike groups: a class per character (groups sharing a character merge) and the listed pairs."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c

    pairs: set[tuple[str, str]] = set()
    for line in (_DATA / "han_lookalikes.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        group = line.split()
        for a in group:
            for b in group:
                if a != b:
                    pairs.add((a, b))
            parent[find(a)] = find(group[0])
    return {c: find(c) for c in parent}, frozenset(pairs)


_SHAPE_CLASS, _LOOKALIKE_PAIRS = _load_lookalikes()


def shape(ch: str) -> str:
    """A class shared by characters that look alike (士 and 土); any other character is its own class."""
    return _SHAPE_CLASS.get(ch, ch)


def has_lookalike(ch: str) -> bool:
    """The character has look-alikes listed (any member of a group, the first one too)."""
    return ch in _SHAPE_CLASS


def looks_alike(a: str, b: str) -> bool:
    return (a, b) in _LOOKALIKE_PAIRS
