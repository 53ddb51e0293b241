"""The texts of the written notices to the rights holder (subject and body per notice kind)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import NoticeKind


def notice_text(kind: NoticeKind, f: CaseFile, deadline: datetime | None, extra: str | None) -> tuple[str, str]:
    """Subject and body of a written notice to the rights holder."""
    case, cal = f.case, f.cal
    if f.v4:
        lines = sorted(f.lines.values(), key=lambda ln: ln.line_no)
        goods = (f"declaration {case.declaration_id}, {len(lines)} line{'s' if len(lines) != 1 else ''} of value "
                 f"{f.goods_value(lines)} {case.currency}: " + "; ".join(
                     f"line {ln.line_no}: {ln.description} (HS {ln.hs_code}, {ln.quantity} {ln.unit}, value "
                     f"{ln.goods_value} {case.currency}, right {ln.recordation_id} {ln.mark})" for ln in lines))
    else:
        goods = (f"declaration {case.declaration_id} line {case.line_no}: {case.description} "
                 f"(HS {case.hs_code}, {case.quantity} {case.unit}, value {case.goods_value} {case.currency})")
    head = f"Case {case.case_id} - right {case.recordation_id} ({case.mark})"
    when = "-"
    if deadline is not None and cal is not None:
        last_day = cal.local_date(deadline - timedelta(seconds=1))
        when = f"the end of {last_day.isoformat()} ({cal.timezone} time; {deadline.isoformat()})"
    if kind == "suspension":
        amount = (f"{f.pack.currency} {f.required_guarantee}" if f.required_guarantee is not None
                  else "an amount set by customs")
        if case.mode == "application":
            return (f"[Customs IPR] Application accepted - post the guarantee by {when}",
                    f"{head}\n\nYour application concerning {goods} is accepted. Release is suspended. Post a "
                    f"guarantee of {amount} (equal to the goods value) by {when}; otherwise the goods are released.")
        return (f"[Customs IPR] Suspension of release - reply by {when}",
                f"{head}\n\nCustoms ({case.customs_office}) has suspended release of goods suspected of infringing "
                f"your recorded right: {goods}.\nConsignor: {case.consignor.name}; consignee: {case.consignee.name}."
                f"\n\nBy {when} either request detention and post a guarantee of {amount}, or state that no "
                f"detention is needed. Without a reply the goods are released.")
    texts: dict[str, tuple[str, str]] = {
        "detention": ("Goods detained", "The goods are detained."),
        "cannot_determine": ("Infringement could not be determined",
                             "Customs could not determine infringement. The goods will be released at the end of "
                             "the time limit unless a court assistance notice is received."),
        "confiscation": ("Goods confiscated", f"Customs determined infringement; the goods are confiscated. Disposal: "
                                              f"{f.disposal_method}."),
        "release": ("Goods released", f"The goods are released. Reason: {extra}."),
        "court_handover": ("Goods held for the court", "The goods are held for the court proceedings."),
        "application_needed": ("Goods detained ex officio - application for action needed",
                               f"Goods suspected of infringing your right are detained. File an application for "
                               f"action by {when}; otherwise the goods are released."),
        "confirmation_needed": ("Goods detained - confirm infringement",
                                f"By {when} confirm in writing that the goods infringe your right and agree to their "
                                f"destruction, or start proceedings; otherwise the goods are released."),
        "declarant_objected": ("Declarant objects to destruction",
                               f"The declarant objects to destruction. Start proceedings by {when}; otherwise the "
                               f"goods are released."),
        "hearing_right": ("Penalty proposed - hearing right", "A fine above the hearing threshold is proposed; "
                                                              "the party has been told of its right to a hearing."),
        "police_referral": ("Case referred to the police", "The goods value exceeds the threshold for a suspected "
                                                           "crime; the case is referred to the police."),
        "disclosure": ("Disclosure of importation information",
                       f"The importer did not show the goods are genuine. Importation details: {goods}; consignor "
                       f"{case.consignor.name}; consignee {case.consignee.name}."),
        "destruction": ("Goods destroyed", f"The goods are destroyed. {extra or ''}"),
        "forfeiture": ("Goods seized and forfeited", "The goods are seized as counterfeit and forfeited."),
        "lines_changed": ("Lines of the case changed",
                          f"A revision of the declaration changed the lines of this case. {extra or ''} "
                          f"Required guarantee now: {f.required_guarantee if f.required_guarantee is not None else '-'}"
                          f" {f.pack.currency if f.rules else ''}."),
        "partial_release": ("Some lines released", f"{extra or ''} The other lines stay detained."),
        "seizure": ("Notice of seizure",
                    f"An officer found the goods counterfeit; they are seized (19 U.S.C. 1526(e)). A petition for "
                    f"relief may be filed by {when} (19 U.S.C. 1618); otherwise the goods are forfeited."),
        "exclusion": ("Goods excluded", f"{extra or ''}"),
        "guarantee_refused": ("Guarantee refused - post another",
                              f"The guarantee could not be secured ({extra or f.guarantee_status}). Post another guarantee "
                              f"(POST /v1/cases/{case.case_id}/guarantee, or hand it to customs) by {when}; "
                              f"otherwise the goods are released."),
    }
    title, text = texts[kind]
    return f"[Customs IPR] {title} - {case.case_id}", f"{head}\n\n{text}\n\nGoods: {goods}."
