"""Test fixtures. Integration and end-to-end tests run against a real stack started here.

The ``test`` profile of ``deploy.local.stack`` uses its own ports and ``.data-test/``, so
``make test`` never touches a running ``make up``. The stack is started once per session,
from scratch, and only when a test asks for it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import httpx
import pytest

from deploy.local import stack as stack_mod


@dataclass(frozen=True)
class Stack:
    profile: stack_mod.Profile
    secrets: dict[str, str]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.profile.service_ports[service]}"

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.profile.broker_port}"

    @property
    def temporal(self) -> str:
        return f"127.0.0.1:{self.profile.temporal_port}"

    @property
    def sink(self) -> str:
        return f"http://127.0.0.1:{self.profile.sink_http_port}"

    def auth(self, who: str) -> dict[str, str]:
        token = {
            "clearance": self.secrets["INTAKE_API_TOKEN"],
            "officer": self.secrets["OFFICER_API_TOKEN"],
            "supervisor": self.secrets["SUPERVISOR_API_TOKEN"],
            "system": self.secrets["SERVICE_API_TOKEN"],
            "holder": self.secrets["DEMO_HOLDER_TOKEN"],
        }.get(who, who)
        return {"Authorization": f"Bearer {token}"}

    def holder_auth(self, holder_id: str) -> dict[str, str]:
        from shared.auth import issue_holder_token

        return {"Authorization": f"Bearer {issue_holder_token(self.secrets['HOLDER_TOKEN_SECRET'], holder_id)}"}


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


@pytest.fixture
async def http(stack: Stack):
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
