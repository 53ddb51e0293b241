"""Identity against the running provider: machine tokens, office scoping, four eyes, disabled accounts and clients,
key rotation, and the bad-token matrix against real services."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel

from deploy.local import stack as stack_mod
from deploy.local import tokens as tokens_mod
from services.identity import keys as keys_mod
from shared.contracts.errors import ErrorBody
from shared.contracts.identity import (
    AccountChanged,
    AccountView,
    AccountWithHistory,
    AuditEntryView,
    ClientCreated,
    ClientView,
    ClientWithSecret,
    HolderChanged,
    HolderView,
    Me,
)
from tests.factories import example_declaration, example_recordation
from tests.helpers import case_in_state, eventually, unique_id

# A service fetches the issuer's keys again on an unknown kid at most once per OIDC_JWKS_MIN_REFRESH_S (10 s).
JWKS_REFRESH_WINDOW_S = 15

pytestmark = pytest.mark.integration


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def _declare(http, stack, **changes) -> dict:
    body = example_declaration(declaration_id=unique_id("CN5300-ID"), **changes)
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert r.status_code == 202, r.text
    return body


async def _admin(
    http,
    stack,
    method: str,
    path: str,
    body: dict | None = None,
    who: str = "administrator",
):
    return await http.request(method, f"{stack.url('identity')}{path}", json=body, headers=stack.auth(who))


# ---------------------------------------------------------------- machines


async def test_a_clearance_system_declares_with_client_credentials(http, stack) -> None:
    token = tokens_mod.client_credentials(stack.issuer, "clearance-express", stack.client_secret("clearance-express"))
    claims = _claims(token.access_token)
    assert (claims["sub"], claims["role"], claims["client_id"], claims["aud"]) == (
        "clearance-express",
        "clearance_system",
        "clearance-express",
        "urn:ipr:api",
    )
    assert claims["exp"] - claims["iat"] <= 300
    body = example_declaration(declaration_id=unique_id("CN5300-CC"))
    headers = {"Authorization": f"Bearer {token.access_token}"}
    assert (await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=headers)).status_code == 202
    # the same token is no officer
    refused = await http.get(f"{stack.url('cases')}/v1/cases", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_role"
    # a wrong secret gets no token
    with pytest.raises(tokens_mod.SignInFailed, match="invalid_client"):
        tokens_mod.client_credentials(stack.issuer, "clearance-express", "not-the-secret-0123456789")


async def test_the_case_worker_acts_on_behalf_of_the_officer(http, stack) -> None:
    """The worker's token is its own (client credentials); the step services name the officer it acts for."""
    body = await _declare(http, stack)
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    case = await case_in_state(http, stack, case_id, "suspended")
    notices = await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    notice = notices.json()[0]
    r = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={"decision": "no_detention"},
    )
    assert r.status_code in (200, 201)
    released = await case_in_state(http, stack, case_id, "released")
    replied = next(h for h in released["history"] if h["event"] == "holder_replied")
    assert replied["detail"]["by"] == "Nike brand protection (nike.ip)"
    hold = (await http.get(f"{stack.url('holds')}/v1/holds/{case['hold_id']}", headers=stack.auth("officer"))).json()
    assert {h["actor"] for h in hold["history"]} == {"IPR case worker (case-worker)"}
    assert notice["issued_by"] == "IPR case worker (case-worker)"


# ---------------------------------------------------------------- offices, holders, parties


