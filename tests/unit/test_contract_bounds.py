"""Every contract model and every route parameter of every service is bounded.

The walk finds every field of every model in ``shared/contracts`` and every path, query and body
parameter of every route of every service, and probes each Decimal, int, date, datetime and id
with values beyond the bounds of ``shared.contracts.bounds``: all must be refused. A new field
typed ``Decimal``, ``int``, ``date``, ``datetime`` or a bare ``str`` id fails here until it uses
the shared types (or states bounds at least as tight).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

import shared.contracts
from shared.contracts import bounds

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "risk", "cases", "holds", "notify", "disposal", "guarantees")

DECIMALS_REFUSED = [
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "2000000000000",
    "1000000000000.01",
    "-1",
    "0.00001",
    1e400,
]
INTS_REFUSED = [10**13, -(10**13), 10**20]
PARAM_INTS_REFUSED = [2**31, -(2**31) - 1, 99999999999999999999]
DATES_REFUSED = [date(1999, 12, 31), date(2100, 1, 1), "9999-12-31", "0001-01-01"]
DATETIMES_REFUSED = [
    "9999-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2099-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00Z",
]
IDS_REFUSED = ["a?b", "a#b", "a%2Fb", "..", ".x", "x\u00c4", "\u00e9t\u00e9", "x" * 300, "a:b\nc", "-x", "a\tb"]
URL_IDS_REFUSED = [*IDS_REFUSED, "a/b", "a b"]  # every id kind but trader ids, which never reach a URL


@dataclass(frozen=True)
class Leaf:
    where: str
    name: str
    kind: type
    annotation: Any
    param: bool = False  # a path or query parameter


# Header values named like ids that are not platform ids (an e-mail Message-ID: RFC 5322, bounded by length).
NOT_PLATFORM_IDS = frozenset({"message_id"})


def _is_id(name: str) -> bool:
    return name not in NOT_PLATFORM_IDS and (name in ("id", "idempotency_key") or name.endswith(("_id", "_ids")))


def _leaves(
    where: str, name: str, annotation: Any, metadata: tuple = (), *, param: bool = False, seen: set | None = None
) -> list[Leaf]:
    """The scalar types inside an annotation, each with the constraints that apply to it."""
    seen = set() if seen is None else seen
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *extra = typing.get_args(annotation)
        return _leaves(where, name, inner, metadata + tuple(extra), param=param, seen=seen)
    if origin in (typing.Union, types.UnionType):
        return [
            leaf
            for arg in typing.get_args(annotation)
            if arg is not type(None)
            for leaf in _leaves(where, name, arg, metadata, param=param, seen=seen)
        ]
    if origin in (list, set, frozenset, tuple):
        return [
            leaf
            for arg in typing.get_args(annotation)
            if arg is not Ellipsis
            for leaf in _leaves(where, name, arg, (), param=param, seen=seen)
        ]
    if origin is dict:
        return _leaves(where, name, typing.get_args(annotation)[1], (), param=param, seen=seen)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return _model_leaves(annotation, seen)
    if annotation is bool:
        return []
    for kind in (Decimal, datetime, date, int, str):  # datetime before date: it is a date
        if annotation is kind:
            if kind is str and not _is_id(name):
                return []
            full = Annotated[(kind, *metadata)] if metadata else kind
            return [Leaf(where, name, kind, full, param)]
    return []


def _model_leaves(model: type[BaseModel], seen: set) -> list[Leaf]:
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, field in model.model_fields.items():
        found += _leaves(
            f"{model.__module__}.{model.__qualname__}", name, field.annotation, tuple(field.metadata), seen=seen
        )
    return found


def _refuses(leaf: Leaf, value: Any) -> bool:
    try:
        TypeAdapter(leaf.annotation).validate_python(value)
    except (ValidationError, ValueError, TypeError):
        return True
    return False


def _metadata(annotation: Any) -> tuple:
    return tuple(annotation.__metadata__) if typing.get_origin(annotation) is Annotated else ()


def unbounded(leaf: Leaf) -> list[str]:
    """What an out-of-bounds probe got through (empty: the field is bounded)."""
    if bounds.Bound("platform_clock") in _metadata(leaf.annotation):
        return []  # the platform's own clock (workflow deadlines and history), never outside input
    trader = bounds.Bound("trader_id") in _metadata(leaf.annotation)
    if bounds.Bound("token_claim") in _metadata(leaf.annotation):
        # a token's claim echoed back: any provider's text, bounded by length only
        return [repr(v)[:40] for v in ["x" * (bounds.TOKEN_CLAIM_MAX + 1)] if not _refuses(leaf, v)]
    probes = {
        Decimal: DECIMALS_REFUSED,
        int: INTS_REFUSED + (PARAM_INTS_REFUSED if leaf.param else []),
        date: DATES_REFUSED,
        datetime: DATETIMES_REFUSED,
        str: IDS_REFUSED if trader and not leaf.param else URL_IDS_REFUSED,
    }[leaf.kind]
    return [repr(v)[:40] for v in probes if not _refuses(leaf, v)]


def contract_models() -> list[type[BaseModel]]:
    found = []
    for info in pkgutil.iter_modules(shared.contracts.__path__):
        module = importlib.import_module(f"shared.contracts.{info.name}")
        found += [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__
        ]
    return found


def service_routes() -> list[tuple[str, APIRoute]]:
    routes = []
    for service in SERVICES:
        for path in sorted((ROOT / "services" / service).glob("*.py")):
            if "APIRouter(" not in path.read_text():
                continue
            module = importlib.import_module(f"services.{service}.{path.stem}")
            for router in (v for v in vars(module).values() if isinstance(v, APIRouter)):
                routes += [(service, r) for r in router.routes if isinstance(r, APIRoute)]
    return routes


def _dependant_params(dependant) -> list:
    params = [*dependant.path_params, *dependant.query_params, *dependant.body_params]
    for sub in dependant.dependencies:
        params += _dependant_params(sub)
    return params


def route_leaves(service: str, route: APIRoute) -> list[Leaf]:
    found = []
    for field in _dependant_params(route.dependant):
        info = field.field_info
        in_path_or_query = type(info).__name__ in ("Path", "Query")
        found += _leaves(
            f"{service} {'/'.join(route.methods)} {route.path}",
            field.name,
            info.annotation,
            tuple(info.metadata),
            param=in_path_or_query,
        )
    return found


def all_leaves() -> list[Leaf]:
    seen: set = set()
    leaves = [leaf for model in contract_models() for leaf in _model_leaves(model, seen)]
    for service, route in service_routes():
        leaves += route_leaves(service, route)
    return leaves


def test_the_walk_reaches_every_service_and_the_contracts() -> None:
    leaves = all_leaves()
    services = {leaf.where.split()[0] for leaf in leaves if leaf.where.split()[0] in SERVICES}
    assert services == set(SERVICES)
    kinds = {leaf.kind for leaf in leaves}
    assert kinds == {Decimal, int, date, datetime, str}
    where = {leaf.where for leaf in leaves}
    assert any("DeclarationV1" in w for w in where) and any("CaseInput" in w for w in where)
    assert any(w.startswith("risk GET /v1/recordations/{recordation_id}/versions/{version}") for w in where)
    assert len(leaves) > 150


def test_every_amount_count_date_and_id_is_bounded() -> None:
    failures = [
        f"{leaf.where}.{leaf.name} ({leaf.kind.__name__}) accepts {got}"
        for leaf in all_leaves()
        if (got := unbounded(leaf))
    ]
    assert not failures, "unbounded fields:\n" + "\n".join(sorted(set(failures)))


def test_the_walk_notices_an_unbounded_field() -> None:
    class Loose(BaseModel):
        amount: Decimal
        count: int | None = None
        on: list[date]
        at: datetime
        case_id: str
        holder: dict[str, bounds.CaseId]
        party_id: Annotated[str, bounds.Bound("token_claim")]  # a claim, but without its length
        client_id: bounds.TokenClaim

    leaves = _model_leaves(Loose, set())
    assert {leaf.name for leaf in leaves if unbounded(leaf)} == {"amount", "count", "on", "at", "case_id", "party_id"}


@pytest.mark.parametrize("kind", sorted(bounds.ID_PATTERNS))
def test_each_id_kind_takes_the_ids_the_platform_makes(kind: str) -> None:
    examples = {
        "declaration_id": "CN5300-2026-0000123",
        "recordation_id": "CN-T-2019-004211",
        "case_id": "IPR-CN5300-2026-0000123-L1",
        "holder_id": "RH-0001",
        "trader_id": "91440300MA5XXXX1",
        "hold_id": "HOLD-IPR-CN5300-2026-0000123-L1",
        "notice_id": "NTC-0123456789ABCDEF",
        "disposition_id": "DSP-IPR-CN5300-2026-0000123-L1",
        "guarantee_id": "GG-RH-0001-2026",
        "case_guarantee_id": "CGR-0123456789abcdef0123",
        "profile_id": "P-SNEAKERS-EXPRESS",
        "campaign_id": "C-2026-EXPORT",
        "manifest_id": "CN5300-9610-20261120-0007",
        "application_id": "EU-AFA-1",
        "correlation_id": "IPR-CN5300-2026-0000123-L1",
        "run_id": "0196f1a2-7c1e-7d3a-9b1e-2f4c5d6e7f80",
        "idempotency_key": "IPR-CN5300-2026-0000123-L1:notice:guarantee_refused:2",
    }
    adapter = TypeAdapter(
        getattr(
            bounds,
            {"case_guarantee_id": "CaseGuaranteeId", "idempotency_key": "IdempotencyKey"}.get(
                kind, "".join(p.title() for p in kind.split("_"))
            ),
        )
    )
    assert adapter.validate_python(examples[kind]) == examples[kind]
    longest = "A" * bounds.id_max_length(kind)
    assert adapter.validate_python(longest) == longest
    with pytest.raises(ValidationError):
        adapter.validate_python(longest + "A")


def test_the_longest_case_id_fits_every_id_built_from_it() -> None:
    declaration = "D" * bounds.id_max_length("declaration_id")
    case_id = f"IPR-{declaration}-L9999"
    TypeAdapter(bounds.CaseId).validate_python(case_id)
    for kind, built in (
        ("hold_id", f"HOLD-{case_id}"),
        ("disposition_id", f"DSP-{case_id}"),
        ("case_guarantee_id", f"CG-{case_id}"),
        ("idempotency_key", f"{case_id}:notice:guarantee_refused:99"),
    ):
        assert len(built) <= bounds.id_max_length(kind), kind


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2000-01-01T00:00:00Z", True),
        ("2099-12-31T23:59:59Z", True),
        ("2099-12-31T23:59:59+14:00", True),
        ("2000-01-01T05:00:00+08:00", False),
        ("2099-12-31T20:00:00-05:00", False),
        ("2026-11-20T08:15:00", True),
    ],
)
def test_timestamps_are_bounded_by_their_instant(value: str, ok: bool) -> None:
    adapter = TypeAdapter(bounds.Timestamp)
    if ok:
        assert adapter.validate_python(value).year in range(2000, 2100)
    else:
        with pytest.raises(ValidationError, match="years 2000 to 2099"):
            adapter.validate_python(value)


def test_money_keeps_exact_values_and_refuses_more_than_two_decimals() -> None:
    adapter = TypeAdapter(bounds.Money)
    assert adapter.validate_python("14910.00") == Decimal("14910")
    assert adapter.validate_python(1000000000000) == bounds.MONEY_MAX
    assert adapter.validate_python("1.100") == Decimal("1.1")
    assert bounds.in_money_range(Decimal("1e12")) and not bounds.in_money_range(Decimal("1e12") + Decimal("0.01"))
    assert not bounds.in_money_range(Decimal("NaN")) and not bounds.in_money_range(Decimal("-0.01"))
