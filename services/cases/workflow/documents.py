"""The facts of the legal document a written notice carries, taken from the case file.

The workflow says what the document states (its kind, the case's goods and rights, amounts and time limits
already computed by ``shared/rules``); the notify service numbers, dates, renders and stores it. Building the
facts never stops a notice: facts that cannot be put together give no document, and notify sends the plain
text alone and records why.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from temporalio import workflow

from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseLine, NoticeKind
    from shared.contracts.documents import (
        HOLDER_NOTICE_DOCUMENTS,
        PARTY_NOTICE_DOCUMENTS,
        Addressee,
        CaseFacts,
        CourtFacts,
        DocumentClock,
        DocumentDeadline,
        DocumentFacts,
        GoodsLine,
        GuaranteeFacts,
        Money,
        Office,
        PartyRef,
        PenaltyFacts,
        RightRef,
    )
    from shared.rules.pack import DeadlineRule

# The time limits each document states (besides the one the notice itself sets, if any).
KIND_DEADLINES: dict[str, tuple[str, ...]] = {
    "suspension_notice": (
        "holder_reply",
        "afa_after_ex_officio",
        "confirm_and_agree",
        "confirm_and_agree_perishable",
        "extension",
    ),
    "guarantee_refused": ("holder_reply",),
    "cannot_determine": ("release_ex_officio", "release_application"),
}

# The release reason of the document, from the reason the workflow records (first match wins).
RELEASE_REASONS: tuple[tuple[str, str], ...] = (
    ("no reply", "no_reply"),
    ("no detention is needed", "no_detention_requested"),
    ("guarantee", "no_guarantee"),
    ("counter-guarantee", "counter_guarantee"),
    ("do not infringe", "not_infringing"),
    ("not counterfeit", "not_infringing"),
    ("not infringing", "not_infringing"),
    ("no court assistance notice", "no_court_notice"),
    ("orders release", "court_order"),
    ("no application for action", "no_application"),
    ("neither confirmed", "no_confirmation"),
    ("no proceedings", "no_proceedings"),
)
DISCLOSURE_STAGES = {
    "detention": "at_detention",
    "disclosure": "after_importer_window",
    "seizure": "after_seizure",
    "forfeiture": "after_seizure",
}
DISPOSAL_METHODS = {
    "public_welfare",
    "sale_to_holder",
    "auction_after_removal",
    "destruction",
    "forfeiture_destruction",
}
FINE_TIERS = {"none", "mitigated", "lighter", "ordinary", "heavier"}
RIGHT_TYPES = {"trademark", "copyright", "patent"}
_OFFICE = re.compile(r"^[A-Z0-9]{2,16}$")
# The issuing office as the documents name it beside its code (the platform keeps no register of office names).
OFFICE_NAMES = {"en": "Customs office", "CN": "海关", "EU": "Zollstelle"}


def notice_document(f: CaseFile, kind: NoticeKind, deadline: datetime | None, extra: str | None) -> dict[str, Any]:
    """The document fields of a notice request: ``document`` (its facts), or ``document_note`` (why there are
    none: the law gives the holder no document for this notice, or its facts could not be put together; the
    notice then goes out as plain text and notify records the note)."""
    doc_kind = HOLDER_NOTICE_DOCUMENTS.get((kind, f.case.jurisdiction))
    if doc_kind is None:
        return {"document_note": f"no legal document for a {kind} notice to the rights holder in {f.case.jurisdiction}"}
    try:
        return {"document": _facts(f, kind, doc_kind, deadline, extra)}
    except Exception as exc:  # noqa: BLE001 - a notice never waits for its document
        return {
            "document_note": f"the facts of the {doc_kind} could not be put together: {type(exc).__name__}: {exc}"[
                :1000
            ]
        }


def penalty_facts(
    f: CaseFile, fine: Decimal, low: Decimal | None = None, high: Decimal | None = None, *, value: Decimal | None = None
) -> PenaltyFacts | None:
    """The proposed or decided penalty as a document states it (None if it cannot be put together)."""
    try:
        currency = f.pack.currency
        tier = f.determination.fine_tier if f.determination is not None else None
        basis = value if value is not None else (f.value_in_pack_currency() or f.goods_value())
        return PenaltyFacts(
            fine=Money(amount=fine, currency=currency),
            tier=tier if tier in FINE_TIERS else None,
            fine_min=_money(low, currency),
            fine_max=_money(high, currency),
            value_basis=_money(basis, currency),
        )
    except Exception:  # noqa: BLE001 - the document then states no penalty; the notice's text still does
        return None


def party_notice_document(
    f: CaseFile,
    kind: NoticeKind,
    role: str,
    party: Any,
    *,
    clock: str | None = None,
    clock_rule: DeadlineRule | None = None,
    penalty: PenaltyFacts | None = None,
) -> dict[str, Any]:
    """The document fields of a notice to a party: addressed to it, stating the time limit its service starts
    (``clock``) as a period from service, and for a penalty the fine. Never stops the notice (see
    ``notice_document``)."""
    doc_kind = PARTY_NOTICE_DOCUMENTS.get((kind, f.case.jurisdiction))
    if doc_kind is None:
        return {"document_note": f"no legal document for a {kind} notice to the {role} in {f.case.jurisdiction}"}
    try:
        facts = _facts(f, kind, doc_kind, None, None).model_dump()
        facts["addressee"] = Addressee(
            role=role, name=party.name[:256], id=party.id, email=getattr(party, "contact_email", None) or None
        ).model_dump()
        facts["copies_to"] = []
        if clock is not None:
            rule = clock_rule or f.pack.deadline(clock)
            facts["clocks"] = [
                DocumentClock(
                    name=clock, amount=rule.amount, unit=rule.unit, basis=(rule.basis or None) and rule.basis[:256]
                ).model_dump()
            ]
        if penalty is not None:
            facts["penalty"] = penalty.model_dump()
        return {"document": DocumentFacts.model_validate(facts)}
    except Exception as exc:  # noqa: BLE001 - a notice never waits for its document
        return {
            "document_note": f"the facts of the {doc_kind} could not be put together: {type(exc).__name__}: {exc}"[
                :1000
            ]
        }


def document_facts(f: CaseFile, kind: NoticeKind, deadline: datetime | None, extra: str | None) -> DocumentFacts | None:
    """The document a notice of ``kind`` to the rights holder carries, or None."""
    return notice_document(f, kind, deadline, extra).get("document")


def _money(amount: Decimal | None, currency: str | None) -> Money | None:
    if amount is None or currency is None:
        return None
    return Money(amount=amount, currency=currency)


def _party(party: Any) -> PartyRef | None:
    if party is None:
        return None
    return PartyRef(id=party.id, name=party.name, country=party.country)


def _outcome(status: str | None) -> str | None:
    """A line's outcome as the document states it: none while its goods are simply held."""
    return None if status in (None, "held") else status


