"""The model beside the rules, on the assessment path (vectorised per batch), and its drift metrics.

``ModelServer.apply`` takes a batch of assessed declarations, builds every line's feature vector, scores all
lines with the champion in one call (probability; tree SHAP contributions, LightGBM's ``pred_contrib``, for the lines
the model adds points to) and
with the shadow model (stored, never used), adds the champion's points to each line's score (``blend``), raises
the lane where the new score reaches a threshold (never lowers one; only the rules make a line suspected) and
names the model and its strongest factors in the line's reasons and contributions. It returns the rows stored
in ``line_features``. A model that does not load, or was trained on another feature schema, is not used: the
service goes on with the previous champion or the rules alone, and ``ipr_risk_model_load_failures_total``
raises an alert.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import lightgbm as lgb
import numpy as np
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.learning import features as F
from services.risk.learning.blend import DEFAULT_FLOOR, DEFAULT_WEIGHT, model_points
from services.risk.learning.tables import LineFeatures, ModelEvent, ModelVersion
from services.risk.learning.train import distribution, load_booster, psi
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import ContributionV1, RiskAssessedV1

log = logging.getLogger(__name__)

MODEL_INFO = Gauge("ipr_risk_model_info", "Model in use (champion) or scored in shadow", ["role", "version"])
MODEL_SCORE = Histogram(
    "ipr_risk_model_score",
    "Model probability per assessed line",
    ["role"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
)
FEATURE_PSI = Gauge(
    "ipr_risk_model_feature_psi",
    "Population stability index of a feature: recent lines against the champion's training data",
    ["feature"],
)
SCORE_PSI = Gauge(
    "ipr_risk_model_score_psi",
    "Population stability index of the model's scores: recent lines against its training data",
    ["role"],
)
HIT_RATE = Gauge("ipr_risk_model_hit_rate", "Share of recent lines to which the champion added points")
LOAD_FAILURES = Counter(
    "ipr_risk_model_load_failures_total",
    "Model artefacts that failed to load or whose feature "
    "schema does not match (the service stays on the previous champion or the rules)",
)
TOP_FACTORS = 3
DRIFT_WINDOW = 5000
DRIFT_EVERY = 500


@dataclass
class Loaded:
    version: str
    booster: lgb.Booster
    reference: dict


def _genuine(index, rid: str, line, currency: str, rates: dict[str, Decimal]) -> Decimal | None:  # noqa: ANN001
    entry = getattr(index, "_by_recordation", {}).get(rid)
    if not entry or not entry[1]:
        return None
    rec = entry[1][0].recordation
    best = None
    for g in rec.genuine_unit_value:
        if line.hs_code.startswith(g.hs_prefix) and (best is None or len(g.hs_prefix) > len(best.hs_prefix)):
            best = g
    if best is None:
        return None
    if best.currency == currency:
        return best.min
    a, b = rates.get(best.currency), rates.get(currency)
    return best.min * a / b if a and b else None


class ModelServer:
    def __init__(
        self,
        *,
        weight: float = DEFAULT_WEIGHT,
        floor: float = DEFAULT_FLOOR,
        red_threshold: float = 0.7,
        yellow_threshold: float = 0.4,
        enabled: bool = True,
    ) -> None:
        self.champion: Loaded | None = None
        self.shadow: Loaded | None = None
        self.weight, self.floor = weight, floor
        self.red_threshold, self.yellow_threshold = red_threshold, yellow_threshold
        self.enabled = enabled
        self._failed: set[str] = set()
        self._recent: deque = deque(maxlen=DRIFT_WINDOW)
        self._recent_p: deque = deque(maxlen=DRIFT_WINDOW)
        self._recent_hit: deque = deque(maxlen=DRIFT_WINDOW)
        self._since = 0

    # ------------------------------------------------------------ loading

    def _load(self, row: ModelVersion | None, current: Loaded | None) -> tuple[Loaded | None, str | None]:
        if row is None:
            return None, None
        if current is not None and current.version == row.version:
            return current, None
        if row.version in self._failed:
            return current, None
        try:
            if row.schema != F.SCHEMA:
                raise ValueError(f"feature schema {row.schema} is not the service's {F.SCHEMA}")
            return Loaded(row.version, load_booster(row.artefact), row.reference or {}), None
        except Exception as exc:  # noqa: BLE001 - any unusable artefact: keep what is in use
            self._failed.add(row.version)
            LOAD_FAILURES.inc()
            log.error(
                "model %s not loaded, staying on %s: %s",
                row.version,
                current.version if current else "the rules alone",
                exc,
            )
            return current, f"{type(exc).__name__}: {exc}"

    def install(self, champion: ModelVersion | None, shadow: ModelVersion | None) -> list[tuple[str, str]]:
        """Put the registry's champion and newest shadow model in use; returns (version, error) of failures."""
        failures: list[tuple[str, str]] = []
        before = (self.champion.version if self.champion else None, self.shadow.version if self.shadow else None)
        loaded, err = self._load(champion, self.champion if champion is not None else None)
        if err:
            assert champion is not None  # only a model to load fails to load
            failures.append((champion.version, err))
        # a champion rolled back or retired leaves; a failed new one keeps the old one only if still champion
        self.champion = loaded if champion is not None else None
        loaded, err = self._load(shadow, self.shadow if shadow is not None else None)
        if err:
            assert shadow is not None  # only a model to load fails to load
            failures.append((shadow.version, err))
        self.shadow = loaded if shadow is not None and loaded is not None and loaded.version == shadow.version else None
        after = (self.champion.version if self.champion else None, self.shadow.version if self.shadow else None)
        if after != before:
            MODEL_INFO.clear()
            for role, v in zip(("champion", "shadow"), after):
                if v:
                    MODEL_INFO.labels(role, v).set(1)
            self._recent.clear()
            self._recent_p.clear()
            self._recent_hit.clear()
        return failures

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with sessionmaker() as session:
            champ = (
                (await session.execute(select(ModelVersion).where(ModelVersion.status == "champion"))).scalars().first()
            )
            shadow = (
                (
                    await session.execute(
                        select(ModelVersion)
                        .where(ModelVersion.status == "shadow")
                        .order_by(ModelVersion.trained_at.desc())
                        .limit(1)
                    )
                )
                .scalars()
                .first()
            )
        failures = self.install(champ, shadow)
        if failures:
            async with sessionmaker() as session, session.begin():
                for version, err in failures:
                    session.add(
                        ModelEvent(
                            version=version, event="load_failed", actor="risk service", detail={"error": err[:2000]}
                        )
                    )

    # ------------------------------------------------------------ scoring

    def apply(
        self,
        batch: list[tuple[DeclarationV1, RiskAssessedV1]],
        index,
        rates: dict[str, Decimal],  # noqa: ANN001
        red_threshold_for=None,
    ) -> list[dict]:  # noqa: ANN001
        """Score every line of the batch; update the assessments in place; return the feature rows to store."""
        if not self.enabled:
            return []
        lines, vectors = [], []
        for declaration, assessed in batch:
            by_no = {ln.line_no: ln for ln in declaration.lines}
            for a in assessed.lines:
                line = by_no[a.line_no]
                genuine = (
                    _genuine(index, a.hits[0].recordation_id, line, declaration.currency, rates) if a.hits else None
                )
                vectors.append(F.line_features(declaration, line, a, genuine_unit_value=genuine, rates=rates))
                lines.append((declaration, assessed, a))
        if not lines:
            return []
        X = np.asarray(vectors, dtype=float)
        champ, shadow = self.champion, self.shadow
        p = contrib = p_shadow = None
        points = None
        if champ is not None:
            p = champ.booster.predict(X, num_threads=1)
            assert isinstance(p, np.ndarray)  # a dense matrix in, probabilities out
            points = model_points(p, self.weight, self.floor)
            # Tree SHAP for the lines the model adds points to; a line it adds nothing to is explained by its
            # probability alone (the rules' reasons explain it).
            seen = np.flatnonzero(points > 0)
            contrib = dict(
                zip(
                    seen.tolist(), champ.booster.predict(X[seen], pred_contrib=True, num_threads=1) if len(seen) else ()
                )
            )
            observe = MODEL_SCORE.labels("champion").observe
            for v in p.tolist():
                observe(v)
        if shadow is not None:
            p_shadow = shadow.booster.predict(X, num_threads=1)
            assert isinstance(p_shadow, np.ndarray)  # a dense matrix in, probabilities out
            observe = MODEL_SCORE.labels("shadow").observe
            for v in p_shadow.tolist():
                observe(v)
        rows = []
        for i, (declaration, assessed, a) in enumerate(lines):
            if p is not None:
                assert champ is not None and points is not None and contrib is not None  # set with ``p`` above
                self._explain(
                    declaration,
                    a,
                    float(p[i]),
                    float(points[i]),
                    contrib.get(i),
                    vectors[i],
                    champ.version,
                    red_threshold_for,
                )
            rows.append(
                {
                    "declaration_id": declaration.declaration_id,
                    "revision": declaration.revision,
                    "line_no": a.line_no,
                    "schema": F.SCHEMA,
                    "features": [None if v != v else v for v in vectors[i]],
                    "rule_score": vectors[i][0],
                    "lane": a.lane,
                    "suspected": a.suspected,
                    "random_selection": a.random_selection,
                    "office": declaration.customs_office[:16],
                    "model_version": champ.version if champ else None,
                    "model_score": round(float(p[i]), 6) if p is not None else None,
                    "shadow_version": shadow.version if shadow else None,
                    "shadow_score": round(float(p_shadow[i]), 6) if p_shadow is not None else None,
                }
            )
        self._observe(X, p if p is not None else p_shadow, points)
        return rows

    def _explain(
        self,
        declaration,
        a,
        p: float,
        pts: float,
        contrib,
        vec: list,
        version: str,  # noqa: ANN001
        red_threshold_for,
    ) -> None:  # noqa: ANN001
        factors = ""
        if contrib is not None:
            order = np.argsort(-np.abs(contrib[:-1]))[:TOP_FACTORS]
            factors = ", ".join(
                f"{F.describe(F.NAMES[j], float(vec[j]))} ({contrib[j]:+.2f})" for j in order if abs(contrib[j]) >= 0.01
            )
        reason = f"model {version}: probability {p:.2f} of infringement ({pts:+.2f})" + (
            f"; strongest factors (log-odds): {factors}" if factors else ""
        )
        a.contributions.append(ContributionV1(signal="model", points=pts, reason=reason))
        a.reasons.append(reason)
        if pts <= 0:
            return
        score = round(max(0.0, min(1.0, a.score + pts)), 2)
        a.score = score
        if a.lane == "red":
            return
        red = max(
            self.red_threshold,
            red_threshold_for(declaration.customs_office) if red_threshold_for else self.red_threshold,
        )
        if score >= red:
            a.lane = "red"
        elif score >= self.yellow_threshold:
            a.lane = "yellow"

    def _observe(self, X: np.ndarray, p, points) -> None:  # noqa: ANN001
        ref_holder = self.champion or self.shadow
        if ref_holder is None:
            return
        self._recent.extend(X)
        if p is not None:
            self._recent_p.extend(p)
        if points is not None:
            self._recent_hit.extend(points > 0)
        self._since += len(X)
        if self._since < DRIFT_EVERY:
            return
        self._since = 0
        recent = np.asarray(self._recent)
        ref = ref_holder.reference.get("features", {})
        for name, r in ref.items():
            FEATURE_PSI.labels(name).set(
                round(psi(r["dist"], distribution(recent[:, F.NAMES.index(name)], r["edges"])), 4)
            )
        s = ref_holder.reference.get("score")
        if s and self._recent_p:
            SCORE_PSI.labels("champion" if self.champion else "shadow").set(
                round(psi(s["dist"], distribution(np.asarray(self._recent_p), s["edges"])), 4)
            )
        if self._recent_hit:
            HIT_RATE.set(float(np.mean(self._recent_hit)))


async def store_features(session: AsyncSession, rows: list[dict], at: datetime | None = None) -> None:
    """Insert the feature rows of freshly stored assessments (one statement; a row stored before stays)."""
    if not rows:
        return
    at = at or datetime.now(UTC)
    stmt = insert(LineFeatures).values([{**r, "assessed_at": at} for r in rows]).on_conflict_do_nothing()
    await session.execute(stmt)
