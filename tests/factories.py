"""Builders of test inputs shared by unit, workflow and end-to-end tests."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from shared.contracts.cases import CaseInput, HolderRef, PartyRef

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "tests" / "contracts"


def example_declaration(**changes) -> dict:  # noqa: ANN003
    data = json.loads((CONTRACTS / "declaration.v1.example.json").read_text())
    data = copy.deepcopy(data)
    data.update(changes)
    return data


def example_recordation(**changes) -> dict:  # noqa: ANN003
    data = json.loads((CONTRACTS / "recordation.v1.example.json").read_text())
    data.update(changes)
    return data


def case_input(case_id: str = "IPR-T-1-L1", goods_value: str = "2100.00", currency: str = "USD",
               goods_value_cny: str | None = "14910.00", opened_at: datetime | None = None,
               jurisdiction: str = "CN", quantity: str = "500", right_type: str = "trademark",
               **extra) -> CaseInput:  # noqa: ANN003
    return CaseInput(
        case_id=case_id, jurisdiction=jurisdiction, customs_office="CN5300", direction="export", declaration_id="T-1",
        revision=1, line_no=1, hs_code="640411", description="Mens sports shoes NIKE", brand="NIKE",
        quantity=Decimal(quantity), unit="pair", unit_value=Decimal("4.20"), currency=currency,
        goods_value=Decimal(goods_value), goods_value_cny=Decimal(goods_value_cny) if goods_value_cny else None,
        consignor=PartyRef(id="C1", name="Consignor"), consignee=PartyRef(id="C2", name="Consignee"),
        recordation_id="CN-T-2019-004211", right_type=right_type, mark="NIKE",
        holder=HolderRef(id="RH-0001", name="Nike Innovate C.V.", contact_email="bp@example.com"),
        score=1.0, reasons=["test"], opened_at=opened_at or datetime(2026, 11, 20, tzinfo=timezone.utc),
        **extra,
    )
