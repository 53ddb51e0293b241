"""The model beside the rules, on the assessment path (vectorised per batch), and its drift metrics.

``ModelServer.apply`` takes a batch of assessed declarations, builds every line's feature vector, scores all
lines with the champion in one call (probability; tree SHAP contributions, LightGBM's ``pred_contrib``, for the
lines the model adds points to) and with the shadow model (stored, never used), adds the champion's points to
each line's score (``blend``), raises the lane where the new score reaches a threshold (never lowers one; only
the rules make a line suspected) and names the model and its strongest factors in the line's reasons and
contributions. It returns the rows stored
in ``line_features``. A model that does not load, or was trained on another feature schema, is not used: the
service goes on with the previous champion or the rules alone, and ``ipr_risk_model_load_failures_total``
raises an alert.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import lightgbm as lgb
import numpy as np
import orjson
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.learning import features as F
from services.risk.learning.blend import DEFAULT_FLOOR, DEFAULT_WEIGHT, model_points
from services.risk.learning.tables import ModelEvent, ModelVersion
from services.risk.learning.train import distribution, load_booster, psi
from shared.contracts.declaration import DeclarationLine, DeclarationV1
from shared.contracts.events import ContributionV1, LineAssessmentV1, RiskAssessedV1

if TYPE_CHECKING:
    from services.risk.matcher import RegistryIndex

log = logging.getLogger(__name__)

MODEL_INFO = Gauge("ipr_risk_model_info", "Model in use (champion) or scored in shadow", ["role", "version"])


class BatchHistogram(Collector):
    """A Prometheus histogram filled a batch at a time: one vectorised count per batch instead of one
    ``observe`` (a lock and a bucket search in Python) per line. Exposed like ``prometheus_client.Histogram``
    (``_bucket``, ``_sum``, ``_count``, ``_created`` is not kept)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        label: str,
        buckets: tuple[float, ...],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.bounds = np.asarray(buckets, dtype=float)
        self._lock = threading.Lock()
        self._counts: dict[str, np.ndarray] = {}
        self._sums: dict[str, float] = {}
        if registry is not None:
            registry.register(self)

    def observe_many(self, label_value: str, values: np.ndarray) -> None:
        """Count every value of the batch (a value equal to a bound falls in that bound's bucket, as ``le``)."""
        counts = np.bincount(np.searchsorted(self.bounds, values, side="left"), minlength=len(self.bounds) + 1)
        total = float(np.sum(values))
        with self._lock:
            if label_value not in self._counts:
                self._counts[label_value] = np.zeros(len(self.bounds) + 1, dtype=np.int64)
                self._sums[label_value] = 0.0
            self._counts[label_value] += counts
            self._sums[label_value] += total

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self.name, self.documentation, labels=[self.label])

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        with self._lock:
            snapshot = {k: (np.cumsum(v), self._sums[k]) for k, v in self._counts.items()}
        for label_value, (cumulative, total) in sorted(snapshot.items()):
            buckets = [(floatToGoString(b), float(c)) for b, c in zip(self.bounds, cumulative[:-1], strict=True)]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric([label_value], buckets, total)
        yield family


