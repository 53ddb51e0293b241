"""Web service: the officers' workbench and the rights-holder portal, server-rendered, signed in through the
platform's OpenID provider, calling the services' APIs with the signed-in person's token."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.web import auth, i18n
from services.web.apis import ApiError, seg
from services.web.models import StoredFile
from services.web.pages import Anyone, CsrfFailed, Ctx, Forbidden, GoTo, SignInNeeded, back, csp, form_of
from services.web.portal import router as portal_router
from services.web.settings import Settings
from services.web.storage import IMAGES, ObjectStore, StoreError
from services.web.workbench import router as workbench_router
from shared.runtime import service_app

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per API call is noise; errors still show
settings = Settings()
STATIC = Path(__file__).with_name("static")
STATIC_FILES = {"app.css": "text/css", "app.js": "text/javascript"}


async def _purge_loop(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(300)
        try:
            async with app.state.runtime.sessionmaker() as session:
                await auth.purge(session, settings.session_idle_minutes)
        except Exception:  # noqa: BLE001 - try again next round
            log.warning("could not purge idle sessions", exc_info=True)


async def on_start(app: FastAPI) -> None:
    app.state.http = httpx.AsyncClient(timeout=settings.http_timeout_s)
    public = settings.public_url.rstrip("/")
    app.state.provider = auth.Provider(
        issuer=settings.oidc_issuer,
        public_issuer=settings.oidc_public_issuer or settings.oidc_issuer,
        client_id=settings.oidc_web_client_id,
        redirect_uri=f"{public}/auth/callback",
        post_logout_uri=f"{public}/",
        http=app.state.http,
    )
    app.state.box = auth.TokenBox(settings.web_session_secret.get_secret_value())
    app.state.urls = {
        "cases": settings.cases_url,
        "intake": settings.intake_url,
        "risk": settings.risk_url,
        "notify": settings.notify_url,
        "guarantees": settings.guarantees_url,
    }
    app.state.store = ObjectStore(
        settings.s3_endpoint_url or None,
        settings.s3_region,
        settings.s3_access_key.get_secret_value(),
        settings.s3_secret_key.get_secret_value(),
        settings.s3_bucket,
    )
    try:
        await app.state.store.ensure_bucket()
    except StoreError:
        log.warning("object store not reachable at start; readiness reports it", exc_info=True)
    issuer = urlparse(settings.oidc_public_issuer or settings.oidc_issuer)
    app.state.csp = csp(f"{issuer.scheme}://{issuer.netloc}")
    app.state.purger = asyncio.create_task(_purge_loop(app))


async def on_stop(app: FastAPI) -> None:
    app.state.purger.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app.state.purger
    await app.state.http.aclose()


async def _object_store_check() -> None:
    await app.state.store.check()


app = service_app(
    settings,
    title="IPR workbench and portal",
    description="Officers' workbench and rights-holder portal (server-rendered pages).",
    routers=[workbench_router, portal_router],
    on_start=on_start,
    on_stop=on_stop,
    kafka=False,
    json_only=False,
    extra_readiness=lambda app: [_object_store_check],
)


@app.middleware("http")
async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response: Response = await call_next(request)
    if "content-security-policy" not in response.headers:
        response.headers["Content-Security-Policy"] = getattr(app.state, "csp", csp(""))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _page_error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    from services.web.pages import env

    cookie = request.cookies.get(auth.LANG_COOKIE)
    lang = cookie if cookie is not None and cookie in i18n.LANGS else "en"
    body = env.get_template("error.html").render(
        request=request,
        who=None,
        lang=lang,
        _=lambda s, **v: i18n.t(lang, s, **v),
        title=i18n.t(lang, title),
        message=message,
        csrf="",
        path=request.url.path,
        flash=None,
        query="",
        label=lambda c: i18n.label(lang, c),
    )
    return HTMLResponse(body, status_code=status)


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(("/healthz", "/readyz", "/metrics", "/docs", "/openapi"))


@app.exception_handler(SignInNeeded)
async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
    return RedirectResponse(f"/signin?next={seg(auth.safe_return(exc.next_path))}", status_code=303)


@app.exception_handler(GoTo)
async def _go_to(request: Request, exc: GoTo) -> Response:
    return RedirectResponse(exc.path, status_code=303)


@app.exception_handler(Forbidden)
async def _forbidden(request: Request, exc: Forbidden) -> Response:
    return _page_error(request, 403, "This page is not for your account", exc.message)


@app.exception_handler(CsrfFailed)
async def _csrf(request: Request, exc: CsrfFailed) -> Response:
    target = urlparse(exc.back)
    path = target.path if not target.netloc or target.netloc == request.url.netloc else "/"
    return back(path or "/", "csrf", "error")


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if not _is_page(request):
        from fastapi.responses import JSONResponse

        from shared.web import error_body

        return JSONResponse(error_body("http_error", str(exc.detail)), status_code=exc.status_code)
    title = "Not found" if exc.status_code == 404 else "Something went wrong"
    message = str(exc.detail) if exc.status_code not in (404, 500) else ""
    return _page_error(request, exc.status_code, title, message)


@app.exception_handler(RequestValidationError)
async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    return _page_error(request, 422, "Something went wrong", "; ".join(str(e.get("msg")) for e in exc.errors())[:300])


@app.exception_handler(ApiError)
async def _api_error(request: Request, exc: ApiError) -> Response:
    return _page_error(request, exc.status if 400 <= exc.status < 500 else 502, "Something went wrong", exc.message)


# ---------------------------------------------------------------- sign-in, sign-out, language


@app.get("/", include_in_schema=False)
async def home(ctx: Anyone) -> Response:
    if ctx.who is not None:
        return RedirectResponse("/workbench" if ctx.who.is_officer else "/portal", status_code=303)
    return ctx.render("home.html")


@app.get("/signin", include_in_schema=False)
async def signin(ctx: Anyone, next: str = "/") -> Response:
    try:
        target = await auth.begin(
            ctx.session, ctx.request.app.state.provider, return_to=next, lang=ctx.lang, audience=settings.oidc_audience
        )
    except httpx.HTTPError as exc:
        return ctx.render(
            "home.html", status=503, error=ctx._("The sign-in did not complete: {why}", why=type(exc).__name__)
        )
    return RedirectResponse(target, status_code=303)


@app.get("/auth/callback", include_in_schema=False)
async def callback(
    ctx: Anyone, code: str = "", state: str = "", error: str = "", error_description: str = ""
) -> Response:
    if error or not code or not state:
        why = (error_description or error or "no code")[:200]
        return ctx.render("home.html", status=400, error=ctx._("The sign-in did not complete: {why}", why=why))
    try:
        session_id, return_to, who = await auth.complete(
            ctx.session,
            ctx.request.app.state.provider,
            ctx.request.app.state.box,
            ctx.request.app.state.authenticator,
            code=code[:512],
            state=state[:128],
        )
    except (auth.SignInError, httpx.HTTPError) as exc:
        return ctx.render("home.html", status=400, error=ctx._("The sign-in did not complete: {why}", why=str(exc)))
    if return_to == "/":
        return_to = "/workbench" if who.role in ("officer", "supervisor") else "/portal"
    response = RedirectResponse(return_to, status_code=303)
    response.set_cookie(auth.COOKIE, session_id, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/")
    return response


@app.post("/signout", include_in_schema=False)
async def signout(ctx: Anyone) -> Response:
    if ctx.who is not None:
        await form_of(ctx)
    id_token = await auth.end(ctx.session, ctx.request)
    target = await ctx.request.app.state.provider.end_session_url(id_token, ctx.lang) if id_token else None
    response = RedirectResponse(target or "/", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


@app.post("/language", include_in_schema=False)
async def set_language(ctx: Anyone) -> Response:
    if ctx.who is not None:
        form = await form_of(ctx)
    else:
        form = await ctx.request.form(max_files=0, max_fields=5)
    lang = str(form.get("lang") or "")
    back_to = auth.safe_return(str(form.get("back") or "/"))
    response = RedirectResponse(back_to, status_code=303)
    if lang in i18n.LANGS:
        if ctx.who is not None:
            await auth.save_language(ctx.session, ctx.who, lang)
        response.set_cookie(
            auth.LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/",
        )
    return response


@app.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "max-age=300"})


# ---------------------------------------------------------------- stored files


@app.get("/files/{file_id}", include_in_schema=False)
async def stored_file(file_id: int, ctx: Anyone) -> Response:
    """A stored file, to whoever may see it: officers the files of cases of their offices and every guide image;
    a rights holder its own uploads, the guide images of its recordations and the evidence of its own cases."""
    who = ctx.who
    if who is None:
        raise SignInNeeded(f"/files/{file_id}")
    if not 1 <= file_id <= 2**31 - 1:
        return _page_error(ctx.request, 404, "Not found", "")
    row = (await ctx.session.execute(select(StoredFile).where(StoredFile.id == file_id))).scalar_one_or_none()
    if row is None or row.content_type not in (*IMAGES, "application/pdf") or not await _may_see(ctx, who, row):
        return _page_error(ctx.request, 404, "Not found", "")
    try:
        data = await ctx.request.app.state.store.get(row.object_key)
    except StoreError:
        return _page_error(ctx.request, 502, "Something went wrong", "")
    disposition = "inline" if row.content_type in IMAGES else "attachment"
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{row.filename}"',
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _may_see(ctx: Ctx, who: auth.Current, row: StoredFile) -> bool:
    if row.purpose == "guide":
        if who.is_officer:
            return True
        return row.holder_id == who.holder_id
    if row.case_id is None:
        return False
    if who.role == "rights_holder" and row.holder_id not in (None, who.holder_id):
        return False
    try:  # the case API says whether this person may see the case
        await ctx.api.get("cases", f"/v1/cases/{seg(row.case_id)}")
    except ApiError:
        return False
    return True


@app.get("/guide-image", include_in_schema=False)
async def guide_image(ctx: Anyone, key: str = "") -> Response:
    """A guide image by its object key (as recordations name them)."""
    row = (
        await ctx.session.execute(
            select(StoredFile).where(StoredFile.object_key == key[:256], StoredFile.purpose == "guide")
        )
    ).scalar_one_or_none()
    if row is None:
        return _page_error(ctx.request, 404, "Not found", "")
    return RedirectResponse(f"/files/{row.id}", status_code=303)


@app.get("/documents/{notice_id}/{name}", include_in_schema=False)
async def document(notice_id: str, name: str, ctx: Anyone) -> Response:
    """A notice's legal document as sent (notify's ``GET /v1/notices/{id}/document?format=``), fetched with the
    person's own token, so notify decides who may read it; HTML is shown sandboxed, PDF in the browser's viewer."""
    if ctx.who is None:
        raise SignInNeeded(f"/documents/{notice_id}/{name}")
    number, _, fmt = name.rpartition(".")
    if fmt not in ("html", "pdf") or not number:
        return _page_error(ctx.request, 404, "Not found", "")
    try:
        r = await ctx.api.call(
            "GET", "notify", f"/v1/notices/{seg(notice_id[:64])}/document", params={"format": fmt}, raw=True
        )
    except ApiError as exc:
        return _page_error(ctx.request, 404 if exc.status < 500 else 502, "Not found", exc.message)
    if r.headers.get("x-ipr-document-number") != number:  # a link naming another document of that notice
        return _page_error(ctx.request, 404, "Not found", "")
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    return Response(
        r.content,
        media_type=media,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
            "Content-Disposition": f'inline; filename="{seg(number)}.{fmt}"',
            "Cache-Control": "private, no-store",
        },
    )
