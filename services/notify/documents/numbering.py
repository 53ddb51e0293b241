"""Document numbers: ``<office>-<year>-<kind code>-<sequence>``, e.g. ``CN5300-2026-ZK-000123``.

* ``office``: the issuing customs office's code (upper-case letters and digits, as in declarations);
* ``year``: the year of issue (four digits; the register restarts each year);
* ``kind code``: two letters per document kind (pinyin initials of the Chinese name, used in every
  jurisdiction so a number reads the same everywhere), see ``KIND_CODES``;
* ``sequence``: the running number of that kind in that office's register for that year, supplied by
  the caller (the register that stores the documents), six digits with leading zeros.

Deterministic: the same four inputs always give the same number, and a number parses back into them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from shared.contracts.documents import DOCUMENT_KINDS

KIND_CODES: dict[str, str] = {
    "suspension_notice": "ZK",  # 中止放行 / 扣留 zhongzhi, kouliu
    "party_detention_notice": "KL",  # 扣留凭单 kouliu
    "reply_reminder": "TX",  # 提醒 tixing
    "guarantee_refused": "DB",  # 担保 danbao
    "cannot_determine": "BN",  # 不能认定 buneng
    "hearing_right": "TZ",  # 听证 tingzheng
    "penalty_decision": "CF",  # 处罚 chufa
    "release_notice": "FX",  # 放行 fangxing
    "disposal_notice": "CZ",  # 处置 chuzhi
    "destruction_notice": "XH",  # 销毁 xiaohui
    "disclosure_to_owner": "PL",  # 披露 pilu
    "seizure_notice": "KY",  # 扣押 kouya
    "court_handover": "FY",  # 法院 fayuan
    "police_referral": "YS",  # 移送 yisong
}
KINDS_BY_CODE: dict[str, str] = {code: kind for kind, code in KIND_CODES.items()}
MAX_SEQUENCE = 999_999

_OFFICE = re.compile(r"^[A-Z0-9]{2,16}$")
_NUMBER = re.compile(r"^(?P<office>[A-Z0-9]{2,16})-(?P<year>[0-9]{4})-(?P<code>[A-Z]{2})-(?P<seq>[0-9]{6})$")

assert set(KIND_CODES) == set(DOCUMENT_KINDS), "every document kind needs a code"
assert len(KINDS_BY_CODE) == len(KIND_CODES), "kind codes must be unique"


class DocumentNumber(NamedTuple):
    office: str
    year: int
    kind: str
    sequence: int


def document_number(office: str, year: int, kind: str, sequence: int) -> str:
    """The number of the ``sequence``-th document of ``kind`` issued by ``office`` in ``year``."""
    if not _OFFICE.match(office):
        raise ValueError(f"office code {office!r} must be 2-16 upper-case letters or digits")
    if not 2000 <= year <= 2999:
        raise ValueError(f"year {year} is out of range")
    if kind not in KIND_CODES:
        raise ValueError(f"unknown document kind {kind!r}")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} must be between 1 and {MAX_SEQUENCE}")
    return f"{office}-{year:04d}-{KIND_CODES[kind]}-{sequence:06d}"


def parse_document_number(number: str) -> DocumentNumber:
    """The office, year, kind and sequence of a document number; ``ValueError`` if it is not one."""
    match = _NUMBER.match(number)
    if match is None or match["code"] not in KINDS_BY_CODE:
        raise ValueError(f"{number!r} is not a document number (OFFICE-YYYY-KK-NNNNNN)")
    return DocumentNumber(match["office"], int(match["year"]), KINDS_BY_CODE[match["code"]], int(match["seq"]))