def _goods_line(f: CaseFile, line: CaseLine) -> GoodsLine:
    hs = re.sub(r"[^0-9]", "", line.hs_code)[:10]
    ids = list(dict.fromkeys([line.recordation_id, *(hit.recordation_id for hit in line.hits)]))
    return GoodsLine(
        line_no=line.line_no,
        hs_code=hs if len(hs) >= 4 else "0000",
        description=line.description,
        brand=line.brand,
        quantity=line.quantity,
        unit=line.unit[:16],
        unit_value=line.unit_value,
        value=line.goods_value,
        currency=f.case.currency,
        recordation_ids=ids,
        gross_weight_kg=line.gross_weight_kg,
        outcome=_outcome(f.line_status.get(line.line_no)),
    )


def _rights(f: CaseFile, lines: list[CaseLine]) -> list[RightRef]:
    case = f.case
    rights = [RightRef.from_case(case)]
    for line in lines:
        if all(r.recordation_id != line.recordation_id for r in rights):
            rights.append(
                RightRef(
                    recordation_id=line.recordation_id,
                    mark=line.mark[:256],
                    right_type=line.right_type if line.right_type in RIGHT_TYPES else "trademark",
                    holder_name=case.holder.name,
                )
            )
    return rights


def _deadlines(f: CaseFile, doc_kind: str, due_at: datetime | None) -> list[DocumentDeadline]:
    names = KIND_DEADLINES.get(doc_kind, ())
    out: list[DocumentDeadline] = []
    for name, d in f.deadlines.items():
        if d.status != "pending" or not (name in names or (due_at is not None and d.due_at == due_at)):
            continue
        try:
            out.append(DocumentDeadline.from_case_deadline(d))
        except ValueError:  # a day outside what a document can state: left out, the notice still names it
            continue
    return out


def _history(f: CaseFile, event: str) -> dict[str, Any]:
    return next((h.detail for h in reversed(f.history) if h.event == event), {})