async def test_an_officer_acts_only_on_cases_of_its_office(http, stack) -> None:
    body = await _declare(http, stack, customs_office="CN2200")  # Shanghai
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    await case_in_state(http, stack, case_id, "suspended", who="officer_b")
    url = f"{stack.url('cases')}/v1/cases/{case_id}"
    other = await http.get(url, headers=stack.auth("officer"))  # Shenzhen
    assert other.status_code == 403 and other.json()["error"]["code"] == "outside_office"
    act = await http.post(f"{url}/disposal-facts", json={"holder_buys": True}, headers=stack.auth("officer"))
    assert act.status_code == 403 and act.json()["error"]["code"] == "outside_office"
    assert (await http.get(url, headers=stack.auth("supervisor"))).status_code == 200
    listed = (
        await http.get(
            f"{stack.url('cases')}/v1/cases?declaration_id={body['declaration_id']}", headers=stack.auth("officer")
        )
    ).json()
    assert listed == []
    listed_b = (
        await http.get(
            f"{stack.url('cases')}/v1/cases?declaration_id={body['declaration_id']}", headers=stack.auth("officer_b")
        )
    ).json()
    assert [c["case_id"] for c in listed_b] == [case_id] and listed_b[0]["customs_office"] == "CN2200"
    ok = await http.post(f"{url}/disposal-facts", json={"holder_buys": True}, headers=stack.auth("officer_b"))
    assert ok.status_code == 202
    case = await eventually(
        lambda: _history_has(http, stack, case_id, "disposal_facts_recorded"), what="disposal facts in the history"
    )
    entry = next(h for h in case["history"] if h["event"] == "disposal_facts_recorded")
    assert entry["detail"]["by"] == "Li Na (li.na)"
    assert entry["detail"]["actor"] == {"sub": "li.na", "name": "Li Na", "role": "officer"}
    # an officer does not open cases ex officio on another office's declarations either
    opened = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("officer"),
        json={"declaration_id": body["declaration_id"], "line_no": 2, "recordation_id": "CN-T-2019-004211"},
    )
    assert opened.status_code == 403 and opened.json()["error"]["code"] == "outside_office"


async def _history_has(http, stack, case_id: str, event: str):
    case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("supervisor"))).json()
    return case if any(h["event"] == event for h in case["history"]) else None


async def test_a_declarant_sees_only_its_own_cases(http, stack) -> None:
    mine = await _declare(http, stack)  # declared by Shenzhen Swift Forwarding, the demo party
    theirs = await _declare(http, stack, declarant={"id": "91440300MA5ZZZZ9", "name": "Another Broker Ltd"})
    mine_id, theirs_id = f"IPR-{mine['declaration_id']}-RH-0001", f"IPR-{theirs['declaration_id']}-RH-0001"
    await case_in_state(http, stack, theirs_id, "suspended")
    seen = await case_in_state(http, stack, mine_id, "suspended", who="party")
    assert seen["case_id"] == mine_id
    # the holder's guarantee is between customs and the holder: a party does not see it
    officers = (await http.get(f"{stack.url('cases')}/v1/cases/{mine_id}", headers=stack.auth("officer"))).json()
    assert "required_guarantee_cny" in officers and "guarantee_status" in officers
    assert not {"required_guarantee", "required_guarantee_cny", "guarantee_status"} & set(seen)
    assert all(h["detail"] == {} for h in seen["history"] if "guarantee" in h["event"])
    # nor why the goods were targeted (the holder's genuine prices, the score)
    opened = next(h for h in seen["history"] if h["event"] == "case_opened")
    assert "reasons" not in opened["detail"] and "score" not in opened["detail"]
    assert next(h for h in officers["history"] if h["event"] == "case_opened")["detail"]["reasons"]
    hidden = await http.get(f"{stack.url('cases')}/v1/cases/{theirs_id}", headers=stack.auth("party"))
    assert hidden.status_code == 404
    listed = (await http.get(f"{stack.url('cases')}/v1/cases?limit=500", headers=stack.auth("party"))).json()
    ids = {c["case_id"] for c in listed}
    assert mine_id in ids and theirs_id not in ids
    # a party does not instruct the case as an officer would
    r = await http.post(f"{stack.url('cases')}/v1/cases/{mine_id}/disposal-facts", json={}, headers=stack.auth("party"))
    assert r.status_code == 403


