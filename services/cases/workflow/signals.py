"""Taking a signal's payload: decoded and checked here, so no signal can fail a case.

What the Python SDK does with a bad signal: a payload that does not convert to the named
handler's parameter type is dropped with a log line only (nothing in the case's history); a
signal sent with no payload or with several calls the handler with the wrong number of
arguments, and that ``TypeError``, like any other exception a handler raises, fails the
workflow task, which the worker retries with the same signal again and again: the case stands
still. Therefore the case workflow takes every signal in one dynamic handler as raw payloads
(``RawValue``, whose conversion cannot fail) and decodes and checks them itself: a payload
that is not one JSON object, does not match its contract or carries an amount out of bounds
is recorded in the history as ignored, with the reason.

Bounds of amounts are those of the platform's contracts: finite, not negative, at most 10^12,
at most 2 decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from types import GenericAlias, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field, ValidationError, create_model
    from pydantic.fields import FieldInfo

MONEY_MAX = Decimal(10) ** 12
M = TypeVar("M", bound=BaseModel)


class Rejected(Exception):
    """A signal payload that the case does not take; the message says why."""


def money_problem(name: str, value: Decimal | None, *, positive: bool = False) -> str | None:
    """Why ``value`` is not an admissible amount, or None."""
    if value is None:
        return None
    if not value.is_finite():
        return f"{name} is not a finite amount"
    if value < 0 or (positive and value == 0):
        return f"{name} must be {'above' if positive else 'at least'} 0"
    if value > MONEY_MAX:
        return f"{name} {value} exceeds {MONEY_MAX:,}"
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return f"{name} {value} has more than 2 decimals"
    return None


def _errors(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in err.errors())[:500]


def one_object(args: Sequence[RawValue]) -> dict[str, Any]:
    """The one JSON object a signal carries."""
    if len(args) != 1:
        raise Rejected(f"expected one payload, got {len(args)}")
    try:
        data = workflow.payload_converter().from_payload(args[0].payload, dict)
    except Exception as exc:  # noqa: BLE001 - any undecodable payload is refused, whatever the converter raised
        raise Rejected(f"payload is not a JSON object: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise Rejected("payload is not a JSON object")
    return data


def model_of(model: type[M], data: Any) -> M:
    """``data`` validated by its contract."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise Rejected(f"does not match {model.__name__}: {_errors(err)}") from None


_LEGACY: dict[type, type[BaseModel]] = {}


def _legacy_type(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _legacy_model(tp)
    args = get_args(tp)
    if args and get_origin(tp) in (Union, UnionType):
        return Union[tuple(_legacy_type(a) for a in args)]  # noqa: UP007 - built at run time
    if args and get_origin(tp) is list:
        return GenericAlias(list, (_legacy_type(args[0]),))  # list[...] of a type built at run time
    return tp


def _default_of(info: FieldInfo) -> Any:
    """The field's default as ``create_model`` takes it (a default factory stays a factory)."""
    if info.is_required():
        return ...
    if info.default_factory is not None:
        return Field(default_factory=info.default_factory)
    return info.default


def _legacy_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` with the field types it has but without their bounds (lengths, ranges, patterns)."""
    if model not in _LEGACY:
        # name -> (type, default): types built at run time
        fields: dict[str, Any] = {
            name: (_legacy_type(info.annotation), _default_of(info)) for name, info in model.model_fields.items()
        }
        _LEGACY[model] = create_model(f"Legacy{model.__name__}", **fields)
    return _LEGACY[model]


def _as_model(model: type[M], legacy: BaseModel) -> M:
    values: dict[str, Any] = {}
    for name in model.model_fields:
        value = getattr(legacy, name)
        inner = _legacy_origin(value)
        values[name] = _as_model(inner, value) if inner is not None else value
    return model.model_construct(**values)


def _legacy_origin(value: Any) -> type[BaseModel] | None:
    for real, legacy in _LEGACY.items():
        if type(value) is legacy:
            return real
    return None


def strict(model: type[M], args: Sequence[RawValue]) -> M:
    """Decoded as the SDK decoded a typed signal parameter for cases started before v3.

    Those cases took their signals before the contracts carried bounds, so the payload is
    converted with the contract's field types but without its bounds: a history recorded then
    replays with the values it was given (an oversized guarantee still reaches the ledger,
    which refuses it, as it did).
    """
    if len(args) != 1:
        raise Rejected(f"expected one payload, got {len(args)}")
    try:
        legacy = workflow.payload_converter().from_payload(args[0].payload, _legacy_model(model))
    except Exception as exc:  # noqa: BLE001 - as the SDK: any conversion error drops the signal
        raise Rejected(f"payload does not convert to {model.__name__}: {type(exc).__name__}") from None
    return _as_model(model, legacy)


def check_amounts(**amounts: Decimal | None) -> None:
    """Refuse the signal if any amount is out of bounds."""
    for name, value in amounts.items():
        problem = money_problem(name, value)
        if problem:
            raise Rejected(problem)
