"""Each service's migrations form one line: one base, one head, every revision reachable from the head.

Two branches that each add a migration after the same revision leave two heads, and `alembic upgrade
head` then refuses to run at start-up; this finds it before any database does."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/migrations"))


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_of_each_service_form_one_line(service: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    heads, bases = script.get_heads(), script.get_bases()
    assert len(heads) == 1, f"{service} has {len(heads)} migration heads: {heads}"
    assert len(bases) == 1, f"{service} has {len(bases)} migration bases: {bases}"
    chain = list(script.walk_revisions("base", "heads"))
    assert len(chain) == len(list(script.walk_revisions())), f"{service}: a revision is off the line"
    names = [Path(r.path).name for r in reversed(chain)]
    assert names == sorted(names), f"{service}: migration files are not numbered in their order: {names}"