async def test_a_holder_sees_only_its_own_recordations(http, stack) -> None:
    base = f"{stack.url('risk')}/v1/recordations"
    own = (await http.get(base, headers=stack.auth("holder"))).json()
    assert own and {r["holder"]["id"] for r in own} == {"RH-0001"}
    filtered = (await http.get(f"{base}?holder_id=RH-0002", headers=stack.auth("holder"))).json()
    assert {r["holder"]["id"] for r in filtered} <= {"RH-0001"}
    assert (await http.get(f"{base}/CN-T-2016-001877", headers=stack.auth("holder"))).status_code == 404  # adidas
    assert (await http.get(f"{base}/CN-T-2019-004211", headers=stack.auth("holder"))).status_code == 200


# ---------------------------------------------------------------- four eyes


async def test_the_proposer_cannot_approve_a_recordation(http, stack) -> None:
    stack.ensure_account("test.supervisor.b", role="supervisor", display_name="Second Supervisor", offices=["CN5300"])
    rid = unique_id("CN-T-4E")
    rec = example_recordation(recordation_id=rid, status="pending", title=unique_id("MARK"), aliases=[])
    created = await http.post(f"{stack.url('risk')}/v1/recordations", json=rec, headers=stack.auth("supervisor"))
    assert created.status_code == 201, created.text
    url = f"{stack.url('risk')}/v1/recordations/{rid}"
    same = await http.post(f"{url}/approve", json={}, headers=stack.auth("supervisor"))
    assert same.status_code == 409 and same.json()["error"]["code"] == "same_person"
    officer = await http.post(f"{url}/approve", json={}, headers=stack.auth("officer"))
    assert officer.status_code == 403
    second = await http.post(f"{url}/approve", json={}, headers=stack.auth("test.supervisor.b"))
    assert second.status_code == 200 and second.json()["status"] == "active"
    history = (await http.get(url, headers=stack.auth("officer"))).json()["history"]
    assert [(h["event"], h["actor_sub"]) for h in history] == [
        ("created", "zhang.min"),
        ("approved", "test.supervisor.b"),
    ]
    assert history[1]["actor"] == "Second Supervisor (test.supervisor.b)"


# ---------------------------------------------------------------- disabled accounts and clients


async def test_a_disabled_holder_user_is_refused_at_sign_in_and_at_refresh(http, stack) -> None:
    holder = unique_id("RH")
    stack.ensure_holder(holder)
    account = f"user.{holder.lower()}"
    stack.ensure_account(account, role="rights_holder", display_name="Soon Disabled", holder_id=holder)
    tokens = tokens_mod.sign_in(stack.issuer, account, stack.password)
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    assert _claims(tokens.access_token)["holder_id"] == holder and tokens.refresh_token
    assert (await http.get(f"{stack.url('cases')}/v1/cases", headers=headers)).status_code == 200

    r = await _admin(
        http, stack, "POST", f"/v1/accounts/{account}/disable", {"reason": "left the company"}, who="supervisor"
    )
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["revoked"] >= 1
    with pytest.raises(tokens_mod.SignInFailed, match="disabled"):
        tokens_mod.sign_in(stack.issuer, account, stack.password)
    with pytest.raises(tokens_mod.SignInFailed, match="invalid_grant"):
        tokens_mod.refresh(stack.issuer, tokens.refresh_token)
    # an access token already issued lapses within its lifetime (at most five minutes)
    claims = _claims(tokens.access_token)
    assert claims["exp"] - claims["iat"] <= 300

    history = (await _admin(http, stack, "GET", f"/v1/accounts/{account}")).json()["history"]
    assert [(h["action"], h["actor"]["sub"]) for h in history][-1] == ("account.disabled", "zhang.min")
    assert (await _admin(http, stack, "POST", f"/v1/accounts/{account}/enable", {})).status_code == 200
    again = tokens_mod.sign_in(stack.issuer, account, stack.password)

    # disabling the holder itself locks out all of its users
    disabled = await _admin(http, stack, "POST", f"/v1/holders/{holder}/disable", {"reason": "unverified"})
    assert disabled.status_code == 200
    with pytest.raises(tokens_mod.SignInFailed, match="not .or no longer. verified"):
        tokens_mod.sign_in(stack.issuer, account, stack.password)
    with pytest.raises(tokens_mod.SignInFailed):
        tokens_mod.refresh(stack.issuer, again.refresh_token)


