"""Case access codes: their form, how they are read back from paper, and that the provider (Node) digests a
code exactly as the identity service (Python) stored it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.identity import case_access

ROOT = Path(__file__).resolve().parents[2]
NODE = Path(sys.executable).with_name("node")


def test_a_code_is_six_groups_of_four_crockford_characters() -> None:
    codes = {case_access.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4] * 6
        assert set("".join(groups)) <= set(case_access.ALPHABET)
        assert not set("ILOU") & set(code)


def test_a_code_typed_from_paper_digests_as_issued() -> None:
    code = "K7QJ-4MZP-0A1B-TT9X-22RW-H3N0"
    typed = ["k7qj 4mzp 0a1b tt9x 22rw h3n0", "K7QJ4MZPOA1BTT9X22RWH3NO", "k7qj-4mzp-0aIb-tt9x-22rw-h3n0"]
    assert {case_access.digest(t) for t in typed} == {case_access.digest(code)}
    assert case_access.digest(code) != case_access.digest(code.replace("K7QJ", "K7QK"))
    assert case_access.digest(code).startswith("sha256$") and code not in case_access.digest(code)


def test_the_provider_digests_a_code_as_the_identity_service_stores_it() -> None:
    codes = [case_access.new_code() for _ in range(20)] + ["k7qj 4mzp 0aib tt9x 22rw h3n0", "ol1-OIL"]
    script = (
        "import('./store.js').then(({ caseAccessDigest }) => "
        "console.log(JSON.stringify(JSON.parse(process.argv[1]).map(caseAccessDigest))))"
    )
    out = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script, json.dumps(codes)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "services" / "identity" / "provider",
        timeout=60,
    )
    assert json.loads(out.stdout) == [case_access.digest(c) for c in codes]


def test_an_issue_request_is_bounded() -> None:
    good = {
        "case_id": "IPR-D1-RH-0001",
        "party_id": "BUYER 1/2",
        "party_role": "consignee",
        "display_name": "Buyer",
        "issued_by": "Anna Weber (anna.weber)",
    }
    assert case_access.NewCaseAccess(**good).valid_days == 14
    for bad in (
        {"valid_days": 0},
        {"valid_days": case_access.MAX_VALID_DAYS + 1},
        {"party_role": "rights_holder"},
        {"case_id": ""},
        {"extra": 1},
    ):
        with pytest.raises(ValidationError):
            case_access.NewCaseAccess(**{**good, **bad})
