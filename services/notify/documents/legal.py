"""The words of the documents that are not case facts: languages, labels, legal bases and remedies.

Article references are written as the rule packs write them (``shared/rules/packs/*.json``:
"Reg. Art. 16", "Art. 23(1)", "19 CFR 133.21(b)(3)"); ``cite`` renders one in a language
(Chinese article numbers for CN, "Abs."/"Buchst." for German). Deadline bases come with the
deadlines themselves (the case computed them from its rule pack); the references here are the
ones a document cites beyond its deadlines (what the decision rests on, how to appeal).
Values the domain research marks unverified are marked as such in the README table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lang:
    code: str  # catalogue key: zh, en, de
    locale: str  # babel locale for dates and numbers
    html: str  # the HTML lang attribute (also picks the CJK glyph variant)


ZH = Lang("zh", "zh_CN", "zh-CN")
EN_GB = Lang("en", "en_GB", "en-GB")
EN_US = Lang("en", "en_US", "en-US")
DE = Lang("de", "de_DE", "de-DE")


@dataclass(frozen=True)
class MemberState:
    language: Lang
    authority: dict[str, str]
    remedy: dict[str, str]
    remedy_basis: list[str] = field(default_factory=list)


# EU documents are written in the language of the member state whose customs act, and English.
MEMBER_STATES: dict[str, MemberState] = {
    "DE": MemberState(
        language=DE,
        authority={
            "de": "Bundesrepublik Deutschland – Zollverwaltung",
            "en": "Federal Republic of Germany – Customs Administration",
        },
        remedy={
            "de": "Gegen diese Entscheidung kann innerhalb eines Monats nach ihrer Bekanntgabe Einspruch "
            "eingelegt werden. Der Einspruch ist schriftlich oder elektronisch bei der oben genannten "
            "Zollstelle einzulegen oder dort zur Niederschrift zu erklären.",
            "en": "This decision may be challenged by an objection (Einspruch) within one month of its "
            "notification. The objection is lodged in writing or electronically with the customs office "
            "named above, or declared there for the record.",
        },
        remedy_basis=["UCC Art. 44", "AO § 347", "AO § 355", "AO § 357"],
    ),
}


class UnsupportedJurisdiction(ValueError):
    """No language catalogue for this jurisdiction or member state."""


def languages(jurisdiction: str, member_state: str = "DE") -> list[Lang]:
    """The document's languages, the authoritative one first."""
    if jurisdiction == "CN":
        return [ZH, EN_GB]
    if jurisdiction == "US":
        return [EN_US]
    if jurisdiction == "EU":
        state = MEMBER_STATES.get(member_state)
        if state is None:
            raise UnsupportedJurisdiction(
                f"no document language for member state {member_state!r}; available: {', '.join(MEMBER_STATES)}"
            )
        return [state.language, EN_GB]
    raise UnsupportedJurisdiction(f"no documents for jurisdiction {jurisdiction!r}")


TIMEZONES = {"CN": "Asia/Shanghai", "EU": "Europe/Berlin", "US": "America/New_York"}
CALENDARS = {"CN": "cn", "EU": "de", "US": "us"}


def _l(zh: str | None = None, en: str | None = None, de: str | None = None) -> dict[str, str]:
    return {k: v for k, v in (("zh", zh), ("en", en), ("de", de)) if v is not None}


AUTHORITY = {
    "CN": _l("中华人民共和国海关", "Customs of the People's Republic of China"),
    "US": _l(en="U.S. Customs and Border Protection – Department of Homeland Security"),
}

