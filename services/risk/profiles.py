"""Officers' targeting profiles: validated data, compiled to predicates, reloaded without a restart.

A profile is a set of conditions on declaration and line fields (all must hold), a weight added to
the score of every line it matches (negative for trusted flows), a validity period and an owner.
Profiles are stored in the risk database (versioned), loaded by every replica on change and
periodically; each counts its hits (Prometheus ``ipr_risk_profile_hits_total`` and a stored count).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, model_validator

from services.risk.normalise import normalise
from shared.contracts.bounds import MONEY_MAX, Day, ProfileId
from shared.contracts.declaration import DeclarationLine, DeclarationV1, Jurisdiction

# A number a condition compares with: finite, and within the largest value any compared field can hold.
_NUM_LIMIT = int(MONEY_MAX)
ConditionInt = Annotated[StrictInt, Field(ge=-_NUM_LIMIT, le=_NUM_LIMIT)]
ConditionFloat = Annotated[StrictFloat, Field(ge=-_NUM_LIMIT, le=_NUM_LIMIT, allow_inf_nan=False)]

# field -> (type, getter)
FieldType = Literal["str", "code", "text", "num", "list"]


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


FIELDS: dict[str, tuple[str, Callable[[DeclarationV1, DeclarationLine], Any]]] = {
    "direction": ("str", lambda d, ln: d.direction),
    "procedure": ("str", lambda d, ln: d.procedure),
    "transport_mode": ("str", lambda d, ln: d.transport_mode),
    "customs_office": ("str", lambda d, ln: d.customs_office),
    "origin_country": ("str", lambda d, ln: d.origin_country),
    "destination_country": ("str", lambda d, ln: d.destination_country),
    "transit_countries": ("list", lambda d, ln: d.transit_countries),
    "currency": ("str", lambda d, ln: d.currency),
    "declarant.id": ("str", lambda d, ln: d.declarant.id),
    "declarant.name": ("text", lambda d, ln: d.declarant.name),
    "consignor.id": ("str", lambda d, ln: d.consignor.id),
    "consignor.name": ("text", lambda d, ln: d.consignor.name),
    "consignor.country": ("str", lambda d, ln: d.consignor.country),
    "consignee.id": ("str", lambda d, ln: d.consignee.id),
    "consignee.name": ("text", lambda d, ln: d.consignee.name),
    "consignee.country": ("str", lambda d, ln: d.consignee.country),
    "lines.count": ("num", lambda d, ln: float(len(d.lines))),
    "line.hs_code": ("code", lambda d, ln: ln.hs_code),
    "line.description": ("text", lambda d, ln: ln.description),
    "line.brand": ("text", lambda d, ln: ln.brand),
    "line.model": ("text", lambda d, ln: ln.model),
    "line.origin_country": ("str", lambda d, ln: ln.origin_country),
    "line.unit": ("str", lambda d, ln: ln.unit),
    "line.quantity": ("num", lambda d, ln: _num(ln.quantity)),
    "line.unit_value": ("num", lambda d, ln: _num(ln.unit_value)),
    "line.value": ("num", lambda d, ln: _num(ln.line_value)),
    "line.gross_weight_kg": ("num", lambda d, ln: _num(ln.gross_weight_kg)),
}

OPS: dict[str, frozenset[str]] = {
    "str": frozenset({"eq", "ne", "in", "not_in", "prefix", "present", "absent"}),
    "code": frozenset({"eq", "ne", "in", "not_in", "prefix", "not_prefix"}),
    "text": frozenset({"contains", "contains_any", "not_contains", "eq", "present", "absent"}),
    "num": frozenset({"lt", "le", "gt", "ge", "eq", "ne", "present", "absent"}),
    "list": frozenset({"contains", "any_in", "empty", "not_empty"}),
}
_LIST_OPS = {"in", "not_in", "contains_any", "any_in"}
_NO_VALUE_OPS = {"present", "absent", "empty", "not_empty"}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    op: str
    value: StrictStr | ConditionInt | ConditionFloat | list[StrictStr] | None = None

    @model_validator(mode="after")
    def _valid(self) -> Condition:
        if self.field not in FIELDS:
            raise ValueError(f"unknown field {self.field!r}; known: {', '.join(sorted(FIELDS))}")
        kind = FIELDS[self.field][0]
        if self.op not in OPS[kind]:
            raise ValueError(
                f"operator {self.op!r} does not apply to {self.field} ({kind}); "
                f"use one of {', '.join(sorted(OPS[kind]))}"
            )
        if self.op in _NO_VALUE_OPS:
            if self.value is not None:
                raise ValueError(f"operator {self.op!r} takes no value")
            return self
        if self.value is None:
            raise ValueError(f"operator {self.op!r} needs a value")
        if kind == "num":
            if not isinstance(self.value, (int, float)) or isinstance(self.value, bool):
                raise ValueError(f"{self.field} compares with a number")
        elif self.op in _LIST_OPS or (
            kind == "code" and self.op in ("prefix", "not_prefix") and isinstance(self.value, list)
        ):
            if (
                not isinstance(self.value, list)
                or not self.value
                or not all(isinstance(v, str) and v for v in self.value)
            ):
                raise ValueError(f"operator {self.op!r} needs a non-empty list of strings")
        elif not isinstance(self.value, str) or not self.value.strip():
            raise ValueError(f"operator {self.op!r} needs a non-empty string")
        if kind == "code":
            value = self.value
            assert isinstance(value, (str, list))  # checked above: a code takes a string or a list of strings
            values = value if isinstance(value, list) else [value]
            if not all(v.isdigit() for v in values):
                raise ValueError("HS codes and prefixes are digits only")
        return self


class TargetingProfileV1(BaseModel):
    """An officer's targeting profile (validated data, not code)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    profile_id: ProfileId
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    owner: str = Field(min_length=1, max_length=128, description="Officer or unit answerable for the profile")
    jurisdiction: Jurisdiction = "CN"
    customs_offices: list[str] = Field(default_factory=list, max_length=200, description="Empty: every office")
    weight: float = Field(ge=-1, le=1, description="Added to the score of each matching line")
    valid_from: Day
    valid_until: Day
    active: bool = True
    conditions: list[Condition] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _period(self) -> TargetingProfileV1:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        if self.weight == 0:
            raise ValueError("weight must not be 0")
        return self


