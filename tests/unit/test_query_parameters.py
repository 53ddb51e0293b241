"""A query parameter the route does not take is refused (422, named), not silently ignored: a misspelt filter
would otherwise answer a question nobody asked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated

import httpx
from fastapi import Depends, Query
from pydantic import BaseModel

from shared.web import create_app


class Page(BaseModel):
    offset: int = 0
    limit: int = 50


def _who(token: Annotated[str | None, Query(alias="on-behalf-of")] = None) -> str | None:
    return token


def _app():
    app = create_app(settings=SimpleNamespace(service_name="t", max_body_bytes=10_000), title="t", description="t")

    @app.get("/v1/items")
    async def items(
        state: str | None = None,
        revision: Annotated[int | None, Query(ge=1)] = None,
        who: Annotated[str | None, Depends(_who)] = None,
    ) -> dict:
        return {"state": state, "revision": revision, "who": who}

    @app.get("/v1/pages")
    async def pages(page: Annotated[Page, Query()]) -> dict:
        return page.model_dump()

    return app


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        return await client.get(url)


async def test_the_parameters_a_route_takes_pass_its_dependencies_and_parameter_models_included() -> None:
    r = await _get("/v1/items?state=open&revision=2&on-behalf-of=x")
    assert r.status_code == 200 and r.json() == {"state": "open", "revision": 2, "who": "x"}
    r = await _get("/v1/pages?offset=5&limit=10")
    assert r.status_code == 200 and r.json() == {"offset": 5, "limit": 10}
    assert (await _get("/metrics?name[]=ipr_x")).status_code == 200  # Prometheus' own filter


async def test_an_unknown_parameter_is_refused_and_named() -> None:
    r = await _get("/v1/items?state=open&revison=2")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "schema_violation"
    assert [(d["loc"], d["type"]) for d in error["details"]] == [(["query", "revison"], "extra_forbidden")]
    assert "on-behalf-of, revision, state" in error["details"][0]["msg"]
    r = await _get("/v1/pages?offset=1&page=2&page=3")
    assert r.status_code == 422 and [d["loc"] for d in r.json()["error"]["details"]] == [["query", "page"]]


async def test_pages_probes_and_docs_take_what_their_tools_add() -> None:
    app = _app()

    @app.get("/auth/callback")
    async def callback(code: str, state: str) -> dict:  # a provider adds iss (RFC 9207)
        return {"code": code}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/auth/callback?code=c&state=s&iss=http://idp")).status_code == 200
        assert (await client.get("/healthz?probe=1")).status_code == 200
        assert (await client.get("/docs?x=1")).status_code == 200
