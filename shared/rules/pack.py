"""Rule packs: the law of each jurisdiction as validated data (``packs/<jurisdiction>.json``).

A pack holds the deadlines (in working or calendar days), the guarantee and fine
formulas with their tiers, the disposal options in their legal order and the thresholds.
Values the domain brief marks uncertain carry ``"uncertain": true`` and a note; each of
them can be overridden by an environment variable ``RULES_<JURISDICTION>_<NAME>`` (for
example ``RULES_CN_POLICE_REFERRAL_GOODS_VALUE=100000``), so a customs administration can
set the value its lawyers confirm without a code change.
"""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PACKS = Path(__file__).with_name("packs")
TWO = Decimal("0.01")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineRule(_Data):
    amount: int = Field(ge=1)
    unit: Literal["working_days", "calendar_days", "years"]
    basis: str
    uncertain: bool = False
    note: str = ""


class GuaranteeTier(_Data):
    """Goods value up to ``up_to`` (inclusive; None = no upper bound) -> ``rate`` x value, at least ``minimum``,
    or a ``fixed`` amount."""

    up_to: Decimal | None = None
    below: Decimal | None = None
    rate: Decimal | None = None
    minimum: Decimal | None = None
    fixed: Decimal | None = None

    @model_validator(mode="after")
    def _one_formula(self) -> GuaranteeTier:
        if (self.rate is None) == (self.fixed is None):
            raise ValueError("a guarantee tier has either a rate or a fixed amount")
        return self


class GuaranteeRules(_Data):
    required: bool
    ex_officio_tiers: list[GuaranteeTier] = Field(default_factory=list)
    application_rate: Decimal | None = None
    counter_guarantee_rate: Decimal | None = None
    general_guarantee_minimum: Decimal | None = None
    basis: str = ""


class FineTier(_Data):
    min_rate: Decimal = Field(ge=0)
    max_rate: Decimal = Field(ge=0)
    max_exclusive: bool = False
    confiscation_only: bool = False


class FineRules(_Data):
    model: Literal["share_of_goods_value", "retail_value_multiple", "national_law"]
    max_rate: Decimal | None = None
    tiers: dict[str, FineTier] = Field(default_factory=dict)
    default_tier: str | None = None
    basis: str = ""


class Setting(_Data):
    value: Decimal | int | bool | str | None
    uncertain: bool = False
    note: str = ""


class PersonalUseRules(_Data):
    """Where the personal-use / reasonable-quantity exemption can apply (the quantity is the setting
    ``personal_use_quantity``, overridable like every setting)."""

    channels: list[Literal["post", "express", "traveller_luggage"]] = Field(
        description="Channels the exemption covers (articles carried or mailed by individuals)"
    )
    directions: list[Literal["import", "export", "transit"]]
    business_models: list[Literal["B2B", "B2C", "C2C"]] = Field(
        description="Consignments that count as an individual's articles rather than goods for sale"
    )
    basis: str
    note: str = ""


