"""check_secret: short or placeholder secrets are refused at start."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from shared.settings import AuthSettings, ClientCredentialsSettings, check_secret

GOOD = "a-real-secret-16"  # exactly 16 characters


def test_none_passes_through() -> None:
    assert check_secret(None, "X") is None


def test_sixteen_characters_is_enough() -> None:
    assert len(GOOD) == 16
    value = SecretStr(GOOD)
    assert check_secret(value, "X") is value


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "short",
        "fifteen-chars-x",
        "changeme",
        "CHANGEME",
        "change-me",
        "secret",
        "Password",
        "token",
        "test",
        "xxx",
        "XXX",
    ],
)
def test_short_or_placeholder_secrets_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="MY_SECRET must be a real secret of at least 16 characters"):
        check_secret(SecretStr(raw), "MY_SECRET")


def test_secret_value_is_not_leaked_in_the_error() -> None:
    with pytest.raises(ValueError) as info:
        check_secret(SecretStr("hunter2"), "HOLDER_TOKEN_SECRET")
    assert "hunter2" not in str(info.value)


def test_auth_settings_need_an_issuer_and_refuse_unsigned_algorithms() -> None:
    with pytest.raises(ValidationError, match="oidc_issuer"):
        AuthSettings()
    with pytest.raises(ValidationError, match="never accepted"):
        AuthSettings(oidc_issuer="https://id.example", oidc_algorithms=["none"])


def test_client_credentials_refuse_a_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="OIDC_CLIENT_SECRET"):
        ClientCredentialsSettings(oidc_client_id="case-worker", oidc_client_secret="changeme")
    ok = ClientCredentialsSettings(oidc_client_id="case-worker", oidc_client_secret="a-real-secret-16")
    assert ok.oidc_client_secret.get_secret_value() == GOOD
