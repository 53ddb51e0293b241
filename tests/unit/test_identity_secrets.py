"""Identity service: password and client-secret digests (verified by the provider too), signing-key rotation,
the bootstrap file's environment variables, and the administration's input checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.identity import keys, passwords
from services.identity.service import NewAccount, NewClient


def test_password_digest_round_trip_and_parameters_travel_with_it() -> None:
    digest = passwords.hash_password("correct horse battery staple", n=2**12)
    kind, n, r, p, salt, value = digest.split("$")
    assert (kind, n, r, p) == ("scrypt", "4096", "8", "1") and salt and value
    assert passwords.verify_password("correct horse battery staple", digest)
    assert not passwords.verify_password("correct horse battery stapler", digest)
    assert passwords.hash_password("same password 123", n=2**12) != passwords.hash_password(
        "same password 123", n=2**12
    )


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$x$8$1$AA$AA", "sha256$abc", "scrypt$16$8$1$!!$??"])
def test_unreadable_digests_never_verify(stored: str) -> None:
    assert passwords.verify_password("anything at all", stored) is False


def test_client_secrets_are_stored_as_digests() -> None:
    secret = passwords.new_client_secret()
    assert len(secret) >= 40
    digest = passwords.hash_client_secret(secret)
    assert digest.startswith("sha256$") and secret not in digest


@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaaaa"])
def test_weak_passwords_are_refused(weak: str) -> None:
    with pytest.raises(ValueError):
        passwords.check_password_strength(weak)


def test_rotation_publishes_both_keys_then_retires_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    (first,) = keys.ensure(path)
    assert first["kty"] == "RSA" and first["alg"] == "RS256" and "d" in first  # private: the provider signs
    assert "key_ops" not in first  # it also verifies with it (ID token hints at sign-out)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert keys.ensure(path) == [first]  # idempotent
    rotated = keys.rotate(path)
    assert [k["kid"] for k in rotated][1] == first["kid"] and rotated[0]["kid"] != first["kid"]
    assert [k["kid"] for k in keys.retire(path)] == [rotated[0]["kid"]]


def test_bootstrap_file_takes_secrets_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    from string import Template

    spec = (Path(__file__).resolve().parents[2] / "services" / "identity" / "platform.json").read_text()
    names = {m[1] or m[2] for m in Template.pattern.findall(spec)}
    assert {"IDENTITY_ADMIN_PASSWORD", "CLIENT_SECRET_CASE_WORKER", "WEB_PUBLIC_URL"} <= names
    values = {n: "https://ipr.example" if n.endswith("_URL") else f"value-of-{n.lower()}-0123456789" for n in names}
    data = json.loads(Template(spec).substitute(values))
    for client in data["clients"]:
        NewClient(**{k: v for k, v in client.items() if k != "secret"})
    for account in data["accounts"]:
        NewAccount(**account)
    assert data["clients"][3]["redirect_uris"] == ["https://ipr.example/auth/callback"]
    with pytest.raises(KeyError):
        Template(spec).substitute({})


def test_account_input_checks() -> None:
    ok = NewAccount(
        account_id="li.na",
        display_name="Li Na",
        role="officer",
        offices=["cn2200", "CN2200"],
        password="long enough password",
    )
    assert ok.offices == ["CN2200"]
    for bad in ({"account_id": "Li Na"}, {"role": "root"}, {"offices": ["not an office"]}, {"password": "short"}):
        with pytest.raises(ValidationError):
            NewAccount(
                **{
                    "account_id": "li.na",
                    "display_name": "Li Na",
                    "role": "officer",
                    "password": "long enough password",
                    **bad,
                }
            )
