"""Render a ``DocumentData`` as HTML (autoescaped Jinja2 with print CSS), plain text and PDF (WeasyPrint).

Pure functions: the same data always gives the same document. Nothing is read but the templates
and, for the PDF, the fonts (Noto CJK from Debian's ``fonts-noto-cjk``; the PDF embeds subsets).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, get_currency_name
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.notify.documents import legal
from services.notify.documents.legal import Lang
from shared.contracts.documents import (
    DOCUMENT_ADDRESSEES,
    DocumentClock,
    DocumentData,
    DocumentDeadline,
    GoodsLine,
    Money,
    RightRef,
    applies,
)

TEMPLATES = Path(__file__).with_name("templates")


class DocumentNotApplicable(ValueError):
    """The law gives no such document in that jurisdiction, or not to that addressee."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plain"] = plain
    return env


# ------------------------------------------------------------------ formatting


@cache
def _locale(code: str) -> Locale:
    """Babel's locale, parsed once: given as a string, every number and date parses it again (most of a
    document's rendering time went there)."""
    return Locale.parse(code)


def number(value: Decimal | int, lang: Lang, places: int | None = 2) -> str:
    if places is None:
        return format_decimal(value, locale=_locale(lang.locale))
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(value, format=pattern, locale=_locale(lang.locale))


def money(value: Money | None, lang: Lang) -> str:
    """``CNY 14,910.00`` (en), ``14.910,00 EUR`` (de), ``人民币14,910.00元`` (zh)."""
    if value is None:
        return "-"
    amount = number(value.amount, lang)
    if lang.code == "zh":
        if value.currency == "CNY":
            return f"人民币{amount}元"
        return f"{amount}{get_currency_name(value.currency, locale=_locale(lang.locale))}（{value.currency}）"
    if lang.code == "de":
        return f"{amount} {value.currency}"
    return f"{value.currency} {amount}"


def day(value: date | None, lang: Lang, weekday: bool = False) -> str:
    if value is None:
        return "-"
    return format_date(value, "full" if weekday else "long", locale=_locale(lang.locale))


def deadline_end(deadline: DocumentDeadline, lang: Lang, tz: ZoneInfo) -> str:
    """When the last day ends, in the jurisdiction's local time: normally 24:00 of the last day."""
    local = deadline.due_at.astimezone(tz)
    end_of_last_day = datetime.combine(deadline.due_date + timedelta(days=1), time(0), tzinfo=tz)
    clock = "24:00" if local == end_of_last_day else local.strftime("%H:%M")
    shown_day = deadline.due_date if clock == "24:00" else local.date()
    zone = tz.key
    if lang.code == "zh":
        name = "北京时间" if zone == "Asia/Shanghai" else zone
        return f"{day(shown_day, lang, weekday=True)} {clock}（{name}）"
    if lang.code == "de":
        return f"{day(shown_day, lang, weekday=True)}, {clock} Uhr (Ortszeit {zone})"
    return f"{day(shown_day, lang, weekday=True)}, {clock} ({zone} time)"


def period(deadline: DocumentDeadline, lang: Lang) -> str:
    if deadline.amount is None:
        return "-"
    unit = legal.UNITS[deadline.unit]
    word = unit.get(lang.code, unit["en"])
    return f"{deadline.amount}{word}" if lang.code == "zh" else f"{deadline.amount} {word}"


def from_service(clock: DocumentClock, lang: Lang) -> str:
    """The end of a time limit that runs from service of the document, worded to follow "by" / "bis" / "于…前"."""
    unit = legal.UNITS[clock.unit]
    word = unit.get(lang.code, unit["en"])
    if lang.code == "zh":
        return f"自本文书送达之日起第{clock.amount}{word}届满"
    if lang.code == "de":  # dative plural: "von 10 Arbeitstagen"
        return (
            f"zum Ablauf von {clock.amount} {word}{'n' if word.endswith('e') else ''} ab Zustellung dieses Schreibens"
        )
    return f"the end of {clock.amount} {word} from the day this document is served on you"


def utc(value: datetime) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC")


_BLOCK_END = re.compile(r"</(p|div|h\d|tr|table|ul|ol)>|<br\s*/?>", re.I)
_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_ORDERED = re.compile(r"<ol\b[^>]*>(.*?)</ol>", re.I | re.S)


