"""Local stand-ins for the outside world of notices: an SMTP sink and a webhook receiver.

Mail sent to 127.0.0.1:$SINK_SMTP_PORT and webhooks POSTed to ``/webhooks/<name>`` are
kept as files under $SINK_DIR and listed at ``/`` (HTML), ``/mail`` and ``/webhooks``
(JSON), so a user can read the notice a rights holder would have received.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path

from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

SINK_DIR = Path(os.environ.get("SINK_DIR", ".data/sinks"))
MAIL_DIR = SINK_DIR / "mail"
HOOK_DIR = SINK_DIR / "webhooks"


class _MailHandler:
    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        MAIL_DIR.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.eml"
        (MAIL_DIR / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@asynccontextmanager
async def lifespan(_: FastAPI):  # noqa: ANN201
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
        out.append({"file": path.name, "to": msg["To"], "from": msg["From"], "subject": msg["Subject"],
                    "headers": {k: str(v) for k, v in msg.items()},
                    "body": body.get_content() if body else ""})
    return out


def _hooks() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(HOOK_DIR.glob("*.json"))]


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.get("/mail")
async def mail() -> list[dict]:
    return _mails()


@app.get("/webhooks")
async def hooks() -> list[dict]:
    return _hooks()


@app.post("/webhooks/{name}")
async def receive_hook(name: str, request: Request) -> dict:
    HOOK_DIR.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "headers": dict(request.headers), "body": (await request.body()).decode(errors="replace")}
    (HOOK_DIR / f"{time.time_ns()}.json").write_text(json.dumps(record))
    return {"received": True}


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    from html import escape

    rows = "".join(
        f"<tr><td>{escape(m['to'] or '')}</td><td>{escape(m['subject'] or '')}</td>"
        f"<td><pre>{escape(m['body'])}</pre></td></tr>" for m in reversed(_mails())
    )
    hooks = "".join(f"<tr><td>{escape(h['name'])}</td><td><pre>{escape(h['body'])}</pre></td></tr>"
                    for h in reversed(_hooks()))
    return (f"<!doctype html><title>Notice sink</title><h1>E-mail notices</h1><table border=1>"
            f"<tr><th>To</th><th>Subject</th><th>Body</th></tr>{rows}</table>"
            f"<h1>Webhook notices</h1><table border=1><tr><th>Endpoint</th><th>Body</th></tr>{hooks}</table>")
