"""Runs a suite's commands one after another and prints its figure, like the test suites' own.

    python -m tools.timed lint "ruff check ." "mypy"   ->   suite lint: passed in 8.1 s

Stops at the first command that fails and exits with its status.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    name, commands = argv[1], argv[2:]
    started = time.monotonic()
    for command in commands:
        status = subprocess.run(shlex.split(command), check=False).returncode
        if status != 0:
            print(f"suite {name}: failed ({command}) in {time.monotonic() - started:.1f} s")
            return status
    print(f"suite {name}: {len(commands)} passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
