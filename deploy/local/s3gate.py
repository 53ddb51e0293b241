"""Conditional writes in front of ``rclone serve s3``, for the embedded broker's durable storage.

The broker (tansu, ``s3://`` storage) keeps each partition's high watermark in an object it
creates with ``If-None-Match: *`` and updates with ``If-Match: <etag>``. ``rclone serve s3``
ignores both headers, so after every broker restart the first record written to a partition
re-created the watermark at 0 and overwrote the partition's records from offset 0 (measured with
rclone 1.75.2 and tansu 0.6.0). This gate, on the store's loopback port, answers those two
preconditions as S3 does (412 when the object exists, or when its ETag differs) against the
folder rclone serves, one write per object at a time, and passes every request, signature
untouched, to rclone on a Unix socket.

    python -m deploy.local.s3gate --port 19000 --socket <rclone.sock> --root <folder served>
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

import httpx
import uvicorn

HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade",
              b"proxy-authorization", b"proxy-authenticate"}
PRECONDITION_FAILED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>'
                       b"<Message>At least one of the pre-conditions you specified did not hold</Message></Error>")


class Gate:
    def __init__(self, socket: str, root: Path) -> None:
        self.root = root.resolve()
        self.client = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=socket), base_url="http://rclone",
                                        timeout=httpx.Timeout(120.0))
        self.locks: defaultdict[Path, asyncio.Lock] = defaultdict(asyncio.Lock)

    def object_path(self, path: str) -> Path | None:
        target = (self.root / unquote(path).lstrip("/")).resolve()
        return target if target.is_relative_to(self.root) else None

    @staticmethod
    def etag(path: Path) -> str:
        digest = hashlib.md5()  # noqa: S324 - the S3 ETag of a single-part object, not a security hash
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = {k.lower(): v for k, v in scope["headers"]}
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        condition = headers.get(b"if-none-match") or headers.get(b"if-match")
        if scope["method"] == "PUT" and condition and b"uploadId" not in scope.get("query_string", b""):
            target = self.object_path(scope["path"])
            if target is None:
                await self.answer(send, 400, b"")
                return
            async with self.locks[target]:
                if not self.holds(target, headers):
                    await self.answer(send, 412, PRECONDITION_FAILED)
                    return
                await self.forward(scope, headers, body, send)
            return
        await self.forward(scope, headers, body, send)

    def holds(self, target: Path, headers: dict[bytes, bytes]) -> bool:
        none_match = headers.get(b"if-none-match")
        if none_match is not None and none_match.strip() == b"*":
            return not target.is_file()
        match = headers.get(b"if-match")
        if match is not None:
            wanted = {m.strip().strip(b'"').removeprefix(b"W/").strip(b'"') for m in match.split(b",")}
            return target.is_file() and (b"*" in wanted or self.etag(target).encode() in wanted)
        return True

    async def forward(self, scope, headers: dict[bytes, bytes], body: bytes, send) -> None:  # noqa: ANN001
        query = scope.get("query_string", b"").decode()
        url = scope["raw_path"].decode() if scope.get("raw_path") else scope["path"]
        if query:
            url = f"{url}?{query}"
        out = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP and k.lower() != b"content-length"]
        response = await self.client.request(scope["method"], url, headers=out, content=body)
        keep = [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]
        if scope["method"] != "HEAD":  # a HEAD answer keeps the object's length
            keep = [(k, v) for k, v in keep if k.lower() != b"content-length"]
            keep.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": keep})
        await send({"type": "http.response.body", "body": response.content})

    @staticmethod
    async def answer(send, status: int, body: bytes) -> None:  # noqa: ANN001
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True, help="rclone serve s3's Unix socket")
    parser.add_argument("--root", type=Path, required=True, help="the folder rclone serves")
    args = parser.parse_args()
    # The broker's HTTP client keeps idle connections for 90 s and does not retry a write on a connection the
    # server closed meanwhile: keep them open longer than it does.
    uvicorn.run(Gate(args.socket, args.root), host="127.0.0.1", port=args.port, log_level="warning",
                lifespan="on", timeout_keep_alive=600)


if __name__ == "__main__":
    main()
