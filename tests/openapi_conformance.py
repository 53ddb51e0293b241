"""Every answer the integration and end-to-end tests read is checked against the published OpenAPI.

The ``http`` fixture's client hands each response to :class:`Conformance`, which finds the operation
(the service by its port, the path template, the method) in ``contracts/openapi/<service>.json`` and
validates a JSON body against the schema declared for its status. A success status the operation does
not declare, or a body its declared schema refuses, is a violation; the test that read it fails in its
teardown, naming the operation and the mismatch. So the documented answers are the real ones, not only
those the fuzzer happens to reach.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from jsonschema import Draft202012Validator

OPENAPI = Path(__file__).resolve().parents[1] / "contracts" / "openapi"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.service}: {self.method.upper()} {self.template}"


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


@dataclass
class Conformance:
    ports: dict[int, str]  # port -> service with a committed OpenAPI
    violations: list[str] = field(default_factory=list)
    checked: int = 0

    @cached_property
    def _specs(self) -> dict[str, dict[str, Any]]:
        return {path.stem: json.loads(path.read_text()) for path in sorted(OPENAPI.glob("*.json"))}

    @cached_property
    def _operations(self) -> dict[str, list[Operation]]:
        table: dict[str, list[Operation]] = {}
        for service, spec in self._specs.items():
            ops = [
                Operation(service, method, template, _pattern(template), op.get("responses", {}))
                for template, item in spec.get("paths", {}).items()
                for method, op in item.items()
                if method in METHODS
            ]
            # a literal segment wins over a parameter: /v1/models/rollback before /v1/models/{version}
            table[service] = sorted(ops, key=lambda o: o.template.count("{"))
        return table

    def operation(self, service: str, method: str, path: str) -> Operation | None:
        for op in self._operations.get(service, []):
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def _validator(self, service: str, schema: dict[str, Any]) -> Draft202012Validator:
        components = self._specs[service].get("components", {})
        return Draft202012Validator({**schema, "components": components})

    def check(self, response: httpx.Response) -> None:
        url = urlsplit(str(response.request.url))
        service = self.ports.get(url.port or 0)
        if service is None:
            return
        op = self.operation(service, response.request.method.lower(), url.path)
        if op is None:
            return  # an unknown path: the service's own 404/405, the test asserts it
        status = response.status_code
        declared = (
            op.responses.get(str(status)) or op.responses.get(f"{status // 100}XX") or op.responses.get("default")
        )
        if declared is None:
            if 200 <= status < 300:
                self.violations.append(f"{op.label} answered {status}, which it does not declare")
            return
        media = response.headers.get("content-type", "").split(";")[0].strip()
        content = declared.get("content") or {}
        if status == 204 or not response.content:
            return
        if media == "application/json" or media.endswith("+json"):
            entry = content.get("application/json") or content.get(media)
            if entry is None:
                if 200 <= status < 300:
                    self.violations.append(f"{op.label} answered {status} JSON, but declares {sorted(content)}")
                return
            schema = entry.get("schema") or {}
            if not schema:
                return  # nothing declared to hold it to (tests/unit/test_typed_edge.py counts these)
            self.checked += 1
            try:
                body = response.json()
            except ValueError:
                self.violations.append(f"{op.label} answered {status} with a body that is not JSON")
                return
            errors = sorted(self._validator(service, schema).iter_errors(body), key=lambda e: list(e.path))
            for error in errors[:3]:
                where = "/".join(str(p) for p in error.absolute_path) or "(the body)"
                self.violations.append(f"{op.label} answered {status}: at {where}: {error.message[:300]}")
        elif 200 <= status < 300 and content and media not in content:
            self.violations.append(f"{op.label} answered {status} as {media}, but declares {sorted(content)}")

    async def hook(self, response: httpx.Response) -> None:
        await response.aread()
        self.check(response)