MODEL_SCORE = BatchHistogram(
    "ipr_risk_model_score",
    "Model probability per assessed line",
    "role",
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
DRIFT_EVERY = 500  # lines, and
DRIFT_EVERY_S = 10.0  # seconds at least between two drift computations (a scrape interval or so)


@dataclass
class Loaded:
    version: str
    booster: lgb.Booster
    reference: dict


def _genuine(
    index: RegistryIndex, rid: str, line: DeclarationLine, currency: str, rates: dict[str, Decimal]
) -> Decimal | None:
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


def _probabilities(model: Loaded, X: np.ndarray) -> np.ndarray:
    p = model.booster.predict(X, num_threads=1)
    assert isinstance(p, np.ndarray)  # a dense matrix in, probabilities out
    return p


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
        # the most recent lines for the drift metrics, kept as whole batches (rows, probabilities, hits)
        self._recent: deque[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = deque()
        self._recent_rows = 0
        self._since = 0
        self._drift_at = float("-inf")
        self._hits = self._scored = 0  # lines the champion added points to, of the lines it scored

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
            for role, v in zip(("champion", "shadow"), after, strict=True):
                if v:
                    MODEL_INFO.labels(role, v).set(1)
            self._recent.clear()
            self._recent_rows = 0
            self._hits = self._scored = 0
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
        index: RegistryIndex,
        rates: dict[str, Decimal],
        red_threshold_for: Callable[[str], float] | None = None,
    ) -> list[dict]:
        """Score every line of the batch; update the assessments in place; return the feature rows to store.

        Everything per batch is vectorised (feature matrix, probabilities, points, the score histogram, the
        stored values); per line only the reason is written and, for the lines the model adds points to,
        the strongest factors of their tree SHAP contributions."""
        if not self.enabled:
            return []
        lines: list[tuple[DeclarationV1, LineAssessmentV1]] = []
        vectors = []
        for declaration, assessed in batch:
            by_no = {ln.line_no: ln for ln in declaration.lines}
            for a in assessed.lines:
                line = by_no[a.line_no]
                genuine = (
                    _genuine(index, a.hits[0].recordation_id, line, declaration.currency, rates) if a.hits else None
                )
                vectors.append(F.line_features(declaration, line, a, genuine_unit_value=genuine, rates=rates))
                lines.append((declaration, a))
        if not lines:
            return []
        X = np.asarray(vectors, dtype=float)
        champ, shadow = self.champion, self.shadow
        p: np.ndarray | None = None
        p_shadow: np.ndarray | None = None
        points: np.ndarray | None = None
        if champ is not None:
            p = _probabilities(champ, X)
            points = model_points(p, self.weight, self.floor)
            MODEL_SCORE.observe_many("champion", p)
            self._explain_all(lines, X, p, points, champ, red_threshold_for)
        if shadow is not None:
            p_shadow = _probabilities(shadow, X)
            MODEL_SCORE.observe_many("shadow", p_shadow)
        # JSON has no NaN: an unknown feature is stored as null
        stored = X.astype(object)
        stored[np.isnan(X)] = None
        features = stored.tolist()
        n = len(lines)
        model_scores = np.round(p, 6).tolist() if p is not None else [None] * n
        shadow_scores = np.round(p_shadow, 6).tolist() if p_shadow is not None else [None] * n
        model_version = champ.version if champ else None
        shadow_version = shadow.version if shadow else None
        rows = [
            {
                "declaration_id": declaration.declaration_id,
                "revision": declaration.revision,
                "line_no": a.line_no,
                "schema": F.SCHEMA,
                "features": features[i],
                "rule_score": vectors[i][0],
                "lane": a.lane,
                "suspected": a.suspected,
                "random_selection": a.random_selection,
                "office": declaration.customs_office[:16],
                "model_version": model_version,
                "model_score": model_scores[i],
                "shadow_version": shadow_version,
                "shadow_score": shadow_scores[i],
            }
            for i, (declaration, a) in enumerate(lines)
        ]
        self._observe(X, p if p is not None else p_shadow, points)
        return rows

    def _explain_all(
        self,
        lines: list[tuple[DeclarationV1, LineAssessmentV1]],
        X: np.ndarray,
        p: np.ndarray,
        points: np.ndarray,
        champ: Loaded,
        red_threshold_for: Callable[[str], float] | None,
    ) -> None:
        """Name the model and its probability in every line's reasons. To the lines it adds points to, add a
        contribution with its points and strongest factors (tree SHAP, in log-odds) and raise their lanes where
        the new score reaches a threshold. A line the model adds nothing to is explained by its probability
        alone (the rules' reasons explain it)."""
        seen = np.flatnonzero(points > 0)
        factors: dict[int, str] = {}
        if len(seen):
            contrib = champ.booster.predict(X[seen], pred_contrib=True, num_threads=1)
            assert isinstance(contrib, np.ndarray)  # a dense matrix in, contributions out
            top = np.argsort(-np.abs(contrib[:, :-1]), axis=1)[:, : TOP_FACTORS * 2]
            for row, (i, order) in enumerate(zip(seen.tolist(), top.tolist(), strict=True)):
                said: dict[str, float] = {}  # the words of the description are one factor, however many
                for j in order:
                    if abs(contrib[row, j]) >= 0.01:
                        what = F.describe(F.NAMES[j], float(X[i, j]))
                        said[what] = said.get(what, 0.0) + float(contrib[row, j])
                strongest = sorted(said.items(), key=lambda kv: -abs(kv[1]))[:TOP_FACTORS]
                factors[i] = ", ".join(f"{what} ({log_odds:+.2f})" for what, log_odds in strongest)
        version = champ.version
        for i, (p_i, pts) in enumerate(zip(p.tolist(), points.tolist(), strict=True)):
            declaration, a = lines[i]
            found = factors.get(i)
            reason = f"model {version}: probability {p_i:.2f} of infringement ({pts:+.2f})" + (
                f"; strongest factors (log-odds): {found}" if found else ""
            )
            a.reasons.append(reason)
            if pts > 0:  # a share of the score: only where the model adds points (contributions sum to the score)
                a.contributions.append(ContributionV1(signal="model", points=pts, reason=reason))
                self._raise(declaration, a, pts, red_threshold_for)

    def _raise(
        self,
        declaration: DeclarationV1,
        a: LineAssessmentV1,
        pts: float,
        red_threshold_for: Callable[[str], float] | None,
    ) -> None:
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

    def _observe(self, X: np.ndarray, p: np.ndarray | None, points: np.ndarray | None) -> None:
        """Keep the recent lines; at most every ``DRIFT_EVERY_S`` (and ``DRIFT_EVERY`` lines) compute the drift
        metrics against the model's training data, off the per-batch path."""
        ref_holder = self.champion or self.shadow
        if ref_holder is None:
            return
        self._recent.append((X, p, points > 0 if points is not None else None))
        self._recent_rows += len(X)
        while self._recent_rows - len(self._recent[0][0]) >= DRIFT_WINDOW:
            self._recent_rows -= len(self._recent.popleft()[0])
        self._since += len(X)
        if points is not None:  # the hit rate from the first batch on, not only once drift is computed
            self._hits += int(np.count_nonzero(points))
            self._scored += len(points)
            HIT_RATE.set(self._hits / self._scored)
        now = time.monotonic()
        if self._since < DRIFT_EVERY or now - self._drift_at < DRIFT_EVERY_S:
            return
        self._since, self._drift_at = 0, now
        recent = np.concatenate([x for x, _, _ in self._recent])
        ref = ref_holder.reference.get("features", {})
        for name, r in ref.items():
            FEATURE_PSI.labels(name).set(
                round(psi(r["dist"], distribution(recent[:, F.NAMES.index(name)], r["edges"])), 4)
            )
        scores = [q for _, q, _ in self._recent if q is not None]
        s = ref_holder.reference.get("score")
        if s and scores:
            SCORE_PSI.labels("champion" if self.champion else "shadow").set(
                round(psi(s["dist"], distribution(np.concatenate(scores), s["edges"])), 4)
            )
        hits = [h for _, _, h in self._recent if h is not None]
        if hits:  # from here on, over the recent window only
            joined = np.concatenate(hits)
            self._hits, self._scored = int(np.count_nonzero(joined)), len(joined)
            HIT_RATE.set(self._hits / self._scored)


_INSERT_FEATURES = text("""
    INSERT INTO line_features (declaration_id, revision, line_no, schema, features, rule_score, lane, suspected,
                               random_selection, office, model_version, model_score, shadow_version, shadow_score,
                               assessed_at)
    SELECT t.did, t.rev, t.line_no, t.schema, t.features::jsonb, t.rule_score, t.lane, t.suspected, t.random_selection,
           t.office, t.model_version, t.model_score, t.shadow_version, t.shadow_score, CAST(:at AS timestamptz)
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[]), CAST(:line_nos AS integer[]),
                CAST(:schemas AS text[]), CAST(:features AS text[]), CAST(:rule_scores AS float8[]),
                CAST(:lanes AS text[]), CAST(:suspected AS boolean[]), CAST(:random AS boolean[]),
                CAST(:offices AS text[]), CAST(:model_versions AS text[]), CAST(:model_scores AS float8[]),
                CAST(:shadow_versions AS text[]), CAST(:shadow_scores AS float8[]))
         AS t(did, rev, line_no, schema, features, rule_score, lane, suspected, random_selection, office,
              model_version, model_score, shadow_version, shadow_score)
    ON CONFLICT DO NOTHING
""")


async def store_features(session: AsyncSession, rows: list[dict], at: datetime | None = None) -> None:
    """Insert the feature rows of freshly stored assessments (a row stored before stays). One statement
    whatever the number of rows (arrays unnested by PostgreSQL): prepared once, never compiled per batch."""
    if not rows:
        return
    await session.execute(
        _INSERT_FEATURES,
        {
            "dids": [r["declaration_id"] for r in rows],
            "revs": [r["revision"] for r in rows],
            "line_nos": [r["line_no"] for r in rows],
            "schemas": [r["schema"] for r in rows],
            "features": [orjson.dumps(r["features"]).decode() for r in rows],
            "rule_scores": [r["rule_score"] for r in rows],
            "lanes": [r["lane"] for r in rows],
            "suspected": [r["suspected"] for r in rows],
            "random": [r["random_selection"] for r in rows],
            "offices": [r["office"] for r in rows],
            "model_versions": [r["model_version"] for r in rows],
            "model_scores": [r["model_score"] for r in rows],
            "shadow_versions": [r["shadow_version"] for r in rows],
            "shadow_scores": [r["shadow_score"] for r in rows],
            "at": at or datetime.now(UTC),
        },
    )
