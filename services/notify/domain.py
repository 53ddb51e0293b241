"""Pure rules of the notify service: recipients and their stable message ids, which webhook targets may be
called, what an attempt's answer means, when to try again, and how webhooks are signed."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
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


# ---------------------------------------------------------------- recipients and stable message ids

RecipientKind = Literal["rights_holder", "party"]
Channel = Literal["email", "webhook"]
_KIND_TAG = {"rights_holder": "rh", "party": "pt"}
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Recipient:
    """Who a notice is delivered to: a rights holder today, a party of the case (declarant, consignor,
    consignee, importer) next. Each recipient gets one delivery per channel it can be reached on."""

    kind: RecipientKind
    id: str
    name: str
    email: str | None = None
    webhook_url: str | None = None

    @property
    def token(self) -> str:
        """A short, header-safe name of the recipient, stable for its kind and id."""
        rid = self.id if _SAFE_ID.fullmatch(self.id) else hashlib.sha256(self.id.encode()).hexdigest()[:24]
        return f"{_KIND_TAG[self.kind]}-{rid}"


def message_id_for(notice_id: str, recipient: Recipient, domain: str) -> str:
    """The e-mail Message-ID of a notice to a recipient: the same on every attempt, so receivers de-duplicate."""
    return f"<{notice_id}.{recipient.token}@{domain}>"


def event_id_for(notice_id: str, recipient: Recipient) -> str:
    """The webhook event id (``X-IPR-Event-Id``) of a notice to a recipient: the same on every attempt."""
    return f"{notice_id}.{recipient.token}"


# ---------------------------------------------------------------- outcomes of one attempt and what follows

Outcome = Literal["accepted", "temporary_failure", "permanent_failure", "refused", "unknown"]


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt gave: the outcome class, the HTTP status or SMTP reply code, and a readable detail."""

    outcome: Outcome
    code: int | None
    detail: str
    retry_after_s: float | None = None  # the receiver asked us to wait (HTTP Retry-After)


def classify_http(status: int, retry_after: str | None = None) -> AttemptResult:
    """2xx delivered; 408, 429 and 5xx are retried; any other answer (3xx, 4xx) is final."""
    if 200 <= status < 300:
        return AttemptResult("accepted", status, f"HTTP {status}")
    wait = _retry_after_seconds(retry_after)
    if status in (408, 429) or status >= 500:
        return AttemptResult("temporary_failure", status, f"endpoint answered HTTP {status}", wait)
    if 300 <= status < 400:
        return AttemptResult(
            "permanent_failure", status, f"endpoint answered HTTP {status}; redirects are not followed"
        )
    return AttemptResult("permanent_failure", status, f"endpoint answered HTTP {status}")


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: ignored, the backoff applies
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def classify_smtp_reply(stage: Literal["mail", "rcpt", "data"], code: int, message: str) -> AttemptResult:
    """A refusal by the mail server. 4xx is retried. 5xx to the recipient or the message is a bounce (final);
    5xx to our own sender address is a fault on our side, retried while the alert fires."""
    detail = f"{stage.upper()} refused: {code} {message}".strip()
    if 400 <= code < 500:
        return AttemptResult("temporary_failure", code, detail)
    if code >= 500 and stage in ("rcpt", "data"):
        return AttemptResult("permanent_failure", code, detail)
    return AttemptResult("temporary_failure", code, detail)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by a retry window counted from when the notice was recorded."""

    base_s: float = 30.0
    factor: float = 2.0
    max_interval_s: float = 3600.0
    window_s: float = 86400.0
    jitter: float = 0.2  # each delay is spread by ±20% so endpoints coming back are not hit all at once

    def delay(self, attempt_no: int, rand: float = 0.5) -> float:
        """Delay after the ``attempt_no``-th failed attempt (1-based); ``rand`` in [0, 1) spreads it."""
        raw = min(self.base_s * self.factor ** max(attempt_no - 1, 0), self.max_interval_s)
        return raw * (1 - self.jitter + 2 * self.jitter * rand)

    def next_attempt(
        self,
        *,
        attempt_no: int,
        now: datetime,
        created_at: datetime,
        rand: float = 0.5,
        retry_after_s: float | None = None,
    ) -> datetime | None:
        """When to try again after a temporary failure, or ``None`` when the retry window is used up.

        The last attempt is made at the end of the window, so a delivery is never given up early.
        """
        ends = created_at + timedelta(seconds=self.window_s)
        if now >= ends:
            return None
        wait = self.delay(attempt_no, rand)
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_interval_s))
        return min(now + timedelta(seconds=wait), ends)


# ---------------------------------------------------------------- webhook signatures

SIGNATURE_HEADER = "X-IPR-Signature"
EVENT_ID_HEADER = "X-IPR-Event-Id"
SIGNATURE_VERSION = "v1"
REPLAY_WINDOW_S = 300  # receivers reject a signature whose timestamp is older (or newer) than this


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256, keyed with the UTF-8 bytes of the signing key, over ``<timestamp>.<body>``; lower-case hex."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex>[,v1=<hex>]``: one ``v1`` per key in force, the current key first."""
    return ",".join([f"t={timestamp}", *(f"{SIGNATURE_VERSION}={signature(s, timestamp, body)}" for s in secrets)])
