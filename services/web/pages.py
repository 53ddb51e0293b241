"""What every page shares: who is signed in, the language, the templates, the security headers, forms."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from services.web import auth, i18n
from services.web.apis import Api
from shared.rules.calendar import working_days_left
from shared.runtime import session_dep

TEMPLATES = Path(__file__).with_name("templates")
env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
)
Session = Annotated[AsyncSession, Depends(session_dep)]


def csp(issuer_origin: str) -> str:
    """The pages' Content-Security-Policy: our own scripts, styles and images only; forms post here (and the
    sign-out continues at the provider)."""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"form-action 'self' {issuer_origin}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


class SignInNeeded(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class GoTo(Exception):
    """The person opened the other audience's pages: send them to their own (a rights holder to the portal)."""

    def __init__(self, path: str) -> None:
        self.path = path


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class Ctx:
    """One request's page context: the person, their language, an API client with their token."""

    def __init__(self, request: Request, session: AsyncSession, who: auth.Current | None, lang: str) -> None:
        self.request, self.session, self.who, self.lang = request, session, who, lang

    @property
    def api(self) -> Api:
        app = self.request.app
        return Api(app.state.http, app.state.urls, self.who.access_token if self.who else "")

    def _(self, text: str, **values: Any) -> str:
        return i18n.t(self.lang, text, **values)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        flash = self.request.query_params.get("msg")
        moved = self.request.query_params.get("state", "")[:32]
        body = env.get_template(template).render(
            request=self.request,
            who=self.who,
            lang=self.lang,
            _=self._,
            label=lambda code: i18n.label(self.lang, code),
            notice_title=lambda k: i18n.notice_title(self.lang, k),
            risk_reason=lambda r: i18n.risk_reason(self.lang, r),
            task_reason=lambda r: i18n.task_reason(self.lang, r),
            money=lambda v, c=None: i18n.money(self.lang, v, c),
            number=lambda v: i18n.number(self.lang, v),
            unit=lambda v: i18n.unit(self.lang, v),
            when=lambda v, tz=None: i18n.when(self.lang, v, tz),
            day=lambda v: i18n.day(self.lang, v),
            until=lambda v, tz=None: i18n.until(self.lang, v, tz),
            left_of=lambda j, v: _left(j, v),
            time_left=lambda n: i18n.time_left(self.lang, n),
            flash=(
                i18n.t(self.lang, "The case has moved on: {state}.", state=i18n.label(self.lang, moved))
                if flash == "moved" and moved
                else i18n.t(self.lang, FLASHES[flash])
                if flash in FLASHES
                else None
            ),
            flash_kind=self.request.query_params.get("kind", "ok"),
            csrf=self.who.csrf if self.who else "",
            path=self.request.url.path,
            query=str(self.request.url.query),
            **values,
        )
        return HTMLResponse(body, status_code=status)


def _left(jurisdiction: str | None, due_at: str | None) -> int | None:
    """Working days left before ``due_at`` in the jurisdiction's calendar (the one answer, shared.rules)."""
    if not jurisdiction or not due_at:
        return None
    try:
        return working_days_left(jurisdiction, datetime.fromisoformat(due_at), datetime.now(UTC))
    except (KeyError, ValueError):
        return None


class SignedInCtx(Ctx):
    """The page context of a signed-in person (the officer and rights-holder pages)."""

    who: auth.Current

    def __init__(self, request: Request, session: AsyncSession, who: auth.Current, lang: str) -> None:
        super().__init__(request, session, who, lang)


# Messages a redirect after a form may show (?msg=...): fixed texts only, never text from the address.
FLASHES = {
    "sent": "Instruction sent to the case.",
    "saved": "Saved.",
    "stored": "The file was stored.",
    "replied": "Your reply was sent.",
    "applied": "Your application was recorded; customs will review it.",
    "expired": "Your session has ended; please sign in again.",
    "csrf": "The form has expired; please try again.",
    "resolved": "The escalation is resolved.",
    "need_note": "Say what was done (at least 3 characters).",
    "not_resolved": "The escalation could not be resolved; open the case to see why.",
}


async def _ctx(request: Request, session: Session) -> Ctx:
    who = await auth.current(request, session)
    return Ctx(request, session, who, await auth.language(request, session, who))


async def anyone(request: Request, session: Session) -> Ctx:
    return await _ctx(request, session)


async def officer(request: Request, session: Session) -> SignedInCtx:
    ctx = await _ctx(request, session)
    who = ctx.who
    if who is None:
        raise SignInNeeded(_here(request))
    if not who.is_officer:
        if who.role == "rights_holder":
            raise GoTo("/portal")
        raise Forbidden(ctx._("This page is for officers."))
    return SignedInCtx(ctx.request, ctx.session, who, ctx.lang)


async def holder(request: Request, session: Session) -> SignedInCtx:
    ctx = await _ctx(request, session)
    who = ctx.who
    if who is None:
        raise SignInNeeded(_here(request))
    if who.role != "rights_holder":
        if who.is_officer:
            raise GoTo("/workbench")
        raise Forbidden(ctx._("This page is for rights holders."))
    return SignedInCtx(ctx.request, ctx.session, who, ctx.lang)


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


Anyone = Annotated[Ctx, Depends(anyone)]
OfficerCtx = Annotated[SignedInCtx, Depends(officer)]
HolderCtx = Annotated[SignedInCtx, Depends(holder)]


async def form_of(ctx: Ctx) -> FormData:
    """The posted form, after its CSRF token is checked (a stale or forged form goes back with a message)."""
    form = await ctx.request.form(max_files=4, max_fields=200, max_part_size=1024 * 1024)
    token = form.get("csrf")  # a file under that name is no token
    if ctx.who is None or not auth.csrf_ok(ctx.who, token if isinstance(token, str) else None):
        raise CsrfFailed(ctx.request.headers.get("referer") or "/")
    return form


class CsrfFailed(Exception):
    def __init__(self, back: str) -> None:
        self.back = back


def back(path: str, msg: str | None = None, kind: str = "ok", state: str | None = None) -> RedirectResponse:
    """Post/redirect/get: back to a page of this site, with one of the fixed messages."""
    target, _, fragment = auth.safe_return(path).partition("#")
    if msg:
        target += (
            ("&" if "?" in target else "?") + f"msg={msg}&kind={kind}" + (f"&state={quote(state)}" if state else "")
        )
    return RedirectResponse(target + (f"#{fragment}" if fragment else ""), status_code=303)


class Errors(dict):
    """Errors of a form by field name, shown beside each field (``_form``: the form as a whole)."""

    def need(self, form: FormData, name: str, ctx: Ctx) -> str:
        value = str(form.get(name) or "").strip()
        if not value:
            self[name] = ctx._("This field is required.")
        return value
