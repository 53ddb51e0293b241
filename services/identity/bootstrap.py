"""Set up the accounts and clients a deployment starts with, idempotently (reads DATABASE_URL).

    python -m services.identity.bootstrap SPEC.json

SPEC: ``{"holders": [...], "accounts": [...], "clients": [...]}`` in the shapes of the administration
API (``NewHolder`` plus ``verified``, ``NewAccount``, ``NewClient`` plus ``secret`` for machine clients).
``${NAME}`` in the file is replaced by the environment variable NAME (secrets stay out of the file; a
missing variable stops the bootstrap).
What exists is brought in line (client redirect URIs and secrets, a changed password), what is missing
is created; every change is in the audit log under ``bootstrap``. The embedded stack runs it at every
``make up`` with the platform's own clients and the demo accounts; production runs it once with its
first administrator and the platform's service clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from string import Template

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import service
from services.identity.models import Account, Client, Holder
from services.identity.passwords import hash_client_secret, hash_password, verify_password
from shared.db import make_engine, make_sessionmaker

ACTOR = ("bootstrap", "Platform set-up")


async def _holder(session: AsyncSession, spec: dict) -> str | None:
    existing = await session.get(Holder, spec["holder_id"])
    if existing is None:
        await service.create_holder(
            session,
            body=service.NewHolder(holder_id=spec["holder_id"], name=spec["name"]),
            who=ACTOR,
            verified=bool(spec.get("verified", True)),
        )
        return "created"
    return None


async def _account(session: AsyncSession, spec: dict) -> str | None:
    body = service.NewAccount(**spec)
    existing = await session.get(Account, body.account_id)
    if existing is None:
        await service.create_account(session, body=body, who=ACTOR)
        return "created"
    if not verify_password(body.password, existing.password_hash):
        existing.password_hash = hash_password(body.password)
        service.audit(session, ACTOR, "account.password_reset", "account", body.account_id)
        return "password"
    return None


async def _client(session: AsyncSession, spec: dict) -> str | None:
    secret = spec.pop("secret", None)
    body = service.NewClient(**spec)
    existing = await session.get(Client, body.client_id)
    if existing is None:
        await service.create_client(session, body=body, who=ACTOR, secret=secret)
        return "created"
    changed = []
    for attr in ("name", "redirect_uris", "post_logout_redirect_uris", "first_party", "offices", "role"):
        if getattr(existing, attr) != getattr(body, attr):
            setattr(existing, attr, getattr(body, attr))
            changed.append(attr)
    if secret and existing.secret_hash != hash_client_secret(secret):
        existing.secret_hash = hash_client_secret(secret)
        changed.append("secret")
    if changed:
        service.audit(session, ACTOR, "client.updated", "client", body.client_id, {"changed": changed})
        return "updated"
    return None


async def apply(url: str, spec: dict) -> dict[str, int]:
    """Bring the identity database in line with ``spec``; returns how many entries changed, per kind."""
    engine = make_engine(url, pool_size=1)
    counts = {"holders": 0, "accounts": 0, "clients": 0}
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for kind, handler in (("holders", _holder), ("accounts", _account), ("clients", _client)):
                for entry in spec.get(kind, []):
                    if await handler(session, dict(entry)):
                        counts[kind] += 1
    finally:
        await engine.dispose()
    return counts


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    try:
        spec = json.loads(Template(Path(sys.argv[1]).read_text()).substitute(os.environ))
    except KeyError as exc:
        raise SystemExit(f"identity bootstrap: environment variable {exc} is not set") from None
    counts = asyncio.run(apply(os.environ["DATABASE_URL"], spec))
    print("identity bootstrap: " + ", ".join(f"{n} {kind} changed" for kind, n in counts.items()))


if __name__ == "__main__":
    main()
