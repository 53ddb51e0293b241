"""Bearer tokens -> principals; HMAC-signed rights-holder tokens."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from shared.auth import Authenticator, Principal, issue_holder_token

SECRET = "holder-secret-0123456789abcdef"
TOKENS = {
    "intake_api_token": "intake-token-0123456789",
    "officer_api_token": "officer-token-0123456789",
    "supervisor_api_token": "supervisor-token-0123456789",
    "service_api_token": "service-token-0123456789",
}


def _settings(holder_secret: str = SECRET, **overrides: str) -> SimpleNamespace:
    values = {**TOKENS, **overrides}
    return SimpleNamespace(
        **{k: SecretStr(v) for k, v in values.items()}, holder_token_secret=SecretStr(holder_secret)
    )


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator(_settings())


@pytest.mark.parametrize(
    ("field", "role"),
    [
        ("intake_api_token", "clearance_system"),
        ("officer_api_token", "officer"),
        ("supervisor_api_token", "supervisor"),
        ("service_api_token", "system"),
    ],
)
def test_static_tokens_map_to_their_role(auth: Authenticator, field: str, role: str) -> None:
    principal = auth.principal_for(TOKENS[field])
    assert principal == Principal(role=role)
    assert principal.holder_id is None
    assert principal.name == role


def test_holder_token_maps_to_rights_holder(auth: Authenticator) -> None:
    token = issue_holder_token(SECRET, "RH-0001")
    assert token.startswith("rh.RH-0001.")
    principal = auth.principal_for(token)
    assert principal == Principal(role="rights_holder", holder_id="RH-0001")
    assert principal.name == "rights_holder:RH-0001"


def test_holder_tokens_are_deterministic_and_per_holder() -> None:
    assert issue_holder_token(SECRET, "RH-0001") == issue_holder_token(SECRET, "RH-0001")
    assert issue_holder_token(SECRET, "RH-0001") != issue_holder_token(SECRET, "RH-0002")
    assert issue_holder_token(SECRET, "RH-0001") != issue_holder_token(SECRET + "x", "RH-0001")
    sig = issue_holder_token(SECRET, "RH-0001").split(".")[2]
    assert len(sig) == 40 and all(c in "0123456789abcdef" for c in sig)


def _flip_last(s: str) -> str:
    return s[:-1] + ("0" if s[-1] != "0" else "1")


def test_tampered_signature_is_refused(auth: Authenticator) -> None:
    token = issue_holder_token(SECRET, "RH-0001")
    assert auth.principal_for(_flip_last(token)) is None
    assert auth.principal_for(token[:-1]) is None  # truncated
    assert auth.principal_for(token + "0") is None  # extended
    assert auth.principal_for(token.upper().replace("RH.", "rh.", 1)) is None  # hex case changed


def test_another_holders_signature_with_swapped_id_is_refused(auth: Authenticator) -> None:
    sig_of_0001 = issue_holder_token(SECRET, "RH-0001").split(".")[2]
    assert auth.principal_for(f"rh.RH-0002.{sig_of_0001}") is None


def test_token_signed_with_another_secret_is_refused(auth: Authenticator) -> None:
    assert auth.principal_for(issue_holder_token("some-other-secret-0123456789", "RH-0001")) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        " ",
        "unknown-token-0123456789",
        "intake-token-012345678",  # prefix of a real token
        "intake-token-01234567890",  # real token + 1 char
        "INTAKE-TOKEN-0123456789",
        "rh.",
        "rh..",
        "rh.RH-0001",
        "rh.RH-0001.",
        "RH.RH-0001.0000",
        "Bearer intake-token-0123456789",
    ],
)
def test_empty_or_unknown_tokens_are_refused(auth: Authenticator, token: str) -> None:
    assert auth.principal_for(token) is None


def test_empty_holder_id_with_its_own_signature_is_refused(auth: Authenticator) -> None:
    import hashlib
    import hmac

    sig = hmac.new(SECRET.encode(), b"rights-holder:", hashlib.sha256).hexdigest()[:40]
    assert auth.principal_for(f"rh..{sig}") is None


def test_token_with_extra_dot_segment_is_refused(auth: Authenticator) -> None:
    token = issue_holder_token(SECRET, "RH-0001")
    assert auth.principal_for(token + ".extra") is None
    assert auth.principal_for("rh.RH.0001." + token.split(".")[2]) is None


def test_non_ascii_token_is_refused_not_crashing(auth: Authenticator) -> None:
    assert auth.principal_for("officer-token-０123456789") is None
    assert auth.principal_for("rh.ＲＨ.abc") is None


@pytest.mark.parametrize("holder_id", ["", "RH.0001", ".", "RH-0001."])
def test_issue_holder_token_refuses_bad_ids(holder_id: str) -> None:
    with pytest.raises(ValueError):
        issue_holder_token(SECRET, holder_id)
