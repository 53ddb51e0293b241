"""Bounds of every value that crosses a service boundary, defined once.

Every contract model and every route parameter of every service uses these types, so a
value is valid everywhere or nowhere: a guarantee the notify service accepts is one the
guarantees ledger accepts, a date the intake service stores is one every calendar, time
zone and database column can hold, and an id can never change which URL a service calls.

| Type | Bounds |
|---|---|
| ``Money`` | finite, 0 to 10^12, at most 2 decimals |
| ``PositiveMoney`` | as ``Money`` but above 0 (a guarantee posted, a general guarantee) |
| ``UnitPrice`` | finite, 0 to 10^12, at most 4 decimals (a declared or genuine price per unit) |
| ``Quantity`` | finite, above 0 up to 10^9, at most 3 decimals |
| ``WeightKg`` | finite, 0 to 10^9 kg, at most 3 decimals |
| ``Day`` | a date in the years 2000 to 2099 |
| ``Timestamp`` | a date and time in the years 2000 to 2099 (UTC when it carries an offset) |
| ``LineNo`` / ``Revision`` | 1 to 9999 / 1 to 999 |
| ``Seq`` / ``Version`` | 1 to 2^31 - 1 (history sequence numbers, record versions: fit a PostgreSQL integer) |
| ``Count`` | 0 to 2^31 - 1 (days, hits) |
| ``NiceClass`` | 1 to 45 |
| ids | a pattern and length per kind (``ID_PATTERNS``): letters, digits, ``.``, ``_``, ``-``, first a letter or digit |
| ``TokenClaim`` | at most 16 KiB: a claim of an access token echoed back (whichever provider issued it) |

Rules relative to today (a declaration submitted at most a day ahead) are not bounds: they
belong at the edge where outside input arrives, never in these types, which also validate
workflow inputs and saved histories.

Pydantic and the standard library only: ``annotated_types`` ships with pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, get_args

import annotated_types as at
from pydantic import AfterValidator, StringConstraints, condecimal


@dataclass(frozen=True)
class Bound:
    """Marks a type as one of the platform's bounded types (read by the contract-bounds test)."""

    kind: str


MONEY_MAX = Decimal(10) ** 12
QUANTITY_MAX = Decimal(10) ** 9
WEIGHT_KG_MAX = Decimal(10) ** 9
INT32_MAX = 2**31 - 1
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def _decimal(*, maximum: Decimal, places: int, positive: bool = False) -> tuple[Any, ...]:
    """The constraints of a bounded decimal, as pydantic's ``condecimal`` builds them (a ``Decimal`` to a type
    checker, which a ``condecimal(...)`` type is not)."""
    return get_args(
        condecimal(
            gt=Decimal(0) if positive else None,
            ge=None if positive else Decimal(0),
            le=maximum,
            decimal_places=places,
            allow_inf_nan=False,
        )
    )[1:]


Money = Annotated[Decimal, *_decimal(maximum=MONEY_MAX, places=2), Bound("money")]
PositiveMoney = Annotated[Decimal, *_decimal(maximum=MONEY_MAX, places=2, positive=True), Bound("money")]
UnitPrice = Annotated[Decimal, *_decimal(maximum=MONEY_MAX, places=4), Bound("unit_price")]
Quantity = Annotated[Decimal, *_decimal(maximum=QUANTITY_MAX, places=3, positive=True), Bound("quantity")]
WeightKg = Annotated[Decimal, *_decimal(maximum=WEIGHT_KG_MAX, places=3), Bound("weight_kg")]


def in_money_range(value: Decimal) -> bool:
    """True if a computed amount (a line value, a converted value, a fine) is itself a valid ``Money``."""
    return value.is_finite() and Decimal(0) <= value <= MONEY_MAX


LineNo = Annotated[int, at.Ge(1), at.Le(9999), Bound("line_no")]
Revision = Annotated[int, at.Ge(1), at.Le(999), Bound("revision")]
Seq = Annotated[int, at.Ge(1), at.Le(INT32_MAX), Bound("seq")]
Version = Annotated[int, at.Ge(1), at.Le(INT32_MAX), Bound("version")]
Count = Annotated[int, at.Ge(0), at.Le(INT32_MAX), Bound("count")]
NiceClass = Annotated[int, at.Ge(1), at.Le(45), Bound("nice_class")]


def _timestamp_in_range(value: datetime) -> datetime:
    instant = value.astimezone(UTC) if value.tzinfo is not None else value
    if not FIRST_DAY.year <= instant.year <= LAST_DAY.year:
        raise ValueError(f"must lie in the years {FIRST_DAY.year} to {LAST_DAY.year}")
    return value


