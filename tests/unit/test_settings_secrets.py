"""check_secret: short or placeholder secrets are refused at start."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from shared.settings import AuthSettings, check_secret

GOOD = "a-real-secret-16"  # exactly 16 characters


def test_none_passes_through() -> None:
    assert check_secret(None, "X") is None


def test_sixteen_characters_is_enough() -> None:
    assert len(GOOD) == 16
    value = SecretStr(GOOD)
    assert check_secret(value, "X") is value


@pytest.mark.parametrize(
    "raw",
    ["", "short", "fifteen-chars-x", "changeme", "CHANGEME", "change-me", "secret", "Password", "token", "test",
     "xxx", "XXX"],
)
def test_short_or_placeholder_secrets_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="MY_SECRET must be a real secret of at least 16 characters"):
        check_secret(SecretStr(raw), "MY_SECRET")


def test_secret_value_is_not_leaked_in_the_error() -> None:
    with pytest.raises(ValueError) as info:
        check_secret(SecretStr("hunter2"), "HOLDER_TOKEN_SECRET")
    assert "hunter2" not in str(info.value)


_FIELDS = ("intake_api_token", "officer_api_token", "supervisor_api_token", "service_api_token",
           "holder_token_secret")


def _values(**overrides: str) -> dict[str, str]:
    return {**{f: f"{f}-0123456789abcdef" for f in _FIELDS}, **overrides}


def test_auth_settings_accept_real_secrets() -> None:
    s = AuthSettings(**_values())
    assert s.officer_api_token.get_secret_value() == "officer_api_token-0123456789abcdef"


@pytest.mark.parametrize("field", _FIELDS)
def test_auth_settings_refuse_a_placeholder_in_any_field(field: str) -> None:
    with pytest.raises(ValidationError, match=field.upper()):
        AuthSettings(**_values(**{field: "changeme"}))
