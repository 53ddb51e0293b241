"""A small chaos run inside the suite: every process killed and restarted under load, the broker frozen.

``make chaos`` runs the same with a few thousand declarations and a freeze long enough for the
broker alert to fire; see ``tests/chaos/chaos.py``.
"""

from __future__ import annotations

import pytest

from tests.chaos import chaos

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]


@pytest.mark.timeout(2700)
async def test_every_process_killed_under_load_loses_and_duplicates_nothing(stack) -> None:
    figures = await chaos.run(stack, chaos.SMALL)
    assert figures["accepted"] >= 100, figures
    assert figures["cases_expected"] >= 10 and figures["dead_letters_expected"] >= 3, figures
    assert chaos.failures(figures) == [], chaos.summary(figures)
    assert "IprBrokerNotAnswering" in figures["alert"] and "resolved" in figures["alert"], figures["alert"]
