"""An integrator can generate a typed Python client from each service's published OpenAPI.

``openapi-python-client`` generates a client package from every ``contracts/openapi/<service>.json``, and mypy
type-checks all of them: a schema the generator cannot turn into sound types (an untyped answer, a name that
clashes with its own field, a broken reference) fails here, and so does any part it leaves out with a warning
(two schemas under one title: the client would type-check without them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OPENAPI = Path(__file__).resolve().parents[2] / "contracts" / "openapi"
BIN = Path(sys.executable).parent


def test_a_client_generated_from_each_services_openapi_type_checks(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    packages = []
    for spec in sorted(OPENAPI.glob("*.json")):
        out = tmp_path / spec.stem
        run = subprocess.run(
            [
                str(BIN / "openapi-python-client"),
                "generate",
                "--path",
                str(spec),
                "--output-path",
                str(out),
                "--overwrite",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert run.returncode == 0, f"{spec.name}: {run.stdout[-2000:]}{run.stderr[-2000:]}"
        # The generator leaves out, with a warning on stderr, what it cannot turn into a model (two schemas of
        # one title, a reference it cannot follow): the client would still type-check, without those answers.
        output = run.stdout + run.stderr
        assert "Warning" not in output and "WARNING" not in output, f"{spec.name}: {output[-3000:]}"
        packages += [str(p) for p in out.iterdir() if p.is_dir() and (p / "__init__.py").is_file()]
    assert len(packages) == len(list(OPENAPI.glob("*.json")))
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--ignore-missing-imports",
            "--cache-dir",
            str(tmp_path / ".mypy"),
            "--python-version",
            "3.11",
            *packages,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout[-4000:]