LABELS: dict[str, dict[str, str]] = {
    "number": _l("文书编号", "No.", "Nr."),
    "date": _l("签发日期", "Date", "Datum"),
    "case_id": _l("案件编号", "Case", "Fall"),
    "declaration": _l("报关单号", "Declaration", "Anmeldung"),
    "entry": _l(en="Entry"),
    "revision": _l("版本", "revision", "Version"),
    "to": _l("受文人", "To", "An"),
    "copy": _l("抄送", "Copy to", "Abschrift an"),
    "facts": _l("案件事实", "Case facts", "Sachverhalt"),
    "goods": _l("货物", "Goods", "Waren"),
    "decision": _l("决定及要求事项", "Decision and request", "Entscheidung und Aufforderung"),
    "deadlines": _l("期限", "Time limits", "Fristen"),
    "basis": _l("法律依据", "Legal basis", "Rechtsgrundlagen"),
    "remedy": _l("权利救济", "Remedies", "Rechtsbehelfe"),
    "note": _l("备注", "Note", "Anmerkung"),
    "issued_by": _l("签发", "Issued by", "Ausgestellt von"),
    "seal": _l("（海关印章）", "(seal)", "(Dienstsiegel)"),
    "officer": _l("经办关员", "Officer", "Sachbearbeitung"),
    "page": _l("第 {page} 页，共 {pages} 页", "Page {page} of {pages}", "Seite {page} von {pages}"),
    "direction": _l("进出境", "Direction", "Verkehrsrichtung"),
    "transport": _l("运输方式", "Transport", "Beförderung"),
    "declarant": _l("申报人", "Declarant", "Anmelder"),
    "consignor": _l("发货人", "Consignor", "Versender"),
    "consignee": _l("收货人", "Consignee", "Empfänger"),
    "importer": _l("进口商", "Importer", "Einführer"),
    "manufacturer": _l("制造商", "Manufacturer", "Hersteller"),
    "origin": _l("原产国/起运国", "Origin", "Ursprung"),
    "destination": _l("目的国", "Destination", "Bestimmung"),
    "port": _l("口岸", "Port", "Zollstelle/Hafen"),
    "rights": _l("知识产权及海关备案", "Rights and recordations", "Rechte und Anträge"),
    "recordation": _l("备案号", "Recordation", "Antrag/Eintragung"),
    "registration": _l("注册号", "Registration", "Registernummer"),
    "application": _l("申请", "Application for action", "Antrag auf Tätigwerden"),
    "line": _l("项号", "Line", "Pos."),
    "hs": _l("商品编码", "HS code", "Warennummer"),
    "description": _l("货物名称", "Description", "Warenbezeichnung"),
    "mark": _l("标识", "Mark", "Marke"),
    "quantity": _l("数量", "Quantity", "Menge"),
    "unit_value": _l("单价", "Unit value", "Stückwert"),
    "value": _l("价值", "Value", "Wert"),
    "total": _l("合计", "Total", "Summe"),
    "goods_value_local": _l("货物价值（人民币）", "Goods value (local currency)", "Warenwert (Landeswährung)"),
    "deadline_what": _l("事项", "What", "Was"),
    "deadline_last_day": _l("最后一日", "Last day", "Letzter Tag"),
    "deadline_ends": _l("截止时刻", "Ends", "Fristende"),
    "deadline_count": _l("期间", "Period", "Dauer"),
    "deadline_basis": _l("依据", "Basis", "Grundlage"),
    "provisional": _l(
        "按临时假日安排计算，官方安排公布后可能调整",
        "counted on a provisional holiday calendar; may change when the official schedule is published",
        "nach vorläufigem Feiertagskalender berechnet; kann sich mit dem amtlichen Kalender ändern",
    ),
    "abbreviations": _l("简称", "Abbreviations", "Abkürzungen"),
    "outcome": _l("处理", "Outcome", "Ergebnis"),
    "reply_online": _l("在线答复", "Reply online", "Online antworten"),
    "ex_officio": _l("依职权保护", "ex officio", "von Amts wegen"),
    "application_mode": _l("依申请保护", "on application", "auf Antrag"),
    "mode": _l("保护方式", "Procedure", "Verfahren"),
}