async def test_a_disabled_client_gets_no_new_token(http, stack) -> None:
    secret = stack.client_secret("clearance-express")
    assert tokens_mod.client_credentials(stack.issuer, "clearance-express", secret)
    disabled = await _admin(http, stack, "POST", "/v1/clients/clearance-express/disable", {"reason": "test"})
    assert disabled.status_code == 200
    try:
        with pytest.raises(tokens_mod.SignInFailed, match="invalid_client"):
            tokens_mod.client_credentials(stack.issuer, "clearance-express", secret)
    finally:
        assert (await _admin(http, stack, "POST", "/v1/clients/clearance-express/enable", {})).status_code == 200
    assert tokens_mod.client_credentials(stack.issuer, "clearance-express", secret)


async def test_administration_is_for_supervisors_and_administrators(http, stack) -> None:
    body = {
        "account_id": unique_id("x").lower(),
        "display_name": "X",
        "role": "officer",
        "offices": ["CN5300"],
        "password": stack.password,
    }
    assert (await _admin(http, stack, "POST", "/v1/accounts", body, who="officer")).status_code == 403
    assert (await _admin(http, stack, "GET", "/v1/accounts", who="holder")).status_code == 403
    promoted = {**body, "role": "administrator"}
    r = await _admin(http, stack, "POST", "/v1/accounts", promoted, who="supervisor")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_your_to_manage"
    r = await _admin(http, stack, "POST", "/v1/accounts", {**body, "offices": []}, who="supervisor")
    assert r.status_code == 422 and r.json()["error"]["code"] == "offices_required"
    r = await _admin(http, stack, "POST", "/v1/accounts", body, who="supervisor")
    assert r.status_code == 201 and r.json()["offices"] == ["CN5300"]
    assert (await _admin(http, stack, "POST", "/v1/accounts", body, who="supervisor")).status_code == 409
    audit = (await _admin(http, stack, "GET", f"/v1/audit?target_id={body['account_id']}")).json()
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("account.created", {"sub": "zhang.min", "name": "Zhang Min"})
    ]
    r = await _admin(http, stack, "POST", "/v1/accounts/chen.jie/disable", {})
    assert r.status_code == 409 and r.json()["error"]["code"] == "cannot_disable_self"
    me = (await _admin(http, stack, "GET", "/v1/me", who="officer_b")).json()
    assert (me["sub"], me["role"], me["offices"]) == ("li.na", "officer", ["CN2200"])


def _documented(model: type[BaseModel], answer: dict, *, absent: frozenset[str] = frozenset()) -> dict:
    """``answer`` is ``model`` as documented in the OpenAPI: exactly its keys (but ``absent``), valid by it."""
    model.model_validate(answer)
    assert set(answer) == set(model.model_fields) - absent, answer
    return answer


