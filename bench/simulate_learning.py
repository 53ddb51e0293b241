"""Does targeting learn from outcomes? A simulated world, week by week (``make simulate-learning``).

The world: the labelled corpus's registry (``tests/risk_corpus``) plus a 3M recordation; every week
``--lines`` declaration lines at customs offices, most of them legitimate goods (unbranded, licensed, or using a
mark descriptively, ``LEGO compatible building blocks``), some counterfeits the rules catch (the mark in the
brand field, cheap), and a **planted pattern no rule or profile covers**: a new consignor network exporting
undervalued goods by express under common-word or abbreviated marks in free text (``puma suede``,
``galaxy s24``, ``beats solo``, ``genuine leather LV keepall bag``, ``3M N95 respirator masks``), which shifts
its office and its vocabulary halfway through. Lines are assessed by the service's own code (matcher, scoring,
``ModelServer.apply`` with the champion and the shadow model); red lines are examined by a simulated officer: a
suspected line's case ends confiscated or released (half of the yellow lines' documentary checks
establish the truth too), and its outcome reaches the labels as a ``CaseEventV1``
through ``labels.outcome_of`` (the consumer's code); a control-sample line gets a control result (unbiased).
Each week a model is trained on everything labelled so far (``train.fit``, time-ordered split), enters shadow,
and is promoted when the control-sample gate (``registry.gate``) passes. Every week a fresh held-out set (no
random selection) measures rules alone against rules + champion: recall on the planted pattern, recall on all
infringing lines, and the false-positive rate on legitimate lines, with 95% Wilson intervals.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.risk.learning import features as F  # noqa: E402
from services.risk.learning.blend import flagged  # noqa: E402
from services.risk.learning.labels import outcome_of  # noqa: E402
from services.risk.learning.metrics import evaluate, wilson  # noqa: E402
from services.risk.learning.registry import gate  # noqa: E402
from services.risk.learning.serving import ModelServer  # noqa: E402
from services.risk.learning.tables import ModelVersion  # noqa: E402
from services.risk.learning.train import TrainingRefused, fit  # noqa: E402
from services.risk.matcher import RegistryIndex  # noqa: E402
from services.risk.pipeline import assess  # noqa: E402
from services.risk.scoring import Scoring  # noqa: E402
from shared.contracts.declaration import DeclarationV1  # noqa: E402
from shared.contracts.events import CaseEventV1  # noqa: E402
from shared.contracts.recordation import RecordationV1  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "risk_corpus"
RATES = {"CNY": Decimal(1), "USD": Decimal("7.10")}
START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)
LAST_TRAINED: dict = {}  # the artefact of the last model trained (for tests)
EXAMPLES = [
    "puma suede sneakers",
    "galaxy s24 ultra smartphone",
    "beats solo wireless headphones",
    "3M N95 respirator masks",
    "genuine leather LV keepall bag",
    "LEGO compatible building blocks",
]
# The planted pattern's goods: (HS, description, unit value USD); the first list before the shift, the second after
PATTERN_EARLY = [
    ("640411", "puma suede sneakers", 6.0),
    ("851830", "beats solo wireless headphones", 5.0),
    ("851713", "galaxy s24 ultra smartphone", 45.0),
    ("851830", "beats solo 4 on-ear headphones", 5.5),
    ("640411", "puma suede classic shoes", 6.5),
]
PATTERN_LATE = [
    ("420221", "genuine leather LV keepall bag", 15.0),
    ("851830", "beats studio buds earphones", 4.5),
    ("851713", "galaxy s24 5g phone", 40.0),
    ("420221", "LV keepall travel bag leather", 14.0),
    ("640411", "puma speedcat sneakers", 7.0),
]
LEGIT_GOODS = [
    ("640411", "mens sports shoes textile upper", 8.0),
    ("640419", "canvas sneakers", 5.0),
    ("610910", "cotton t-shirts plain", 2.0),
    ("611020", "knitted cotton sweaters", 6.0),
    ("420221", "leather handbags", 25.0),
    ("420231", "leather wallets", 4.0),
    ("910211", "quartz wrist watches", 6.0),
    ("900410", "sunglasses plastic frames", 1.0),
    ("851713", "smart phones 4g", 60.0),
    ("851830", "bluetooth earphones", 4.0),
    ("950300", "plastic building blocks", 2.0),
    ("630790", "disposable face masks", 0.05),
    ("847130", "laptop computers", 200.0),
    ("940540", "led lamps", 3.0),
    ("392410", "plastic tableware", 1.0),
    ("851830", "wireless headphones over-ear", 9.0),
    ("640411", "suede sneakers", 9.0),
    ("420292", "travel bags polyester", 4.0),
]
# Legitimate lines that name a mark (descriptive use, ordinary words): rarer, and some the rules misjudge
LEGIT_TRICKY = [
    ("950300", "LEGO compatible building blocks", 2.0),
    ("950300", "building blocks compatible with LEGO", 2.0),
    ("420292", "phone case for iphone 15", 1.0),
    ("220290", "apple juice", 1.0),
    ("851830", "earphones compatible with beats", 3.0),
    ("630790", "3M N95 respirator masks", 0.9),
]
TRICKY_SHARE = 0.02
DOCUMENTARY_FINDS = 0.5  # share of examined yellow (documentary check) lines whose truth the check establishes
RULE_CAUGHT = [
    ("640411", "NIKE", "running shoes", 5.0),
    ("420221", "GUCCI", "handbags", 20.0),
    ("910211", None, "replica rolex watch", 15.0),
    ("420221", None, "louis vuitton handbag brown", 15.0),
    ("851830", None, "airpods pro 2 earphones", 6.0),
    ("330300", "CHANEL", "perfume 100ml", 3.0),
]
OFFICES = ["CN5300", "CN2200", "CN4700", "CN5100", "CN0100", "CN4200"]
MODES = ["express", "post", "sea", "air", "road"]


def registry() -> list[RecordationV1]:
    out = []
    raw_list = json.loads((CORPUS / "registry.json").read_text())
    raw_list.append(
        {
            "recordation_id": "CN-T-C-3M",
            "title": "3M",
            "aliases": ["3M N95"],
            "holder": "3M Company",
            "goods_hs_prefixes": ["6307", "9020", "3005"],
            "genuine_unit_value": [{"hs_prefix": "6307", "min": 0.6, "currency": "USD"}],
        }
    )
    for i, raw in enumerate(raw_list):
        raw = dict(raw)
        raw.pop("note", None)
        holder = raw.pop("holder")
        out.append(
            RecordationV1.model_validate(
                {
                    "jurisdiction": "CN",
                    "right_type": "trademark",
                    "registration_number": f"R{i:05d}",
                    "holder": {"id": f"RH-C{i:03d}", "name": holder, "contact_email": f"ipr{i}@example.com"},
                    "valid_from": "2019-01-01",
                    "valid_until": "2029-12-31",
                    **raw,
                }
            )
        )
    return out


class World:
    def __init__(self, seed: int, weeks: int, prevalence: float) -> None:
        self.rng = random.Random(seed)
        self.weeks = weeks
        self.prevalence = prevalence
        self.n = 0
        self.network = [f"9144030{self.rng.randrange(10**8, 10**9)}N" for _ in range(12)]
        self.legit = [f"9131000{self.rng.randrange(10**8, 10**9)}L" for _ in range(400)]

    def line(self, week: int, *, holdout: bool = False) -> tuple[DeclarationV1, str]:
        """One declaration of one line and its truth: 'pattern', 'caught' (infringing) or 'legit'."""
        rng = self.rng
        self.n += 1
        r = rng.random()
        shifted = week >= self.weeks // 2
        brand = None
        mode = rng.choice(MODES)
        office = rng.choice(OFFICES)
        consignor = rng.choice(self.legit)
        if r < self.prevalence:
            kind = "pattern"
            hs, desc, value = rng.choice(PATTERN_LATE if shifted else PATTERN_EARLY)
            office = "CN2200" if shifted else "CN5300"
            mode = "express" if rng.random() < 0.9 else "post"
            consignor = rng.choice(self.network)
            value *= rng.uniform(0.8, 1.2)
        elif r < self.prevalence + 0.01:
            kind = "caught"
            hs, brand, desc, value = rng.choice(RULE_CAUGHT)
        else:
            kind = "legit"
            hs, desc, value = rng.choice(LEGIT_TRICKY if rng.random() < TRICKY_SHARE else LEGIT_GOODS)
            value *= rng.uniform(0.6, 1.6)
            if rng.random() < 0.05:  # a legitimate trader of the pattern's office and mode
                office, mode = ("CN2200" if shifted else "CN5300"), "express"
        at = START + timedelta(days=7 * week, seconds=self.n % 600_000)
        prefix = "HOLD" if holdout else "SIM"
        d = DeclarationV1.model_validate(
            {
                "declaration_id": f"{prefix}-{week:02d}-{self.n:07d}",
                "revision": 1,
                "submitted_at": at.isoformat(),
                "jurisdiction": "CN",
                "customs_office": office,
                "direction": "export",
                "procedure": "general_trade",
                "transport_mode": mode,
                "declarant": {"id": "91440300MA5XXXX1", "name": "Shenzhen Swift Forwarding Co."},
                "consignor": {"id": consignor, "name": f"Trader {consignor}", "country": "CN"},
                "consignee": {"id": f"US-{rng.randrange(10**6)}", "name": "Buyer LLC", "country": "US"},
                "origin_country": "CN",
                "destination_country": rng.choice(["US", "DE", "GB", "FR", "AU"]),
                "currency": "USD",
                "lines": [
                    {
                        "line_no": 1,
                        "hs_code": hs,
                        "description": desc,
                        "brand": brand,
                        "quantity": rng.choice([2, 5, 20]),
                        "unit": "piece",
                        "unit_value": round(max(0.01, value), 2),
                        "origin_country": "CN",
                    }
                ],
            }
        )
        return d, kind


def case_event(d: DeclarationV1, infringing: bool, seq: int) -> CaseEventV1:
    """The terminal event the case workflow would publish on cases.events.v1 for the officer's finding."""
    state = "confiscated" if infringing else "released"
    detail = {} if infringing else {"reason": "customs determined that the goods do not infringe"}
    return CaseEventV1(
        case_id=f"IPR-{d.declaration_id}-L1",
        seq=seq,
        state=state,
        event="finished",
        detail=detail,
        at=d.submitted_at,
        declaration_id=d.declaration_id,
        line_no=1,
        consignor_id=d.consignor.id,
        consignee_id=d.consignee.id,
    )


