"""Training: a LightGBM model on the labelled lines, deterministic given a seed.

``fit`` is pure (arrays in, a trained model with its metrics out): the lines ordered by assessment time, the
latest ``VALIDATION_SHARE`` held out; the model is trained on the earlier part and measured on the later one,
overall and on its unbiased (control-sample) labels, beside the rules alone and the current champion on the
same lines. ``train`` reads the labelled lines from the risk database and writes the new version to the model
registry in *shadow*; a run with too few labels or only one class is refused with the reason and changes
nothing. ``python -m services.risk.learning.train`` (``make train``) runs it once.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy import Row, and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.learning import features as F
from services.risk.learning.blend import flagged
from services.risk.learning.metrics import evaluate
from services.risk.learning.tables import LineFeatures, LineLabel, ModelEvent, ModelVersion

VALIDATION_SHARE = 0.25
MIN_LABELS = 40
MIN_PER_CLASS = 5
DRIFT_FEATURES = (
    "rule_score",
    "mark_points",
    "value_ratio",
    "log_unit_value_cny",
    "mode",
    "office",
    "hs_chapter",
    "consignor",
)


def params(seed: int) -> dict:
    return {
        "objective": "binary",
        "learning_rate": 0.1,
        "num_leaves": 15,
        "max_depth": 6,
        "min_data_in_leaf": 5,
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 1.0,
        "max_cat_to_onehot": 8,
        "cat_smooth": 5.0,
        "min_data_per_group": 5,
        "feature_fraction": 1.0,
        "bagging_fraction": 1.0,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "seed": seed,
        "verbose": -1,
    }


ROUNDS = 60


class TrainingRefused(Exception):
    """Not enough to learn from; the champion stays."""


@dataclass
class Trained:
    booster: lgb.Booster
    artefact: str
    metrics: dict
    reference: dict
    params: dict
    n_labels: int
    window: tuple[datetime | None, datetime | None] = (None, None)
    extra: dict = field(default_factory=dict)


def load_booster(artefact: str | bytes) -> lgb.Booster:
    text = artefact.decode() if isinstance(artefact, bytes) else artefact
    booster = lgb.Booster(model_str=text)
    if booster.num_feature() != len(F.NAMES):
        raise ValueError(f"model expects {booster.num_feature()} features, schema {F.SCHEMA} has {len(F.NAMES)}")
    return booster


def _edges(values: np.ndarray, bins: int = 10) -> list[float]:
    v = values[~np.isnan(values)]
    if not len(v):
        return []
    return sorted(set(float(x) for x in np.quantile(v, np.linspace(0, 1, bins + 1))[1:-1]))


def distribution(values: np.ndarray, edges: list[float]) -> list[float]:
    """Share of values per bin (the last bin: unknown), smoothed so no bin is empty."""
    v = np.asarray(values, dtype=float)
    known = v[~np.isnan(v)]
    counts = np.bincount(np.searchsorted(edges, known, side="right"), minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, float(np.isnan(v).sum()))
    return [float(x) for x in (counts + 0.5) / (counts.sum() + 0.5 * len(counts))]


def psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index of two binned distributions."""
    return float(sum((a - e) * math.log(a / e) for e, a in zip(expected, actual, strict=True)))


def reference_of(X: np.ndarray, p: np.ndarray) -> dict:
    ref: dict[str, dict[str, Any]] = {"features": {}, "score": {}}
    for name in DRIFT_FEATURES:
        col = X[:, F.NAMES.index(name)]
        edges = _edges(col)
        ref["features"][name] = {"edges": edges, "dist": distribution(col, edges)}
    edges = [i / 10 for i in range(1, 10)]
    ref["score"] = {"edges": edges, "dist": distribution(p, edges), "mean": float(p.mean()) if len(p) else None}
    return ref