def _compile(c: Condition) -> Callable[[DeclarationV1, DeclarationLine], bool]:
    kind, get = FIELDS[c.field]
    op, value = c.op, c.value
    if op == "present":
        return lambda d, ln: get(d, ln) not in (None, "")
    if op == "absent":
        return lambda d, ln: get(d, ln) in (None, "")
    if kind == "num":
        v = float(value)  # type: ignore[arg-type]
        cmp = {
            "lt": float.__lt__,
            "le": float.__le__,
            "gt": float.__gt__,
            "ge": float.__ge__,
            "eq": float.__eq__,
            "ne": float.__ne__,
        }[op]
        return lambda d, ln: (x := get(d, ln)) is not None and cmp(x, v)
    if kind == "list":
        if op == "empty":
            return lambda d, ln: not get(d, ln)
        if op == "not_empty":
            return lambda d, ln: bool(get(d, ln))
        wanted = {value} if isinstance(value, str) else set(value)  # type: ignore[arg-type]
        return lambda d, ln: bool(wanted.intersection(get(d, ln) or ()))
    if kind == "text":
        if op == "eq":
            target = normalise(value)  # type: ignore[arg-type]
            return lambda d, ln: normalise(get(d, ln) or "") == target
        phrases = [normalise(v) for v in ([value] if isinstance(value, str) else value)]  # type: ignore[union-attr]

        def contains(d: DeclarationV1, ln: DeclarationLine) -> bool:
            text = f" {normalise(get(d, ln) or '')} "
            return any(f" {p} " in text for p in phrases)

        return contains if op != "not_contains" else (lambda d, ln: not contains(d, ln))
    values = [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]
    if op == "eq":
        return lambda d, ln: get(d, ln) == value
    if op == "ne":
        return lambda d, ln: get(d, ln) != value
    if op == "in":
        s = set(values)
        return lambda d, ln: get(d, ln) in s
    if op == "not_in":
        s = set(values)
        return lambda d, ln: get(d, ln) not in s
    prefixes = tuple(values)
    if op == "prefix":
        return lambda d, ln: (x := get(d, ln)) is not None and x.startswith(prefixes)
    if op == "not_prefix":
        return lambda d, ln: (x := get(d, ln)) is None or not x.startswith(prefixes)
    raise ValueError(op)  # pragma: no cover - validated above


class CompiledProfile:
    __slots__ = ("profile", "profile_id", "name", "owner", "weight", "_preds", "_offices")

    def __init__(self, profile: TargetingProfileV1) -> None:
        self.profile = profile
        self.profile_id = profile.profile_id
        self.name = profile.name
        self.owner = profile.owner
        self.weight = profile.weight
        self._preds = [_compile(c) for c in profile.conditions]
        self._offices = frozenset(profile.customs_offices)

    def matches(self, d: DeclarationV1, ln: DeclarationLine, on_date: date) -> bool:
        p = self.profile
        if not p.active or d.jurisdiction != p.jurisdiction or not p.valid_from <= on_date <= p.valid_until:
            return False
        if self._offices and d.customs_office not in self._offices:
            return False
        return all(pred(d, ln) for pred in self._preds)


class ProfileSet:
    """The profiles in force, compiled; swapped whole on reload."""

    def __init__(self, profiles: list[TargetingProfileV1] | None = None) -> None:
        self.compiled = [CompiledProfile(p) for p in (profiles or []) if p.active]

    def __len__(self) -> int:
        return len(self.compiled)

    def matching(self, d: DeclarationV1, ln: DeclarationLine, on_date: date) -> list[CompiledProfile]:
        return [p for p in self.compiled if p.matches(d, ln, on_date)]


def _decimal_safe(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value
