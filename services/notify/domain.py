"""Pure rules of the notify service: which webhook targets may be called."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """The webhook target is not on the allow-list (or not a usable URL)."""


def parse_allow_list(raw: str) -> tuple[frozenset[str], tuple[ipaddress._BaseNetwork, ...]]:
    hosts: set[str] = set()
    networks: list[ipaddress._BaseNetwork] = []
    for item in (x.strip() for x in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower().rstrip("."))
    return frozenset(hosts), tuple(networks)


def check_target(url: str, allow_list: str) -> str:
    """Return the URL if it may be called; raise ``TargetRefused`` with the reason otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"scheme {parts.scheme!r} is not allowed")
    if "@" in parts.netloc:
        raise TargetRefused("credentials in webhook URLs are not allowed")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise TargetRefused("webhook URL has no host")
    hosts, networks = parse_allow_list(allow_list)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if any(address in net for net in networks) or host in hosts:
            return url
        raise TargetRefused(f"address {host} is not on the webhook allow-list")
    if host in hosts:
        return url
    raise TargetRefused(f"host {host} is not on the webhook allow-list")