def _number_items(match: re.Match) -> str:
    count = iter(range(1, 1000))
    return _LIST_ITEM.sub(lambda _: f"\n{next(count)}. ", match[1]) + "</ol>"


def plain(fragment: str) -> str:
    """An HTML fragment of a template as plain text: paragraphs kept, tags dropped, entities decoded,
    list items on their own lines (numbered in ordered lists)."""
    text = _ORDERED.sub(_number_items, str(fragment))
    text = _LIST_ITEM.sub("\n\x00", text)
    text = _BLOCK_END.sub("\n\n", text)
    out: list[str] = []
    for line in text.split("\n"):
        bullet = line.startswith("\x00")
        stripped = Markup(line.lstrip("\x00")).striptags()
        if stripped:
            out.append(("- " if bullet else "") + stripped)
        elif out and out[-1] != "":
            out.append("")
    return "\n".join(out).strip()


# ------------------------------------------------------------------ context


def _variant(data: DocumentData) -> str | None:
    if data.kind in ("suspension_notice", "party_detention_notice") and data.jurisdiction == "CN":
        return data.case.mode
    if data.kind == "suspension_notice" and data.jurisdiction == "EU":
        return "application" if data.case.application_id else "ex_officio"
    if data.kind in ("party_detention_notice", "destruction_notice") and data.jurisdiction == "EU":
        if data.destruction_procedure == "small_consignment":
            return "small_consignment"
        return "standard"
    if data.kind == "disclosure_to_owner":
        return data.disclosure_stage or "at_detention"
    return None


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def legal_bases(data: DocumentData) -> list[str]:
    """Every reference the document rests on: the decision's, its deadlines', and the appeal's."""
    variant = _variant(data)
    refs = list(
        legal.BASIS.get((data.kind, data.jurisdiction, variant or ""), None)
        or legal.BASIS.get((data.kind, data.jurisdiction), [])
    )
    for deadline in data.deadlines:
        refs += legal.split_bases(deadline.basis)
    for clock in data.clocks:
        refs += legal.split_bases(clock.basis)
    if (data.kind, data.jurisdiction) in legal.APPEALABLE:
        if data.jurisdiction == "CN":
            refs += legal.APPEAL["CN"]["basis"]
        elif data.jurisdiction == "EU":
            refs += legal.MEMBER_STATES[data.member_state].remedy_basis
    return _unique(refs)


