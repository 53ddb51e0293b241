"""Webhook allow-list of the notify service (check_target / parse_allow_list)."""

from __future__ import annotations

import ipaddress

import pytest

from services.notify.domain import TargetRefused, check_target, parse_allow_list

DEFAULT = "127.0.0.1,localhost,::1"  # services/notify/settings.py default
WIDE = "127.0.0.0/8, 10.20.0.0/16 ,Hooks.Rights-Holder.Example.COM., ::1, fd00::/8,"


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1/hook", DEFAULT),
        ("https://127.0.0.1:8443/hook?x=1", DEFAULT),
        ("http://localhost:8080/customs/notices", DEFAULT),
        ("http://LOCALHOST/hook", DEFAULT),  # host names are case-insensitive
        ("http://localhost./hook", DEFAULT),  # trailing dot of the URL host
        ("HTTP://127.0.0.1/hook", DEFAULT),  # scheme is case-insensitive
        ("http://[::1]/hook", DEFAULT),
        ("http://[::1]:9000/hook", DEFAULT),
        ("http://127.0.0.1/hook", WIDE),
        ("http://127.45.6.7/hook", WIDE),  # CIDR entry 127.0.0.0/8
        ("http://10.20.255.254/hook", WIDE),  # CIDR entry 10.20.0.0/16
        ("http://[fd12:3456::1]/hook", WIDE),  # IPv6 CIDR entry
        ("https://hooks.rights-holder.example.com/customs", WIDE),  # list entry has mixed case + trailing dot
        ("https://HOOKS.RIGHTS-HOLDER.EXAMPLE.COM./customs", WIDE),
        ("http://127.0.0.1/path@evil.example", DEFAULT),  # '@' in the path is not userinfo
        ("http://127.0.0.1/hook?next=@evil.example", DEFAULT),
        ("http://2130706433/", "2130706433"),  # only because it is literally on the list
    ],
)
def test_allowed_targets(url: str, allow: str) -> None:
    assert check_target(url, allow) == url


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        # not on the list
        ("https://evil.example/hook", DEFAULT),
        ("http://127.0.0.2/hook", DEFAULT),
        ("http://10.21.0.1/hook", WIDE),
        ("http://[::2]/hook", DEFAULT),
        ("http://rights-holder.example.com/", WIDE),  # parent domain of a listed host
        ("http://x.hooks.rights-holder.example.com/", WIDE),  # sub-domain of a listed host
        ("http://169.254.169.254/latest/meta-data/", DEFAULT),
        # scheme
        ("ftp://127.0.0.1/hook", DEFAULT),
        ("file:///etc/passwd", DEFAULT),
        ("gopher://127.0.0.1:70/", DEFAULT),
        ("javascript:alert(1)", DEFAULT),
        ("//127.0.0.1/hook", DEFAULT),  # scheme-relative
        ("127.0.0.1/hook", DEFAULT),
        # userinfo
        ("http://user:pw@127.0.0.1/hook", DEFAULT),
        ("http://user@127.0.0.1/hook", DEFAULT),
        ("http://evil.example@127.0.0.1/", DEFAULT),
        ("http://127.0.0.1@evil.example/", DEFAULT),
        ("http://127.0.0.1:80@evil.example/", DEFAULT),
        ("http://evil.example\\@127.0.0.1/", DEFAULT),
        ("http://:pw@localhost/", DEFAULT),
        # host tricks
        ("http://127.0.0.1.evil.example/", DEFAULT),
        ("http://localhost.evil.example/", DEFAULT),
        ("http://evil.example#@127.0.0.1/", DEFAULT),
        ("http://2130706433/", DEFAULT),  # decimal IPv4 of 127.0.0.1
        ("http://2130706433/", WIDE),  # ... not inside 127.0.0.0/8 either: it is not parsed as an IP
        ("http://0x7f000001/", DEFAULT),
        ("http://0177.0.0.1/", DEFAULT),
        ("http://127.1/", DEFAULT),
        ("http://[::ffff:127.0.0.1]/", DEFAULT),  # IPv4-mapped IPv6 is a different address
        ("http://[::ffff:127.0.0.1]/", WIDE),
        ("http://[0:0:0:0:0:0:0:2]/", DEFAULT),
        # no host
        ("http:///hook", DEFAULT),
        ("http://:8080/hook", DEFAULT),
        ("", DEFAULT),
        # empty allow-list refuses everything
        ("http://127.0.0.1/hook", ""),
        ("http://localhost/hook", " , ,"),
    ],
)
def test_refused_targets(url: str, allow: str) -> None:
    with pytest.raises(TargetRefused):
        check_target(url, allow)


def test_target_refused_is_a_value_error() -> None:
    assert issubclass(TargetRefused, ValueError)


def test_userinfo_refusal_names_the_reason() -> None:
    with pytest.raises(TargetRefused, match="credentials"):
        check_target("http://evil.example@127.0.0.1/", DEFAULT)


def test_ipv6_written_differently_is_the_same_address() -> None:
    assert check_target("http://[0:0:0:0:0:0:0:1]/hook", DEFAULT)


def test_parse_allow_list() -> None:
    hosts, networks = parse_allow_list(WIDE)
    assert hosts == frozenset({"hooks.rights-holder.example.com"})
    assert set(networks) == {
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("fd00::/8"),
    }


def test_parse_allow_list_host_bits_set_are_accepted_as_network() -> None:
    hosts, networks = parse_allow_list("192.168.1.7/24")
    assert hosts == frozenset()
    assert networks == (ipaddress.ip_network("192.168.1.0/24"),)


def test_parse_allow_list_decimal_ip_is_a_host_name_not_a_network() -> None:
    hosts, networks = parse_allow_list("2130706433")
    assert hosts == frozenset({"2130706433"})
    assert networks == ()
