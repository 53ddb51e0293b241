"""Access tokens from the embedded stack's OpenID provider, for curl and for the tests.

    python -m deploy.local.tokens ROLE [USER] [--profile dev|test]     (make token ROLE=... [USER=...])

People get theirs through the real sign-in: the authorization code flow with PKCE, driven over HTTP
(the provider's own sign-in page, then its consent page) with the account's password, exactly what a
browser does. Machines get theirs with client credentials. ROLE is one of the platform's roles;
USER picks another demo account (people) or client (machines).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html.parser
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urljoin, urlparse

import httpx

if TYPE_CHECKING:
    from deploy.local.stack import Profile

AUDIENCE = "urn:ipr:api"
CLI_CLIENT = "cli"
CLI_REDIRECT = "http://127.0.0.1/callback"

# Who `make token ROLE=...` signs in as by default (the demo accounts and clients of deploy/local/demo).
DEFAULT_PEOPLE = {
    "officer": "wang.wei",
    "supervisor": "zhang.min",
    "administrator": "chen.jie",
    "rights_holder": "nike.ip",
    "party": "swift.forwarding",
}
DEFAULT_MACHINES = {"clearance_system": "clearance-single-window", "system": "case-worker"}


class SignInFailed(RuntimeError):
    pass


class _Forms(html.parser.HTMLParser):
    """The forms of a page: action and input values (enough for the provider's own pages)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.alert = ""
        self._in_alert = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "id": a.get("id"), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif a.get("role") == "alert":
            self._in_alert = True

    def handle_endtag(self, tag: str) -> None:
        self._in_alert = False

    def handle_data(self, data: str) -> None:
        if self._in_alert:
            self.alert += data


def _forms(page: str) -> _Forms:
    parser = _Forms()
    parser.feed(page)
    return parser


@dataclass
class Tokens:
    access_token: str
    expires_at: float
    refresh_token: str | None = None
    id_token: str | None = None

    @classmethod
    def of(cls, body: dict) -> Tokens:
        return cls(
            access_token=body["access_token"],
            expires_at=time.time() + float(body.get("expires_in", 300)),
            refresh_token=body.get("refresh_token"),
            id_token=body.get("id_token"),
        )

    def fresh(self, margin_s: float = 60.0) -> bool:
        return time.time() < self.expires_at - margin_s


def _discovery(http: httpx.Client, issuer: str) -> dict:
    response = http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    response.raise_for_status()
    return response.json()


def client_credentials(issuer: str, client_id: str, secret: str, *, resource: str = AUDIENCE) -> Tokens:
    """A machine's token (OAuth client credentials)."""
    with httpx.Client(timeout=15) as http:
        meta = _discovery(http, issuer)
        r = http.post(
            meta["token_endpoint"],
            data={"grant_type": "client_credentials", "resource": resource},
            auth=(client_id, secret),
        )
    if r.status_code != 200:
        raise SignInFailed(f"client {client_id} refused: {r.status_code} {r.text[:300]}")
    return Tokens.of(r.json())


def sign_in(
    issuer: str,
    username: str,
    password: str,
    *,
    client_id: str = CLI_CLIENT,
    redirect_uri: str = CLI_REDIRECT,
    resource: str = AUDIENCE,
    lang: str = "en",
) -> Tokens:
    """A person's token: authorization code + PKCE through the provider's sign-in (and consent) pages."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    with httpx.Client(timeout=15, follow_redirects=False) as http:
        meta = _discovery(http, issuer)
        url = httpx.URL(
            meta["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile api",
                "resource": resource,
                "state": state,
                "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "ui_locales": lang,
            },
        )
        response = http.get(url)
        for _ in range(12):
            if response.status_code in (302, 303):
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(redirect_uri):
                    query = parse_qs(urlparse(target).query)
                    if "error" in query:
                        why = query.get("error_description", [""])[0]
                        raise SignInFailed(f"{username}: {query['error'][0]}: {why}")
                    if query.get("state") != [state]:
                        raise SignInFailed("the provider answered with another state")
                    return _exchange(http, meta, client_id, redirect_uri, query["code"][0], verifier)
                response = http.get(target)
                continue
            if response.status_code not in (200, 401):
                raise SignInFailed(f"{username}: {response.status_code} at {response.url}: {response.text[:300]}")
            page = _forms(response.text)
            if page.alert:
                raise SignInFailed(f"{username}: {page.alert.strip()}")
            login = next((f for f in page.forms if f["action"].split("?")[0].endswith("/login")), None)
            confirm = next((f for f in page.forms if f["action"].split("?")[0].endswith("/confirm")), None)
            if login is not None:
                response = http.post(
                    urljoin(str(response.url), login["action"]), data={"username": username, "password": password}
                )
            elif confirm is not None:
                response = http.post(urljoin(str(response.url), confirm["action"]), data=confirm["fields"])
            else:
                raise SignInFailed(f"{username}: unexpected page at {response.url}")
        raise SignInFailed(f"{username}: too many steps")


def _exchange(http: httpx.Client, meta: dict, client_id: str, redirect_uri: str, code: str, verifier: str) -> Tokens:
    r = http.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    if r.status_code != 200:
        raise SignInFailed(f"code exchange refused: {r.status_code} {r.text[:300]}")
    return Tokens.of(r.json())


def refresh(issuer: str, refresh_token: str, *, client_id: str = CLI_CLIENT) -> Tokens:
    """New tokens for a refresh token (refused once the account or its holder is disabled)."""
    with httpx.Client(timeout=15) as http:
        meta = _discovery(http, issuer)
        r = http.post(
            meta["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
        )
    if r.status_code != 200:
        raise SignInFailed(f"refresh refused: {r.status_code} {r.text[:300]}")
    return Tokens.of(r.json())


def token_for(profile: Profile, sec: dict[str, str], role: str, user: str | None = None) -> Tokens:
    """A token of ``role`` (``user``: another demo account or client) from ``profile``'s provider."""
    from deploy.local import stack

    issuer = stack.issuer_url(profile)
    if role in DEFAULT_MACHINES:
        client_id = user or DEFAULT_MACHINES[role]
        secret = stack.client_secrets(sec).get(client_id)
        if secret is None:
            raise SignInFailed(f"no secret for client {client_id} in the stack's secrets")
        return client_credentials(issuer, client_id, secret)
    if role in DEFAULT_PEOPLE:
        return sign_in(issuer, user or DEFAULT_PEOPLE[role], sec["IDENTITY_DEMO_PASSWORD"])
    raise SignInFailed(f"unknown role {role}; one of {sorted({*DEFAULT_PEOPLE, *DEFAULT_MACHINES})}")


def main() -> None:
    from deploy.local import stack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", help=f"one of {', '.join(sorted({*DEFAULT_PEOPLE, *DEFAULT_MACHINES}))}")
    parser.add_argument("user", nargs="?", default=None, help="demo account (people) or client id (machines)")
    parser.add_argument("--profile", choices=sorted(stack.PROFILES), default="dev")
    parser.add_argument("--json", action="store_true", help="print the whole token response")
    args = parser.parse_args()
    profile = stack.PROFILES[args.profile]
    sec = stack.load_secrets(profile)
    try:
        tokens = token_for(profile, sec, args.role, args.user)
    except (SignInFailed, httpx.HTTPError) as exc:
        raise SystemExit(f"token: {exc}") from None
    print(json.dumps(tokens.__dict__) if args.json else tokens.access_token)


if __name__ == "__main__":
    main()
