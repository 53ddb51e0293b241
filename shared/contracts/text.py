"""Free text from outside (goods descriptions, brands, names, marks): what a text field may carry.

Any script is welcome, mixed as traders write it ("NIKE运动鞋", "Ｇｕｃｃｉ", "勞力士"): the risk matcher folds
width, case, Traditional characters, look-alike letters and invisible characters itself. Refused, with a
422 (or a dead letter on the topic) naming the field and the character:

* unpaired surrogates: not text at all, they cannot be stored or sent as UTF-8;
* control characters other than tab, line feed and carriage return (NUL, escape, C1 controls): a
  database refuses NUL, and the others rewrite what a terminal or a log line shows;
* direction embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make a text
  display in an order other than the one it is read in, so an officer would see one thing and the
  matcher read another ("\u202eEKIN" shows as NIKE). Plain direction marks (U+200E, U+200F, U+061C),
  needed in right-to-left text, are accepted;
* the noncharacters U+FFFE and U+FFFF.

Lengths are each field's own bound (``max_length``), also refused with a 422 naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def _kind(ch: str) -> str:
    cp = ord(ch)
    if 0xD800 <= cp <= 0xDFFF:
        return "an unpaired surrogate"
    if 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069:
        return "a text direction override"
    if cp in (0xFFFE, 0xFFFF):
        return "a noncharacter"
    return "a control character"


def check_text(value: str) -> str:
    """Refuse what no text field may carry (see the module docstring); everything else passes as written."""
    if value.isascii() and value.isprintable():
        return value
    found = _REFUSED.search(value)
    if found:
        ch = found.group(0)
        raise ValueError(
            f"{_kind(ch)} (U+{ord(ch):04X}) at character {found.start() + 1} is not accepted "
            f"in text; send the text without it"
        )
    return value


Text = Annotated[str, AfterValidator(check_text)]