def _release_reason(text: str | None) -> str:
    lowered = (text or "").lower()
    return next((reason for key, reason in RELEASE_REASONS if key in lowered), "other")


def _facts(f: CaseFile, kind: str, doc_kind: str, due_at: datetime | None, extra: str | None) -> DocumentFacts:
    case, rules = f.case, f.pack
    lines = [ln for _, ln in sorted(f.lines.items())] or [ln for _, ln in sorted(f.withdrawn_lines.items())]
    local = f.value_in_pack_currency(lines) if case.currency != rules.currency else None
    code = case.customs_office if _OFFICE.match(case.customs_office) else "XX"
    holder = Addressee(
        role="rights_holder", name=case.holder.name[:256], id=case.holder.id, email=case.holder.contact_email or None
    )
    direction = case.direction if case.direction in ("import", "export", "transit") else None
    facts: dict[str, Any] = {
        "kind": doc_kind,
        "jurisdiction": case.jurisdiction,
        "member_state": code[:2] if case.jurisdiction == "EU" and code[:2].isalpha() else "DE",
        "office": Office(code=code, name=OFFICE_NAMES["en"], name_local=OFFICE_NAMES.get(case.jurisdiction)),
        "addressee": holder,
        "case": CaseFacts(
            case_id=case.case_id,
            declaration_id=case.declaration_id,
            declaration_revision=f.revision or case.revision,
            mode=case.mode,
            direction=direction,
            transport_mode=case.transport_mode,
            declarant=_party(case.declarant),
            consignor=_party(case.consignor),
            consignee=_party(case.consignee),
            origin_country=case.origin_country,
            destination_country=case.destination_country,
            rights=_rights(f, lines),
            lines=[_goods_line(f, ln) for ln in lines],
            goods_value_local=_money(local, rules.currency),
            application_id=case.application_id,
            suspended_on=f.calendar.local_date(case.opened_at) if case.opened_at else None,
        ),
        "deadlines": _deadlines(f, doc_kind, due_at),
    }
    required = _money(f.required_guarantee, rules.currency)
    posted = f.guarantee
    if required is not None or posted is not None:
        facts["guarantee"] = GuaranteeFacts(
            required=required,
            posted=_money(posted.amount, posted.currency) if posted else None,
            form=posted.form if posted else None,
            reference=posted.reference if posted else None,
            refusal_reason=(extra or None) if doc_kind == "guarantee_refused" else None,
        )
    if f.determination is not None and f.determination.officer:
        facts["officer"] = f.determination.officer[:256]
    if doc_kind == "release_notice":
        facts["release_reason"] = _release_reason(extra)
        facts["reason_text"] = (extra or None) and extra[:2000]
    elif doc_kind == "disposal_notice":
        if f.disposal_method in DISPOSAL_METHODS:
            facts["disposal_method"] = f.disposal_method
        if f.disposition is not None:
            tier = f.determination.fine_tier if f.determination is not None else None
            facts["penalty"] = PenaltyFacts(
                fine=Money(amount=f.disposition.fine_amount, currency=f.disposition.fine_currency),
                tier=tier if tier in FINE_TIERS else None,
            )
    elif doc_kind == "police_referral":
        referral = _history(f, "referred_to_police")
        currency = referral.get("currency", rules.currency)
        if referral.get("threshold"):
            facts["police_threshold"] = Money(amount=Decimal(referral["threshold"]), currency=currency)
        if referral.get("goods_value"):
            facts["referral_value"] = Money(amount=Decimal(referral["goods_value"]), currency=currency)
        facts["addressee"] = Addressee(role="police", name="公安机关 / Public security organ")
        facts["copies_to"] = [holder]
    elif doc_kind == "court_handover" and f.court_notice is not None:
        facts["court"] = CourtFacts(court=f.court_notice.court, reference=f.court_notice.reference)
    elif doc_kind == "destruction_notice":
        facts["destruction_procedure"] = "small_consignment" if f.procedure == "eu_small_consignment" else "standard"
        facts["destroyed_on"] = f.calendar.local_date(workflow.now())
        facts["reason_text"] = (extra or None) and extra[:2000]
    elif doc_kind == "disclosure_to_owner":
        facts["disclosure_stage"] = DISCLOSURE_STAGES[kind]
        if facts["disclosure_stage"] == "after_seizure":
            facts["seized_on"] = f.calendar.local_date(workflow.now())
    return DocumentFacts(**facts)