async def test_each_administration_answer_is_its_documented_model(http, stack) -> None:
    """Passwords, offices, holders, clients and their secrets: what each answer carries, and that none shows a
    secret but the one creating or rotating it."""
    account = unique_id("typed").lower()
    created = await _admin(
        http,
        stack,
        "POST",
        "/v1/accounts",
        {
            "account_id": account,
            "display_name": "Typed Answers",
            "role": "officer",
            "offices": ["CN5300"],
            "password": stack.password,
        },
    )
    assert created.status_code == 201, created.text
    _documented(AccountView, created.json())
    reset = await _admin(http, stack, "POST", f"/v1/accounts/{account}/password", {"password": stack.password})
    assert reset.status_code == 200 and "password" not in _documented(AccountView, reset.json())
    moved = await _admin(http, stack, "PUT", f"/v1/accounts/{account}/offices", {"offices": ["cn5300", "CN2200"]})
    assert _documented(AccountView, moved.json())["offices"] == ["CN2200", "CN5300"]
    listed = (await _admin(http, stack, "GET", "/v1/accounts?role=officer")).json()
    assert [_documented(AccountView, a) for a in listed if a["account_id"] == account][0]["offices"] == [
        "CN2200",
        "CN5300",
    ]
    disabled = await _admin(http, stack, "POST", f"/v1/accounts/{account}/disable", {"reason": "typed answers"})
    assert _documented(AccountChanged, disabled.json())["enabled"] is False
    history = _documented(AccountWithHistory, (await _admin(http, stack, "GET", f"/v1/accounts/{account}")).json())
    assert [h["action"] for h in history["history"]] == [
        "account.created",
        "account.password_reset",
        "account.offices_changed",
        "account.disabled",
    ]
    assert all(_documented(AuditEntryView, h) for h in history["history"])
    refused = await _admin(
        http,
        stack,
        "POST",
        "/v1/accounts",
        {
            "account_id": unique_id("typed").lower(),
            "display_name": "X",
            "role": "party",
            "party_id": "a?b",
            "password": stack.password,
        },
    )
    assert refused.status_code == 422 and _documented(ErrorBody, refused.json())["error"]["code"] == "schema_violation"

    holder = unique_id("RH")
    registered = await _admin(http, stack, "POST", "/v1/holders", {"holder_id": holder, "name": "Typed Holder"})
    assert registered.status_code == 201 and _documented(HolderView, registered.json())["verified"] is False
    early = await _admin(http, stack, "POST", f"/v1/holders/{holder}/enable", {})
    assert early.status_code == 409 and _documented(ErrorBody, early.json())["error"]["code"] == "holder_not_verified"
    verified = await _admin(http, stack, "POST", f"/v1/holders/{holder}/verify", {"reason": "letter seen"})
    assert _documented(HolderView, verified.json())["verification_note"] == "letter seen"
    assert (
        _documented(HolderChanged, (await _admin(http, stack, "POST", f"/v1/holders/{holder}/disable", {})).json())[
            "revoked"
        ]
        == 0
    )
    assert (
        _documented(HolderChanged, (await _admin(http, stack, "POST", f"/v1/holders/{holder}/enable", {})).json())[
            "enabled"
        ]
        is True
    )
    assert [
        _documented(HolderView, h)
        for h in (await _admin(http, stack, "GET", "/v1/holders")).json()
        if h["holder_id"] == holder
    ]

    machine, page = unique_id("typed-m").lower(), unique_id("typed-b").lower()
    first = await _admin(
        http, stack, "POST", "/v1/clients", {"client_id": machine, "name": "Typed machine", "role": "clearance_system"}
    )
    assert first.status_code == 201 and _documented(ClientWithSecret, first.json())["client_secret"]
    browser = await _admin(
        http,
        stack,
        "POST",
        "/v1/clients",
        {"client_id": page, "name": "Typed page", "kind": "browser", "redirect_uris": ["https://typed.example/cb"]},
    )
    assert browser.status_code == 201
    _documented(ClientCreated, browser.json(), absent=frozenset({"client_secret"}))
    rotated = _documented(ClientWithSecret, (await _admin(http, stack, "POST", f"/v1/clients/{machine}/secret")).json())
    assert rotated["client_secret"] != first.json()["client_secret"]
    assert tokens_mod.client_credentials(stack.issuer, machine, rotated["client_secret"])
    assert (
        _documented(ClientView, (await _admin(http, stack, "POST", f"/v1/clients/{page}/disable", {})).json())[
            "enabled"
        ]
        is False
    )
    clients = {
        c["client_id"]: _documented(ClientView, c) for c in (await _admin(http, stack, "GET", "/v1/clients")).json()
    }
    assert {machine, page} <= set(clients)
    me = _documented(Me, (await _admin(http, stack, "GET", "/v1/me")).json())
    assert (me["role"], me["holder_id"], me["party_id"]) == ("administrator", None, None)


