"""Access-token validation: the bad-token matrix, key rotation, clock skew, claim mapping, office scoping.

Keys are generated here; the JWKS "endpoint" is a function the cache calls, counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.auth import (
    Authenticator,
    JwksCache,
    Principal,
    TokenError,
    TokenValidator,
    may_act_on_office,
    require,
    require_office,
)
from shared.settings import AuthSettings

ISSUER = "https://id.customs.example"
AUDIENCE = "urn:ipr:api"


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private, kid: str) -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256"}


class Issuer:
    """Signs tokens and serves its JWKS to the cache (counting fetches)."""

    def __init__(self) -> None:
        self.keys = {"k1": _rsa()}
        self.published = ["k1"]
        self.fetches = 0
        self.down = False

    async def jwks(self) -> dict:
        self.fetches += 1
        if self.down:
            raise httpx.ConnectError("issuer down")
        return {"keys": [_jwk(self.keys[k], k) for k in self.published]}

    def token(self, kid: str = "k1", *, key=None, headers: dict | None = None, **claims) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "wang.wei",
            "iat": now,
            "exp": now + 300,
            "role": "officer",
            "name": "Wang Wei",
            "offices": ["CN5300"],
            "client_id": "console",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.keys[kid], algorithm="RS256", headers={"kid": kid, **(headers or {})})


def _settings(**overrides) -> AuthSettings:
    return AuthSettings(oidc_issuer=ISSUER, oidc_jwks_min_refresh_s=0, **overrides)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def validator(issuer: Issuer) -> TokenValidator:
    s = _settings()
    return TokenValidator(s, JwksCache(issuer.jwks, ttl_s=600, min_refresh_s=0))


async def _reason(validator: TokenValidator, token: str) -> str:
    with pytest.raises(TokenError) as err:
        await validator.authenticate(token)
    return err.value.code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(header: dict, claims: dict, signature: bytes = b"") -> str:
    h, c = _b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode())
    return f"{h}.{c}.{_b64(signature)}"


# ---------------------------------------------------------------- accepted


async def test_a_valid_token_maps_to_the_principal(issuer: Issuer, validator: TokenValidator) -> None:
    who = await validator.authenticate(issuer.token())
    assert who == Principal(
        sub="wang.wei", role="officer", name="Wang Wei", offices=frozenset({"CN5300"}), client_id="console"
    )
    assert who.actor == "Wang Wei (wang.wei)"
    assert who.actor_ref() == {"sub": "wang.wei", "name": "Wang Wei", "role": "officer"}
    assert who.acting_for("Li Na (li.na)") == "Wang Wei (wang.wei) for Li Na (li.na)"


async def test_holder_party_and_case_claims(issuer: Issuer, validator: TokenValidator) -> None:
    holder = await validator.authenticate(
        issuer.token(sub="nike.ip", role="rights_holder", holder_id="RH-0001", offices=None)
    )
    assert (holder.role, holder.holder_id, holder.offices) == ("rights_holder", "RH-0001", frozenset())
    party = await validator.authenticate(
        issuer.token(sub="swift", role="party", party_id="91440300MA5XXXX1", case_id="IPR-X-L1")
    )
    assert (party.party_id, party.case_id) == ("91440300MA5XXXX1", "IPR-X-L1")


async def test_a_machine_token_without_name_is_named_by_its_subject(issuer: Issuer, validator: TokenValidator) -> None:
    who = await validator.authenticate(
        issuer.token(sub="clearance-sw", role="clearance_system", name=None, offices=None, client_id="clearance-sw")
    )
    assert who.actor == "clearance-sw" and who.client_id == "clearance-sw"


# ---------------------------------------------------------------- the bad-token matrix


async def test_expired(issuer: Issuer, validator: TokenValidator) -> None:
    now = int(time.time())
    assert await _reason(validator, issuer.token(iat=now - 900, exp=now - 120)) == "token_expired"


async def test_clock_skew_is_tolerated_both_ways(issuer: Issuer, validator: TokenValidator) -> None:
    now = int(time.time())
    assert await validator.authenticate(issuer.token(iat=now - 600, exp=now - 20))  # 20 s late, skew 30 s
    assert await validator.authenticate(issuer.token(nbf=now + 20, iat=now + 20))  # 20 s early
    assert await _reason(validator, issuer.token(nbf=now + 120)) == "token_not_yet_valid"
    assert await _reason(validator, issuer.token(iat=now + 120, exp=now + 600)) == "token_not_yet_valid"


async def test_wrong_audience_and_issuer(issuer: Issuer, validator: TokenValidator) -> None:
    assert await _reason(validator, issuer.token(aud="console")) == "wrong_audience"  # e.g. an ID token
    assert await _reason(validator, issuer.token(aud=["urn:other:api"])) == "wrong_audience"
    assert await _reason(validator, issuer.token(iss="https://evil.example")) == "wrong_issuer"
    assert await _reason(validator, issuer.token(iss=ISSUER + "/")) == "wrong_issuer"


async def test_forged_signature(issuer: Issuer, validator: TokenValidator) -> None:
    assert await _reason(validator, issuer.token(key=_rsa())) == "bad_signature"  # right kid, another key
    good = issuer.token()
    head, body, sig = good.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(body + "=="))
    tampered["role"] = "supervisor"
    assert await _reason(validator, f"{head}.{_b64(json.dumps(tampered).encode())}.{sig}") == "bad_signature"


async def test_alg_none(issuer: Issuer, validator: TokenValidator) -> None:
    claims = jwt.decode(issuer.token(), options={"verify_signature": False})
    for alg in ("none", "None", "NONE"):
        assert await _reason(validator, _hand_made({"alg": alg, "kid": "k1"}, claims)) == "alg_none"


async def test_hs_rs_confusion_is_refused(issuer: Issuer, validator: TokenValidator) -> None:
    """The public key used as an HMAC secret: the classic algorithm-confusion forgery."""
    claims = jwt.decode(issuer.token(), options={"verify_signature": False})
    pem = (
        issuer.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
        header = {"alg": alg, "kid": "k1", "typ": "JWT"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = hmac.new(pem, signing_input.encode(), digest).digest()
        assert await _reason(validator, f"{signing_input}.{_b64(sig)}") == "alg_not_allowed"


async def test_an_accepted_algorithm_with_the_wrong_key_type_is_refused(issuer: Issuer) -> None:
    s = _settings(oidc_algorithms=["RS256", "ES256"])
    v = TokenValidator(s, JwksCache(issuer.jwks, min_refresh_s=0))
    claims = jwt.decode(issuer.token(), options={"verify_signature": False})
    es = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "k1"})
    assert await _reason(v, es) in ("alg_not_allowed", "bad_signature")


async def test_unknown_key(issuer: Issuer, validator: TokenValidator) -> None:
    issuer.keys["k9"] = _rsa()  # signs with a key it never published
    assert await _reason(validator, issuer.token("k9")) == "unknown_key"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "Bearer x.y.z",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "." * 2,
        _b64(b"not json") + ".e30.sig",
        "x" * 9000,
    ],
)
async def test_malformed(validator: TokenValidator, token: str) -> None:
    assert await _reason(validator, token) == "malformed_token"


async def test_missing_subject_or_expiry(issuer: Issuer, validator: TokenValidator) -> None:
    assert await _reason(validator, issuer.token(sub=None)) == "missing_claim"
    assert await _reason(validator, issuer.token(exp=None)) == "missing_claim"


async def test_no_platform_role(issuer: Issuer, validator: TokenValidator) -> None:
    assert await _reason(validator, issuer.token(role=None)) == "unknown_role"
    assert await _reason(validator, issuer.token(role="superuser")) == "unknown_role"


# ---------------------------------------------------------------- keys: cache, rotation, rate limit


async def test_keys_are_cached_and_rotation_is_picked_up_on_an_unknown_kid(
    issuer: Issuer, validator: TokenValidator
) -> None:
    for _ in range(5):
        await validator.authenticate(issuer.token())
    assert issuer.fetches == 1
    issuer.keys["k2"] = _rsa()
    issuer.published = ["k2", "k1"]  # rotation: the new key signs, the old one is still published
    assert (await validator.authenticate(issuer.token("k2"))).sub == "wang.wei"
    assert issuer.fetches == 2
    assert await validator.authenticate(issuer.token("k1"))  # tokens signed before the rotation still pass
    assert issuer.fetches == 2
    issuer.published = ["k2"]  # the old key retired
    fresh = TokenValidator(_settings(), JwksCache(issuer.jwks, min_refresh_s=0))
    assert await _reason(fresh, issuer.token("k1")) == "unknown_key"


async def test_unknown_kids_do_not_hammer_the_issuer() -> None:
    issuer = Issuer()
    clock = [1000.0]
    v = TokenValidator(_settings(), JwksCache(issuer.jwks, min_refresh_s=10, clock=lambda: clock[0]))
    await v.authenticate(issuer.token())
    issuer.keys["kx"] = _rsa()
    clock[0] += 11
    for _ in range(20):
        assert await _reason(v, issuer.token("kx")) == "unknown_key"
    assert issuer.fetches == 2  # one refetch for the unknown kid, then rate-limited
    clock[0] += 11
    issuer.published.append("kx")
    assert await v.authenticate(issuer.token("kx"))
    assert issuer.fetches == 3


async def test_stale_keys_are_refetched_and_kept_when_the_issuer_is_down() -> None:
    issuer = Issuer()
    clock = [0.0]
    v = TokenValidator(_settings(), JwksCache(issuer.jwks, ttl_s=60, min_refresh_s=1, clock=lambda: clock[0]))
    await v.authenticate(issuer.token())
    clock[0] += 61
    issuer.down = True
    assert await v.authenticate(issuer.token())  # the cached key still verifies
    assert issuer.fetches == 2


async def test_issuer_unreachable_without_cached_keys() -> None:
    from shared.auth import IssuerUnavailable

    issuer = Issuer()
    issuer.down = True
    v = TokenValidator(_settings(), JwksCache(issuer.jwks, min_refresh_s=0))
    with pytest.raises(IssuerUnavailable):
        await v.authenticate(issuer.token())


async def test_a_key_not_yet_fetched_while_the_issuer_is_down_is_unavailable_not_unknown() -> None:
    """A service restarted while the issuer was down has no keys; a request moments later (inside the refresh
    rate limit) must answer 503, which callers retry, not 401 unknown_key, which they take as final."""
    from shared.auth import IssuerUnavailable

    issuer = Issuer()
    clock = [0.0]
    v = TokenValidator(_settings(), JwksCache(issuer.jwks, min_refresh_s=10, clock=lambda: clock[0]))
    issuer.down = True
    for _ in range(2):  # the first asks the issuer, the second is inside the rate limit
        with pytest.raises(IssuerUnavailable):
            await v.authenticate(issuer.token())
        clock[0] += 1
    assert issuer.fetches == 1
    issuer.down = False
    clock[0] += 10
    assert await v.authenticate(issuer.token())  # back: verified


async def test_an_unknown_key_while_the_issuer_is_down_is_unavailable_and_after_it_answers_unknown() -> None:
    from shared.auth import IssuerUnavailable

    issuer = Issuer()
    clock = [0.0]
    v = TokenValidator(_settings(), JwksCache(issuer.jwks, min_refresh_s=1, clock=lambda: clock[0]))
    assert await v.authenticate(issuer.token())
    issuer.down = True
    clock[0] += 2
    with pytest.raises(IssuerUnavailable):
        await v.authenticate(issuer.token(kid="rotated-key", key=issuer.keys["k1"]))
    assert await v.authenticate(issuer.token())  # the cached key still verifies its tokens
    issuer.down = False
    clock[0] += 2
    with pytest.raises(TokenError) as refused:
        await v.authenticate(issuer.token(kid="rotated-key", key=issuer.keys["k1"]))
    assert refused.value.code == "unknown_key"


# ---------------------------------------------------------------- claim mapping of other providers


async def test_keycloak_realm_roles_with_a_role_map(issuer: Issuer) -> None:
    s = _settings(
        oidc_role_claim="realm_access.roles",
        oidc_role_map={"ipr-supervisor": "supervisor"},
        oidc_offices_claim="customs_offices",
        oidc_name_claim="preferred_username",
    )
    v = TokenValidator(s, JwksCache(issuer.jwks, min_refresh_s=0))
    who = await v.authenticate(
        issuer.token(
            role=None,
            realm_access={"roles": ["offline_access", "ipr-supervisor"]},
            customs_offices="CN5300 CN2200",
            preferred_username="zhang.min",
        )
    )
    assert (who.role, who.offices, who.name) == ("supervisor", frozenset({"CN5300", "CN2200"}), "zhang.min")


async def test_azure_app_roles_and_azp(issuer: Issuer) -> None:
    s = _settings(oidc_role_claim="roles", oidc_role_map={"Customs.Officer": "officer"}, oidc_client_id_claim="azp")
    v = TokenValidator(s, JwksCache(issuer.jwks, min_refresh_s=0))
    who = await v.authenticate(issuer.token(role=None, roles=["Customs.Officer"], azp="app-123", client_id=None))
    assert (who.role, who.client_id) == ("officer", "app-123")


def test_settings_refuse_symmetric_algorithms_and_unknown_roles() -> None:
    with pytest.raises(ValueError):
        _settings(oidc_algorithms=["RS256", "HS256"])
    with pytest.raises(ValueError):
        _settings(oidc_algorithms="none")
    with pytest.raises(ValueError):
        _settings(oidc_role_map={"x": "root"})
    assert _settings(oidc_algorithms="RS256,PS256").oidc_algorithms == ["RS256", "PS256"]


# ---------------------------------------------------------------- office scoping


def _p(role: str, offices: tuple[str, ...] = ()) -> Principal:
    return Principal(sub="u", role=role, offices=frozenset(offices))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("who", "office", "ok"),
    [
        (_p("officer", ("CN5300",)), "CN5300", True),
        (_p("officer", ("CN5300",)), "CN2200", False),
        (_p("officer", ("CN5300", "CN2200")), "CN2200", True),
        (_p("officer"), "CN5300", False),
        (_p("officer", ("CN5300",)), None, False),
        (_p("supervisor"), "CN2200", True),
        (_p("system"), "CN2200", True),
        (_p("rights_holder"), "CN5300", False),
        (_p("administrator"), "CN5300", False),
    ],
)
def test_office_scoping(who: Principal, office: str | None, ok: bool) -> None:
    assert may_act_on_office(who, office) is ok


def test_require_office_answers_403_with_the_reason() -> None:
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as err:
        require_office(_p("officer", ("CN5300",)), "CN2200")
    assert err.value.status_code == 403 and err.value.detail["code"] == "outside_office"
    require_office(_p("officer", ("CN5300",)), "CN5300")
    require_office(_p("rights_holder"), "CN2200")  # holders are scoped by holder id, not office


# ---------------------------------------------------------------- the FastAPI dependency


def _app(issuer: Issuer) -> FastAPI:
    from shared.web import error_body

    app = FastAPI()
    app.state.authenticator = Authenticator(_settings(), fetch=issuer.jwks)

    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(_, exc):
        return JSONResponse(
            error_body(exc.detail["code"], exc.detail["message"]),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.get("/officer")
    async def officer(who: Annotated[Principal, Depends(require("officer"))]) -> dict:
        return {"sub": who.sub, "role": who.role}

    return app


def test_dependency_answers_401_with_reason_and_403_for_role(issuer: Issuer) -> None:
    client = TestClient(_app(issuer))
    assert client.get("/officer").json()["error"]["code"] == "missing_token"
    r = client.get("/officer", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "malformed_token"
    now = int(time.time())
    r = client.get("/officer", headers={"Authorization": f"Bearer {issuer.token(exp=now - 100, iat=now - 400)}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    r = client.get("/officer", headers={"Authorization": f"Bearer {issuer.token(role='rights_holder')}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_role"
    r = client.get("/officer", headers={"Authorization": f"Bearer {issuer.token(role='supervisor')}"})
    assert r.status_code == 200 and r.json() == {"sub": "wang.wei", "role": "supervisor"}  # supervisor implies officer


# ---------------------------------------------------------------- service tokens (client credentials)


async def test_service_token_is_reused_then_refreshed_before_expiry(monkeypatch) -> None:
    from shared import service_auth
    from shared.service_auth import ServiceToken

    issued: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/token"
        assert b"grant_type=client_credentials" in request.content and b"resource=urn%3Aipr%3Aapi" in request.content
        assert request.headers["authorization"].startswith("Basic ")
        issued.append(f"t{len(issued) + 1}")
        return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 300, "token_type": "Bearer"})

    real = httpx.AsyncClient
    monkeypatch.setattr(
        service_auth.httpx, "AsyncClient", lambda **kw: real(transport=httpx.MockTransport(handler), **kw)
    )
    clock = [0.0]
    auth = ServiceToken(
        issuer=ISSUER,
        client_id="case-worker",
        client_secret="s" * 20,
        token_url=f"{ISSUER}/token",
        clock=lambda: clock[0],
    )
    assert await auth.token() == "t1"
    clock[0] = 200
    assert await auth.token() == "t1"  # 100 s left, margin 60 s
    clock[0] = 241
    assert await auth.token() == "t2"  # within the margin: fetched again
    assert await auth.token(force=True) == "t2"  # a forced refetch right after a fetch is held back
    clock[0] = 250
    assert await auth.token(force=True) == "t3"
    assert auth.fetches == 3


def test_a_principal_has_no_static_token_path() -> None:
    """The static tokens are gone: settings no longer know them."""
    fields = set(AuthSettings.model_fields)
    assert not fields & {
        "intake_api_token",
        "officer_api_token",
        "supervisor_api_token",
        "service_api_token",
        "holder_token_secret",
    }
