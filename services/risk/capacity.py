"""Per-office red capacity: the share of lines an office can examine physically.

Suspected lines are always red (suspicion on a recorded right obliges customs to act). For the
rest, the red threshold of an office rises above the configured one when the recent score
distribution would send more than the office's capacity to red: the threshold becomes the
(1 - capacity) quantile of the office's last ``window`` line scores. The state is per process and
is fed by the consumer path only (``POST /v1/assess`` reads it, never changes it).
"""

from __future__ import annotations

from collections import deque


class CapacityGovernor:
    def __init__(
        self,
        *,
        default_share: float,
        by_office: dict[str, float] | None = None,
        base_threshold: float,
        window: int = 5000,
        min_samples: int = 500,
        recompute_every: int = 250,
    ) -> None:
        self.default_share = default_share
        self.by_office = dict(by_office or {})
        self.base = base_threshold
        self.window = window
        self.min_samples = min_samples
        self.recompute_every = recompute_every
        self._scores: dict[str, deque[float]] = {}
        self._since: dict[str, int] = {}
        self._threshold: dict[str, float] = {}

    def share(self, office: str) -> float:
        return self.by_office.get(office, self.default_share)

    def threshold(self, office: str) -> float:
        return self._threshold.get(office, self.base)

    def observe(self, office: str, score: float) -> None:
        scores = self._scores.get(office)
        if scores is None:
            scores = self._scores[office] = deque(maxlen=self.window)
        scores.append(score)
        n = self._since.get(office, 0) + 1
        if n >= self.recompute_every and len(scores) >= self.min_samples:
            self._since[office] = 0
            self._recompute(office)
        else:
            self._since[office] = n

    def _recompute(self, office: str) -> None:
        share = self.share(office)
        ordered = sorted(self._scores[office])
        if share <= 0:
            self._threshold[office] = 1.01
            return
        k = min(len(ordered) - 1, max(0, int(len(ordered) * (1 - share))))
        # scores at the quantile itself still go red: the next representable step above it does not
        quantile = ordered[k]
        self._threshold[office] = max(self.base, quantile)

    def snapshot(self) -> dict[str, dict]:
        return {
            office: {"share": self.share(office), "threshold": self.threshold(office), "samples": len(s)}
            for office, s in self._scores.items()
        }
