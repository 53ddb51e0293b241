"""Identity administration: accounts, rights holders and clients of the platform's OpenID provider.

The provider itself is the Node process in ``provider/`` (the OpenID-certified ``oidc-provider``); it
shares this service's database and reads accounts and clients from it at every sign-in, token request
and refresh. This app is the administration API and page, in Python like every other service, so it
validates tokens, answers errors and is tested and deployed the same way.
"""

from pathlib import Path

from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from services.identity.api import router
from services.identity.settings import Settings
from shared.runtime import service_app
from shared.web import SIGNIN_SCRIPT

settings = Settings()
PAGE = Path(__file__).with_name("admin") / "index.html"

app = service_app(
    settings,
    title="IPR identity administration",
    description="Accounts (officers with their customs offices, supervisors, administrators, rights holders' users, "
    "declarants), rights holders, OAuth clients and the audit trail of every change. Tokens come from the "
    "platform's OpenID provider.",
    routers=[router],
    kafka=False,
)


@app.get("/admin", include_in_schema=False)
async def admin_page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html")


@app.get("/admin/config", include_in_schema=False)
async def admin_config() -> JSONResponse:
    return JSONResponse(
        {"issuer": settings.oidc_issuer, "client_id": settings.admin_client_id, "audience": settings.oidc_audience}
    )


@app.get("/signin.js", include_in_schema=False)
async def signin_script() -> FileResponse:
    return FileResponse(SIGNIN_SCRIPT, media_type="text/javascript")


@app.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/admin")