async def test_sign_in_page_speaks_chinese_and_refuses_a_wrong_password(http, stack) -> None:
    with pytest.raises(tokens_mod.SignInFailed, match="Unknown user name or wrong password"):
        tokens_mod.sign_in(stack.issuer, "wang.wei", "wrong-password-123")
    with pytest.raises(tokens_mod.SignInFailed, match="用户名不存在或密码错误"):
        tokens_mod.sign_in(stack.issuer, "wang.wei", "wrong-password-123", lang="zh")


# ---------------------------------------------------------------- key rotation


async def test_key_rotation_keeps_both_keys_live(http, stack) -> None:
    before = tokens_mod.client_credentials(
        stack.issuer, "clearance-single-window", stack.client_secret("clearance-single-window")
    ).access_token
    old_kid = jwt.get_unverified_header(before)["kid"]
    keys_mod.rotate(stack_mod.jwks_file(stack.profile))
    stack_mod.stop_pid(stack.profile, "idp")
    stack_mod.start_service(stack.profile, stack.secrets, "idp")
    published = (await http.get(f"{stack.issuer}/jwks")).json()["keys"]
    kids = [k["kid"] for k in published]
    assert old_kid in kids and len(kids) == 2 and all("d" not in k for k in published)  # public halves only
    after = tokens_mod.client_credentials(
        stack.issuer, "clearance-single-window", stack.client_secret("clearance-single-window")
    ).access_token
    new_kid = jwt.get_unverified_header(after)["kid"]
    assert new_kid != old_kid and new_kid == kids[0]
    # the service fetches the new key on the unknown kid (at most once per OIDC_JWKS_MIN_REFRESH_S, so within
    # that interval of its last fetch it may still refuse it); the old one still verifies
    for token in (before, after):

        async def verified(token: str = token) -> httpx.Response | None:
            r = await http.get(
                f"{stack.url('intake')}/v1/declarations/none-such", headers={"Authorization": f"Bearer {token}"}
            )
            return r if r.status_code != 401 else None

        r = await eventually(verified, within=JWKS_REFRESH_WINDOW_S, what="the rotated key learnt by intake")
        assert r.status_code == 404, r.text


# ---------------------------------------------------------------- the bad-token matrix against real services


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_key(stack) -> tuple[str, object]:
    jwk = keys_mod.load(stack_mod.jwks_file(stack.profile))[0]
    return jwk["kid"], jwt.PyJWK(jwk).key


