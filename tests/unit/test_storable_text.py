"""Text no column or message can store (NUL, unpaired surrogates) is refused with 422 at every service."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from pydantic import BaseModel, Field

from shared.contracts.bounds import unstorable_text
from shared.web import create_app


class Short(BaseModel):
    code: str = Field(max_length=3)


class Body(BaseModel):
    name: str
    tags: list[str] = []


def _app():
    app = create_app(settings=SimpleNamespace(service_name="t", max_body_bytes=10_000), title="t", description="t")

    @app.post("/echo")
    async def echo(body: Body) -> dict:
        return body.model_dump()

    return app


async def _post(raw: bytes) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        return await client.post("/echo", content=raw, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (rb'{"name": "a\u0000b"}', ["body", "name"]),
        (rb'{"name": "ok", "tags": ["x", "\udb2f"]}', ["body", "tags", 1]),
        (rb'{"name": "ok", "\ud800": 1}', ["body", "\\ud800"]),
    ],
)
async def test_unstorable_text_is_refused_naming_where(raw: bytes, loc: list) -> None:
    response = await _post(raw)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "schema_violation" and error["details"][0]["loc"] == loc


@pytest.mark.parametrize(
    "raw", [rb'{"name": "M\u00fcller \ud83d\ude00"}', rb'{"name": "a\\u0000b"}', '{"name": "Müller"}'.encode()]
)
async def test_escaped_and_paired_text_passes(raw: bytes) -> None:
    response = await _post(raw)
    assert response.status_code == 200, response.text


def test_unstorable_text_walks_nested_values() -> None:
    assert unstorable_text({"a": [{"b": "x\x00"}], "c": "fine", "d": 5}) == [("a", 0, "b")]
    assert unstorable_text(["\ud800", "ok"]) == [(0,)]
    assert unstorable_text({"a": "\U0001f600"}) == []


@pytest.mark.parametrize("raw", [b'{"name": "x"', b"\xff\xfe{not json", b'{"name": "a"} trailing', b""])
async def test_a_body_that_cannot_be_parsed_is_malformed_json(raw: bytes) -> None:
    response = await _post(raw)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    assert error["code"] in ("malformed_json", "schema_violation")
    if raw:
        assert error["code"] == "malformed_json", response.text


async def test_validation_errors_name_their_limits() -> None:
    app = create_app(settings=SimpleNamespace(service_name="t", max_body_bytes=10_000), title="t", description="t")

    @app.post("/short")
    async def short(body: Short) -> dict:
        return body.model_dump()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/short", json={"code": "toolong"})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["type"] == "string_too_long" and detail["ctx"] == {"max_length": 3}


async def test_a_nul_in_the_query_is_refused_naming_the_parameter() -> None:
    app = _app()

    @app.get("/find")
    async def find(mark: str = "", q: str = "") -> dict:
        return {"mark": mark, "q": q}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        refused = await client.get("/find?q=fine&mark=%C3%98U%00x")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "schema_violation" and error["details"][0]["loc"] == ["query", "mark"]
        passed = await client.get("/find?mark=M%C3%BCller%2500")  # "%00" written out, not a NUL
        assert passed.status_code == 200 and passed.json()["mark"] == "Müller%00"