def run(
    *,
    weeks: int,
    lines: int,
    holdout: int,
    prevalence: float,
    control_rate: float,
    seed: int,
    out: Callable[[str], None] = print,
) -> list[dict]:
    index = RegistryIndex.build(registry())
    scoring = Scoring(fx_rates_to_cny=RATES, random_rate=control_rate, random_salt=f"sim-{seed}")
    plain = Scoring(fx_rates_to_cny=RATES, random_rate=0.0)
    world = World(seed, weeks, prevalence)
    server = ModelServer()
    X, y, w, t, unbiased, rule, susp = [], [], [], [], [], [], []
    table = []
    champion_row = None
    out(
        f"world: {weeks} weeks x {lines} lines (held-out {holdout} a week), planted pattern {prevalence:.1%} of lines, "
        f"rule-caught counterfeits 1.0%, control sample {control_rate:.2%}; pattern shifts office and vocabulary "
        f"at week {weeks // 2 + 1}"
    )
    out(
        f"{'week':>4} {'labels':>6} {'ctl':>4} {'model':>10} | {'pattern recall rules':>22} {'rules+model':>22} | "
        f"{'all infringing recall':>21} {'rules+model':>11} | {'FPR rules':>9} {'rules+model':>18}"
    )
    seq = 0
    for week in range(weeks):
        # ---- live week: assess (rules + champion), examine the red lines, label them
        batch = [world.line(week) for _ in range(lines)]
        for i in range(0, len(batch), 200):
            chunk = batch[i : i + 200]
            assessed = [(d, assess(d, index, scoring, RATES)[0]) for d, _k in chunk]
            rows = server.apply(assessed, index, RATES)
            for (d, kind), (_d, a), row in zip(chunk, assessed, rows, strict=True):
                line = a.lines[0]
                if line.lane == "green" or (line.lane == "yellow" and world.rng.random() >= DOCUMENTARY_FINDS):
                    continue  # released without a finding: no label
                truth = kind != "legit"
                seq += 1
                if line.random_selection:
                    label, weight, is_unbiased = int(truth), 1.0, True  # control result
                else:
                    o = outcome_of(case_event(d, truth, seq))
                    label, weight, is_unbiased = o.label, o.weight, False
                X.append(row["features"])
                y.append(label)
                w.append(weight)
                t.append(d.submitted_at.timestamp())
                unbiased.append(is_unbiased)
                rule.append(row["rule_score"])
                susp.append(row["suspected"])
        # ---- train on everything labelled so far; shadow; promote through the control gate
        status = "-"
        try:
            trained = fit(
                np.array(X, dtype=float),
                y,
                w,
                t,
                unbiased,
                rule,
                susp,
                seed=seed,
                champion=server.champion.booster if server.champion else None,
            )
            row = ModelVersion(
                version=f"m-{week + 1:04d}",
                status="shadow",
                schema=F.SCHEMA,
                artefact=trained.artefact.encode(),
                reference=trained.reference,
                metrics=trained.metrics,
            )
            LAST_TRAINED["artefact"] = trained.artefact
            ok, failed, _ = gate(trained.metrics, champion_row)
            if ok:
                champion_row, status = row, f"{row.version} up"
                server.install(champion_row, None)
            else:
                server.install(champion_row, row)
                status = "shadow"
        except TrainingRefused as exc:
            status = "refused"
            if week == 0:
                out(f"     week 1 training refused: {exc}")
        # ---- held-out week: rules alone vs rules + champion
        hold = [world.line(week, holdout=True) for _ in range(holdout)]
        assessed = [(d, assess(d, index, plain, RATES)[0]) for d, _k in hold]
        rule_red = np.array([a.lines[0].lane == "red" for _d, a in assessed])
        server_rows = server.apply(assessed, index, RATES)
        both_red = np.array([a.lines[0].lane == "red" for _d, a in assessed])
        kinds = np.array([k for _d, k in hold])
        pat, inf, leg = kinds == "pattern", kinds != "legit", kinds == "legit"

        def rate(mask: np.ndarray, sel: np.ndarray) -> tuple[float, tuple[float, float] | None]:
            k, n = int((sel & mask).sum()), int(mask.sum())
            return k / n if n else float("nan"), wilson(k, n)

        r_pat, r_pat_ci = rate(pat, rule_red)
        m_pat, m_pat_ci = rate(pat, both_red)
        r_inf, _ = rate(inf, rule_red)
        m_inf, _ = rate(inf, both_red)
        r_fpr, _ = rate(leg, rule_red)
        m_fpr, m_fpr_ci = rate(leg, both_red)
        rec = {
            "week": week + 1,
            "labels": len(y),
            "control_labels": int(sum(unbiased)),
            "model": status,
            "pattern_recall_rules": r_pat,
            "pattern_recall_model": m_pat,
            "pattern_recall_model_ci": m_pat_ci,
            "recall_rules": r_inf,
            "recall_model": m_inf,
            "fpr_rules": r_fpr,
            "fpr_model": m_fpr,
            "fpr_model_ci": m_fpr_ci,
            "pattern_lines": int(pat.sum()),
            "legit_lines": int(leg.sum()),
        }
        table.append(rec)
        out(
            f"{week + 1:>4} {len(y):>6} {int(sum(unbiased)):>4} {status:>10} | {r_pat:>6.3f} {str(r_pat_ci):>15} "
            f"{m_pat:>6.3f} {str(m_pat_ci):>15} | {r_inf:>21.3f} {m_inf:>11.3f} | {r_fpr:>9.4f} {m_fpr:>6.4f} "
            f"{str(m_fpr_ci):>11}"
        )
        del server_rows
    # ---- control sample: rules vs rules + final champion on the unbiased labels
    idx = np.array(unbiased, dtype=bool)
    if idx.any() and server.champion is not None:
        Xc = np.array(X, dtype=float)[idx]
        yc = np.array(y)[idx]
        rc, sc_ = np.array(rule)[idx], np.array(susp)[idx]
        p = server.champion.booster.predict(Xc)
        mr = evaluate(yc, rc, flagged(rc, sc_))
        mm = evaluate(yc, p, flagged(rc, sc_, p))
        out(
            f"control sample ({mr['n']} lines, {mr['positives']} infringing; in-sample for the model): "
            f"rules recall {mr['recall']} precision {mr['precision']} | "
            f"rules+model recall {mm['recall']} precision {mm['precision']}"
        )
    # ---- the examples under rules alone and rules + final champion
    out("examples (rules alone -> rules + model):")
    for desc in EXAMPLES:
        hs = {
            "puma": "640411",
            "galaxy": "851713",
            "beats": "851830",
            "3M": "630790",
            "genuine": "420221",
            "LEGO": "950300",
        }[desc.split()[0]]
        value = {"640411": 6.0, "851713": 45.0, "851830": 5.0, "630790": 0.12, "420221": 15.0, "950300": 2.0}[hs]
        for office, mode in (("CN5300", "express"), ("CN2200", "express"), ("CN4700", "sea")):
            d = DeclarationV1.model_validate(
                {
                    "declaration_id": f"EX-{abs(hash((desc, office))) % 10**6}",
                    "revision": 1,
                    "submitted_at": (START + timedelta(days=7 * weeks)).isoformat(),
                    "jurisdiction": "CN",
                    "customs_office": office,
                    "direction": "export",
                    "procedure": "general_trade",
                    "transport_mode": mode,
                    "declarant": {"id": "91440300MA5XXXX1", "name": "Shenzhen Swift Forwarding Co."},
                    "consignor": {
                        "id": world.network[0] if office != "CN4700" else world.legit[0],
                        "name": "Trader",
                        "country": "CN",
                    },
                    "consignee": {"id": "US-1", "name": "Buyer LLC", "country": "US"},
                    "origin_country": "CN",
                    "destination_country": "US",
                    "currency": "USD",
                    "lines": [
                        {
                            "line_no": 1,
                            "hs_code": hs,
                            "description": desc,
                            "quantity": 5,
                            "unit": "piece",
                            "unit_value": value,
                            "origin_country": "CN",
                        }
                    ],
                }
            )
            a = assess(d, index, plain, RATES)[0]
            before = (a.lines[0].score, a.lines[0].lane)
            server.apply([(d, a)], index, RATES)
            model = next((r for r in a.lines[0].reasons if r.startswith("model ")), "no model")
            out(
                f"  {desc!r:36} {office} {mode:8} {before[0]:.2f} {before[1]:6} -> {a.lines[0].score:.2f} "
                f"{a.lines[0].lane:6} [{model[:110]}]"
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--lines", type=int, default=6000, help="lines a week")
    parser.add_argument("--holdout", type=int, default=6000, help="held-out lines a week")
    parser.add_argument("--prevalence", type=float, default=0.02, help="share of lines of the planted pattern")
    parser.add_argument(
        "--control-rate",
        type=float,
        default=0.02,
        help="random control selection (the service: 0.005; the gate needs ~4x the volume there)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    table = run(
        weeks=args.weeks,
        lines=args.lines,
        holdout=args.holdout,
        prevalence=args.prevalence,
        control_rate=args.control_rate,
        seed=args.seed,
    )
    last = table[-1]
    print(
        f"after {args.weeks} weeks: pattern recall rules {last['pattern_recall_rules']:.3f}, rules+model "
        f"{last['pattern_recall_model']:.3f} {last['pattern_recall_model_ci']}; FPR rules {last['fpr_rules']:.4f}, "
        f"rules+model {last['fpr_model']:.4f} {last['fpr_model_ci']} ({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
