"""Every operation of every service documents what it answers: a typed success body (or its media type) and the
error statuses it gives, with the shared error body. Counted on the published OpenAPI documents, so `/docs`, a
generated client and this test see the same thing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

OPENAPI = Path(__file__).resolve().parents[2] / "contracts" / "openapi"
METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> list[tuple[str, str, str, dict]]:
    found = []
    for path in sorted(OPENAPI.glob("*.json")):
        for template, item in json.loads(path.read_text())["paths"].items():
            found += [(path.stem, method.upper(), template, op) for method, op in item.items() if method in METHODS]
    return found


def _untyped_success(op: dict) -> list[str]:
    problems = []
    successes = {code: r for code, r in op.get("responses", {}).items() if code.startswith("2")}
    if not successes:
        return ["no success answer declared"]
    for code, response in successes.items():
        content = response.get("content") or {}
        if code == "204":
            continue
        if not content:
            problems.append(f"{code}: no media type")
        for media, entry in content.items():
            if not (entry.get("schema") or {}):
                problems.append(f"{code} {media}: no schema")
    return problems


def test_every_operation_declares_a_typed_success_answer() -> None:
    untyped = {
        f"{svc}: {method} {path}": problems
        for svc, method, path, op in operations()
        if (problems := _untyped_success(op))
    }
    assert not untyped, "\n".join(f"{k}: {v}" for k, v in sorted(untyped.items()))


@pytest.mark.parametrize("status", ["401", "403", "404", "409", "422"])
def test_declared_errors_use_the_shared_error_body(status: str) -> None:
    wrong = []
    for svc, method, path, op in operations():
        response = op.get("responses", {}).get(status)
        if response is None:
            continue
        schema = (response.get("content") or {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref") != "#/components/schemas/ErrorBody":
            wrong.append(f"{svc}: {method} {path} {status}: {schema}")
    assert not wrong, "\n".join(wrong)


def test_every_authenticated_operation_declares_its_refusals() -> None:
    """Routes behind a token say they may answer 401 and 403; routes with parameters or a body say 422."""
    missing = []
    for svc, method, path, op in operations():
        needed = []
        if op.get("security"):
            needed += ["401", "403"]
        if op.get("parameters") or op.get("requestBody"):
            needed.append("422")
        missing += [f"{svc}: {method} {path} lacks {status}" for status in needed if status not in op["responses"]]
    assert not missing, "\n".join(missing)