Day = Annotated[date, at.Ge(FIRST_DAY), at.Le(LAST_DAY), Bound("date")]
Timestamp = Annotated[datetime, AfterValidator(_timestamp_in_range), Bound("timestamp")]
# Times the platform computes on its own clock (the case workflow's deadlines and history): not outside
# input, so never refused -- a case workflow must not fail because of the date its own clock shows.
PlatformDay = Annotated[date, Bound("platform_clock")]
PlatformTimestamp = Annotated[datetime, Bound("platform_clock")]

# One pattern and length per id kind. Ids that can appear in a URL, a log line or a message key
# share one character set (no slash, question mark, percent sign, space or non-ASCII letter);
# the lengths follow how each id is built.
_SAFE = r"[A-Za-z0-9][A-Za-z0-9._-]"
ID_PATTERNS: dict[str, str] = {
    "declaration_id": rf"^{_SAFE}{{2,63}}$",  # set by the clearance system, e.g. CN5300-2026-0000123
    "recordation_id": rf"^{_SAFE}{{2,63}}$",  # e.g. CN-T-2019-004211
    "case_id": rf"^{_SAFE}{{2,79}}$",  # IPR-<declaration id>-L<line>
    "holder_id": rf"^{_SAFE}{{0,63}}$",  # e.g. RH-0001
    # Declarant, consignor, consignee, importer, licensee, agent, known infringer: written as the trader's
    # registry writes it ("IOR 95-1234567", "DE/1234"), never part of a URL, so also space, "/" and ":".
    "trader_id": r"^[A-Za-z0-9][A-Za-z0-9 ._/:-]{0,63}$",
    "hold_id": rf"^{_SAFE}{{2,99}}$",  # HOLD-<case id>
    "notice_id": rf"^{_SAFE}{{2,63}}$",  # NTC-<16 hex digits>
    "disposition_id": rf"^{_SAFE}{{2,99}}$",  # DSP-<case id>
    "guarantee_id": rf"^{_SAFE}{{2,63}}$",  # a general guarantee, e.g. GG-RH-0001-2026
    "case_guarantee_id": rf"^{_SAFE}{{2,99}}$",  # CG-<case id> or CGR-<20 hex digits>
    "profile_id": rf"^{_SAFE}{{2,63}}$",  # a targeting profile, e.g. P-SNEAKERS-EXPRESS
    "campaign_id": rf"^{_SAFE}{{2,63}}$",  # a targeting campaign, e.g. C-2026-EXPORT
    "manifest_id": rf"^{_SAFE}{{2,47}}$",  # a parcel manifest; its parcels are <manifest id>-P<00001>
    "application_id": rf"^{_SAFE}{{0,63}}$",  # EU application for action
    "correlation_id": rf"^{_SAFE}{{0,127}}$",  # the aggregate an event belongs to
    "run_id": rf"^{_SAFE}{{0,63}}$",  # a Temporal workflow run (a UUID)
    # Born in the case workflow: <case id>:<step>[:<detail>[:<n>]]
    "idempotency_key": r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,149}$",
}


def id_max_length(kind: str) -> int:
    """The longest id of a kind (read from its pattern)."""
    return int(ID_PATTERNS[kind].rsplit(",", 1)[1].split("}", 1)[0]) + 1


def _id(kind: str) -> Any:
    return Annotated[str, StringConstraints(max_length=id_max_length(kind), pattern=ID_PATTERNS[kind]), Bound(kind)]


DeclarationId = _id("declaration_id")
RecordationId = _id("recordation_id")
CaseId = _id("case_id")
HolderId = _id("holder_id")
TraderId = _id("trader_id")
HoldId = _id("hold_id")
NoticeId = _id("notice_id")
DispositionId = _id("disposition_id")
GuaranteeId = _id("guarantee_id")
CaseGuaranteeId = _id("case_guarantee_id")
ProfileId = _id("profile_id")
CampaignId = _id("campaign_id")
ManifestId = _id("manifest_id")
ApplicationId = _id("application_id")
CorrelationId = _id("correlation_id")
RunId = _id("run_id")
IdempotencyKey = _id("idempotency_key")


# A claim of an access token as the token carries it, echoed back (``GET /v1/me``): whichever provider the platform
# trusts issued it, so it need not follow the platform's id patterns. The token arrives in a request header, and the
# server (uvicorn, h11) reads at most 16 KiB of request line and headers.
TOKEN_CLAIM_MAX = 16 * 1024
TokenClaim = Annotated[str, StringConstraints(max_length=TOKEN_CLAIM_MAX), Bound("token_claim")]


def unstorable_text(value: object, loc: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Where ``value`` (parsed JSON) holds text no database column or message can store: a NUL character
    or an unpaired surrogate (``"\\u0000"``, ``"\\ud800"``). Empty when all text is storable."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, str):
        if "\x00" in value or not _encodable(value):
            found.append(loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and ("\x00" in key or not _encodable(key)):
                found.append((*loc, key.encode("utf-8", "backslashreplace").decode()))
            found += unstorable_text(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += unstorable_text(item, (*loc, index))
    return found


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
