"""Scoring a declaration line: mark hits plus the other risk signals, a lane and the reasons (pure).

Score of a line = the best mark hit's score + the line's other signals, clamped to [0, 1].

* A mark hit scores by where and how the mark was found (brand field, model, description; exact,
  alias, normalised, fuzzy, descriptive), then HS code against the recorded goods, declared value
  against the recorded genuine value, known infringers and ports from the recordation, and
  counterfeit vocabulary. A hit whose score reaches the suspicion threshold, on recorded goods, with
  neither the rights holder itself nor one of its licensees as consignor or consignee (its own goods,
  capped at 0.10 with the reason), is *suspected*: the line joins the case of the declaration and the
  recordation's holder.
* A declared IP status the hit contradicts is evidence on the hit: "no brand" on a line that names a
  recorded mark, "own brand" on another's recorded mark, a licence or brand ownership the recordation
  does not show (CN Reg. Art. 5: declarants declare the IP status truthfully).
* Other signals raise the score without making a line suspected: vague descriptions, small post or
  express parcels, transit hubs and free zones, the direction (export from CN, transit), the
  e-commerce supervision mode, the traders', sellers' and platforms' earlier case outcomes, officers'
  targeting profiles and campaigns, and a small random selection that keeps an unbiased control sample.
* Personal articles in a reasonable quantity (``shared.rules.personal_use``) are not treated as
  infringing goods: the hit stays, with the reason, but the line is not suspected.
* Lanes: suspected lines are red; otherwise the score against the office's red threshold (raised
  when the office's red capacity would be exceeded) and the yellow threshold.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from services.risk.matcher import Candidate, RegistryIndex, find_candidates
from services.risk.normalise import compact, has_han, to_simplified, tokens
from shared.contracts.declaration import DeclarationLine, DeclarationV1, Party
from shared.contracts.events import LineAssessmentV1
from shared.contracts.recordation import Licensee, RecordationV1, TraderRef
from shared.rules.calendar import calendar_for

if TYPE_CHECKING:
    from services.risk.campaigns import CampaignSet
    from services.risk.profiles import ProfileSet

DEFAULT_TRANSIT_HUBS = frozenset({"AE", "HK", "SG", "PA", "TR", "MY"})
# "<jurisdiction>/<direction>" (or "*/<direction>") -> weight: export from CN is where CN enforcement looks
DEFAULT_DIRECTION_WEIGHTS = {"CN/export": 0.10, "*/transit": 0.05}
# supervision mode -> weight: cross-border e-commerce channels, direct mail above all
DEFAULT_MODE_WEIGHTS = {"9610": 0.10, "9710": 0.05, "9810": 0.05, "1210": 0.05}
NO_BRAND_WORDS = frozenset(
    {
        "none",
        "no brand",
        "nobrand",
        "no",
        "n/a",
        "na",
        "unbranded",
        "generic",
        "no-brand",
        "without brand",
        "无品牌",
        "无",
        "无牌",
    }
)
VAGUE_WORDS = frozenset(
    {
        "goods",
        "good",
        "sample",
        "samples",
        "gift",
        "gifts",
        "accessories",
        "accessory",
        "item",
        "items",
        "parts",
        "part",
        "product",
        "products",
        "stuff",
        "merchandise",
        "general",
        "cargo",
        "daily",
        "necessities",
        "article",
        "articles",
        "misc",
        "miscellaneous",
        "things",
        "present",
        "presents",
        "package",
        "parcel",
        "commodity",
        "commodities",
        "free",
        "of",
        "charge",
        "no",
        "commercial",
        "value",
        "personal",
        "effects",
        "various",
        "sundries",
        "sundry",
        "other",
        "others",
        "assorted",
        "mixed",
        "use",
        "for",
        "and",
        "small",
        "new",
        "used",
        "spare",
        "set",
    }
)
COUNTERFEIT_WORDS = frozenset(
    {
        "replica",
        "replicas",
        "fake",
        "fakes",
        "imitation",
        "knockoff",
        "knockoffs",
        "dupe",
        "dupes",
        "aaa",
        "counterfeit",
        "bootleg",
    }
)
COUNTERFEIT_PHRASES = (
    ("high", "copy"),
    ("top", "copy"),
    ("mirror", "quality"),
    ("1", "1", "quality"),
    ("original", "quality"),
    ("same", "as", "original"),
)
# The trade's own words in Chinese: 高仿 (high imitation), 精仿, 复刻 (replica), A货 / 超A (A-grade fake),
# 原单 / 纯原 ("original order"), 1:1, 莆田 (the fake-sneaker hub), 山寨 (knock-off). Not 高仿真 (lifelike, of
# artificial flowers) nor a 1:1 scale. Read on the folded text (Simplified, half width, lower case).
ZH_COUNTERFEIT = re.compile(
    r"高仿(?!真)|精仿|仿品|仿牌|仿冒|复刻|顶级复刻|(?<![a-z0-9])a货|(?<![a-z0-9])a+级货|超a(?![a-z])|原单|纯原|莆田"
    r"|山寨|假货|假冒|一比一|(?<![0-9.:])1\s*[:比]\s*1(?![0-9.:])(?!\s*(?:比例|scale|模型))"
)
# Vague Chinese descriptions: 货物 (goods), 礼品 (gifts), 样品 (samples), 配件 (accessories), 日用品...
ZH_VAGUE = re.compile(
    r"货物|货品|物品|商品|礼品|礼物|赠品|样品|样板|配件|零件|日用品|日常用品|杂货|杂物|小商品|百货|其他|其它|杂项|个人物品"
    r"|私人物品|个人用品|免费|无商业价值|一批|普通|用品|东西|包裹|快件|新品|旧货|二手"
)
FREE_ZONE_WORDS = ("free_zone", "freezone", "free zone", "ftz", "bonded", "free trade zone", "transshipment")


class _C:
    """One contribution while scoring (the contract's ContributionV1 is built once, at the end, in Rust)."""

    __slots__ = ("signal", "points", "reason")

    def __init__(self, signal: str, points: float, reason: str) -> None:
        self.signal = signal
        self.points = points
        self.reason = reason

    def as_dict(self) -> dict:
        return {"signal": self.signal, "points": self.points, "reason": self.reason}


@dataclass(frozen=True)
class Scoring:
    """Thresholds and weights; every one is a setting of the service."""

    suspect_threshold: float = 0.6
    red_threshold: float = 0.7
    yellow_threshold: float = 0.4
    undervalue_ratio: Decimal = Decimal("0.5")
    w_brand: float = 0.6
    w_model: float = 0.5
    w_description: float = 0.5
    w_common_description: float = 0.35
    w_fuzzy_brand: float = 0.45
    w_fuzzy_description: float = 0.4
    w_fuzzy_weak: float = 0.35  # a homophone in free text that keeps only one character of the mark
    w_descriptive: float = 0.15
    w_obfuscated: float = 0.1
    w_hs_in: float = 0.2
    w_hs_out: float = -0.4
    w_undervalue: float = 0.2
    w_known_infringer: float = 0.3
    w_infringer_port: float = 0.1
    w_unusual_port: float = 0.05
    w_counterfeit_words: float = 0.25
    w_vague: float = 0.15
    w_small_parcel: float = 0.1
    w_transit: float = 0.1
    w_history: float = 0.2
    history_cap: float = 0.4
    small_parcel_value_cny: Decimal = Decimal(5000)
    transit_hubs: frozenset[str] = DEFAULT_TRANSIT_HUBS
    random_rate: float = 0.0
    random_salt: str = "ipr-risk"
    w_ip_false_no_brand: float = 0.2
    w_ip_own_brand: float = 0.15
    w_ip_unsupported: float = 0.1
    w_ip_inconsistent: float = 0.1
    w_seller_history: float = 0.2
    seller_history_cap: float = 0.4
    w_platform_history: float = 0.05
    platform_min_consignments: int = 1000
    platform_rate: float = 0.001
    # The service's settings set these (DEFAULT_*_WEIGHTS); scoring built by hand weighs no direction or mode.
    direction_weights: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    mode_weights: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    fx_rates_to_cny: dict[str, Decimal] = field(default_factory=lambda: {"CNY": Decimal(1)}, hash=False, compare=False)


class HistoryLookup(Protocol):
    """What scoring reads of the trader, seller and platform history."""

    def confiscations(self, trader_id: str) -> int: ...

    def seller_confiscations(self, seller_key: str) -> int: ...

    def platform_record(self, platform_id: str) -> tuple[int, int]: ...


class _NoHistory:
    def confiscations(self, trader_id: str) -> int:
        return 0

    def seller_confiscations(self, seller_key: str) -> int:
        return 0

    def platform_record(self, platform_id: str) -> tuple[int, int]:
        return 0, 0


def seller_key(declaration: DeclarationV1) -> str | None:
    """A seller is known by its id on its platform: ``<platform id>/<seller id>``."""
    seller = getattr(declaration, "seller", None)
    if seller is None:
        return None
    platform = getattr(declaration, "platform", None)
    return f"{platform.id}/{seller.id}" if platform is not None else seller.id


@dataclass
class Context:
    """What scoring knows besides the registry: trader, seller and platform history, targeting profiles and
    campaigns, office capacity."""

    history: HistoryLookup = field(default_factory=_NoHistory)
    profiles: ProfileSet | None = None
    red_threshold_for: Callable[[str], float] | None = None  # office -> red threshold
    campaigns: CampaignSet | None = None


@dataclass
class LineResult:
    assessment: LineAssessmentV1
    best: RecordationV1 | None
    best_term: str | None
    profile_ids: list[str] = field(default_factory=list)


def _pts(x: float) -> str:
    return f"{x:+.2f}"


def _to_cny(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    rate = rates.get(currency)
    return None if rate is None else amount * rate


def _genuine(rec: RecordationV1, line: DeclarationLine) -> tuple[Decimal, str] | None:
    best = None
    for gv in rec.genuine_unit_value:
        if line.hs_code.startswith(gv.hs_prefix) and (best is None or len(gv.hs_prefix) > len(best[0])):
            best = (gv.hs_prefix, gv.min, gv.currency)
    return (best[1], best[2]) if best else None


def _party_matches(party: Party, refs: Sequence[Licensee | TraderRef]) -> bool:
    if not refs:
        return False
    name = compact(party.name)
    return any((ref.id and ref.id == party.id) or compact(ref.name) == name for ref in refs)


LICENSEE_REASON = "consignor or consignee is a recorded licensee of the mark (not suspect)"


def _own_goods(rec: RecordationV1, declaration: DeclarationV1) -> str | None:
    """Why the goods are the holder's own (consigned to or from the holder or one of its licensees), or None."""
    holder = rec.holder
    for role, party in (("consignor", declaration.consignor), ("consignee", declaration.consignee)):
        if party.id == holder.id or compact(party.name) == compact(holder.name):
            return f"{role} {party.name!r} is the rights holder itself: its own goods are not suspect"
    if any(_party_matches(p, rec.authorized_licensees) for p in (declaration.consignor, declaration.consignee)):
        return LICENSEE_REASON
    return None


def _zh_folded(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=65536)
def _is_vague(text: str) -> bool:
    literal = tokens(text).literal
    if not literal:
        return False
    if has_han(text):
        rest = ZH_VAGUE.sub(" ", _zh_folded(text))
        return all(t in VAGUE_WORDS for t in tokens(rest).literal)
    return all(t in VAGUE_WORDS for t in literal)


@lru_cache(maxsize=65536)
def _counterfeit_vocabulary(text: str) -> str | None:
    toks = tokens(text).literal
    for t in toks:
        if t in COUNTERFEIT_WORDS:
            return t
    for phrase in COUNTERFEIT_PHRASES:
        k = len(phrase)
        for i in range(len(toks) - k + 1):
            if tuple(toks[i : i + k]) == phrase:
                return " ".join(phrase)
    if has_han(text):
        found = ZH_COUNTERFEIT.search(_zh_folded(text))
        if found:
            return found.group(0)
    return None


def _how(c: Candidate, skip: tuple[str, ...] = ()) -> str:
    """How the mark was found, in words, for the reason: alias of which title, Traditional form, glued to
    Chinese text, full width."""
    parts = []
    if "alias" in c.how and "alias" not in skip:
        parts.append(f"an alias of {c.term.recordation.title!r}")
    if "traditional" in c.how:
        parts.append(c.detail.split("; ")[0] if c.detail else "written in Traditional characters")
    if "glued_latin" in c.how:
        parts.append("glued to the Chinese text")
    if "full_width" in c.how:
        parts.append("in full-width letters")
    if "joined_words" in c.how:
        parts.append(next((d for d in c.detail.split("; ") if "written together" in d), "written together"))
    if c.reading:
        parts.append(c.reading)
    return f" ({'; '.join(parts)})" if parts else ""


@dataclass
class _Scored:
    candidate: Candidate
    score: float
    reasons: list[str]
    contributions: list[_C]
    hs_ok: bool
    licensee: bool
    suspected: bool


def _score_candidate(
    c: Candidate,
    declaration: DeclarationV1,
    line: DeclarationLine,
    scoring: Scoring,
    fake_words: str | None,
    exempt: dict[str, str] | None = None,
) -> _Scored | None:
    rec = c.term.recordation
    term = c.term.term
    contribs: list[_C] = []

    def add(signal: str, points: float, reason: str) -> None:
        contribs.append(_C(signal=signal, points=points, reason=f"{reason} ({_pts(points)})"))

    hs_ok = any(line.hs_code.startswith(p) for p in rec.goods_hs_prefixes)
    if c.is_common and not hs_ok:
        return None  # an ordinary word ("apple juice") outside the recorded goods is no hit at all
    how = _how(c)
    if c.descriptive:
        add(
            "mark_descriptive",
            scoring.w_descriptive,
            f"description refers to recorded mark {term!r}{how} descriptively (goods made for or compatible with "
            f"the branded product, not sold under the mark)",
        )
    elif c.match == "fuzzy":
        w = scoring.w_fuzzy_brand if c.where == "brand" else scoring.w_fuzzy_description
        kept = len(c.term.folded) - c.distance
        if "homophone" in c.how and c.where != "brand" and kept <= 1:
            # Chinese is so rich in homophones that any two characters sound like some two-character mark by
            # chance (多酚 in 茶多酚 sounds like 多芬): in free text such a variant is weak evidence alone
            w = scoring.w_fuzzy_weak
            text = (
                f"{c.where} has {c.found!r}, a homophone of recorded mark {term!r} ({c.detail}; "
                f"{kept} character of {len(c.term.folded)} kept, weak alone)"
            )
        elif "homophone" in c.how:
            text = f"{c.where} has {c.found!r}, a homophone of recorded mark {term!r} ({c.detail})"
        elif "lookalike" in c.how:
            text = f"{c.where} has {c.found!r}, a near form of recorded mark {term!r} ({c.detail})"
        elif "pinyin" in c.how:
            text = f"{c.where} has {c.found!r}, the pinyin of recorded Chinese mark {term!r}"
        else:
            text = (
                f"{c.where} has {c.found!r}, a near misspelling of recorded mark {term!r} "
                f"({c.distance} edit{'s' if c.distance != 1 else ''})"
            )
        rest = _how(c, skip=("homophone", "lookalike", "pinyin"))
        add("mark_fuzzy", w, text + rest)
    elif c.where == "brand":
        add("mark_brand", scoring.w_brand, f"brand field names recorded mark {term!r}{how}")
    elif c.where == "model":
        add("mark_model", scoring.w_model, f"model field names recorded mark {term!r}{how}")
    elif c.is_common:
        add(
            "mark_description",
            scoring.w_common_description,
            f"description names recorded mark {term!r}{how}, which is also an ordinary word",
        )
    else:
        add("mark_description", scoring.w_description, f"description names recorded mark {term!r}{how}")
    if c.match == "normalised" and not c.descriptive:
        tricks = ", ".join(c.tricks) or "spelling"
        add(
            "mark_obfuscated",
            scoring.w_obfuscated,
            f"the mark is disguised as {c.found!r} ({tricks}), a way to slip past filters",
        )
    if hs_ok:
        add("hs_recorded_goods", scoring.w_hs_in, f"HS {line.hs_code} is among the recorded goods")
    else:
        add("hs_outside_goods", scoring.w_hs_out, f"HS {line.hs_code} is outside the recorded goods")
    # The genuine-value comparison presumes the goods are the brand's; an ordinary word in free text
    # ("gap year t-shirt") says nothing of the kind.
    genuine = None if (c.is_common and c.where != "brand") else _genuine(rec, line)
    if genuine is not None:
        g_min, g_cur = genuine
        rates = scoring.fx_rates_to_cny
        comparable: Decimal | None
        if g_cur == declaration.currency:
            comparable, shown = g_min, f"{g_min} {g_cur}"
        else:
            g_cny, one = _to_cny(g_min, g_cur, rates), rates.get(declaration.currency)
            comparable = (g_cny / one) if (g_cny is not None and one) else None
            shown = f"{g_min} {g_cur} (≈ {comparable:.2f} {declaration.currency})" if comparable is not None else ""
        if comparable is not None and line.unit_value < comparable * scoring.undervalue_ratio:
            add(
                "undervalued",
                scoring.w_undervalue,
                f"declared unit value {line.unit_value} {declaration.currency} is below "
                f"{scoring.undervalue_ratio:%} of the genuine minimum {shown}",
            )
    ki = rec.known_infringers
    infringers = (*ki.manufacturers, *ki.exporters, *ki.importers)
    for role, party in (
        ("consignor", declaration.consignor),
        ("consignee", declaration.consignee),
        ("declarant", declaration.declarant),
    ):
        if infringers and _party_matches(party, infringers):
            add(
                "known_infringer",
                scoring.w_known_infringer,
                f"{role} {party.name!r} is a known infringer named in the recordation",
            )
            break
    if declaration.customs_office in ki.ports:
        add(
            "infringer_port",
            scoring.w_infringer_port,
            f"office {declaration.customs_office} is a port the recordation names for infringing goods",
        )
    elif rec.genuine_ports and declaration.customs_office not in rec.genuine_ports:
        add(
            "unusual_port",
            scoring.w_unusual_port,
            f"genuine goods do not usually pass office {declaration.customs_office}",
        )
    if fake_words:
        add(
            "counterfeit_vocabulary",
            scoring.w_counterfeit_words,
            f"description uses counterfeit vocabulary {fake_words!r}",
        )
    status = getattr(line, "declared_ip_status", None)
    if status is not None and not c.descriptive and not (c.term.common and c.where != "brand"):
        found = "brand field" if c.where == "brand" else f"{c.where}"
        if status == "no_brand":
            add(
                "ip_status_false",
                scoring.w_ip_false_no_brand,
                f"declared 'no_brand', but the {found} names recorded mark {term!r}: a false IP-status "
                f"declaration (CN Reg. Art. 5)",
            )
        elif status == "own_brand":
            add(
                "ip_status_own_brand",
                scoring.w_ip_own_brand,
                f"declared 'own_brand', but {term!r} is recorded to {rec.holder.name}",
            )
        elif status in ("licensed", "brand_owner", "oem") and _own_goods(rec, declaration) is None:
            add(
                "ip_status_unsupported",
                scoring.w_ip_unsupported,
                f"declared {status!r}, but neither consignor nor consignee is a recorded licensee of {term!r}",
            )
    score = sum(x.points for x in contribs)
    own = _own_goods(rec, declaration)
    licensee = own is not None
    reasons = [x.reason for x in contribs]
    if own is not None:
        score = min(score, 0.1)
        reasons.append(own)
        contribs = [_C(signal="licensee", points=round(score, 2), reason=own)]
    score = round(max(0.0, min(1.0, score)), 2)
    suspected = hs_ok and not licensee and score >= scoring.suspect_threshold
    if suspected and exempt and rec.recordation_id in exempt:
        suspected = False
        reasons.append(exempt[rec.recordation_id])
        contribs.append(_C(signal="personal_use", points=0.0, reason=exempt[rec.recordation_id]))
    return _Scored(c, score, reasons, contribs, hs_ok, licensee, suspected)


_MATCH_RANK = {"exact": 0, "alias": 1, "normalised": 2, "fuzzy": 3}


def random_draw(declaration: DeclarationV1, line_no: int, salt: str) -> float:
    """A reproducible draw in [0, 1): the same line always gets the same draw (redelivery-safe)."""
    digest = hashlib.blake2b(
        f"{salt}|{declaration.declaration_id}|{declaration.revision}|{line_no}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


_LAST_TOTAL: list = [None, None]  # (declaration, RMB value): lines of one declaration are scored in a row


def _declaration_value_cny(declaration: DeclarationV1, rates: dict[str, Decimal]) -> Decimal | None:
    if _LAST_TOTAL[0] is declaration:
        return _LAST_TOTAL[1]
    total = sum((ln.quantity * ln.unit_value for ln in declaration.lines), Decimal(0))
    value = _to_cny(total, declaration.currency, rates)
    _LAST_TOTAL[0], _LAST_TOTAL[1] = declaration, value
    return value


def line_signals(
    declaration: DeclarationV1, line: DeclarationLine, scoring: Scoring, context: Context, on_date: date
) -> tuple[list[_C], list[str]]:
    """Signals that raise a line's score without suspecting a recorded right; and the profiles that matched."""
    out: list[_C] = []

    def add(signal: str, points: float, reason: str) -> None:
        out.append(_C(signal=signal, points=points, reason=f"{reason} ({_pts(points)})"))

    if _is_vague(line.description):
        add("vague_description", scoring.w_vague, f"vague description {line.description!r}")
    if declaration.transport_mode in ("post", "express"):
        total_cny = _declaration_value_cny(declaration, scoring.fx_rates_to_cny)
        if total_cny is not None and total_cny <= scoring.small_parcel_value_cny:
            add(
                "small_parcel",
                scoring.w_small_parcel,
                f"small {declaration.transport_mode} parcel (≈ RMB {total_cny:.0f})",
            )
    hubs = [c for c in declaration.transit_countries if c in scoring.transit_hubs]
    procedure = declaration.procedure.casefold()
    if hubs:
        add("transit_route", scoring.w_transit, f"routed through transit hub {', '.join(hubs)}")
    elif any(w in procedure for w in FREE_ZONE_WORDS):
        add("free_zone", scoring.w_transit, f"procedure {declaration.procedure!r} involves a free zone")
    direction_w = scoring.direction_weights.get(
        f"{declaration.jurisdiction}/{declaration.direction}",
        scoring.direction_weights.get(f"*/{declaration.direction}", 0.0),
    )
    if direction_w:
        what = (
            f"export from {declaration.jurisdiction}, where its border enforcement looks first"
            if declaration.direction == "export"
            else f"{declaration.direction} through {declaration.jurisdiction}"
        )
        add("direction", direction_w, what)
    mode = getattr(declaration, "supervision_mode", None)
    if mode is not None and scoring.mode_weights.get(mode):
        add("supervision_mode", scoring.mode_weights[mode], f"cross-border e-commerce supervision mode {mode}")
    history_pts = 0.0
    notes = []
    for role, party in (("consignor", declaration.consignor), ("consignee", declaration.consignee)):
        n = context.history.confiscations(party.id)
        if n:
            history_pts += scoring.w_history * n
            notes.append(f"{role} {party.id} had {n} earlier case{'s' if n != 1 else ''} ending in confiscation")
    if notes:
        add("trader_history", min(scoring.history_cap, history_pts), "; ".join(notes))
    key = seller_key(declaration)
    if key is not None:
        n = context.history.seller_confiscations(key)
        if n:
            add(
                "seller_history",
                min(scoring.seller_history_cap, scoring.w_seller_history * n),
                f"seller {key} had {n} earlier case{'s' if n != 1 else ''} ending in confiscation",
            )
    platform = getattr(declaration, "platform", None)
    if platform is not None:
        confiscated, volume = context.history.platform_record(platform.id)
        if volume >= scoring.platform_min_consignments and confiscated / volume >= scoring.platform_rate:
            add(
                "platform_history",
                scoring.w_platform_history,
                f"platform {platform.id}: {confiscated} confiscations in {volume:,} consignments "
                f"({confiscated / volume:.2%}, above {scoring.platform_rate:.2%})",
            )
    profile_ids: list[str] = []
    if context.profiles is not None and len(context.profiles):
        for p in context.profiles.matching(declaration, line, on_date):
            profile_ids.append(p.profile_id)
            add("profile", p.weight, f"targeting profile {p.profile_id} {p.name!r} (owner {p.owner})")
    return out, profile_ids


_LAST_SCOPE: list = [None, None, None]  # (declaration, campaigns, in-scope list): lines of one declaration in a row


def campaign_signals(
    declaration: DeclarationV1, line: DeclarationLine, context: Context, on_date: date
) -> tuple[list[_C], list[str]]:
    """The campaigns switched on whose scope and sectors cover the line: their weights, reasons and ids."""
    campaigns = context.campaigns
    if campaigns is None or not len(campaigns):
        return [], []
    if _LAST_SCOPE[0] is declaration and _LAST_SCOPE[1] is campaigns:
        scope = _LAST_SCOPE[2]
    else:
        scope = campaigns.in_scope(declaration, on_date)
        _LAST_SCOPE[0], _LAST_SCOPE[1], _LAST_SCOPE[2] = declaration, campaigns, scope
    out, ids = [], []
    for c in scope:
        sector = c.sector_of(line)
        if sector is not None:
            ids.append(c.campaign_id)
            out.append(
                _C(
                    signal="campaign",
                    points=c.weight,
                    reason=f"campaign {c.campaign_id} {c.name!r}: sector {sector[0]} (HS {sector[1]}) "
                    f"({_pts(c.weight)})",
                )
            )
    return out, ids


def assess_line(
    index: RegistryIndex,
    declaration: DeclarationV1,
    line: DeclarationLine,
    scoring: Scoring,
    context: Context | None = None,
    on_date: date | None = None,
    exempt: dict[str, str] | None = None,
) -> LineResult:
    """Score one line; the best suspected hit names the recordation of the case."""
    context = context or Context()
    # Validity is judged on the declaration's date in the jurisdiction's own time zone.
    if on_date is None:
        on_date = calendar_for(declaration.jurisdiction).local_date(declaration.submitted_at)
    jur = declaration.jurisdiction
    candidates = (
        find_candidates(index, jur, "brand", line.brand)
        + find_candidates(index, jur, "model", line.model)
        + find_candidates(index, jur, "description", line.description)
    )
    # One candidate per recordation: the strongest (brand beats model beats description; literal beats fuzzy).
    fake_words = _counterfeit_vocabulary(line.description)
    brand_recs = {c.term.recordation.recordation_id for c in candidates if c.where == "brand"}
    # A description that names the mark descriptively once ("劳力士表带 适用劳力士") uses it so throughout.
    descriptive_recs = {c.term.recordation.recordation_id for c in candidates if c.descriptive}
    if descriptive_recs:
        for c in candidates:
            if c.where == "description" and c.term.recordation.recordation_id in descriptive_recs:
                c.descriptive = True
    best_per_rec: dict[str, _Scored] = {}
    for c in candidates:
        rec = c.term.recordation
        if not rec.valid_from <= on_date <= rec.valid_until:
            continue
        if c.descriptive and rec.recordation_id in brand_recs:
            c.descriptive = False
        scored = _score_candidate(c, declaration, line, scoring, fake_words, exempt)
        if scored is None:
            continue
        prev = best_per_rec.get(rec.recordation_id)
        if prev is None or (scored.score, -_MATCH_RANK.get(c.match, 9)) > (
            prev.score,
            -_MATCH_RANK.get(prev.candidate.match, 9),
        ):
            best_per_rec[rec.recordation_id] = scored
    ranked = sorted(best_per_rec.values(), key=lambda s: (s.suspected, s.score), reverse=True)
    hits = [
        {
            "recordation_id": s.candidate.term.recordation.recordation_id,
            "match": "descriptive" if s.candidate.descriptive else s.candidate.match,
            "term": s.candidate.term.term,
            "reasons": s.reasons,
            "score": s.score,
            "where": s.candidate.where,
            "suspected": s.suspected,
            "found": s.candidate.found,
            "how": list(s.candidate.how),
        }
        for s in ranked
    ]
    best = next((s for s in ranked if s.suspected), None)
    top = ranked[0] if ranked else None

    signals, profile_ids = line_signals(declaration, line, scoring, context, on_date)
    campaign_contribs, campaign_ids = campaign_signals(declaration, line, context, on_date)
    signals.extend(campaign_contribs)
    if fake_words and not ranked:  # with a hit it is part of the hit's evidence
        signals.append(
            _C(
                signal="counterfeit_vocabulary",
                points=scoring.w_counterfeit_words,
                reason=f"description uses counterfeit vocabulary {fake_words!r} ({_pts(scoring.w_counterfeit_words)})",
            )
        )
    if (
        not ranked
        and getattr(line, "declared_ip_status", None) == "no_brand"
        and line.brand
        and line.brand.strip().casefold() not in NO_BRAND_WORDS
    ):
        signals.append(
            _C(
                signal="ip_status_inconsistent",
                points=scoring.w_ip_inconsistent,
                reason=f"declared 'no_brand', but the brand field says {line.brand!r} "
                f"({_pts(scoring.w_ip_inconsistent)})",
            )
        )
    contributions = (list(top.contributions) if top else []) + signals
    score = (top.score if top else 0.0) + sum(s.points for s in signals)
    score = round(max(0.0, min(1.0, score)), 2)
    suspected = best is not None

    reasons = [r for s in ranked for r in s.reasons] + [s.reason for s in signals]
    random_selected = False
    red_threshold = (
        context.red_threshold_for(declaration.customs_office) if context.red_threshold_for else scoring.red_threshold
    )
    red_threshold = max(red_threshold, scoring.red_threshold)
    if suspected:
        lane = "red"
    elif score >= red_threshold:
        lane = "red"
    elif score >= scoring.red_threshold:
        lane = "yellow"
        reasons.append(
            f"office {declaration.customs_office} is at its red capacity: score {score:.2f} is below "
            f"its current red threshold {red_threshold:.2f}, so documentary check instead"
        )
    elif score >= scoring.yellow_threshold:
        lane = "yellow"
    else:
        lane = "green"
    if scoring.random_rate > 0 and random_draw(declaration, line.line_no, scoring.random_salt) < scoring.random_rate:
        random_selected = True
        if lane != "red":
            lane = "red"
            reasons.append(f"random selection for an unbiased control sample (rate {scoring.random_rate:.2%})")
    if not reasons:
        reasons = ["no recorded right matched"]
    elif not ranked:
        reasons.insert(0, "no recorded right matched")
    # Built without re-validation: every field is produced above with its contract type.
    assessment = LineAssessmentV1(
        case_id=None,
        line_no=line.line_no,
        suspected=suspected,
        score=score,
        lane=lane,
        hits=hits,
        reasons=reasons,
        contributions=[c.as_dict() for c in contributions],
        profile_ids=profile_ids,
        random_selection=random_selected,
        campaign_ids=campaign_ids,
    )
    return LineResult(
        assessment=assessment,
        best=best.candidate.term.recordation if best else None,
        best_term=best.candidate.term.term if best else None,
        profile_ids=profile_ids,
    )