DIRECTIONS = {
    "import": _l("进口", "import", "Einfuhr"),
    "export": _l("出口", "export", "Ausfuhr"),
    "transit": _l("转运/过境", "transit", "Durchfuhr"),
}
RIGHT_TYPES = {
    "trademark": _l("商标专用权", "trademark", "Marke"),
    "copyright": _l("著作权", "copyright", "Urheberrecht"),
    "patent": _l("专利权", "patent", "Patent"),
}
UNITS = {
    "working_days": _l("个工作日", "working days", "Arbeitstage"),
    "business_days": _l("个工作日", "business days", "Arbeitstage"),
    "calendar_days": _l("日", "days", "Kalendertage"),
}
ROLES = {
    "rights_holder": _l("知识产权权利人", "rights holder", "Rechteinhaber"),
    "declarant": _l("申报人", "declarant", "Anmelder"),
    "consignor": _l("发货人", "consignor", "Versender"),
    "consignee": _l("收货人", "consignee", "Empfänger"),
    "holder_of_goods": _l("货物持有人", "holder of the goods", "Besitzer der Waren"),
    "importer": _l("进口商", "importer", "Einführer"),
    "police": _l("公安机关", "public security organ", "Polizei"),
    "court": _l("人民法院", "court", "Gericht"),
}
FINE_TIERS = {
    "none": _l("不予处罚", "no penalty"),
    "mitigated": _l("减轻处罚", "mitigated"),
    "lighter": _l("从轻处罚", "lighter"),
    "ordinary": _l("一般处罚", "ordinary"),
    "heavier": _l("从重处罚", "heavier"),
}
DISPOSAL_METHODS = {
    "public_welfare": _l("转交有关公益机构用于社会公益事业", "handed to a public-welfare body for public-welfare use"),
    "sale_to_holder": _l("有偿转让给知识产权权利人", "sold to the rights holder for payment"),
    "auction_after_removal": _l("消除侵权特征后依法拍卖", "auctioned after the infringing features are removed"),
    "destruction": _l("销毁", "destroyed", "Vernichtung"),
    "forfeiture_destruction": _l(en="forfeited and destroyed"),
}
COSTS = {
    "storage": _l("仓储费", "storage", "Lagerung"),
    "custody": _l("保管费", "custody", "Verwahrung"),
    "handling": _l("处理费", "handling", "Behandlung"),
    "disposal": _l("处置费", "disposal", "Entsorgung"),
    "destruction": _l("销毁费", "destruction", "Vernichtung"),
}

