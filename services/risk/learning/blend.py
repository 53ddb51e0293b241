"""How the model's probability joins the rules' score (one answer for serving, training and the simulator).

The rules stay: they encode the law and the recordation, and only they make a line *suspected* (a case opens
for a recorded right). The model adds points to the line's score, so it can send a line to examination:
``points = weight * max(0, p - floor) / (1 - floor)``; with the defaults (0.8, 0.5) a probability of 0.95
adds 0.72 (red on its own), 0.75 adds 0.40 (yellow), anything below one half adds nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

DEFAULT_WEIGHT = 0.8
DEFAULT_FLOOR = 0.5


def model_points(p: ArrayLike, weight: float = DEFAULT_WEIGHT, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    return np.round(weight * np.clip((np.asarray(p, dtype=float) - floor) / (1 - floor), 0, 1), 2)


def flagged(
    rule_score: ArrayLike,
    suspected: ArrayLike,
    p: ArrayLike | None = None,
    *,
    red_threshold: float = 0.7,
    weight: float = DEFAULT_WEIGHT,
    floor: float = DEFAULT_FLOOR,
) -> np.ndarray:
    """Lines sent to physical examination (red) by the rules, or by rules + model when ``p`` is given; the
    random control selection is left out (it sends every control line to red, whatever the score)."""
    score = np.asarray(rule_score, dtype=float)
    if p is not None:
        score = np.clip(score + model_points(p, weight, floor), 0, 1)
    return np.asarray(suspected, dtype=bool) | (np.round(score, 2) >= red_threshold)
