"""The provider's signing keys: a private JWKS file whose first key signs and whose every key is published.

    python -m services.identity.keys ensure  FILE   # create with one RS256 key if missing
    python -m services.identity.keys rotate  FILE   # a new key signs from the next start; the old ones stay published
    python -m services.identity.keys retire  FILE   # drop every key but the signing one (after the token lifetime)
    python -m services.identity.keys show    FILE   # kids, signing first

Rotation: ``rotate``, restart the provider (tokens signed before stay valid, since both keys are in
the JWKS and services refetch it on an unknown kid), wait at least the access-token lifetime (5 min),
``retire``, restart again.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def new_key() -> dict:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private))
    jwk.pop("key_ops", None)  # ["sign"] would keep the provider from verifying its own ID tokens (sign-out hints)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return {**jwk, "kid": f"ipr-{stamp}-{os.urandom(3).hex()}", "use": "sig", "alg": "RS256"}


def _write(path: Path, keys: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"keys": keys}))
    tmp.chmod(0o600)
    tmp.replace(path)


def load(path: Path) -> list[dict]:
    return json.loads(path.read_text())["keys"]


def ensure(path: Path) -> list[dict]:
    if not path.exists():
        _write(path, [new_key()])
    return load(path)


def rotate(path: Path) -> list[dict]:
    keys = [new_key(), *ensure(path)]
    _write(path, keys)
    return keys


def retire(path: Path) -> list[dict]:
    keys = ensure(path)[:1]
    _write(path, keys)
    return keys


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("ensure", "rotate", "retire", "show"):
        raise SystemExit(__doc__)
    path = Path(sys.argv[2])
    keys = {"ensure": ensure, "rotate": rotate, "retire": retire, "show": ensure}[sys.argv[1]](path)
    print(" ".join(k["kid"] for k in keys))


if __name__ == "__main__":
    main()