# Each deadline a document may show: what it is, and what happens if it passes unused.
DEADLINES: dict[str, dict[str, dict[str, str]]] = {
    "holder_reply": {
        "what": _l(
            "申请扣留侵权嫌疑货物并提供担保，或书面说明无需扣留",
            "Request detention and post the guarantee, or state in writing that no detention is needed",
        ),
        "lapse": _l(
            "逾期未申请扣留或者未提供担保的，海关放行货物。",
            "Without a request and a sufficient guarantee in time, the goods are released.",
        ),
    },
    "customs_determination": {
        "what": _l("海关调查并认定是否侵权", "Customs investigates and determines infringement"),
        "lapse": _l(
            "不能认定的，海关书面通知权利人。", "If customs cannot determine, it tells the rights holder in writing."
        ),
    },
    "release_ex_officio": {
        "what": _l("人民法院协助执行通知送达海关", "A court assistance notice reaches customs"),
        "lapse": _l(
            "逾期未收到人民法院协助执行通知且海关不能认定侵权的，海关放行货物。",
            "Without a court assistance notice, and without a determination of infringement, the goods are released.",
        ),
    },
    "release_application": {
        "what": _l("人民法院协助执行通知送达海关", "A court assistance notice reaches customs"),
        "lapse": _l(
            "逾期未收到人民法院协助执行通知的，海关放行货物。",
            "Without a court assistance notice in time, the goods are released.",
        ),
    },
    "hearing_request": {
        "what": _l("提出陈述、申辩或者听证申请", "Make statements and a defence, or request a hearing"),
        "lapse": _l(
            "逾期未提出的，视为放弃上述权利，海关依法作出处罚决定。",
            "Without a request in time these rights are deemed waived and customs decides the penalty.",
        ),
    },
    "afa_after_ex_officio": {
        "what": _l(en="File an application for action", de="Stellung eines Antrags auf Tätigwerden"),
        "lapse": _l(
            en="Without an application in time, the goods are released.",
            de="Wird kein Antrag gestellt, werden die Waren überlassen.",
        ),
    },
    "confirm_and_agree": {
        "what": _l(
            en="Confirm the infringement and agree to destruction, or start proceedings",
            de="Bestätigung der Rechtsverletzung und Zustimmung zur Vernichtung oder Einleitung eines Verfahrens",
        ),
        "lapse": _l(
            en="Without a confirmation or proceedings in time, the goods are released.",
            de="Ohne Bestätigung oder Verfahrenseinleitung werden die Waren überlassen.",
        ),
    },
    "confirm_and_agree_perishable": {
        "what": _l(
            en="Confirm the infringement and agree to destruction, or start proceedings (perishable goods)",
            de="Bestätigung und Zustimmung zur Vernichtung oder Verfahrenseinleitung (leicht verderbliche Waren)",
        ),
        "lapse": _l(
            en="Without a confirmation or proceedings in time, the goods are released.",
            de="Ohne Bestätigung oder Verfahrenseinleitung werden die Waren überlassen.",
        ),
    },
    "extension": {
        "what": _l(en="Extended time limit", de="Verlängerte Frist"),
        "lapse": _l(
            en="Without a confirmation or proceedings in time, the goods are released.",
            de="Ohne Bestätigung oder Verfahrenseinleitung werden die Waren überlassen.",
        ),
    },
    "declarant_consent": {
        "what": _l(
            en="Agree or object to the destruction of the goods",
            de="Zustimmung oder Widerspruch zur Vernichtung der Waren",
        ),
        "lapse": _l(
            en="Silence within the time limit is deemed agreement to destruction.",
            de="Äußern Sie sich nicht fristgerecht, gilt dies als Zustimmung zur Vernichtung.",
        ),
    },
    "small_consignment_declarant": {
        "what": _l(
            en="Express your views on the destruction of the goods (small consignment)",
            de="Stellungnahme zur Vernichtung der Waren (Kleinsendung)",
        ),
        "lapse": _l(
            en="Silence within the time limit is deemed agreement; the goods are then destroyed.",
            de="Äußern Sie sich nicht fristgerecht, gilt dies als Zustimmung; die Waren werden vernichtet.",
        ),
    },
    "small_consignment_holder_proceedings": {
        "what": _l(
            en="Start proceedings to determine the infringement",
            de="Einleitung eines Verfahrens zur Feststellung der Rechtsverletzung",
        ),
        "lapse": _l(
            en="Without proceedings in time, the goods are released.",
            de="Ohne Verfahrenseinleitung werden die Waren überlassen.",
        ),
    },
    "detention_notice": {
        "what": _l(en="Notice of detention to the importer"),
        "lapse": _l(en=""),
    },
    "importer_response": {
        "what": _l(en="Present information that the merchandise does not bear a counterfeit mark"),
        "lapse": _l(
            en="Without such information in time, CBP may disclose to the mark owner information appearing "
            "on the merchandise and its retail packaging, including unredacted images or samples."
        ),
    },
    "detention_period": {
        "what": _l(en="End of the detention period (30 days from presentation)"),
        "lapse": _l(
            en="Merchandise on which CBP has made no finding by then is treated as excluded from entry "
            "(19 U.S.C. 1499(c)(5)(A)); it is seized only on an officer's finding that it bears a "
            "counterfeit mark."
        ),
    },
    "petition": {
        "what": _l(en="Petition for relief from the seizure"),
        "lapse": _l(en="Without a petition in time, the seized merchandise is forfeited."),
    },
    "seizure": {  # the name of the detention period in cases opened before consignment cases
        "what": _l(en="End of the detention period (30 days from presentation)"),
        "lapse": _l(
            en="Merchandise not released by then is treated as excluded from entry; if CBP finds it bears "
            "a counterfeit mark it is seized and forfeited."
        ),
    },
    "seizure_petition": {
        "what": _l(en="Petition for relief from the seizure"),
        "lapse": _l(en="Without a petition or other election in time, CBP proceeds with administrative forfeiture."),
    },
    "post_seizure_disclosure": {
        "what": _l(en="Disclosure of importation information to the mark owner after seizure"),
        "lapse": _l(en=""),
    },
}

