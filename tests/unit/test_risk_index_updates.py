"""The matcher index taken a recordation at a time (``RegistryIndex.update``) finds exactly what an index built
from scratch finds, Latin and Chinese marks, their homophones, near forms, pinyin and misspellings alike; and the
risk service's ``take_in`` applies a change without holding up the event loop."""

from __future__ import annotations

import asyncio
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.risk.live_registry import take_in
from services.risk.matcher import RegistryIndex, find_candidates
from shared.contracts.recordation import RecordationV1
from tests.factories import example_recordation


def rec(rid: str, title: str, aliases: list[str], **changes) -> RecordationV1:
    return RecordationV1.model_validate(
        example_recordation(
            recordation_id=rid,
            title=title,
            aliases=aliases,
            goods_hs_prefixes=["6404", "4202", "8517"],
            authorized_licensees=[],
            genuine_unit_value=[],
            **changes,
        )
    )


POOL = [
    rec("R-NIKE", "NIKE", ["耐克", "AIR JORDAN"]),
    rec("R-ADIDAS", "ADIDAS", ["阿迪达斯", "YEEZY"]),
    rec("R-ROLEX", "ROLEX", ["劳力士", "SUBMARINER"]),
    rec("R-APPLE", "APPLE", ["苹果", "IPHONE"], common_word=True, common_word_aliases=["苹果"]),
    rec("R-LEGO", "LEGO", ["乐高"]),
    rec("R-GUCCI", "GUCCI", ["古驰"]),
    rec("R-LV", "LOUIS VUITTON", ["LV", "路易威登"]),
    rec("R-CHANEL", "CHANEL", ["香奈儿"]),
]
TEXTS = [
    "耐克运动鞋",
    "奈克运动鞋",
    "NAIKE",
    "Adiddas shoes",
    "阿迪大斯板鞋",
    "劳力土手表",
    "iPhone15ProMax手机",
    "苹果手机",
    "勒高积木",
    "古弛皮带",
    "LV手袋",
    "路易·威登",
    "香奈尔香水",
    "air jordan 1",
    "Yeezy350",
    "nothing here",
]


def found(index: RegistryIndex) -> list:
    out = []
    for text in TEXTS:
        for field in ("brand", "description"):
            out.append(
                sorted(
                    (c.term.recordation.recordation_id, c.term.term, c.match, c.found, c.how, c.descriptive)
                    for c in find_candidates(index, "CN", field, text)
                )
            )
    return out


@settings(max_examples=15, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(range(len(POOL))), st.sampled_from(["add", "amend", "revoke"])), max_size=12
    )
)
def test_updates_find_what_a_fresh_build_finds(steps: list[tuple[int, str]]) -> None:
    live: dict[str, RecordationV1] = {r.recordation_id: r for r in POOL[:4]}
    index = RegistryIndex.build(list(live.values()))
    for i, action in steps:
        r = POOL[i]
        if action == "revoke":
            index.update_now([r.model_copy(update={"status": "revoked"})])
            live.pop(r.recordation_id, None)
        elif action == "amend" and r.recordation_id in live:
            amended = r.model_copy(
                update={"aliases": [a for a in r.aliases if not a.isascii()]}
            )  # drops its Latin aliases
            index.update_now([amended])
            live[r.recordation_id] = amended
        else:
            index.update_now([r])
            live[r.recordation_id] = r
    fresh = RegistryIndex.build(list(live.values()))
    assert found(index) == found(fresh)
    assert (index.size, index.terms) == (fresh.size, fresh.terms)


def test_a_removed_chinese_mark_is_gone_before_the_automaton_is_rebuilt() -> None:
    index = RegistryIndex.build(POOL)
    dirty = index.update([], ["R-NIKE"])
    assert dirty == {"CN"}
    assert not [
        c
        for c in find_candidates(index, "CN", "description", "耐克运动鞋")
        if c.term.recordation.recordation_id == "R-NIKE"
    ]
    index.install_automata(index.build_automata(dirty))
    assert find_candidates(index, "CN", "description", "耐克运动鞋") == []


def test_take_in_keeps_the_event_loop_turning() -> None:
    rng = random.Random(5)
    many = [
        rec(f"R-{i}", f"BRAND{i:05d}X", ["".join(rng.choice("安宝康泰华盛美嘉祥瑞丰") for _ in range(3))])
        for i in range(600)
    ]
    index = RegistryIndex.build(many)
    changed = [r.model_copy(update={"aliases": [*r.aliases, f"{r.title} PRO"]}) for r in many[:120]]

    async def run() -> int:
        ticks, stop = 0, False

        async def tick() -> None:
            nonlocal ticks
            while not stop:
                await asyncio.sleep(0.0005)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)
        before = ticks
        await take_in(index, changed, ["R-599"])
        stop = True
        await ticker
        return ticks - before

    # other tasks ran while the change was taken in (the bench prints how long the loop waited at most)
    assert asyncio.run(run()) >= 1
    assert "R-599" not in index and index.size == 599
    assert any(c.term.term == "BRAND00001X PRO" for c in find_candidates(index, "CN", "brand", "brand00001x pro"))