class RulePack(_Data):
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$")
    name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    calendar: str
    counting: Literal["day_after_service"] = "day_after_service"
    deadlines: dict[str, DeadlineRule]
    guarantee: GuaranteeRules
    fine: FineRules
    disposal_order: list[str] = Field(min_length=1)
    settings: dict[str, Setting] = Field(default_factory=dict)
    personal_use: PersonalUseRules | None = None
    version: str

    @model_validator(mode="after")
    def _tiers_ordered(self) -> RulePack:
        if self.fine.default_tier and self.fine.default_tier not in self.fine.tiers:
            raise ValueError("fine.default_tier must name one of fine.tiers")
        for name, tier in self.fine.tiers.items():
            if tier.min_rate > tier.max_rate or (self.fine.max_rate is not None and tier.max_rate > self.fine.max_rate):
                raise ValueError(f"fine tier {name} is outside 0..max_rate")
        return self

    def setting(self, name: str) -> Any:
        """The value of a setting, after any environment override."""
        if name not in self.settings:
            raise KeyError(f"{self.jurisdiction} rule pack has no setting {name!r}")
        return self.settings[name].value

    def deadline(self, name: str) -> DeadlineRule:
        if name not in self.deadlines:
            raise KeyError(f"{self.jurisdiction} rule pack has no deadline {name!r}")
        return self.deadlines[name]

    # ---------------------------------------------------------------- formulas

    def guarantee_amount(self, mode: str, goods_value: Decimal) -> Decimal:
        """Guarantee the holder must post (in the pack's currency) for ``goods_value`` in that currency."""
        g = self.guarantee
        if not g.required:
            return Decimal("0.00")
        if mode == "application":
            if g.application_rate is None:
                raise ValueError(f"{self.jurisdiction} has no application-mode guarantee")
            return (goods_value * g.application_rate).quantize(TWO, ROUND_HALF_UP)
        if mode == "counter_guarantee":
            if g.counter_guarantee_rate is None:
                raise ValueError(f"{self.jurisdiction} has no counter-guarantee")
            return (goods_value * g.counter_guarantee_rate).quantize(TWO, ROUND_HALF_UP)
        for tier in g.ex_officio_tiers:
            fits = (tier.below is None or goods_value < tier.below) and (
                tier.up_to is None or goods_value <= tier.up_to
            )
            if fits:
                if tier.fixed is not None:
                    return tier.fixed.quantize(TWO)
                amount = goods_value * tier.rate  # type: ignore[operator]
                if tier.minimum is not None:
                    amount = max(amount, tier.minimum)
                return amount.quantize(TWO, ROUND_HALF_UP)
        raise ValueError("no guarantee tier covers this goods value")

    def fine_range(self, goods_value: Decimal, tier: str | None, *, repeat: bool = False) -> tuple[Decimal, Decimal]:
        """(min, max) fine for ``goods_value`` (CN, EU: goods value; US: genuine retail value)."""
        f = self.fine
        if f.model == "national_law":
            raise ValueError(f"{self.jurisdiction}: fines are set by national law, not by this rule pack")
        if f.model == "retail_value_multiple":
            multiple = Decimal(str(self.setting("repeat_fine_multiple"))) if repeat else Decimal(1)
            return Decimal("0.00"), (goods_value * multiple).quantize(TWO, ROUND_HALF_UP)
        name = tier or f.default_tier
        if name not in f.tiers:
            raise ValueError(f"unknown fine tier {name!r}; tiers: {', '.join(f.tiers)}")
        t = f.tiers[name]
        return (
            (goods_value * t.min_rate).quantize(TWO, ROUND_HALF_UP),
            (goods_value * t.max_rate).quantize(TWO, ROUND_HALF_UP),
        )


def _apply_overrides(raw: dict[str, Any]) -> dict[str, Any]:
    prefix = f"RULES_{raw['jurisdiction']}_"
    for name, setting in raw.get("settings", {}).items():
        env = os.environ.get(prefix + name.upper())
        if env is not None:
            try:
                setting["value"] = json.loads(env)  # numbers, true/false, null, quoted strings
            except ValueError:
                setting["value"] = env
            setting["note"] = (setting.get("note", "") + f" [overridden by {prefix + name.upper()}]").strip()
    return raw


@cache
def rule_pack(jurisdiction: str) -> RulePack:
    """The validated rule pack of ``jurisdiction`` (settings overridden from the environment)."""
    path = PACKS / f"{jurisdiction.lower()}.json"
    if not path.exists():
        raise KeyError(f"no rule pack for jurisdiction {jurisdiction!r}")
    return RulePack.model_validate(_apply_overrides(json.loads(path.read_text(encoding="utf-8"))))


def available_packs() -> list[str]:
    return sorted(p.stem.upper() for p in PACKS.glob("*.json"))