# The general appeal clause of each jurisdiction, for documents that decide something against the addressee.
APPEAL = {
    "CN": {
        "text": _l(
            "如不服本决定，可以自收到本文书之日起六十日内向上一级海关申请行政复议，或者自收到本文书之日起六个月内"
            "依法向人民法院提起行政诉讼。复议、诉讼期间，本决定不停止执行，法律另有规定的除外。",
            "If you disagree with this decision you may apply for administrative reconsideration to the customs "
            "office at the next higher level within 60 days of receiving this document, or bring an administrative "
            "lawsuit before the people's court within 6 months of receiving it. The decision is not suspended "
            "while the reconsideration or lawsuit is pending, unless the law provides otherwise.",
        ),
        "basis": ["Admin. Reconsideration Law Art. 20", "Admin. Litigation Law Art. 46", "Admin. Penalty Law Art. 73"],
    },
}

# What a document rests on beyond its deadlines, per (kind, jurisdiction[, variant]).
BASIS: dict[tuple[str, ...], list[str]] = {
    ("suspension_notice", "CN", "ex_officio"): ["Reg. Art. 16", "Reg. Art. 14", "Reg. Art. 25", "Reg. Art. 28"],
    ("suspension_notice", "CN", "application"): [
        "Reg. Art. 12",
        "Reg. Art. 13",
        "Reg. Art. 14",
        "Reg. Art. 15",
        "Reg. Art. 24(1)",
        "Reg. Art. 25",
    ],
    ("suspension_notice", "EU", "application"): ["Art. 17(3)", "Art. 23(1)", "Art. 23(3)", "Art. 23(4)", "Art. 29"],
    ("suspension_notice", "EU", "ex_officio"): ["Art. 18", "Art. 5(3)"],
    ("party_detention_notice", "CN", "ex_officio"): ["Reg. Art. 16", "Reg. Art. 17", "Reg. Art. 18", "Reg. Art. 19"],
    ("party_detention_notice", "CN", "application"): ["Reg. Art. 15", "Reg. Art. 17", "Reg. Art. 18", "Reg. Art. 19"],
    ("party_detention_notice", "EU", "standard"): ["Art. 17(3)", "Art. 18(3)", "Art. 23(1)(c)", "Art. 24"],
    ("party_detention_notice", "EU", "small_consignment"): ["Art. 26(3)", "Art. 26(4)", "Art. 26(5)"],
    ("party_detention_notice", "US"): ["19 U.S.C. 1526(e)", "19 CFR 133.21(b)", "19 CFR 133.25", "19 CFR 151.16"],
    ("reply_reminder", "CN"): [],
    ("reply_reminder", "EU"): [],
    ("reply_reminder", "US"): [],
    ("guarantee_refused", "CN"): ["Reg. Art. 14", "Reg. Art. 16"],
    ("cannot_determine", "CN"): ["Reg. Art. 20", "Reg. Art. 23", "Reg. Art. 24(2)"],
    ("hearing_right", "CN"): [
        "Penalty Regs Art. 25 ¶1",
        "Penalty Regs Art. 64",
        "Penalty Regs Art. 49",
        "GACC Ann. 2023 No. 198",
    ],
    ("penalty_decision", "CN"): [
        "Penalty Regs Art. 25 ¶1",
        "Penalty Regs Art. 64",
        "GACC Ann. 2023 No. 198",
        "Admin. Penalty Law Art. 67",
        "Penalty Regs Art. 60",
    ],
    ("release_notice", "CN"): ["Reg. Art. 24"],
    ("release_notice", "EU"): ["Art. 23(5)"],
    ("release_notice", "US"): ["19 CFR 133.21", "19 CFR 151.16"],
    ("disposal_notice", "CN"): ["Reg. Art. 27", "Reg. Art. 25"],
    ("destruction_notice", "EU", "standard"): ["Art. 23(1)", "Art. 23(2)", "Art. 29"],
    ("destruction_notice", "EU", "small_consignment"): ["Art. 26(5)", "Art. 26(6)"],
    ("disclosure_to_owner", "US", "at_detention"): ["19 CFR 133.21(b)"],
    ("disclosure_to_owner", "US", "after_importer_window"): ["19 CFR 133.21(b)(3)"],
    ("disclosure_to_owner", "US", "after_seizure"): ["19 CFR 133.21(e)"],
    ("seizure_notice", "US"): [
        "19 U.S.C. 1526(e)",
        "19 U.S.C. 1526(f)",
        "19 CFR 133.21",
        "19 CFR 133.27",
        "19 U.S.C. 1618",
        "19 CFR 171.2(b)(1)",
    ],
    ("court_handover", "CN"): ["Reg. Art. 23"],
    ("court_handover", "EU"): ["Art. 23(3)"],
    ("police_referral", "CN"): ["Reg. Art. 26", "Admin. Penalty Law Art. 27", "Criminal Law Art. 213-215"],
}