def fit(
    X: np.ndarray,
    y: ArrayLike,
    w: ArrayLike,
    times: ArrayLike,
    unbiased: ArrayLike,
    rule_score: ArrayLike,
    suspected: ArrayLike,
    *,
    seed: int = 7,
    champion: lgb.Booster | None = None,
    red_threshold: float = 0.7,
) -> Trained:
    """Train on the earlier lines, measure on the later ones. Refused (``TrainingRefused``) with too few
    labels or a single class."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    n = len(y)
    if n < MIN_LABELS:
        raise TrainingRefused(f"only {n} labelled lines; at least {MIN_LABELS} are needed")
    if y.sum() < MIN_PER_CLASS or n - y.sum() < MIN_PER_CLASS:
        raise TrainingRefused(
            f"{int(y.sum())} infringing and {int(n - y.sum())} legitimate labels; at least "
            f"{MIN_PER_CLASS} of each are needed"
        )
    order = np.argsort(np.asarray(times), kind="stable")
    X, y, w = X[order], y[order], w[order]
    unbiased = np.asarray(unbiased, dtype=bool)[order]
    rule_score = np.asarray(rule_score, dtype=float)[order]
    suspected = np.asarray(suspected, dtype=bool)[order]
    cut = int(n * (1 - VALIDATION_SHARE))
    if y[:cut].sum() < MIN_PER_CLASS or cut - y[:cut].sum() < MIN_PER_CLASS:
        raise TrainingRefused("the earlier three quarters of the labels hold too few of one class")
    p_ = params(seed)
    data = lgb.Dataset(
        X[:cut],
        label=y[:cut],
        weight=w[:cut],
        feature_name=list(F.NAMES),
        categorical_feature=list(F.CATEGORICAL_INDEX),
        free_raw_data=False,
        params={"verbose": -1},
    )
    booster = lgb.train(p_, data, num_boost_round=ROUNDS)
    val = slice(cut, n)
    p_val = booster.predict(X[val])
    metrics: dict = {"split": {"train": cut, "validation": n - cut, "validation_share": VALIDATION_SHARE}}
    metrics["validation"] = {
        "model": evaluate(y[val], p_val, flagged(rule_score[val], suspected[val], p_val, red_threshold=red_threshold)),
        "rules": evaluate(
            y[val], rule_score[val], flagged(rule_score[val], suspected[val], red_threshold=red_threshold)
        ),
    }
    ctl = np.where(unbiased[val])[0] + cut
    control = {
        "model": evaluate(
            y[ctl],
            booster.predict(X[ctl]) if len(ctl) else [],
            flagged(
                rule_score[ctl],
                suspected[ctl],
                booster.predict(X[ctl]) if len(ctl) else np.zeros(0),
                red_threshold=red_threshold,
            ),
        ),
        "rules": evaluate(
            y[ctl], rule_score[ctl], flagged(rule_score[ctl], suspected[ctl], red_threshold=red_threshold)
        ),
    }
    if champion is not None and len(ctl):
        p_ch = champion.predict(X[ctl])
        control["champion"] = evaluate(
            y[ctl], p_ch, flagged(rule_score[ctl], suspected[ctl], p_ch, red_threshold=red_threshold)
        )
    metrics["control"] = control
    p_all = booster.predict(X)
    assert isinstance(p_all, np.ndarray)  # a dense matrix in, probabilities out
    return Trained(
        booster=booster,
        artefact=booster.model_to_string(),
        metrics=metrics,
        reference=reference_of(X, p_all),
        params={**p_, "rounds": ROUNDS, "schema": F.SCHEMA},
        n_labels=n,
    )


# ---------------------------------------------------------------- from the database


async def labelled(session: AsyncSession) -> list:
    """Every labelled line: its features (the latest assessed revision) and its label; a control result wins
    over a case outcome for the same line."""
    f, lab = LineFeatures, LineLabel
    rows = (
        await session.execute(
            select(
                f.declaration_id,
                f.line_no,
                f.revision,
                f.features,
                f.assessed_at,
                f.rule_score,
                f.suspected,
                f.random_selection,
                lab.label,
                lab.weight,
                lab.unbiased,
                lab.source,
            )
            .join(lab, and_(lab.declaration_id == f.declaration_id, lab.line_no == f.line_no))
            .where(lab.label.is_not(None), f.schema == F.SCHEMA)
            .order_by(f.declaration_id, f.line_no, f.revision.desc())
        )
    ).all()
    best: dict[tuple[str, int], Row[*tuple[Any, ...]]] = {}
    for r in rows:
        key = (r.declaration_id, r.line_no)
        prev = best.get(key)
        if prev is None or (prev.revision == r.revision and r.source == "control"):
            best[key] = r
    return sorted(best.values(), key=lambda r: r.assessed_at)


async def next_version(session: AsyncSession) -> str:
    versions = (await session.execute(select(ModelVersion.version))).scalars().all()
    numbers = [int(v.split("-")[1]) for v in versions if v.startswith("m-") and v.split("-")[1].isdigit()]
    return f"m-{max(numbers, default=0) + 1:04d}"


async def train(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    actor: str,
    actor_sub: str | None = None,
    seed: int = 7,
    red_threshold: float = 0.7,
) -> dict:
    """Train on the labelled lines and register the model in shadow; refused runs are audited and leave the
    champion in place. Returns the registry entry (or ``{"refused": reason}``)."""
    async with sessionmaker() as session:
        rows = await labelled(session)
        champ = (await session.execute(select(ModelVersion).where(ModelVersion.status == "champion"))).scalars().first()
    champion = None
    if champ is not None:
        try:
            champion = load_booster(champ.artefact)
        except Exception:  # noqa: BLE001 - an unloadable champion is compared as absent
            champion = None
    X = np.array([r.features for r in rows], dtype=float) if rows else np.zeros((0, len(F.NAMES)))
    try:
        trained = await asyncio.to_thread(
            fit,
            X,
            [r.label for r in rows],
            [r.weight for r in rows],
            [r.assessed_at.timestamp() for r in rows],
            [r.unbiased or r.random_selection for r in rows],
            [r.rule_score for r in rows],
            [r.suspected for r in rows],
            seed=seed,
            champion=champion,
            red_threshold=red_threshold,
        )
    except TrainingRefused as exc:
        async with sessionmaker() as session, session.begin():
            session.add(
                ModelEvent(
                    version=None,
                    event="training_refused",
                    actor=actor,
                    actor_sub=actor_sub,
                    detail={"reason": str(exc), "labels": len(rows)},
                )
            )
        return {"refused": str(exc), "labels": len(rows)}
    async with sessionmaker() as session, session.begin():
        version = await next_version(session)
        row = ModelVersion(
            version=version,
            status="shadow",
            schema=F.SCHEMA,
            artefact=trained.artefact.encode(),
            params=trained.params,
            metrics=trained.metrics,
            reference=trained.reference,
            window_from=rows[0].assessed_at,
            window_to=rows[-1].assessed_at,
            n_labels=trained.n_labels,
            trained_by=actor,
            trained_by_sub=actor_sub,
            trained_at=datetime.now(UTC),
        )
        session.add(row)
        session.add(
            ModelEvent(
                version=version,
                event="trained",
                actor=actor,
                actor_sub=actor_sub,
                detail={
                    "labels": trained.n_labels,
                    "seed": seed,
                    "control": trained.metrics["control"],
                    "window": [rows[0].assessed_at.isoformat(), rows[-1].assessed_at.isoformat()],
                },
            )
        )
    return {"version": version, "status": "shadow", "labels": trained.n_labels, "metrics": trained.metrics}


def _database_url(profile: str) -> str:
    """DATABASE_URL of the risk service, else that of the embedded stack (``make up``: profile dev)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from deploy.local import stack

    p = stack.PROFILES[profile]
    return stack.database_url(p, stack.load_secrets(p), "risk")


def main() -> None:  # pragma: no cover - a command
    import json

    from shared.db import make_engine, make_sessionmaker

    parser = argparse.ArgumentParser(description="Train a targeting model on the labelled lines (into shadow)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("LEARNING_SEED", "7")))
    parser.add_argument("--profile", default="dev", help="embedded stack profile when DATABASE_URL is not set")
    parser.add_argument("--red-threshold", type=float, default=float(os.environ.get("RED_THRESHOLD", "0.7")))
    args = parser.parse_args()

    async def run() -> dict:
        engine = make_engine(_database_url(args.profile))
        try:
            return await train(
                make_sessionmaker(engine),
                actor="make train",
                actor_sub=os.environ.get("USER"),
                seed=args.seed,
                red_threshold=args.red_threshold,
            )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    print(json.dumps(result, indent=2, default=str))
    raise SystemExit(1 if "refused" in result else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
