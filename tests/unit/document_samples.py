"""Realistic document data for the three jurisdictions (used by the document tests and to look at the PDFs:
``python -m tests.unit.document_samples OUTDIR`` writes one PDF and PNG page per jurisdiction and kind).

Deadlines are computed with the project's own calendars (``shared/rules``), as the case workflow does.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from services.notify.documents import document_number
from shared.contracts.documents import (
    DOCUMENT_ADDRESSEES,
    Addressee,
    CaseFacts,
    CourtFacts,
    DocumentData,
    DocumentDeadline,
    GoodsLine,
    GuaranteeFacts,
    Money,
    Office,
    PartyRef,
    PenaltyFacts,
    RightRef,
)
from shared.rules.calendar import calendar_for
from shared.rules.pack import rule_pack

SCRIPT = "<script>alert('x')</script>"

# Served on Tuesday 29 Sep 2026: the National Day week (1-7 Oct) lies inside the CN 3-working-day window.
CN_SERVED = date(2026, 9, 29)
# Served on Thursday 2 Apr 2026: Good Friday and Easter Monday lie inside the EU 10-working-day window.
EU_SERVED = date(2026, 4, 2)
# Served on Friday 20 Nov 2026: Thanksgiving (26 Nov) lies inside the importer's 7 business days.
US_SERVED = date(2026, 11, 20)
SERVED = {"CN": CN_SERVED, "EU": EU_SERVED, "US": US_SERVED}


def deadline(
    jurisdiction: str,
    name: str,
    start: date,
    *,
    amount: int | None = None,
    basis: str | None = None,
    unit: str | None = None,
) -> DocumentDeadline:
    pack = rule_pack(jurisdiction)
    cal = calendar_for(pack.calendar)
    rule = pack.deadlines.get(name)
    n = amount if amount is not None else rule.amount
    unit = unit or (rule.unit if rule is not None else "working_days")
    due = cal.add_working_days(start, n) if unit != "calendar_days" else start + timedelta(days=n)
    return DocumentDeadline(
        name=name,
        due_date=due,
        due_at=cal.end_of_day(due),
        amount=n,
        unit="business_days" if jurisdiction == "US" and unit == "working_days" else unit,
        start=start,
        basis=basis or (rule.basis if rule is not None else None),
        provisional=cal.is_provisional(due),
    )


OFFICES = {
    "CN": Office(
        code="CN5300",
        name="Kunming Customs",
        name_local="中华人民共和国昆明海关",
        address="1 Customs Road, Kunming, Yunnan",
        address_local="云南省昆明市海关路1号",
        phone="+86 871 0000 0000",
        email="ipr@kunming.customs.example",
    ),
    "EU": Office(
        code="DE4600",
        name="Main Customs Office Munich",
        name_local="Hauptzollamt München",
        address="Landsberger Str. 122, 80339 München",
        phone="+49 89 0000 0",
        email="poststelle@hza-m.example",
    ),
    "US": Office(
        code="US2704",
        name="U.S. Customs and Border Protection, Port of Los Angeles",
        address="301 E. Ocean Blvd, Long Beach, CA 90802",
        email="fpf-la@cbp.example",
    ),
}


def case_facts(jurisdiction: str, *, description_1: str | None = None) -> CaseFacts:
    description_1 = (
        description_1
        or {
            "CN": "Men's sports shoes, textile upper",
            "EU": "Sportschuhe, Obermaterial aus Spinnstoff",
            "US": "Wrist watches, base metal case, quartz",
        }[jurisdiction]
    )
    if jurisdiction == "CN":
        return CaseFacts(
            case_id="IPR-CN5300-2026-0000123-RH-0001",
            declaration_id="CN5300-2026-0000123",
            declaration_revision=2,
            direction="export",
            transport_mode="sea",
            port="Kunming",
            declarant=PartyRef(id="91440300MA5XXXX1", name="Shenzhen Swift Forwarding Co."),
            consignor=PartyRef(
                id="91440300MA5YYYY2",
                name="Guangzhou Bright Shoes Trading",
                country="CN",
                address="88 Huangpu Ave, Guangzhou",
            ),
            consignee=PartyRef(id="US-EIN-12-3456789", name="Discount Footwear LLC", country="US"),
            origin_country="CN",
            destination_country="US",
            rights=[
                RightRef(
                    recordation_id="CN-T-2019-004211",
                    recordation_id_zh="海关总署备案T2019-004211号",
                    mark="NIKE",
                    mark_zh="耐克",
                    registration_number="G1234567",
                    holder_name="Nike Innovate C.V.",
                    holder_name_zh="耐克创新有限合伙公司",
                )
            ],
            lines=[
                GoodsLine(
                    line_no=1,
                    hs_code="640411",
                    description=description_1,
                    brand="NIKE",
                    quantity=Decimal(500),
                    unit="pair",
                    unit_value=Decimal("4.20"),
                    value=Decimal("2100.00"),
                    currency="USD",
                    recordation_ids=["CN-T-2019-004211"],
                    origin_country="CN",
                ),
                GoodsLine(
                    line_no=3,
                    hs_code="610910",
                    description="T-shirts, cotton, printed swoosh",
                    brand="NIKE",
                    quantity=Decimal(1200),
                    unit="piece",
                    unit_value=Decimal("1.10"),
                    value=Decimal("1320.00"),
                    currency="USD",
                    recordation_ids=["CN-T-2019-004211"],
                    origin_country="CN",
                ),
                GoodsLine(
                    line_no=4,
                    hs_code="650500",
                    description="Caps, knitted",
                    brand="NIKE",
                    quantity=Decimal(300),
                    unit="piece",
                    unit_value=Decimal("0.80"),
                    value=Decimal("240.00"),
                    currency="USD",
                    recordation_ids=["CN-T-2019-004211"],
                    origin_country="CN",
                ),
            ],
            goods_value_local=Money(amount=Decimal("26352.00"), currency="CNY"),
            suspended_on=CN_SERVED,
            detained_on=CN_SERVED + timedelta(days=14),
        )
    if jurisdiction == "EU":
        return CaseFacts(
            case_id="IPR-DE4600-2026-0004410-RH-0002",
            declaration_id="DE4600-2026-0004410",
            declaration_revision=1,
            direction="import",
            transport_mode="express",
            port="München Flughafen",
            declarant=PartyRef(id="DE123456789000", name="Blitz Express Zollservice GmbH", country="DE"),
            consignor=PartyRef(name="Shenzhen Lucky Star E-commerce Co.", country="CN"),
            consignee=PartyRef(name="Max Mustermann", country="DE", address="Musterstraße 1, 80331 München"),
            origin_country="CN",
            destination_country="DE",
            rights=[
                RightRef(
                    recordation_id="EU-AFA-2025-DE-00731",
                    mark="ADIDAS",
                    registration_number="EUTM 003517646",
                    holder_name="adidas AG",
                )
            ],
            lines=[
                GoodsLine(
                    line_no=1,
                    hs_code="640411",
                    description=description_1,
                    brand="ADIDAS",
                    quantity=Decimal(2),
                    unit="pair",
                    unit_value=Decimal("12.50"),
                    value=Decimal("25.00"),
                    currency="EUR",
                    recordation_ids=["EU-AFA-2025-DE-00731"],
                    gross_weight_kg=Decimal("1.4"),
                ),
                GoodsLine(
                    line_no=2,
                    hs_code="611030",
                    description="Jogginganzug, Polyester",
                    brand="ADIDAS",
                    quantity=Decimal(1),
                    unit="piece",
                    unit_value=Decimal("9.90"),
                    value=Decimal("9.90"),
                    currency="EUR",
                    recordation_ids=["EU-AFA-2025-DE-00731"],
                    gross_weight_kg=Decimal("0.5"),
                ),
            ],
            application_id="DE-AFA-2025-00731",
            presented_on=EU_SERVED,
            suspended_on=EU_SERVED,
            detained_on=EU_SERVED,
        )
    return CaseFacts(
        case_id="IPR-US2704-2026-0311876-RH-0003",
        declaration_id="US2704-2026-0311876",
        declaration_revision=1,
        direction="import",
        transport_mode="sea",
        port="Los Angeles/Long Beach (2704)",
        declarant=PartyRef(id="BRK-55821", name="Pacific Gateway Customs Brokers Inc.", country="US"),
        consignor=PartyRef(name="Ningbo Oriental Watch Co., Ltd.", country="CN", address="17 Jiangdong Rd, Ningbo"),
        consignee=PartyRef(
            id="IOR 95-1234567",
            name="Luxe Deals Importing LLC",
            country="US",
            address="2100 E 7th St, Los Angeles, CA 90021",
        ),
        manufacturer=PartyRef(name="Ningbo Oriental Watch Co., Ltd.", country="CN"),
        origin_country="CN",
        destination_country="US",
        rights=[
            RightRef(
                recordation_id="TMK-08-00123",
                mark="ROLEX",
                registration_number="USPTO 0101819",
                holder_name="Rolex Watch U.S.A., Inc.",
            )
        ],
        lines=[
            GoodsLine(
                line_no=1,
                hs_code="9102110000",
                description=description_1,
                brand="ROLEX",
                quantity=Decimal(240),
                unit="piece",
                unit_value=Decimal("6.50"),
                value=Decimal("1560.00"),
                currency="USD",
                recordation_ids=["TMK-08-00123"],
                origin_country="CN",
            ),
            GoodsLine(
                line_no=2,
                hs_code="9113900000",
                description="Watch straps, leather, with crown logo",
                brand="ROLEX",
                quantity=Decimal(500),
                unit="piece",
                unit_value=Decimal("0.40"),
                value=Decimal("200.00"),
                currency="USD",
                recordation_ids=["TMK-08-00123"],
                origin_country="CN",
            ),
        ],
        presented_on=US_SERVED - timedelta(days=3),
        detained_on=US_SERVED,
    )


ADDRESSEES = {
    "rights_holder": {
        "CN": Addressee(
            role="rights_holder",
            name="Nike Innovate C.V.（耐克创新有限合伙公司）",
            id="RH-0001",
            email="brand-protection@nike.example",
        ),
        "EU": Addressee(
            role="rights_holder",
            name="adidas AG",
            id="RH-0002",
            address="Adi-Dassler-Str. 1, 91074 Herzogenaurach",
            country="DE",
            email="customs@adidas.example",
        ),
        "US": Addressee(role="rights_holder", name="Rolex Watch U.S.A., Inc.", id="RH-0003", email="ipr@rolex.example"),
    },
    "consignor": {
        "CN": Addressee(
            role="consignor",
            name="Guangzhou Bright Shoes Trading",
            id="91440300MA5YYYY2",
            country="CN",
            email="export@brightshoes.example",
        )
    },
    "declarant": {
        "CN": Addressee(role="declarant", name="Shenzhen Swift Forwarding Co.", id="91440300MA5XXXX1"),
        "EU": Addressee(
            role="declarant",
            name="Blitz Express Zollservice GmbH",
            id="DE123456789000",
            country="DE",
            email="zoll@blitz.example",
        ),
    },
    "holder_of_goods": {
        "EU": Addressee(
            role="holder_of_goods", name="Max Mustermann", country="DE", address="Musterstraße 1, 80331 München"
        )
    },
    "importer": {
        "US": Addressee(
            role="importer",
            name="Luxe Deals Importing LLC",
            id="IOR 95-1234567",
            address="2100 E 7th St, Los Angeles, CA 90021",
            country="US",
        )
    },
    "police": {
        "CN": Addressee(
            role="police",
            name="昆明市公安局经济犯罪侦查支队 Kunming Public Security Bureau, Economic Crime Investigation Division",
        )
    },
}

# The addressee each sample document goes to (the first the law names).
SAMPLE_ROLE = {
    ("suspension_notice", "CN"): "rights_holder",
    ("suspension_notice", "EU"): "rights_holder",
    ("party_detention_notice", "CN"): "consignor",
    ("party_detention_notice", "EU"): "declarant",
    ("party_detention_notice", "US"): "importer",
    ("reply_reminder", "CN"): "rights_holder",
    ("reply_reminder", "EU"): "declarant",
    ("reply_reminder", "US"): "importer",
    ("guarantee_refused", "CN"): "rights_holder",
    ("cannot_determine", "CN"): "rights_holder",
    ("hearing_right", "CN"): "consignor",
    ("penalty_decision", "CN"): "consignor",
    ("release_notice", "CN"): "rights_holder",
    ("release_notice", "EU"): "holder_of_goods",
    ("release_notice", "US"): "importer",
    ("disposal_notice", "CN"): "rights_holder",
    ("destruction_notice", "EU"): "rights_holder",
    ("disclosure_to_owner", "US"): "rights_holder",
    ("seizure_notice", "US"): "importer",
    ("court_handover", "CN"): "rights_holder",
    ("court_handover", "EU"): "rights_holder",
    ("police_referral", "CN"): "police",
}

ALL_SAMPLES = sorted((kind, j) for kind, per in DOCUMENT_ADDRESSEES.items() for j in per)


def sample(kind: str, jurisdiction: str, *, sequence: int = 123, **overrides) -> DocumentData:
    """A realistic document of ``kind`` in ``jurisdiction`` (fields overridable)."""
    served = SERVED[jurisdiction]
    j = jurisdiction
    office = OFFICES[j]
    fields: dict = {
        "kind": kind,
        "jurisdiction": j,
        "issued_on": served,
        "number": document_number(office.code, served.year, kind, sequence),
        "office": office,
        "addressee": ADDRESSEES[SAMPLE_ROLE[(kind, j)]][j],
        "case": case_facts(j),
        "officer": {
            "CN": "王海关 Wang Haiguan (No. 530017)",
            "EU": "ZOI Anna Schmidt",
            "US": "CBP Officer J. Rivera, FP&F",
        }[j],
    }
    detained = served + timedelta(days=14)
    if kind == "suspension_notice" and j == "CN":
        fields["deadlines"] = [deadline(j, "holder_reply", served)]
        fields["guarantee"] = GuaranteeFacts(required=Money(amount=Decimal("20000.00"), currency="CNY"))
        fields["reply_url"] = "https://ipr.customs.example/notices/N-20260929-0001"
    elif kind == "suspension_notice" and j == "EU":
        fields["deadlines"] = [deadline(j, "confirm_and_agree", served)]
    elif kind == "party_detention_notice" and j == "CN":
        fields["deadlines"] = [
            deadline(j, "customs_determination", detained),
            deadline(j, "release_ex_officio", detained),
        ]
        fields["issued_on"] = detained
    elif kind == "party_detention_notice" and j == "EU":
        fields["deadlines"] = [deadline(j, "declarant_consent", served, amount=10, basis="Art. 23(1)(c)")]
    elif kind == "party_detention_notice" and j == "US":
        fields["deadlines"] = [
            deadline(j, "importer_response", served),
            deadline(j, "detention_period", fields["case"].presented_on),
        ]
    elif kind == "reply_reminder":
        name = {"CN": "holder_reply", "EU": "declarant_consent", "US": "importer_response"}[j]
        dl = deadline(j, name, served, amount=10, basis="Art. 23(1)(c)") if j == "EU" else deadline(j, name, served)
        fields["deadlines"] = [dl]
        fields["reminder_for"] = name
        fields["issued_on"] = dl.due_date - timedelta(days=1)
    elif kind == "guarantee_refused":
        fields["deadlines"] = [deadline(j, "holder_reply", served)]
        fields["guarantee"] = GuaranteeFacts(
            required=Money(amount=Decimal("20000.00"), currency="CNY"),
            posted=Money(amount=Decimal("20000.00"), currency="CNY"),
            form="general_guarantee",
            reference="GG-2026-RH-0001",
            refusal_reason="insufficient balance on the general guarantee (RMB 6,500.00 left)",
        )
    elif kind == "cannot_determine":
        fields["issued_on"] = date(2026, 11, 24)
        fields["deadlines"] = [deadline(j, "release_ex_officio", detained)]
    elif kind in ("hearing_right", "penalty_decision"):
        fields["issued_on"] = date(2026, 11, 10) if kind == "hearing_right" else date(2026, 11, 27)
        fields["penalty"] = PenaltyFacts(
            fine=Money(amount=Decimal("3952.80"), currency="CNY"),
            tier="ordinary",
            fine_min=Money(amount=Decimal("2635.20"), currency="CNY"),
            fine_max=Money(amount=Decimal("5270.40"), currency="CNY"),
            value_basis=Money(amount=Decimal("26352.00"), currency="CNY"),
        )
        if kind == "hearing_right":
            fields["deadlines"] = [
                deadline(j, "hearing_request", fields["issued_on"], amount=3, basis="Penalty Regs Art. 49")
            ]
    elif kind == "release_notice":
        fields["release_reason"] = {"CN": "no_reply", "EU": "no_confirmation", "US": "importer_established"}[j]
    elif kind == "disposal_notice":
        fields["issued_on"] = date(2026, 12, 4)
        fields["disposal_method"] = "destruction"
        fields["penalty"] = PenaltyFacts(
            fine=Money(amount=Decimal("3952.80"), currency="CNY"), decision_number="CN5300-2026-CF-000045"
        )
        fields["costs"] = [
            {"kind": "storage", "amount": Money(amount=Decimal("2300.00"), currency="CNY")},
            {"kind": "destruction", "amount": Money(amount=Decimal("850.00"), currency="CNY")},
        ]
    elif kind == "destruction_notice":
        fields["destruction_procedure"] = "standard"
        fields["destruction_consent"] = "deemed"
        fields["destroyed_on"] = date(2026, 4, 28)
        fields["issued_on"] = date(2026, 4, 28)
        fields["costs"] = [{"kind": "destruction", "amount": Money(amount=Decimal("48.00"), currency="EUR")}]
    elif kind == "disclosure_to_owner":
        fields["disclosure_stage"] = "after_importer_window"
        fields["issued_on"] = date(2026, 12, 3)
    elif kind == "seizure_notice":
        seized = date(2026, 12, 14)
        fields["seized_on"] = seized
        fields["issued_on"] = seized
        fields["retail_value"] = Money(amount=Decimal("2290000.00"), currency="USD")
        fields["fine_cap"] = Money(amount=Decimal("2290000.00"), currency="USD")
        fields["deadlines"] = [
            deadline(j, "seizure_petition", seized, amount=30, unit="calendar_days", basis="19 CFR 171.2(b)(1)")
        ]
    elif kind == "court_handover":
        fields["court"] = CourtFacts(
            court="昆明市中级人民法院 Kunming Intermediate People's Court" if j == "CN" else "Landgericht München I",
            reference="(2026)云01知民初123号" if j == "CN" else "7 O 12345/26",
            received_on=served + timedelta(days=20),
        )
        fields["issued_on"] = served + timedelta(days=21)
    elif kind == "police_referral":
        fields["issued_on"] = date(2026, 11, 20)
        fields["police_threshold"] = Money(
            amount=Decimal(str(rule_pack("CN").setting("police_referral_goods_value"))), currency="CNY"
        )
        fields["referral_value"] = Money(amount=Decimal("186460.00"), currency="CNY")  # this and another holder's case
        fields["copies_to"] = [ADDRESSEES["rights_holder"]["CN"]]
    fields.update(overrides)
    return DocumentData.model_validate(fields)


def main(outdir: str) -> None:
    """Write every sample as PDF and its first page as PNG (for looking at the layout)."""
    import subprocess
    import time

    from services.notify.documents import render_pdf

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for kind, j in ALL_SAMPLES:
        started = time.perf_counter()
        pdf = render_pdf(sample(kind, j))
        took = time.perf_counter() - started
        path = out / f"{j}-{kind}.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(path), str(out / f"{j}-{kind}")], check=True)
        print(f"{j:2} {kind:24} {len(pdf) / 1024:7.1f} KiB {took * 1000:7.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ipr-documents")
