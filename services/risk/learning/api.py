"""HTTP routes of learning: officers' control-sample results, the model registry and its decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.learning import labels, registry
from services.risk.learning.features import NAMES
from services.risk.learning.tables import LineFeatures, LineLabel, ModelVersion
from services.risk.learning.train import train
from services.risk.live_registry import Registry
from services.risk.settings import Settings
from shared.auth import Principal, require, require_office
from shared.contracts.bounds import DeclarationId, LineNo
from shared.contracts.errors import error_responses
from shared.contracts.risk_views import (
    LabelView,
    LineFeaturesView,
    ModelList,
    ModelView,
    ModelWithHistory,
    RolledBack,
    TrainedModel,
)
from shared.contracts.text import Text
from shared.errors import NotFound
from shared.runtime import Runtime, RuntimeDep, from_state, session_dep
from shared.web import replayed

router = APIRouter()
Session = Annotated[AsyncSession, Depends(session_dep)]
LiveRegistry = Annotated[Registry, Depends(from_state("registry"))]
RiskSettings = Annotated[Settings, Depends(from_state("settings"))]
Officer = Annotated[Principal, Depends(require("officer"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
Version = Annotated[str, Path(pattern=r"^m-[0-9]{4,9}$", max_length=32)]

# Error answers: every route checks the caller (401, 403) and its parameters (422); a body may also be malformed
# JSON (400), too large (413) or not JSON (415).
_READ = (401, 403, 422)
_WRITE = (400, 401, 403, 413, 415, 422)
# A model's metrics hold the champion's figures and the calibration only where there are some: the model routes
# answer exactly the keys held (response_model_exclude_unset), absent stays absent.


class ControlResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    declaration_id: DeclarationId
    line_no: LineNo
    result: Literal["no_infringement_found", "infringement_found"]
    note: Text | None = Field(default=None, max_length=2000)


class Reasoned(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=2000)


class Promote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text | None = Field(default=None, max_length=2000)


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=7, ge=0, le=2**31 - 1)


def _error(exc: registry.RegistryError | labels.ControlResultError) -> HTTPException:
    detail: dict[str, object] = {"code": exc.code, "message": exc.message}
    details = getattr(exc, "details", None)
    if details is not None:
        detail["details"] = details
    return HTTPException(exc.status, detail=detail)


async def _refresh(live: Registry, runtime: Runtime) -> None:
    models = live.models
    if models is not None:
        await models.refresh(runtime.sessionmaker)


@router.post(
    "/v1/control-results",
    status_code=201,
    tags=["learning"],
    response_model=LabelView,
    responses={
        **replayed(LabelView),
        **error_responses(
            *_WRITE,
            404,
            409,
            e403="not an officer, or not of the declaration's office",
            e404="the line was not assessed",
            e409="the line is not in the control sample, or another result is recorded for it",
        ),
    },
    summary="Record the examination result of a control-sample line (officer of its office); an unbiased label",
)
async def control_result(body: ControlResult, session: Session, who: Officer) -> JSONResponse:
    async with session.begin():
        row = await labels.control_line(session, body.declaration_id, body.line_no)
        if row is not None:
            require_office(who, row.office, f"declaration {body.declaration_id}")
        try:
            status, view = await labels.record_control_result(
                session,
                declaration_id=body.declaration_id,
                line_no=body.line_no,
                result=body.result,
                actor=who.actor,
                actor_sub=who.sub,
                note=body.note,
                at=datetime.now(UTC),
            )
        except labels.ControlResultError as exc:
            raise _error(exc) from exc
    return JSONResponse(view, status_code=status)


@router.get(
    "/v1/labels",
    tags=["learning"],
    response_model=list[LabelView],
    responses=error_responses(*_READ),
    summary="Labels of assessed lines (case outcomes, control results)",
)
async def list_labels(
    session: Session,
    _: Officer,
    unbiased: bool | None = None,
    declaration_id: DeclarationId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    stmt = select(LineLabel).order_by(LineLabel.at.desc()).limit(limit)
    if unbiased is not None:
        stmt = stmt.where(LineLabel.unbiased.is_(unbiased))
    if declaration_id:
        stmt = stmt.where(LineLabel.declaration_id == declaration_id)
    return [labels.label_view(r) for r in (await session.execute(stmt)).scalars()]


@router.get(
    "/v1/models",
    tags=["learning"],
    response_model=ModelList,
    response_model_exclude_unset=True,
    responses=error_responses(*_READ),
    summary="Model versions with their metrics and training windows",
)
async def list_models(live: LiveRegistry, session: Session, _: Officer) -> dict:
    rows = (await session.execute(select(ModelVersion).order_by(ModelVersion.trained_at.desc()).limit(100))).scalars()
    models = live.models
    return {
        "in_use": {
            "champion": models.champion.version if models and models.champion else None,
            "shadow": models.shadow.version if models and models.shadow else None,
        },
        "models": [registry.view(r) for r in rows],
        "decisions": await registry.history(session, limit=50),
    }


@router.get(
    "/v1/models/{version}",
    tags=["learning"],
    response_model=ModelWithHistory,
    response_model_exclude_unset=True,
    responses=error_responses(*_READ, 404),
    summary="One model version with its audit trail",
)
async def get_model(version: Version, session: Session, _: Officer) -> dict:
    row = await session.get(ModelVersion, version)
    if row is None:
        raise HTTPException(404, detail={"code": "model_not_found", "message": f"no model version {version}"})
    return {**registry.view(row), "history": await registry.history(session, version)}


@router.post(
    "/v1/models/train",
    tags=["learning"],
    status_code=201,
    response_model=TrainedModel,
    responses=error_responses(*_WRITE, 409, e409="too few labels to learn from: nothing changed (audited)"),
    summary="Train a model now on the labelled lines (enters shadow)",
)
async def train_now(
    live: LiveRegistry, runtime: RuntimeDep, settings: RiskSettings, who: Officer, body: TrainRequest | None = None
) -> JSONResponse:
    seed = (body or TrainRequest()).seed  # no body: the default seed
    result = await train(
        runtime.sessionmaker, actor=who.actor, actor_sub=who.sub, seed=seed, red_threshold=settings.red_threshold
    )
    if "refused" in result:
        raise HTTPException(409, detail={"code": "training_refused", "message": result["refused"]})
    await _refresh(live, runtime)
    return JSONResponse(result, status_code=201)


@router.post(
    "/v1/models/{version}/propose",
    tags=["learning"],
    response_model=ModelView,
    response_model_exclude_unset=True,
    responses=error_responses(*_READ, 404, 409, e409="the model is not in shadow"),
    summary="Propose a shadow model for promotion",
)
async def propose(version: Version, session: Session, who: Officer) -> dict:
    async with session.begin():
        try:
            return await registry.propose(session, version, actor=who.actor, sub=who.sub)
        except registry.RegistryError as exc:
            raise _error(exc) from exc


@router.post(
    "/v1/models/{version}/promote",
    tags=["learning"],
    response_model=ModelView,
    response_model_exclude_unset=True,
    responses=error_responses(
        *_WRITE,
        404,
        409,
        e409="not in shadow, not proposed yet, proposed by the same person (four eyes), or its control-sample "
        "metrics are worse (details)",
    ),
    summary="Promote a proposed shadow model to champion (a supervisor other than the proposer; control-sample "
    "metrics at least as good as the champion's)",
)
async def promote(
    version: Version, body: Promote, session: Session, live: LiveRegistry, runtime: RuntimeDep, who: Supervisor
) -> dict:
    try:
        async with session.begin():
            view = await registry.promote(
                session, version, actor=who.actor, sub=who.sub, role=who.role, reason=body.reason
            )
    except registry.RegistryError as exc:
        if exc.status != 404:
            async with session.begin():  # the refusal itself is audited
                registry.audit(
                    session,
                    version,
                    "promotion_refused",
                    who.actor,
                    who.sub,
                    code=exc.code,
                    reason=exc.message,
                    details=exc.details,
                )
        raise _error(exc) from exc
    await _refresh(live, runtime)
    return view


@router.post(
    "/v1/models/rollback",
    tags=["learning"],
    response_model=RolledBack,
    responses=error_responses(*_WRITE, 409, e409="no model is in use"),
    summary="Roll the champion back to the previous one (or rules)",
)
async def rollback(body: Reasoned, session: Session, live: LiveRegistry, runtime: RuntimeDep, who: Supervisor) -> dict:
    async with session.begin():
        try:
            result = await registry.rollback(session, actor=who.actor, sub=who.sub, reason=body.reason)
        except registry.RegistryError as exc:
            raise _error(exc) from exc
    await _refresh(live, runtime)
    return result


@router.post(
    "/v1/models/{version}/reject",
    tags=["learning"],
    response_model=ModelView,
    response_model_exclude_unset=True,
    responses=error_responses(*_WRITE, 404, 409, e409="the model is not in shadow"),
    summary="Reject a shadow model (supervisor)",
)
async def reject(
    version: Version, body: Reasoned, session: Session, live: LiveRegistry, runtime: RuntimeDep, who: Supervisor
) -> dict:
    async with session.begin():
        try:
            view = await registry.reject(session, version, actor=who.actor, sub=who.sub, reason=body.reason)
        except registry.RegistryError as exc:
            raise _error(exc) from exc
    await _refresh(live, runtime)
    return view


@router.get(
    "/v1/line-features/{declaration_id}",
    tags=["learning"],
    response_model=list[LineFeaturesView],
    responses=error_responses(
        *_READ,
        (404, "line_not_assessed: no line of the declaration is assessed"),
        e403="not an officer, or not of the declaration's office",
    ),
    summary="Feature vectors stored for a declaration's lines, with the models that scored them",
)
async def line_features(declaration_id: DeclarationId, session: Session, who: Officer) -> list[dict]:
    f = LineFeatures
    rows = (
        (await session.execute(select(f).where(f.declaration_id == declaration_id).order_by(f.revision, f.line_no)))
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound("line_not_assessed", f"no line of declaration {declaration_id} is assessed")
    require_office(who, rows[0].office, f"declaration {declaration_id}")
    return [
        {
            "declaration_id": r.declaration_id,
            "revision": r.revision,
            "line_no": r.line_no,
            "schema": r.schema,
            "features": dict(zip(NAMES, r.features, strict=False)),
            "rule_score": r.rule_score,
            "lane": r.lane,
            "suspected": r.suspected,
            "random_selection": r.random_selection,
            "model_version": r.model_version,
            "model_score": r.model_score,
            "shadow_version": r.shadow_version,
            "shadow_score": r.shadow_score,
            "assessed_at": r.assessed_at.isoformat(),
        }
        for r in rows
    ]
