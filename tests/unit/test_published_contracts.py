"""The published contracts in ``contracts/``: in step with the models, compatible with every released version,
a valid AsyncAPI 3.0 document, valid OpenAPI documents, and the CloudEvents headers of the Kafka binding.

``tests/contracts/asyncapi-3.0.0.schema.json`` is the AsyncAPI 3.0.0 JSON Schema as published in
``@asyncapi/specs`` 6.11.1 (``schemas/3.0.0-without-$id.json``, Apache License 2.0), kept here so the
check runs offline.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

from shared.contracts.events import EventEnvelope, HoldEventV1
from shared.contracts.published import (
    asyncapi_document,
    breaking_changes,
    platform_contract_version,
    released_versions,
    subjects,
    version_key,
)
from shared.contracts.topics import (
    CE_HEADERS,
    TOPICS,
    DeadLetterV1,
    cloudevent_headers,
    default_ce_type,
    read_cloudevent,
    with_cloudevent_headers,
)
from tests.factories import example_declaration

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "contracts"
ASYNCAPI_SCHEMA = ROOT / "tests" / "contracts" / "asyncapi-3.0.0.schema.json"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ drift


def test_published_files_are_what_the_models_generate() -> None:
    # A process of its own: building the services' apps for their OpenAPI needs placeholder settings.
    run = subprocess.run(
        [sys.executable, "-m", "tools.contracts", "check"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, (
        "contracts/ differs from the models; run `make contracts` and commit the result:\n" + run.stdout + run.stderr
    )


def test_topic_schemas_in_step_with_models() -> None:
    for contract in TOPICS:
        for subject, schema in subjects(contract).items():
            path = PUBLISHED / "schemas" / f"{subject}.json"
            assert path.exists() and _load(path) == schema, (
                f"{path.relative_to(ROOT)} differs from the model; run `make contracts` and commit the result"
            )


# ------------------------------------------------------------------ compatibility


def test_every_topic_is_released_and_major_matches_topic_name() -> None:
    for contract in TOPICS:
        assert contract.major == contract.topic_major, (
            f"{contract.topic}: contract version {contract.version} must have major {contract.topic_major} "
            "(a new major version is a new topic name)"
        )
        for subject in subjects(contract):
            assert released_versions(PUBLISHED, subject), (
                f"{subject} has no released version; run `make contracts-release` and commit contracts/released"
            )


def test_released_versions_are_immutable() -> None:
    for contract in TOPICS:
        for subject, schema in subjects(contract).items():
            released = PUBLISHED / "released" / subject / f"{contract.version}.json"
            if released.exists():
                assert _load(released) == schema, (
                    f"{subject}: version {contract.version} was released with a different schema; a compatible "
                    "change raises the minor version in shared/contracts/topics.py (then `make contracts`, and "
                    "`make contracts-release` when it ships)"
                )
            versions = released_versions(PUBLISHED, subject)
            assert version_key(contract.version) >= version_key(versions[-1]), (
                f"{subject}: version {contract.version} is older than the released {versions[-1]}"
            )


def test_no_breaking_change_against_the_released_versions_of_the_same_major() -> None:
    problems = []
    for contract in TOPICS:
        for subject, schema in subjects(contract).items():
            for version in released_versions(PUBLISHED, subject):
                if version_key(version)[0] != contract.major:
                    continue
                for change in breaking_changes(_load(PUBLISHED / "released" / subject / f"{version}.json"), schema):
                    problems.append(f"{subject} {version} -> {contract.version}: {change}")
    assert not problems, (
        "breaking changes; publish them on a new topic (<name>.v<N+1>, major version N+1) or "
        "undo them:\n" + "\n".join(problems)
    )


def _holds_value() -> dict:
    return copy.deepcopy(_load(PUBLISHED / "released" / "customs.holds.v1-value" / "1.0.0.json"))


def test_compatibility_rules_on_real_schemas() -> None:
    old = _holds_value()
    assert breaking_changes(old, copy.deepcopy(old)) == []

    added = _holds_value()  # a new optional field: compatible
    added["$defs"]["HoldEventV1"]["properties"]["note"] = {"type": "string"}
    assert breaking_changes(old, added) == []

    new_enum = _holds_value()  # a new status: compatible (readers ignore values they do not know)
    new_enum["$defs"]["HoldEventV1"]["properties"]["status"]["enum"].append("seized")
    assert breaking_changes(old, new_enum) == []

    removed = _holds_value()
    del removed["$defs"]["HoldEventV1"]["properties"]["reason"]
    removed["$defs"]["HoldEventV1"]["required"].remove("reason")
    assert [str(c) for c in breaking_changes(old, removed)] == ["payload.reason: field removed"]

    required = _holds_value()
    required["$defs"]["HoldEventV1"]["properties"]["note"] = {"type": "string"}
    required["$defs"]["HoldEventV1"]["required"].append("note")
    assert [str(c) for c in breaking_changes(old, required)] == ["payload.note: new required field"]

    made_required = _holds_value()
    made_required["required"].append("causation_id")
    assert [str(c) for c in breaking_changes(old, made_required)] == ["causation_id: optional field made required"]

    retyped = _holds_value()
    retyped["$defs"]["HoldEventV1"]["properties"]["line_no"] = {"type": "string"}
    assert {c.path for c in breaking_changes(old, retyped)} == {"payload.line_no"}

    narrowed = _holds_value()  # the optional causation id no longer nullable
    narrowed["properties"]["causation_id"] = narrowed["properties"]["causation_id"]["anyOf"][0]
    assert any("narrowed" in c.what for c in breaking_changes(old, narrowed))

    shorter = _holds_value()
    shorter["$defs"]["HoldEventV1"]["properties"]["hold_id"]["maxLength"] = 50
    assert [str(c) for c in breaking_changes(old, shorter)] == ["payload.hold_id: maxLength lowered to 50"]

    fewer = _holds_value()
    fewer["$defs"]["HoldEventV1"]["properties"]["status"]["enum"].remove("forfeited")
    assert [c.what for c in breaking_changes(old, fewer)] == ["values removed: ['\"forfeited\"']"]


# ------------------------------------------------------------------ AsyncAPI


def test_asyncapi_document_is_valid_asyncapi_3() -> None:
    document = yaml.safe_load((PUBLISHED / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert document == json.loads(json.dumps(asyncapi_document(platform_version=platform_contract_version())))
    validator = jsonschema.Draft7Validator(_load(ASYNCAPI_SCHEMA))
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(document)]
    assert not errors, errors
    broken = copy.deepcopy(document)
    broken["operations"]["holds.send.customsHoldsV1"]["action"] = "publish"  # AsyncAPI 2 wording
    assert list(validator.iter_errors(broken))


def test_asyncapi_names_every_topic_with_its_schemas_and_parties() -> None:
    document = yaml.safe_load((PUBLISHED / "asyncapi.yaml").read_text(encoding="utf-8"))
    addresses = {ch["address"]: ch for ch in document["channels"].values()}
    assert set(addresses) == {c.topic for c in TOPICS}
    for contract in TOPICS:
        message_ref = addresses[contract.topic]["messages"]["record"]["$ref"]
        message = document["components"]["messages"][message_ref.rsplit("/", 1)[1]]
        ref = message["payload"]["schema"]["$ref"]
        assert (PUBLISHED / ref).exists(), ref
        assert message["bindings"]["kafka"]["key"] == contract.key_schema()
        assert set(message["headers"]["properties"]) >= set(CE_HEADERS)
        sent = {
            op["summary"].split(" publishes")[0]
            for op in document["operations"].values()
            if op["action"] == "send"
            and op["channel"]["$ref"].endswith(
                "/" + next(k for k, v in document["channels"].items() if v["address"] == contract.topic)
            )
        }
        assert sent == set(contract.publishers)


def test_schemas_are_valid_2020_12_and_accept_real_records() -> None:
    for path in sorted((PUBLISHED / "schemas").glob("*.json")):
        jsonschema.Draft202012Validator.check_schema(_load(path))
    declaration = jsonschema.Draft202012Validator(_load(PUBLISHED / "schemas" / "customs.declarations.v1-value.json"))
    declaration.validate(example_declaration(declaration_id="CN5300-2026-0000999"))
    example = _load(ROOT / "tests" / "contracts" / "declaration.v1.example.json")
    declaration.validate(example)
    bad = {**example, "lines": "none"}
    assert list(declaration.iter_errors(bad))

    hold = HoldEventV1(
        hold_id="H-CN5300-1-L1",
        case_id="IPR-CN5300-1-L1",
        declaration_id="CN5300-1",
        line_no=1,
        customs_office="CN5300",
        status="suspended",
        reason="suspected",
        at=datetime.now(UTC),
    )
    envelope = EventEnvelope(
        event_id="5b0f8f51-8a52-4f0e-9d8e-1c7b1b3f0a11",
        event_type="hold.placed",
        producer="holds",
        correlation_id=hold.case_id,
        payload=hold.model_dump(mode="json"),
    )
    holds = jsonschema.Draft202012Validator(
        _load(PUBLISHED / "schemas" / "customs.holds.v1-value.json"), format_checker=jsonschema.FormatChecker()
    )
    holds.validate(json.loads(envelope.model_dump_json()))
    assert list(
        holds.iter_errors(json.loads(envelope.model_copy(update={"event_type": "hold.lost"}).model_dump_json()))
    )


# ------------------------------------------------------------------ OpenAPI


@pytest.mark.parametrize("path", sorted((PUBLISHED / "openapi").glob("*.json")), ids=lambda p: p.stem)
def test_openapi_documents_validate(path: Path) -> None:
    document = _load(path)
    validate_openapi(document)
    assert document["paths"], f"{path.name} describes no route"


# ------------------------------------------------------------------ CloudEvents headers (Kafka binding, binary mode)


def test_cloudevent_headers_and_tolerant_reading() -> None:
    at = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    headers = cloudevent_headers(event_id="e-1", event_type="hold.placed", source="urn:ipr:service:holds", time=at)
    names = [name for name, _ in headers]
    assert names[:6] == list(CE_HEADERS) and all(isinstance(v, bytes) for _, v in headers)
    assert read_cloudevent(headers) == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "urn:ipr:service:holds",
        "type": "hold.placed",
        "time": "2026-05-04T03:02:01+00:00",
        "content-type": "application/json",
    }
    # records without the headers, with other headers or malformed ones are read, never refused
    assert read_cloudevent(None) is None
    assert read_cloudevent([]) is None
    assert read_cloudevent([("trace", b"x"), ("ce_type", b"t")]) is None
    assert read_cloudevent([("ce_id", b"\xff\xfe"), ("junk",), (None, None)]) == {"id": "\ufffd\ufffd"}


def test_headers_completed_from_the_older_ones() -> None:
    at = datetime(2026, 5, 4, tzinfo=UTC)
    older = [("event_id", b"e-2"), ("event_type", b"risk.assessed")]
    completed = with_cloudevent_headers(older, source="urn:ipr:service:risk", time=at)
    assert completed is not None
    assert read_cloudevent(completed) == {
        "specversion": "1.0",
        "id": "e-2",
        "source": "urn:ipr:service:risk",
        "type": "risk.assessed",
        "time": at.isoformat(),
        "content-type": "application/json",
    }
    assert sum(1 for name, _ in completed if name == "event_id") == 1
    full = cloudevent_headers(event_id="e-3", event_type="x", source="s", time=at)
    assert with_cloudevent_headers(full, source="other", time=at) == full
    assert with_cloudevent_headers([("k", b"v")], source="s", time=at) == [("k", b"v")]
    assert with_cloudevent_headers(None, source="s", time=at) is None


def test_default_event_types() -> None:
    assert default_ce_type("customs.declarations.v1") == "declaration.submitted"
    assert default_ce_type("customs.declarations.v1.dlq") == "declaration.dead_lettered"
    assert default_ce_type("some.other.topic") == "some.other.topic"


def test_dead_letter_value_matches_its_schema() -> None:
    letter = DeadLetterV1.model_validate(
        {
            "reason": "schema_violation",
            "details": [{"loc": ["lines"], "msg": "required"}],
            "source": {"topic": "customs.declarations.v1", "partition": 0, "offset": 7},
            "key": "CN5300-1",
            "consumer": "intake/intake-declarations",
            "dead_lettered_at": datetime.now(UTC),
            "raw": "{}",
            "cloudevent": None,
        }
    )
    schema = _load(PUBLISHED / "schemas" / "customs.declarations.v1.dlq-value.json")
    jsonschema.Draft202012Validator(schema).validate(letter.model_dump(mode="json"))
