"""Text normalisation for mark matching: the tricks counterfeiters use to slip a mark past a filter.

Two forms of every token are kept:

* the *literal* form: Unicode compatibility (NFKC: full-width letters, ligatures), case folding,
  punctuation and spacing removed -- "Nike." and "ＮＩＫＥ" are literally "nike";
* the *folded* form: additionally confusable letters mapped to Latin (Cyrillic "а", Greek "Ν"),
  diacritics stripped ("Nïke"), symbols and digits standing for letters inside words mapped back
  ("ADID@S", "N1KE", "ADIDA5", "L0UIS"), and runs of single letters joined ("N I K E").

A hit found through the folded form but not through the literal one is a *normalised* match: the
reason names the trick, so an officer sees why the line was stopped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Look-alike letters mapped to the Latin letter they imitate. Upper case first (Greek capital Nu looks
# like N, its small form like v), applied before case folding.
_CONFUSABLE_PAIRS = {
    # Cyrillic capitals
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Cyrillic small
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "х": "x", "у": "y", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ь": "b", "п": "n", "г": "r",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Greek small
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
    "ρ": "p", "ς": "s", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ɡ": "g", "ɑ": "a", "ʀ": "r",
}
_CONFUSABLES = str.maketrans(_CONFUSABLE_PAIRS)

# Digits that stand for letters inside a word ("N1KE", "ADIDA5"). '1' is ambiguous (I or L): both
# readings are tried.
_LEET_I = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_LEET_L = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
# Symbols that stand for letters when they touch a letter ("ADID@S", "$HELL", "N!KE", "GUCC|").
_SYMBOL_LETTERS = re.compile(r"(?<=[a-z])[@$!|]|[@$!|](?=[a-z])")
_SYMBOL_MAP = {"@": "a", "$": "s", "!": "i", "|": "l"}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NON_ALNUM = re.compile(r"[\W_]+")
_TOKEN_SPLIT = re.compile(r"[\W_]+")
_HAS_DIGIT = re.compile(r"[0-9]")
_HAS_LETTER = re.compile(r"[a-z]")


def normalise(text: str) -> str:
    """Literal form, space separated: case-, width- and punctuation-insensitive ('Nike.' -> 'nike')."""
    folded = unicodedata.normalize("NFKC", _pre(text)).casefold()
    return _NON_ALNUM.sub(" ", folded).strip()


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
    """Before NFKC: trade-mark signs are separators, not the letters 'TM' glued to the mark."""
    if not text.isascii():
        text = text.translate(_MARK_SIGNS)
    return text


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


def _join_single_letters(tokens: list[str]) -> list[str]:
    """'n i k e' -> 'nike': a run of two or more one-character tokens becomes one token."""
    out: list[str] = []
    run: list[str] = []
    for tok in tokens:
        if len(tok) == 1 and tok.isalpha():
            run.append(tok)
            continue
        if len(run) >= 2:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        out.append(tok)
    if len(run) >= 2:
        out.append("".join(run))
    else:
        out.extend(run)
    return out


class Tokens:
    """The literal and folded token sequences of one text (folded may have a second reading for '1')."""

    __slots__ = ("literal", "folded", "folded_alt", "tricks")

    def __init__(self, literal: list[str], folded: list[str], folded_alt: list[str] | None, tricks: tuple[str, ...]):
        self.literal = literal
        self.folded = folded
        self.folded_alt = folded_alt
        self.tricks = tricks


@lru_cache(maxsize=65536)
def tokens(text: str) -> Tokens:
    """Tokenise a brand, model or description field for matching (cached: goods texts repeat a lot)."""
    literal = [t for t in _TOKEN_SPLIT.split(unicodedata.normalize("NFKC", _pre(text)).casefold()) if t]
    raw = [t for t in _TOKEN_SPLIT.split(_fold_text(text)) if t]
    tricks: list[str] = []
    folded = [_leet(t, _LEET_I) for t in raw]
    alt = [_leet(t, _LEET_L) for t in raw]
    if folded != raw or _SYMBOL_LETTERS.search(unicodedata.normalize("NFKC", text).casefold()):
        tricks.append("digits or symbols for letters")
    joined = _join_single_letters(folded)
    if joined != folded:
        tricks.append("spaced-out letters")
        folded = joined
        alt = _join_single_letters(alt)
    folded_alt = alt if alt != folded else None
    if not text.isascii() and _fold_text(text) != unicodedata.normalize("NFKC", text).casefold():
        tricks.append("look-alike or accented letters")
    return Tokens(literal, folded, folded_alt, tuple(tricks))


_RUNS = re.compile(r"(.)\1+")


def collapse(key: str) -> str:
    """Doubled letters as one ('guccci' -> 'guci', 'nikee' -> 'nike'): the commonest misspelling of a mark."""
    return _RUNS.sub(r"\1", key)


def fold_key(text: str) -> str:
    """Folded compact key of a mark or alias, as it is indexed."""
    return "".join(tokens(text).folded)


def fold_tokens(text: str) -> list[str]:
    return tokens(text).folded
