#!/usr/bin/env python3
"""Container health probe: exit 0 when a URL answers 200, 1 otherwise.

    ipr-healthcheck [URL]

The URL defaults to $HEALTHCHECK_URL, then to http://127.0.0.1:8000/healthz (a service's
liveness endpoint). The case worker is probed on its metrics endpoint, port 8009.
"""

from __future__ import annotations

import os
import sys
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else os.environ.get("HEALTHCHECK_URL") or DEFAULT_URL
    timeout = float(os.environ.get("HEALTHCHECK_TIMEOUT", "3"))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback probe
            if response.status == 200:
                return 0
            print(f"unhealthy: {url} answered {response.status}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        print(f"unhealthy: {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
