"""Test fixtures. Integration and end-to-end tests run against a real stack started here.

The ``test`` profile of ``deploy.local.stack`` uses its own ports and ``.data-test/``, so
``make test`` never touches a running ``make up``. The stack is started once per session,
from scratch, and only when a test asks for it.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field

import httpx
import pytest

from deploy.local import stack as stack_mod
from deploy.local import tokens as tokens_mod
from tests.openapi_conformance import OPENAPI, Conformance

# Who ``Stack.auth(who)`` signs in as: demo accounts (people, through the provider's sign-in page) and
# clients (machines, client credentials). Accounts marked with offices are created on first use.
PEOPLE = {
    "officer": "wang.wei",  # CN5300 Shenzhen
    "officer_b": "li.na",  # CN2200 Shanghai
    "supervisor": "zhang.min",
    "administrator": "chen.jie",
    "holder": "nike.ip",  # RH-0001
    "party": "swift.forwarding",  # declarant 91440300MA5XXXX1 of the example declaration
}
EXTRA_OFFICERS = {"officer_eu": ("test.officer.de", "DE004851"), "officer_us": ("test.officer.us", "US2704")}
MACHINES = {"clearance": "clearance-single-window", "clearance_b": "clearance-express", "system": "case-worker"}
KNOWN_HOLDER_USERS = {"RH-0001": "nike.ip", "RH-0002": "adidas.ip"}


@dataclass
class Stack:
    profile: stack_mod.Profile
    secrets: dict[str, str]
    _tokens: dict[str, tokens_mod.Tokens] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _accounts: set[str] = field(default_factory=lambda: set(PEOPLE.values()) | set(KNOWN_HOLDER_USERS.values()))

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.profile.service_ports[service]}"

    @property
    def issuer(self) -> str:
        return stack_mod.issuer_url(self.profile)

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.profile.broker_port}"

    @property
    def temporal(self) -> str:
        return f"127.0.0.1:{self.profile.temporal_port}"

    @property
    def sink(self) -> str:
        return f"http://127.0.0.1:{self.profile.sink_http_port}"

    @property
    def password(self) -> str:
        return self.secrets["IDENTITY_DEMO_PASSWORD"]

    def client_secret(self, client_id: str) -> str:
        return stack_mod.client_secrets(self.secrets)[client_id]

    def _cached(self, key: str, get) -> str:
        """A token per caller for the session, renewed when less than a minute of it is left."""
        with self._lock:
            tokens = self._tokens.get(key)
            if tokens is None or not tokens.fresh():
                if tokens is not None and tokens.refresh_token:
                    try:
                        tokens = tokens_mod.refresh(self.issuer, tokens.refresh_token)
                    except tokens_mod.SignInFailed:
                        tokens = get()
                else:
                    tokens = get()
                self._tokens[key] = tokens
            return tokens.access_token

    def token(self, who: str) -> str:
        """An access token: ``who`` is a key of PEOPLE, EXTRA_OFFICERS or MACHINES, or an account id."""
        if who in MACHINES:
            client = MACHINES[who]
            return self._cached(
                who, lambda: tokens_mod.client_credentials(self.issuer, client, self.client_secret(client))
            )
        if who in EXTRA_OFFICERS:
            account, office = EXTRA_OFFICERS[who]
            self.ensure_account(account, role="officer", display_name=f"Test officer {office}", offices=[office])
            who = account
        account = PEOPLE.get(who, who)
        return self._cached(account, lambda: tokens_mod.sign_in(self.issuer, account, self.password))

    def auth(self, who: str) -> dict[str, str]:
        """Headers with a real access token of ``who``: a name above or an account made with ``ensure_account``.
        Anything else is sent as it is, as the bearer token (for tests of refused tokens)."""
        known = who in PEOPLE or who in MACHINES or who in EXTRA_OFFICERS or who in self._accounts
        return {"Authorization": f"Bearer {self.token(who) if known else who}"}

    def holder_auth(self, holder_id: str) -> dict[str, str]:
        """Headers of a user of rights holder ``holder_id`` (registered, verified and given a user on first use)."""
        account = KNOWN_HOLDER_USERS.get(holder_id)
        if account is None:
            account = f"user.{holder_id.lower()}"
            self.ensure_holder(holder_id)
            self.ensure_account(account, role="rights_holder", display_name=f"User of {holder_id}", holder_id=holder_id)
        return {"Authorization": f"Bearer {self.token(account)}"}

    # ---- accounts through the administration API (as the demo administrator)

    def _admin(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        headers = self.auth("administrator")
        return httpx.request(method, f"{self.url('identity')}{path}", json=body, headers=headers, timeout=30)

    def ensure_holder(self, holder_id: str, name: str | None = None) -> None:
        r = self._admin("POST", "/v1/holders", {"holder_id": holder_id, "name": name or f"Holder {holder_id}"})
        assert r.status_code in (201, 409), r.text
        if r.status_code == 201:
            assert self._admin("POST", f"/v1/holders/{holder_id}/verify", {"reason": "test"}).status_code == 200

    def ensure_account(self, account_id: str, *, role: str, display_name: str, **extra) -> None:
        body = {
            "account_id": account_id,
            "role": role,
            "display_name": display_name,
            "password": self.password,
            **extra,
        }
        r = self._admin("POST", "/v1/accounts", body)
        assert r.status_code in (201, 409), r.text
        self._accounts.add(account_id)

    def forget(self, who: str) -> None:
        """Drop the cached token of ``who`` (after disabling the account, for instance)."""
        with self._lock:
            self._tokens.pop(PEOPLE.get(who, who), None)
            self._tokens.pop(who, None)


@pytest.fixture(scope="session")
def stack() -> Stack:
    profile = stack_mod.PROFILES["test"]
    stack_mod.down(profile)
    shutil.rmtree(profile.data, ignore_errors=True)
    secrets = stack_mod.up(profile, demo=True)
    try:
        yield Stack(profile=profile, secrets=secrets)
    finally:
        stack_mod.down(profile)


@pytest.fixture(scope="session")
def conformance(stack: Stack) -> Conformance:
    return Conformance(
        {port: name for name, port in stack.profile.service_ports.items() if (OPENAPI / f"{name}.json").is_file()}
    )


@pytest.fixture
async def http(stack: Stack, conformance: Conformance):
    """A client whose every answer from a service is checked against the service's published OpenAPI;
    the test fails (in its teardown) on an answer the OpenAPI does not describe."""
    seen = len(conformance.violations)
    async with httpx.AsyncClient(timeout=30, event_hooks={"response": [conformance.hook]}) as client:
        yield client
    found = conformance.violations[seen:]
    if found:
        pytest.fail(
            "answers that differ from the published OpenAPI:\n  " + "\n  ".join(dict.fromkeys(found)), pytrace=False
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a failed run, what the test stack's services last complained of: a run on another machine
    (CI) keeps only its output, not the stack's logs."""
    if not (terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")):
        return
    logs = stack_mod.PROFILES["test"].logs
    if not logs.is_dir():
        return
    terminalreporter.section("test stack: last warnings and errors of each process")
    for path in sorted(logs.glob("*.log")):
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 400_000))
            lines = fh.read().decode(errors="replace").splitlines()
        marks = (" WARNING ", " ERROR ", " CRITICAL ", "Traceback", " WARN ")
        bad = [ln for ln in lines if any(w in ln for w in marks)]
        for line in bad[-2:]:
            terminalreporter.write_line(f"{path.stem}: {line[:240]}")
