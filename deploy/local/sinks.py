"""Local stand-ins for the outside world of notices: an SMTP sink and a webhook receiver.

Mail sent to 127.0.0.1:$SINK_SMTP_PORT and webhooks POSTed to ``/webhooks/<name>`` are
kept as files under $SINK_DIR and listed at ``/`` (HTML), ``/mail`` and ``/webhooks``
(JSON), so a user can read the notice a rights holder would have received.

Both can be told how to answer, so failures can be tried on purpose (``/control``):

- ``PUT /control/mail/<address>`` ``{"replies": ["451 4.3.0 try later"], "then": "550 5.1.1 no such
  mailbox", "delay_seconds": 0}``: the next RCPT TO that address gets the first reply, and so on;
  once the list is used up every further one gets ``then`` (default ``250 OK``). A 4xx/5xx reply
  refuses the recipient (a bounce). ``delay_seconds`` holds the answer to DATA back after the message
  is stored, as a server whose reply is lost on the way would.
- ``PUT /control/webhooks/<name>`` ``{"statuses": [503, 503], "then": 200, "delay_seconds": 0,
  "retry_after": null}``: the next requests get these HTTP statuses in order, then ``then``.
- ``DELETE /control/mail/<address>``, ``DELETE /control/webhooks/<name>``, ``DELETE /control`` (all),
  ``GET /control`` (what is set).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

SINK_DIR = Path(os.environ.get("SINK_DIR", ".data/sinks"))
MAIL_DIR = SINK_DIR / "mail"
HOOK_DIR = SINK_DIR / "webhooks"
SMTP_REPLY = r"^[2-5][0-9]{2}( [^\r\n]{0,200})?$"


Reply = Annotated[str, Field(pattern=SMTP_REPLY)]
Status = Annotated[int, Field(ge=200, le=599)]


class MailScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replies: list[Reply] = Field(default_factory=list, max_length=100)
    then: Reply = "250 OK"
    delay_seconds: float = Field(default=0.0, ge=0, le=600)


class HookScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statuses: list[Status] = Field(default_factory=list, max_length=100)
    then: Status = 200
    delay_seconds: float = Field(default=0.0, ge=0, le=600)
    retry_after: str | None = Field(default=None, max_length=64)


class _Scripts:
    """What the sinks answer; shared by the SMTP thread and the web app, so guarded by a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mail: dict[str, dict] = {}
        self.hooks: dict[str, dict] = {}
        self.refused: list[dict] = []

    def next_mail_reply(self, address: str) -> tuple[str, float]:
        with self.lock:
            script = self.mail.get(address.lower())
            if script is None:
                return "250 OK", 0.0
            reply = script["replies"].pop(0) if script["replies"] else script["then"]
            return reply, script["delay_seconds"]

    def mail_delay(self, addresses: list[str]) -> float:
        with self.lock:
            return max([self.mail[a.lower()]["delay_seconds"] for a in addresses if a.lower() in self.mail] or [0.0])

    def next_hook_answer(self, name: str) -> tuple[int, float, str | None]:
        with self.lock:
            script = self.hooks.get(name)
            if script is None:
                return 200, 0.0, None
            status = script["statuses"].pop(0) if script["statuses"] else script["then"]
            return status, script["delay_seconds"], script["retry_after"]


SCRIPTS = _Scripts()


class _MailHandler:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply, _ = SCRIPTS.next_mail_reply(address)
        if not reply.startswith("2"):
            with SCRIPTS.lock:
                SCRIPTS.refused.append({"to": address, "reply": reply, "at": time.time()})
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        MAIL_DIR.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.eml"
        content = envelope.original_content or envelope.content or b""
        (MAIL_DIR / name).write_bytes(content.encode() if isinstance(content, str) else content)
        delay = SCRIPTS.mail_delay(envelope.rcpt_tos)
        if delay:
            await asyncio.sleep(delay)  # stored, but the sender hears nothing yet
        return "250 Message accepted for delivery"


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    controller = Controller(_MailHandler(), hostname="127.0.0.1", port=int(os.environ.get("SINK_SMTP_PORT", "1025")))
    controller.start()
    try:
        yield
    finally:
        controller.stop()