# Documents that decide something against the addressee, so they carry the appeal clause.
APPEALABLE = {
    ("party_detention_notice", "CN"),
    ("guarantee_refused", "CN"),
    ("penalty_decision", "CN"),
    ("release_notice", "CN"),
    ("cannot_determine", "CN"),
    ("disposal_notice", "CN"),
    ("party_detention_notice", "EU"),
    ("destruction_notice", "EU"),
    ("release_notice", "EU"),
}

# What the abbreviations of the references stand for, per jurisdiction (shown under the legal basis).
INSTRUMENTS: dict[str, dict[str, dict[str, str]]] = {
    "CN": {
        "Reg.": _l(
            "《中华人民共和国知识产权海关保护条例》",
            "Regulations of the PRC on Customs Protection of "
            "Intellectual Property Rights (State Council Decree 395, rev. 2018)",
        ),
        "Measures": _l(
            "《海关关于〈中华人民共和国知识产权海关保护条例〉的实施办法》",
            "GACC Implementing Measures (Order 183, am. Order 240)",
        ),
        "Penalty Regs": _l(
            "《中华人民共和国海关行政处罚实施条例》",
            "Customs Administrative Penalty Implementing Regulations (rev. 2022)",
        ),
        "Admin. Penalty Law": _l("《中华人民共和国行政处罚法》", "Administrative Penalty Law of the PRC"),
        "Admin. Reconsideration Law": _l(
            "《中华人民共和国行政复议法》", "Administrative Reconsideration Law of the PRC"
        ),
        "Admin. Litigation Law": _l("《中华人民共和国行政诉讼法》", "Administrative Litigation Law of the PRC"),
        "Criminal Law": _l("《中华人民共和国刑法》", "Criminal Law of the PRC"),
        "GACC Ann.": _l("海关总署公告", "GACC Announcement (discretion benchmarks)"),
    },
    "EU": {
        "Art.": _l(
            en="Regulation (EU) No 608/2013 concerning customs enforcement of intellectual property rights",
            de="Verordnung (EU) Nr. 608/2013 zur Durchsetzung der Rechte geistigen Eigentums durch die Zollbehörden",
        ),
        "UCC": _l(
            en="Union Customs Code, Regulation (EU) No 952/2013",
            de="Zollkodex der Union (UZK), Verordnung (EU) Nr. 952/2013",
        ),
        "AO": _l(en="German Fiscal Code (Abgabenordnung)", de="Abgabenordnung"),
    },
    "US": {},
}

