"""The texts of the written notices: to the rights holder (subject and body per notice kind) and to the parties of
the case (declarant, consignor, consignee, importer)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import NoticeKind
    from shared.rules.pack import DeadlineRule


def notice_text(kind: NoticeKind, f: CaseFile, deadline: datetime | None, extra: str | None) -> tuple[str, str]:
    """Subject and body of a written notice to the rights holder."""
    case, cal = f.case, f.cal
    if f.v4:
        lines = sorted(f.lines.values(), key=lambda ln: ln.line_no)
        goods = (
            f"declaration {case.declaration_id}, {len(lines)} line{'s' if len(lines) != 1 else ''} of value "
            f"{f.goods_value(lines)} {case.currency}: "
            + "; ".join(
                f"line {ln.line_no}: {ln.description} (HS {ln.hs_code}, {ln.quantity} {ln.unit}, value "
                f"{ln.goods_value} {case.currency}, right {ln.recordation_id} {ln.mark})"
                for ln in lines
            )
        )
    else:
        goods = (
            f"declaration {case.declaration_id} line {case.line_no}: {case.description} "
            f"(HS {case.hs_code}, {case.quantity} {case.unit}, value {case.goods_value} {case.currency})"
        )
    head = f"Case {case.case_id} - right {case.recordation_id} ({case.mark})"
    when = "-"
    if deadline is not None and cal is not None:
        last_day = cal.local_date(deadline - timedelta(seconds=1))
        when = f"the end of {last_day.isoformat()} ({cal.timezone} time; {deadline.isoformat()})"
    if kind == "suspension":
        amount = (
            f"{f.pack.currency} {f.required_guarantee}"
            if f.required_guarantee is not None
            else "an amount set by customs"
        )
        if case.mode == "application":
            return (
                f"[Customs IPR] Application accepted - post the guarantee by {when}",
                f"{head}\n\nYour application concerning {goods} is accepted. Release is suspended. Post a "
                f"guarantee of {amount} (equal to the goods value) by {when}; otherwise the goods are released.",
            )
        return (
            f"[Customs IPR] Suspension of release - reply by {when}",
            f"{head}\n\nCustoms ({case.customs_office}) has suspended release of goods suspected of infringing "
            f"your recorded right: {goods}.\nConsignor: {case.consignor.name}; consignee: {case.consignee.name}."
            f"\n\nBy {when} either request detention and post a guarantee of {amount}, or state that no "
            f"detention is needed. Without a reply the goods are released.",
        )
    texts: dict[str, tuple[str, str]] = {
        "detention": ("Goods detained", "The goods are detained."),
        "cannot_determine": (
            "Infringement could not be determined",
            "Customs could not determine infringement. The goods will be released at the end of "
            "the time limit unless a court assistance notice is received.",
        ),
        "confiscation": (
            "Goods confiscated",
            f"Customs determined infringement; the goods are confiscated. Disposal: {f.disposal_method}.",
        ),
        "release": ("Goods released", f"The goods are released. Reason: {extra}."),
        "court_handover": ("Goods held for the court", "The goods are held for the court proceedings."),
        "application_needed": (
            "Goods detained ex officio - application for action needed",
            f"Goods suspected of infringing your right are detained. File an application for "
            f"action by {when}; otherwise the goods are released.",
        ),
        "confirmation_needed": (
            "Goods detained - confirm infringement",
            f"By {when} confirm in writing that the goods infringe your right and agree to their "
            f"destruction, or start proceedings; otherwise the goods are released.",
        ),
        "declarant_objected": (
            "Declarant objects to destruction",
            f"The declarant objects to destruction. Start proceedings by {when}; otherwise the goods are released.",
        ),
        "hearing_right": (
            "Penalty proposed - hearing right",
            "A fine above the hearing threshold is proposed; the party has been told of its right to a hearing.",
        ),
        "police_referral": (
            "Case referred to the police",
            "The goods value exceeds the threshold for a suspected crime; the case is referred to the police.",
        ),
        "disclosure": (
            "Disclosure of importation information",
            f"The importer did not show the goods are genuine. Importation details: {goods}; consignor "
            f"{case.consignor.name}; consignee {case.consignee.name}.",
        ),
        "destruction": ("Goods destroyed", f"The goods are destroyed. {extra or ''}"),
        "forfeiture": ("Goods seized and forfeited", "The goods are seized as counterfeit and forfeited."),
        "lines_changed": (
            "Lines of the case changed",
            f"A revision of the declaration changed the lines of this case. {extra or ''} "
            f"Required guarantee now: {f.required_guarantee if f.required_guarantee is not None else '-'}"
            f" {f.pack.currency if f.rules else ''}.",
        ),
        "partial_release": ("Some lines released", f"{extra or ''} The other lines stay detained."),
        "seizure": (
            "Notice of seizure",
            f"An officer found the goods counterfeit; they are seized (19 U.S.C. 1526(e)). A petition for "
            f"relief may be filed by {when} (19 U.S.C. 1618); otherwise the goods are forfeited.",
        ),
        "exclusion": ("Goods excluded", f"{extra or ''}"),
        "guarantee_refused": (
            "Guarantee refused - post another",
            f"The guarantee could not be secured ({extra or f.guarantee_status}). Post another guarantee "
            f"(POST /v1/cases/{case.case_id}/guarantee, or hand it to customs) by {when}; "
            f"otherwise the goods are released.",
        ),
    }
    title, text = texts[kind]
    return f"[Customs IPR] {title} - {case.case_id}", f"{head}\n\n{text}\n\nGoods: {goods}."


def _goods(f: CaseFile) -> str:
    case = f.case
    lines = sorted(f.lines.values(), key=lambda ln: ln.line_no)
    return f"declaration {case.declaration_id}: " + "; ".join(
        f"line {ln.line_no}: {ln.description} (HS {ln.hs_code}, {ln.quantity} {ln.unit}, value {ln.goods_value} "
        f"{case.currency}, suspected of infringing right {ln.recordation_id} {ln.mark})"
        for ln in lines
    )


def party_notice_text(
    kind: NoticeKind,
    f: CaseFile,
    role: str,
    party_name: str,
    clock: str | None,
    clock_rule: DeadlineRule | None,
    extra: str | None,
) -> tuple[str, str]:
    """Subject and body of a written notice to a party of the case; a time limit runs from its service."""
    case = f.case
    rule = (f.pack.deadlines.get(clock) if clock is not None else None) or clock_rule
    days = f"{rule.amount} {'business' if case.jurisdiction == 'US' else 'working'} days" if rule is not None else None
    answer = (
        f"POST /v1/cases/{case.case_id}/answers, signed in with your party account or with a token for the "
        f"case access code customs gives you"
    )
    head = f"Case {case.case_id} - to {party_name} ({role.replace('_', ' ')})"
    if kind == "party_detention" and case.jurisdiction == "EU":
        title = "Notice of suspension of release / detention of goods"
        text = (
            f"Customs ({case.customs_office}) has suspended the release of / detained goods suspected of "
            f"infringing an intellectual property right (Regulation (EU) No 608/2013, Art. 17-18): "
            f"{_goods(f)}.\n\nWithin {days} of the day this notice is served on you, you may agree to the "
            f"destruction of the goods or object to it ({answer}, answer 'agrees_to_destruction' or "
            f"'objects_to_destruction'). If you neither agree nor object in that time, your agreement to "
            f"destruction may be deemed given (Art. 23(1)(c), 26)."
        )
    elif kind == "party_detention" and case.jurisdiction == "US":
        title = "Notice of detention"
        text = (
            f"U.S. Customs and Border Protection has detained merchandise suspected of bearing a counterfeit "
            f"mark (19 CFR 133.21): {_goods(f)}.\n\nWithin {days} of the day this notice is served on you, "
            f"you may show that the goods do not bear a counterfeit mark ({answer}, answer "
            f"'importer_response'). Otherwise information about the importation is disclosed to the mark "
            f"owner."
        )
    elif kind == "party_detention":
        title = "Detention receipt"
        text = (
            f"Customs ({case.customs_office}) has detained the goods below at the request of the holder of a "
            f"recorded intellectual property right (Regulations on Customs Protection of IPR, Art. 16): "
            f"{_goods(f)}.\n\nIf you consider that the goods do not infringe, you may submit a written "
            f"statement with evidence ({answer}, answer 'non_infringement_statement'; Art. 18)."
        )
    elif kind == "hearing_right":
        title = "Notice of proposed penalty and of the right to a hearing"
        text = (
            f"Customs intends to confiscate the goods and impose a fine: {extra or ''}.\n\nYou may ask for a "
            f"hearing within {days} of the day this notice is served on you ({answer}, answer "
            f"'hearing_request'; Penalty Regs Art. 49). Without a request the penalty is decided."
        )
    elif kind == "penalty_decision":
        title = "Administrative penalty decision"
        text = (
            f"Customs decided that the goods infringe and imposes: {extra or ''} (Penalty Regs Art. 25). "
            f"You may apply for administrative reconsideration or bring a lawsuit within the periods the law "
            f"sets."
        )
    else:
        title, text = kind.replace("_", " ").capitalize(), extra or ""
    return f"[Customs IPR] {title} - {case.case_id}", f"{head}\n\n{text}"
