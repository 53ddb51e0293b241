"""Builders of test inputs shared by unit, workflow and end-to-end tests."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from shared.contracts.cases import CaseInput, HolderRef, PartyRef

if TYPE_CHECKING:
    from shared.contracts.declaration import DeclarationV1
    from shared.contracts.recordation import RecordationV1

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "tests" / "contracts"


def example_declaration(**changes) -> dict:
    data = json.loads((CONTRACTS / "declaration.v1.example.json").read_text())
    data = copy.deepcopy(data)
    data.update(changes)
    return data


def example_recordation(**changes) -> dict:
    data = json.loads((CONTRACTS / "recordation.v1.example.json").read_text())
    data.update(changes)
    return data


def case_input(
    case_id: str = "IPR-T-1-L1",
    goods_value: str = "2100.00",
    currency: str = "USD",
    goods_value_cny: str | None = "14910.00",
    opened_at: datetime | None = None,
    jurisdiction: str = "CN",
    quantity: str = "500",
    right_type: str = "trademark",
    **extra,
) -> CaseInput:
    return CaseInput(
        case_id=case_id,
        jurisdiction=jurisdiction,
        customs_office="CN5300",
        direction="export",
        declaration_id="T-1",
        revision=1,
        line_no=1,
        hs_code="640411",
        description="Mens sports shoes NIKE",
        brand="NIKE",
        quantity=Decimal(quantity),
        unit="pair",
        unit_value=Decimal("4.20"),
        currency=currency,
        goods_value=Decimal(goods_value),
        goods_value_cny=Decimal(goods_value_cny) if goods_value_cny else None,
        consignor=PartyRef(id="C1", name="Consignor"),
        consignee=PartyRef(id="C2", name="Consignee"),
        recordation_id="CN-T-2019-004211",
        right_type=right_type,
        mark="NIKE",
        holder=HolderRef(id="RH-0001", name="Nike Innovate C.V.", contact_email="bp@example.com"),
        score=1.0,
        reasons=["test"],
        opened_at=opened_at or datetime(2026, 11, 20, tzinfo=UTC),
        **extra,
    )


# ---------------------------------------------------------------- consignment cases


ADIDAS = {
    "recordation_id": "CN-T-2016-001877",
    "title": "ADIDAS",
    "registration_number": "1029341",
    "aliases": ["THREE STRIPES"],
    "authorized_licensees": [],
    "holder": {"id": "RH-0002", "name": "adidas AG", "contact_email": "ipr-customs@example.org"},
    "genuine_unit_value": [{"hs_prefix": "6404", "min": 30.0, "currency": "USD"}],
}


def recordation(**changes) -> RecordationV1:
    from shared.contracts.recordation import RecordationV1

    return RecordationV1.model_validate(example_recordation(**changes))


def shoe_line(line_no: int, quantity: str = "500", unit_value: str = "4.20", **changes) -> dict:
    return {
        "line_no": line_no,
        "hs_code": "640411",
        "description": f"Mens sports shoes, style {line_no}",
        "brand": "NIKE",
        "model": None,
        "quantity": quantity,
        "unit": "pair",
        "unit_value": unit_value,
        "gross_weight_kg": "410.0",
        "origin_country": "CN",
        **changes,
    }


def declaration(lines: list[dict], **changes) -> DeclarationV1:
    from shared.contracts.declaration import DeclarationV1

    return DeclarationV1.model_validate(example_declaration(lines=lines, **changes))


def consignment_cases(
    decl: DeclarationV1, rights: dict[int, RecordationV1], *, case_suffix: str = "", **kw
) -> list[CaseInput]:
    """The cases of ``decl`` whose lines ``rights`` assigns to recorded rights, as the risk service opens them."""
    from shared.case_opening import SuspectedLine, build_cases
    from shared.fx import DEFAULT_RATES_TO_CNY

    by_no = {ln.line_no: ln for ln in decl.lines}
    cases = build_cases(
        decl,
        [SuspectedLine(line=by_no[n], recordation=rec, score=0.9, reasons=("test",)) for n, rec in rights.items()],
        rates=dict(DEFAULT_RATES_TO_CNY),
        opened_at=kw.pop("opened_at", datetime(2026, 11, 20, tzinfo=UTC)),
        **kw,
    )
    return [c.model_copy(update={"case_id": c.case_id + case_suffix}) for c in cases]


def example_manifest(**changes) -> dict:
    data = json.loads((CONTRACTS / "manifest.v1.example.json").read_text())
    data = copy.deepcopy(data)
    data.update(changes)
    return data


# Goods of the demo recordations' holders, one parcel each: NIKE (RH-0001), ADIDAS (RH-0002), LOUIS VUITTON (RH-0003)
SUSPECT_LINES = [
    {"hs_code": "640411", "description": "Mens running shoes", "brand": "NIKE", "unit": "pair", "unit_value": 4.2},
    {
        "hs_code": "640419",
        "description": "Sports shoes three stripes",
        "brand": "ADIDAS",
        "unit": "pair",
        "unit_value": 5.0,
    },
    {
        "hs_code": "420221",
        "description": "Ladies handbag monogram canvas",
        "brand": "LOUIS VUITTON",
        "unit": "piece",
        "unit_value": 9.0,
    },
]
PLAIN_GOODS = [
    ("610910", "Plain cotton t-shirts"),
    ("392690", "Silicone kitchen spatula"),
    ("950300", "Wooden building blocks"),
    ("630260", "Cotton bath towel"),
    ("940540", "LED desk lamp"),
    ("481910", "Cardboard storage boxes"),
]


def manifest_parcel(no: int, *, line: dict | None = None, **changes) -> dict:
    """A single-line e-commerce parcel: plain unbranded goods, or ``line`` (e.g. a recorded brand)."""
    hs, desc = PLAIN_GOODS[no % len(PLAIN_GOODS)]
    goods = {
        "line_no": 1,
        "hs_code": hs,
        "description": desc,
        "brand": None,
        "model": None,
        "quantity": 2,
        "unit": "piece",
        "unit_value": 3.5,
        "gross_weight_kg": 0.5,
        "origin_country": "CN",
        "declared_ip_status": "no_brand",
        **(line or {}),
    }
    parcel = {
        "parcel_no": no,
        "waybill_no": f"WB{no:010d}",
        "order_no": f"ORD-{no:08d}",
        "seller": {"id": f"SHOP-{no % 97:05d}", "name": f"Shop {no % 97}", "country": "CN"},
        "consignor": {"id": f"91440300SELL{no % 97:05d}", "name": f"Seller {no % 97} Trading Co.", "country": "CN"},
        "consignee": {"id": f"BUYER-{no:07d}", "name": f"Buyer {no}", "country": "US"},
        "declared_value": round(float(goods["quantity"]) * float(goods["unit_value"]), 2),
        "gross_weight_kg": 0.5,
        "lines": [goods],
    }
    parcel.update(changes)
    return parcel


def parcel_manifest(
    manifest_id: str, n: int, *, suspects: dict[int, dict] | None = None, bad: dict[int, dict] | None = None, **header
) -> dict:
    """A manifest of ``n`` parcels; ``suspects`` maps parcel numbers to their line, ``bad`` to changes that
    break the contract."""
    suspects, bad = suspects or {}, bad or {}
    data = example_manifest(manifest_id=manifest_id, parcel_count=n, **header)
    data["parcels"] = [manifest_parcel(i, line=suspects.get(i), **bad.get(i, {})) for i in range(1, n + 1)]
    return data


# ---------------------------------------------------------------- notices with their legal documents


def notice_case_file(
    jurisdiction: str = "CN",
    *,
    case_id: str | None = None,
    office: str | None = None,
    holder_id: str = "RH-0001",
    declarant_id: str = "91440300MA5XXXX1",
    description: str = "Mens sports shoes NIKE",
):
    """A case file as the workflow holds it when it has a notice sent: the case's rule pack and calendar loaded,
    the guarantee computed, the holder's reply window open (CN), for the document facts of its notices."""
    from services.cases.workflow.state import CaseFile
    from shared.contracts.cases import Deadline
    from shared.rules.calendar import calendar_for
    from shared.rules.pack import rule_pack

    office = office or {"CN": "CN5300", "EU": "DE4600", "US": "US2704"}[jurisdiction]
    currency = {"CN": "USD", "EU": "EUR", "US": "USD"}[jurisdiction]
    declaration_id = f"{office}-2026-0000123"
    case = case_input(
        case_id=case_id or f"IPR-{declaration_id}-{holder_id}",
        jurisdiction=jurisdiction,
        currency=currency,
        goods_value_cny="14910.00" if jurisdiction == "CN" else None,
    ).model_copy(
        update={
            "declaration_id": declaration_id,
            "customs_office": office,
            "description": description,
            "direction": "import" if jurisdiction != "CN" else "export",
            "holder": HolderRef(id=holder_id, name=f"Holder {holder_id}", contact_email="bp@example.com"),
            "declarant": PartyRef(id=declarant_id, name="Shenzhen Swift Forwarding Co."),
            "application_id": "DE-AFA-2025-00731" if jurisdiction == "EU" else None,
        }
    )
    f = CaseFile.open(case, v4=True)
    f.rules = rule_pack(jurisdiction)
    f.cal = calendar_for(f.rules.calendar)
    f.required_guarantee = Decimal("14910.00") if jurisdiction == "CN" else None
    start = f.cal.local_date(case.opened_at or datetime(2026, 11, 20, tzinfo=UTC))
    name = {"CN": "holder_reply", "EU": "confirm_and_agree", "US": "importer_response"}[jurisdiction]
    rule = f.rules.deadlines[name]
    due = f.cal.add_working_days(start, rule.amount)
    f.deadlines[name] = Deadline(
        name=name, working_days=rule.amount, start=start, due_date=due, due_at=f.cal.end_of_day(due), basis=rule.basis
    )
    return f
