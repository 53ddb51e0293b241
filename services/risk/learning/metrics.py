"""How good a score is on labelled lines: ranking (AUC, average precision), and at its examination threshold
precision, recall, false-positive rate; calibration (Brier score, expected calibration error). Pure numpy."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if not pos or not neg:
        return None
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _average_precision(y: np.ndarray, s: np.ndarray) -> float | None:
    if not y.sum():
        return None
    order = np.argsort(-s, kind="stable")
    ys = y[order]
    hits = np.cumsum(ys)
    precision = hits / np.arange(1, len(ys) + 1)
    return float((precision * ys).sum() / ys.sum())


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson interval of a proportion k/n."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (round(max(0.0, c - h), 4), round(min(1.0, c + h), 4))


def evaluate(
    y: npt.ArrayLike, scores: npt.ArrayLike, flagged: npt.ArrayLike | None = None, *, threshold: float = 0.5
) -> dict:
    """Metrics of ``scores`` (probabilities or rule scores) against labels ``y``; ``flagged`` are the lines the
    score sends to examination (default: score >= threshold)."""
    y = np.asarray(y, dtype=float)
    s = np.asarray(scores, dtype=float)
    f = (s >= threshold) if flagged is None else np.asarray(flagged, dtype=bool)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    tp, fp = int((f & (y == 1)).sum()), int((f & (y == 0)).sum())
    out = {
        "n": int(len(y)),
        "positives": pos,
        "flagged": int(f.sum()),
        "auc": _auc(y, s),
        "average_precision": _average_precision(y, s),
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / pos if pos else None,
        "fpr": fp / neg if neg else None,
        "recall_ci": wilson(tp, pos),
        "fpr_ci": wilson(fp, neg),
    }
    if len(y) and float(s.min()) >= 0 and float(s.max()) <= 1:
        out["brier"] = float(((s - y) ** 2).mean())
        bins = np.minimum((s * 10).astype(int), 9)
        out["ece"] = float(
            sum(
                abs(s[bins == b].mean() - y[bins == b].mean()) * (bins == b).sum()
                for b in range(10)
                if (bins == b).any()
            )
            / len(y)
        )
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def at_least_as_good(candidate: dict, current: dict) -> tuple[bool, list[str]]:
    """The promotion gate on control-sample metrics: ranking (AUC, average precision) and recall no worse, the
    false-positive rate no higher (within 0.005). Returns the verdict and each failed comparison."""
    failed = []
    for key in ("auc", "average_precision", "recall"):
        a, b = candidate.get(key), current.get(key)
        if b is not None and (a is None or a + 1e-9 < b):
            failed.append(f"{key} {a} below the current {b}")
    a, b = candidate.get("fpr"), current.get("fpr")
    if b is not None and (a is None or a > b + 0.005):
        failed.append(f"fpr {a} above the current {b}")
    return not failed, failed