_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..999 in Chinese numerals as used for article numbers (16 -> 十六, 213 -> 二百一十三)."""
    if not 1 <= n <= 999:
        return str(n)
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds] + "百"
        if rest and tens == 0:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN_DIGITS[tens]) + "十"
    if ones:
        out += _CN_DIGITS[ones]
    return out


_REF = re.compile(r"^(?P<prefix>.*?)\s*Art\.\s*(?P<art>\d+)(?:-(?P<art2>\d+))?(?P<rest>.*)$")
_ZH_PREFIX = {
    "Reg.": "《知识产权海关保护条例》",
    "Measures": "《知识产权海关保护条例实施办法》",
    "Penalty Regs": "《海关行政处罚实施条例》",
    "Admin. Penalty Law": "《行政处罚法》",
    "Admin. Reconsideration Law": "《行政复议法》",
    "Admin. Litigation Law": "《行政诉讼法》",
    "Criminal Law": "《刑法》",
}


def cite(ref: str, lang: str, jurisdiction: str) -> str:
    """One reference as the pack writes it, in ``lang`` (zh: 《条例》第十六条; de: Art. 23 Abs. 1 Buchst. c)."""
    ref = ref.strip()
    if lang == "zh" and jurisdiction == "CN":
        match = re.match(r"^GACC Ann\. (\d{4}) No\. (\d+)$", ref)
        if match:
            return f"海关总署公告{match[1]}年第{match[2]}号"
        match = _REF.match(ref)
        if match and match["prefix"] in _ZH_PREFIX:
            art = "第" + chinese_number(int(match["art"]))
            if match["art2"]:
                art += "条至第" + chinese_number(int(match["art2"]))
            art += "条"
            rest = match["rest"].strip()
            para = re.fullmatch(r"¶\s*(\d+)", rest)
            item = re.fullmatch(r"\((\d+)\)", rest)
            if para:
                art += f"第{chinese_number(int(para[1]))}款"
            elif item:
                art += f"第（{chinese_number(int(item[1]))}）项"
            elif rest:
                art += rest
            return _ZH_PREFIX[match["prefix"]] + art
        return ref
    if jurisdiction == "EU" and ref.startswith("Art."):
        if lang == "de":
            match = re.fullmatch(r"Art\. (\d+)((?:\(\d+\))?)((?:\([a-z]\))?)", ref)
            if match:
                out = f"Art. {match[1]}"
                if match[2]:
                    out += f" Abs. {match[2][1:-1]}"
                if match[3]:
                    out += f" Buchst. {match[3][1:-1]}"
                return out + " VO (EU) Nr. 608/2013"
            return ref + " VO (EU) Nr. 608/2013"
        return ref + " of Regulation (EU) No 608/2013"
    if jurisdiction == "EU" and lang == "de" and ref.startswith("UCC "):
        return ref.replace("UCC ", "") + " UZK"
    return ref


def cite_all(refs: list[str], lang: str, jurisdiction: str) -> list[str]:
    """Several references in ``lang``; in Chinese the articles of one instrument are joined
    (《知识产权海关保护条例》第十六条、第十四条)."""
    cited = [cite(ref, lang, jurisdiction) for ref in refs]
    if lang != "zh":
        return cited
    groups: dict[str, list[str]] = {}
    for text in cited:
        match = re.match(r"^(《[^》]+》)(.+)$", text)
        key, rest = (match[1], match[2]) if match else (text, "")
        groups.setdefault(key, [])
        if rest:
            groups[key].append(rest)
    return [key + "、".join(rests) for key, rests in groups.items()]


def split_bases(text: str | None) -> list[str]:
    """A pack basis such as ``Reg. Art. 16; Measures Art. 22`` as separate references."""
    return [part.strip() for part in (text or "").split(";") if part.strip()]
