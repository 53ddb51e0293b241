"""Opening a case by hand: an officer acting ex officio, or a rights holder applying (CN application mode).

The declaration and the recorded right are read from their owners (intake, risk), so nobody
retypes them, and the case input is built by the same builder the risk service uses
(``shared.case_opening``): the case is the one of the declaration and the right's holder, with
the same id, values and search attributes. A line of a holder whose case on that declaration is
already open joins that case; a line never has two cases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.cases.settings import Settings
from shared.case_opening import SuspectedLine, build_cases
from shared.contracts.bounds import ApplicationId, DeclarationId, LineNo, RecordationId
from shared.contracts.cases import CaseInput
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from shared.errors import NotFound, Refused, UpstreamFailed
from shared.service_auth import TokenUnavailable
from shared.urls import service_url


class OpenCaseRequest(BaseModel):
    """What an officer or an applying rights holder provides to open a case on declaration lines."""

    model_config = ConfigDict(extra="forbid")
    declaration_id: DeclarationId
    line_no: LineNo | None = None
    line_nos: list[LineNo] = Field(default_factory=list, max_length=999, description="several lines of one holder")
    recordation_id: RecordationId
    mode: Literal["ex_officio", "application"] = "ex_officio"
    evidence: str | None = Field(default=None, max_length=8000)
    perishable: bool = False
    application_id: ApplicationId | None = None
    note: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _lines(self) -> OpenCaseRequest:
        if self.line_no is None and not self.line_nos:
            raise ValueError("name the line (line_no) or lines (line_nos)")
        if any(n < 1 for n in self.line_nos):
            raise ValueError("line numbers start at 1")
        return self

    @property
    def lines(self) -> list[int]:
        return sorted({*self.line_nos, *([self.line_no] if self.line_no is not None else [])})


async def _get(http: httpx.AsyncClient, url: str, what: str) -> dict:
    """GET from another service; ``http`` carries this service's own token (client credentials)."""
    try:
        response = await http.get(url)
    except (httpx.HTTPError, TokenUnavailable) as exc:
        raise UpstreamFailed("upstream_unreachable", f"{url}: {exc}") from exc
    if response.status_code == 404:
        raise NotFound(f"{what}_not_found", f"no {what} at {url}")
    if response.status_code != 200:
        raise UpstreamFailed("upstream_error", f"{url} answered {response.status_code}")
    return response.json()


async def _post(http: httpx.AsyncClient, url: str, body: dict, what: str) -> dict:
    """POST a query to another service (with this service's own token)."""
    try:
        response = await http.post(url, json=body)
    except (httpx.HTTPError, TokenUnavailable) as exc:
        raise UpstreamFailed("upstream_unreachable", f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise UpstreamFailed("upstream_error", f"{url} answered {response.status_code}")
    return response.json()


async def build_case(
    settings: Settings,
    http: httpx.AsyncClient,
    body: OpenCaseRequest,
    opened_by: str,
    *,
    source: Literal["officer", "holder"] = "officer",
) -> CaseInput:
    """The case input for the lines asked for, built as the risk service builds it."""
    view = await _get(http, service_url(settings.intake_url, "v1", "declarations", body.declaration_id), "declaration")
    raw = await _get(http, service_url(settings.risk_url, "v1", "recordations", body.recordation_id), "recordation")
    declaration = DeclarationV1.model_validate(view["declaration"])
    rec = RecordationV1.model_validate({k: v for k, v in raw.items() if k in RecordationV1.model_fields})
    by_no = {ln.line_no: ln for ln in declaration.lines}
    missing = [n for n in body.lines if n not in by_no]
    if missing:
        raise NotFound("line_not_found", f"declaration {body.declaration_id} has no line {missing[0]}")
    if rec.jurisdiction != declaration.jurisdiction:
        raise Refused("jurisdiction_mismatch", "the right is recorded in another jurisdiction")
    if body.mode == "application" and declaration.jurisdiction != "CN":
        raise Refused("mode_not_available", "application mode is a CN procedure")
    trader = await _post(
        http,
        service_url(settings.risk_url, "v1", "traders", "history"),
        {"trader_id": declaration.consignee.id},
        "trader",
    )
    suspected_by_risk = {ln["line_no"] for ln in view.get("lines", []) if (ln.get("assessment") or {}).get("suspected")}
    reason = f"opened by {opened_by}" + (f": {body.note}" if body.note else "")
    cases = build_cases(
        declaration,
        [SuspectedLine(line=by_no[n], recordation=rec, reasons=(reason,), source=source) for n in body.lines],
        rates=settings.fx_rates_to_cny,
        opened_at=datetime.now(UTC),
        repeat_infringer=bool(trader.get("repeat_infringer")),
        mode=body.mode,
        opened_by=opened_by,
        evidence=body.evidence,
        perishable=body.perishable,
        application_id=body.application_id,
        afa_from_recordation=False,
        suspected_line_nos=suspected_by_risk | set(body.lines),
        reasons=[reason],
    )
    return cases[0]