def _forge(stack, **changes) -> str:
    kid, key = _signing_key(stack)
    now = int(time.time())
    claims = {
        "iss": stack.issuer,
        "aud": "urn:ipr:api",
        "sub": "clearance-single-window",
        "iat": now,
        "exp": now + 300,
        "role": "clearance_system",
        "client_id": "clearance-single-window",
    }
    key = changes.pop("key", key)
    headers = {"kid": changes.pop("kid", kid), "typ": "at+jwt"}
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def _bad_tokens(stack) -> dict[str, str]:
    now = int(time.time())
    kid, key = _signing_key(stack)
    good = _claims(_forge(stack))
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{_b64(json.dumps(good).encode())}"
    hs = f"{hs_input}.{_b64(hmac.new(pem, hs_input.encode(), hashlib.sha256).digest())}"
    none = f"{_b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{_b64(json.dumps(good).encode())}."
    return {
        "token_expired": _forge(stack, iat=now - 900, exp=now - 300),
        "token_not_yet_valid": _forge(stack, nbf=now + 600),
        "bad_signature": _forge(stack, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "wrong_audience": _forge(stack, aud="console"),
        "wrong_issuer": _forge(stack, iss="http://127.0.0.1:1/evil"),
        "alg_none": none,
        "alg_not_allowed": hs,
        "unknown_key": _forge(stack, kid="not-a-key-of-the-issuer"),
        "malformed_token": "not.a.jwt",
    }


@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        ("intake", "POST", "/v1/declarations"),
        ("cases", "GET", "/v1/cases"),
        ("guarantees", "GET", "/v1/alerts"),
        ("identity", "GET", "/v1/accounts"),
    ],
)
async def test_bad_tokens_get_401_with_the_reason(
    http,
    stack,
    service: str,
    method: str,
    path: str,
) -> None:
    # the genuine article passes the token checks (here: forged with the issuer's own key, so each case below
    # differs from it in exactly one respect)
    async def genuine() -> httpx.Response | None:  # a key rotated by an earlier test is learnt within the window
        r = await http.request(
            method,
            f"{stack.url(service)}{path}",
            json=example_declaration(declaration_id=unique_id("CN5300-BT")) if method == "POST" else None,
            headers={"Authorization": f"Bearer {_forge(stack)}"},
        )
        return r if r.status_code != 401 else None

    ok = await eventually(genuine, within=JWKS_REFRESH_WINDOW_S, what=f"{service} to verify the issuer's key")
    assert ok.status_code in (202, 403), ok.text  # accepted, or a clearance system outside its role
    for reason, token in _bad_tokens(stack).items():
        r = await http.request(
            method, f"{stack.url(service)}{path}", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 401, (reason, r.text)
        assert r.json()["error"]["code"] == reason, (reason, r.text)
        assert f'error_description="{reason}"' in r.headers["www-authenticate"]
    missing = await http.request(method, f"{stack.url(service)}{path}", json={})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_token"


async def test_the_provider_publishes_what_production_clients_need(http, stack) -> None:
    meta = (await http.get(f"{stack.issuer}/.well-known/openid-configuration")).json()
    assert meta["issuer"] == stack.issuer
    assert {"authorization_code", "client_credentials", "refresh_token"} <= set(meta["grant_types_supported"])
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["revocation_endpoint"] and meta["end_session_endpoint"]
    assert "none" not in meta.get("id_token_signing_alg_values_supported", [])
    # the development sign-in screens are off: the platform's own page answers
    r = await http.get(
        f"{stack.issuer}/auth",
        params={
            "client_id": "web",
            "response_type": "code",
            "redirect_uri": f"{stack.url('web')}/auth/callback",
            "scope": "openid api",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and 'id="username"' in r.text and "Customs IPR enforcement" in r.text
    # a refresh token can be revoked
    tokens = tokens_mod.sign_in(stack.issuer, "li.na", stack.password)
    revoked = await http.post(meta["revocation_endpoint"], data={"token": tokens.refresh_token, "client_id": "cli"})
    assert revoked.status_code == 200
    with pytest.raises(tokens_mod.SignInFailed):
        tokens_mod.refresh(stack.issuer, tokens.refresh_token)


async def test_pages_know_where_to_sign_in(http, stack) -> None:
    admin = (await http.get(f"{stack.url('identity')}/admin/config")).json()
    assert admin["client_id"] == "identity-admin"
    assert "IprSignIn" in (await http.get(f"{stack.url('identity')}/signin.js")).text
    # the console of earlier versions leads to the workbench, which signs in through the provider
    old = await http.get(f"{stack.url('cases')}/console")
    assert old.status_code == 301 and old.headers["location"] == f"{stack.url('web')}/workbench"
    signin = await http.get(f"{stack.url('web')}/signin")
    assert signin.status_code == 303 and signin.headers["location"].startswith(f"{stack.issuer}/auth?")
    assert "client_id=web" in signin.headers["location"] and "code_challenge_method=S256" in signin.headers["location"]
