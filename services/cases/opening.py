"""Opening a case by hand: an officer acting ex officio, or a rights holder applying (CN application mode).

The declaration and the recorded right are read from their owners (intake, risk), so
nobody retypes them; the case id is the same one the risk service would give the line,
so a line never has two cases.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal

import httpx
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.bounds import ApplicationId, DeclarationId, LineNo, RecordationId
from shared.contracts.cases import CaseInput, HolderRef, PartyRef, case_id_for, chinese_marks
from shared.fx import to_cny
from shared.service_auth import TokenUnavailable
from shared.urls import service_url


class OpenCaseRequest(BaseModel):
    """What an officer or an applying rights holder provides to open a case on a declaration line."""

    model_config = ConfigDict(extra="forbid")
    declaration_id: DeclarationId
    line_no: LineNo
    recordation_id: RecordationId
    mode: Literal["ex_officio", "application"] = "ex_officio"
    evidence: str | None = Field(default=None, max_length=8000)
    perishable: bool = False
    application_id: ApplicationId | None = None
    note: str | None = Field(default=None, max_length=4000)


async def _get(http: httpx.AsyncClient, url: str, what: str) -> dict:
    """GET from another service; ``http`` carries this service's own token (client credentials)."""
    try:
        response = await http.get(url)
    except (httpx.HTTPError, TokenUnavailable) as exc:
        raise HTTPException(502, detail={"code": "upstream_unreachable", "message": f"{url}: {exc}"}) from exc
    if response.status_code == 404:
        raise HTTPException(404, detail={"code": f"{what}_not_found", "message": f"no {what} at {url}"})
    if response.status_code != 200:
        raise HTTPException(502, detail={"code": "upstream_error", "message": f"{url} answered {response.status_code}"})
    return response.json()


async def build_case(settings, http: httpx.AsyncClient, body: OpenCaseRequest, opened_by: str) -> CaseInput:  # noqa: ANN001
    view = await _get(http, service_url(settings.intake_url, "v1", "declarations", body.declaration_id),
                      "declaration")
    rec = await _get(http, service_url(settings.risk_url, "v1", "recordations", body.recordation_id), "recordation")
    declaration = view["declaration"]
    line = next((item for item in declaration["lines"] if item["line_no"] == body.line_no), None)
    if line is None:
        raise HTTPException(404, detail={"code": "line_not_found",
                                         "message": f"declaration {body.declaration_id} has no line {body.line_no}"})
    if rec["jurisdiction"] != declaration["jurisdiction"]:
        raise HTTPException(422, detail={"code": "jurisdiction_mismatch",
                                         "message": "the right is recorded in another jurisdiction"})
    if body.mode == "application" and declaration["jurisdiction"] != "CN":
        raise HTTPException(422, detail={"code": "mode_not_available",
                                         "message": "application mode is a CN procedure"})
    quantity, unit_value = Decimal(str(line["quantity"])), Decimal(str(line["unit_value"]))
    value = (quantity * unit_value).quantize(Decimal("0.01"))
    genuine = next((Decimal(str(g["min"])) for g in rec.get("genuine_unit_value", [])
                    if line["hs_code"].startswith(g["hs_prefix"]) and g["currency"] == declaration["currency"]), None)
    holder = rec["holder"]
    return CaseInput(
        case_id=case_id_for(body.declaration_id, body.line_no), jurisdiction=declaration["jurisdiction"],
        mode=body.mode, customs_office=declaration["customs_office"], direction=declaration["direction"],
        declaration_id=body.declaration_id, revision=view["revision"], line_no=body.line_no,
        hs_code=line["hs_code"], description=line["description"], brand=line.get("brand"), quantity=quantity,
        unit=line["unit"], unit_value=unit_value, currency=declaration["currency"], goods_value=value,
        goods_value_cny=to_cny(value, declaration["currency"], settings.fx_rates_to_cny),
        consignor=PartyRef(**declaration["consignor"]), consignee=PartyRef(**declaration["consignee"]),
        declarant=PartyRef(**declaration["declarant"]),
        recordation_id=rec["recordation_id"], right_type=rec["right_type"], mark=rec["title"],
        marks_zh=chinese_marks(rec["title"], rec.get("aliases") or []),
        holder=HolderRef(id=holder["id"], name=holder["name"], contact_email=holder["contact_email"],
                         webhook_url=holder.get("webhook_url")),
        score=0.0, reasons=[f"opened by {opened_by}" + (f": {body.note}" if body.note else "")],
        opened_at=datetime.now(timezone.utc), transport_mode=declaration["transport_mode"],
        gross_weight_kg=Decimal(str(line["gross_weight_kg"])) if line.get("gross_weight_kg") is not None else None,
        perishable=body.perishable, genuine_unit_value=genuine,
        application_id=body.application_id if declaration["jurisdiction"] == "EU" else None,
        evidence=body.evidence, opened_by=opened_by,
    )