app = FastAPI(title="Local mail and webhook sink", lifespan=lifespan)


def _mails() -> list[dict]:
    out = []
    for path in sorted(MAIL_DIR.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        out.append(
            {
                "file": path.name,
                "to": msg["To"],
                "from": msg["From"],
                "subject": msg["Subject"],
                "message_id": msg["Message-ID"],
                "headers": {k: str(v) for k, v in msg.items()},
                "body": body.get_content() if body else "",
                "html": html.get_content() if html else None,
            }
        )
    return out


def _hooks() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(HOOK_DIR.glob("*.json"))]


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.get("/mail")
async def mail() -> list[dict]:
    return _mails()


@app.get("/mail/refused")
async def mail_refused() -> list[dict]:
    with SCRIPTS.lock:
        return list(SCRIPTS.refused)


@app.get("/webhooks")
async def hooks() -> list[dict]:
    return _hooks()


@app.post("/webhooks/{name}")
async def receive_hook(name: str, request: Request) -> JSONResponse:
    status, delay, retry_after = SCRIPTS.next_hook_answer(name)
    HOOK_DIR.mkdir(parents=True, exist_ok=True)
    record = {
        "name": name,
        "headers": dict(request.headers),
        "body": (await request.body()).decode(errors="replace"),
        "answered": status,
        "received_at": time.time(),
    }
    (HOOK_DIR / f"{time.time_ns()}.json").write_text(json.dumps(record))
    if delay:
        await asyncio.sleep(delay)
    headers = {"Retry-After": retry_after} if retry_after else None
    return JSONResponse({"received": 200 <= status < 300}, status_code=status, headers=headers)


@app.get("/control")
async def control() -> dict:
    with SCRIPTS.lock:
        return {"mail": SCRIPTS.mail, "webhooks": SCRIPTS.hooks}


@app.put("/control/mail/{address}")
async def script_mail(address: str, script: MailScript) -> dict:
    with SCRIPTS.lock:
        SCRIPTS.mail[address.lower()] = script.model_dump()
    return {"address": address.lower(), **script.model_dump()}


@app.put("/control/webhooks/{name}")
async def script_hook(name: str, script: HookScript) -> dict:
    with SCRIPTS.lock:
        SCRIPTS.hooks[name] = script.model_dump()
    return {"name": name, **script.model_dump()}


@app.delete("/control/mail/{address}", status_code=204)
async def unscript_mail(address: str) -> None:
    with SCRIPTS.lock:
        if SCRIPTS.mail.pop(address.lower(), None) is None:
            raise HTTPException(404, "no script for this address")


@app.delete("/control/webhooks/{name}", status_code=204)
async def unscript_hook(name: str) -> None:
    with SCRIPTS.lock:
        if SCRIPTS.hooks.pop(name, None) is None:
            raise HTTPException(404, "no script for this endpoint")


@app.delete("/control", status_code=204)
async def reset() -> None:
    with SCRIPTS.lock:
        SCRIPTS.mail.clear()
        SCRIPTS.hooks.clear()
        SCRIPTS.refused.clear()


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    from html import escape

    rows = "".join(
        f"<tr><td>{escape(m['to'] or '')}</td><td>{escape(m['subject'] or '')}</td>"
        f"<td><code>{escape(m['message_id'] or '')}</code></td>"
        f"<td><pre>{escape(m['body'])}</pre></td></tr>"
        for m in reversed(_mails())
    )
    hooks = "".join(
        f"<tr><td>{escape(h['name'])}</td><td>{escape(str(h.get('answered', 200)))}</td>"
        f"<td><code>{escape(h['headers'].get('x-ipr-event-id', ''))}</code></td>"
        f"<td><pre>{escape(h['body'])}</pre></td></tr>"
        for h in reversed(_hooks())
    )
    return (
        f"<!doctype html><title>Notice sink</title><h1>E-mail notices</h1><table border=1>"
        f"<tr><th>To</th><th>Subject</th><th>Message-ID</th><th>Body</th></tr>{rows}</table>"
        f"<h1>Webhook notices</h1><table border=1><tr><th>Endpoint</th><th>Answered</th><th>Event id</th>"
        f"<th>Body</th></tr>{hooks}</table>"
    )