def _context(data: DocumentData) -> dict:
    if data.kind not in DOCUMENT_ADDRESSEES:
        raise DocumentNotApplicable(f"unknown document kind {data.kind!r}")
    if not applies(data.kind, data.jurisdiction):
        raise DocumentNotApplicable(f"{data.jurisdiction} law gives no {data.kind}")
    if not applies(data.kind, data.jurisdiction, data.addressee.role):
        roles = ", ".join(sorted(DOCUMENT_ADDRESSEES[data.kind][data.jurisdiction]))
        raise DocumentNotApplicable(f"a {data.jurisdiction} {data.kind} goes to {roles}, not to {data.addressee.role}")
    langs = legal.languages(data.jurisdiction, data.member_state)
    tz = ZoneInfo(data.timezone or legal.TIMEZONES[data.jurisdiction])
    j = data.jurisdiction
    authority = legal.MEMBER_STATES[data.member_state].authority if j == "EU" else legal.AUTHORITY[j]
    bases = legal_bases(data)
    instruments = legal.INSTRUMENTS[j]
    used = [abbr for abbr in instruments if any(ref.startswith(abbr) for ref in bases)]
    primary = langs[0]

    def t(key: str, lang: Lang) -> str:
        entry = legal.LABELS[key]
        return entry.get(lang.code, entry["en"])

    def tr(table: dict, key: str | None, lang: Lang) -> str:
        if key is None or key not in table:
            return key or "-"
        return table[key].get(lang.code, table[key].get("en", key))

    def dl(name: str) -> DocumentDeadline | None:
        return data.deadline(name)

    def dl_last(name: str, lang: Lang) -> str:
        deadline = data.deadline(name)
        if deadline is not None:
            return deadline_end(deadline, lang, tz)
        clock = data.clock(name)
        return from_service(clock, lang) if clock is not None else "-"

    def mark(right: RightRef, lang: Lang) -> str:
        if right.mark_zh:
            return f"{right.mark}（{right.mark_zh}）" if lang.code == "zh" else f"{right.mark} ({right.mark_zh})"
        return right.mark

    def marks(lang: Lang) -> str:
        sep = "、" if lang.code == "zh" else ", "
        return sep.join(mark(r, lang) for r in data.case.rights)

    def recordation(right: RightRef, lang: Lang) -> str:
        if lang.code == "zh" and right.recordation_id_zh:
            return right.recordation_id_zh
        return right.recordation_id

    def recordations(lang: Lang) -> str:
        sep = "、" if lang.code == "zh" else ", "
        return sep.join(recordation(r, lang) for r in data.case.rights)

    def right_types(lang: Lang) -> str:
        sep = "、" if lang.code == "zh" else ", "
        return sep.join(_unique([tr(legal.RIGHT_TYPES, r.right_type, lang) for r in data.case.rights]))

    def line_marks(line: GoodsLine) -> list[RightRef]:
        return [r for r in data.case.rights if r.recordation_id in line.recordation_ids] or (
            list(data.case.rights) if len(data.case.rights) == 1 else []
        )

    def dl_what(name: str, lang: Lang) -> str:
        entry = legal.DEADLINES.get(name)
        if entry is None:
            return name
        return entry["what"].get(lang.code) or entry["what"].get("en") or name

    def dl_lapse(name: str, lang: Lang) -> str:
        entry = legal.DEADLINES.get(name)
        if entry is None:
            return ""
        return entry["lapse"].get(lang.code) or entry["lapse"].get("en") or ""

    def line_money(line: GoodsLine) -> Money:
        return Money(amount=line.value, currency=line.currency)

    def party_name(role: str) -> str:
        party = getattr(data.case, role, None)
        if party is None and role == "importer":
            party = data.case.consignee
        return party.name if party is not None else "-"

    return {
        "d": data,
        "c": data.case,
        "j": j,
        "variant": _variant(data),
        "langs": langs,
        "primary": primary,
        "tz": tz,
        "authority": authority,
        "bases": bases,
        "instruments": instruments,
        "used_instruments": used,
        "appealable": (data.kind, j) in legal.APPEALABLE,
        "legal": legal,
        "member_state": legal.MEMBER_STATES.get(data.member_state) if j == "EU" else None,
        "t": t,
        "tr": tr,
        "dl": dl,
        "dl_last": dl_last,
        "money": money,
        "day": day,
        "number": number,
        "deadline_end": lambda deadline, lang: deadline_end(deadline, lang, tz),
        "period": period,
        "utc": utc,
        "cite": lambda ref, lang: legal.cite(ref, lang.code, j),
        "cite_all": lambda refs, lang: legal.cite_all(refs, lang.code, j),
        "mark": mark,
        "marks": marks,
        "recordation": recordation,
        "recordations": recordations,
        "right_types": right_types,
        "line_marks": line_marks,
        "party_name": party_name,
        "dl_what": dl_what,
        "dl_lapse": dl_lapse,
        "line_money": line_money,
        "total": data.case.total_value,
    }


def _with_kind(data: DocumentData) -> dict:
    ctx = _context(data)
    ctx["k"] = environment().get_template(f"kinds/{data.kind}.html").make_module(ctx)
    ctx["title"] = lambda lang: str(ctx["k"].title(lang)).strip()
    return ctx


def render_html(data: DocumentData) -> str:
    """The document as a self-contained HTML page (inline print CSS), autoescaped."""
    return environment().get_template("document.html").render(_with_kind(data))


def render_text(data: DocumentData) -> str:
    """The document as a plain-text e-mail body, in the same languages and order."""
    text = environment().get_template("document.txt").render(_with_kind(data))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_pdf(data: DocumentData) -> bytes:
    """The document as PDF (A4), with the fonts it uses embedded as subsets."""
    from weasyprint import HTML  # imported here: the HTML and text renderers need no Pango

    return HTML(string=render_html(data), base_url=str(TEMPLATES)).write_pdf()
