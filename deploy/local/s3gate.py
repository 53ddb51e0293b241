"""The broker's object store gate: conditional writes and a memory of what is stored, in front of ``rclone serve s3``.

The broker (tansu, ``s3://`` storage) keeps each partition's high watermark and the cluster's
metadata in objects it creates with ``If-None-Match: *`` and replaces with ``If-Match: <etag>``,
and it polls them with ``If-None-Match: <etag>`` on every fetch. ``rclone serve s3`` ignores those
headers (measured with rclone 1.75.2 and tansu 0.6.0: after a broker restart the first record written
to a partition started again at offset 0 and overwrote the records there), hashes a file again for
every answer that carries an ETag, and reads every file of a folder for a listing.

The gate is the only writer of its store, so it can answer most requests from memory:

* **Conditional writes**, one write per object at a time: ``If-None-Match: *`` fails (412) when the
  object exists, ``If-Match`` when its ETag differs, as S3 answers. The write itself goes to rclone,
  which keeps the object on disk (a temporary file renamed into place).
* **ETags and listings**: every object's ETag and size, learnt from rclone's answer to a write, or,
  for objects written before the gate started, from the folder rclone serves (walked once per bucket
  on first use; an ETag is the MD5 of the file, as rclone computes it, hashed once).
  ``If-None-Match: <current etag>`` gets 304 and listings (ListObjectsV2) are answered from memory.
* **Recent small objects** (up to ``--cache-object-bytes`` each, ``--cache-bytes`` in all, least
  recently used first out): the broker reads back what it has just written (watermarks, metadata, the
  record batches its consumers fetch) without a trip to rclone and the disk.

What the gate answers itself it authenticates itself (AWS signature version 4 with the store's key);
everything else (a read of an object not in memory, deletes, multipart uploads, bucket calls) goes to
rclone on a Unix socket with the client's signature untouched, and the gate learns the outcome. One
keep-alive connection pool each way; bodies larger than the cache limit are streamed.

    python -m deploy.local.s3gate --port 19000 --socket <rclone.sock> --root <folder rclone serves>

The store's key and secret come from ``S3GATE_ACCESS_KEY`` / ``S3GATE_SECRET_KEY``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import hashlib
import hmac
import logging
import os
import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from aiohttp import ClientError, ClientResponse, ClientSession, ClientTimeout, StreamReader, UnixConnector, web

log = logging.getLogger("s3gate")

# Headers of one hop only, never passed on.
# Host stays: it is signed.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "content-length",
        "expect",
    }
)
# A read with one of these goes to rclone: the gate answers plain reads and If-None-Match / If-Match only.
READ_CONDITIONS_FORWARDED = (
    "range",
    "if-modified-since",
    "if-unmodified-since",
    "x-amz-server-side-encryption-customer-algorithm",
)
# Files rclone keeps while it writes an object (``<name>.<random>.partial``) or uploads one in parts.
IN_PROGRESS = re.compile(r"(\.partial$)|(^\.rclone_)|(/\.rclone_)")
MAX_CLOCK_SKEW_S = 15 * 60


def s3_error(status: int, code: str, message: str, key: str = "") -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message><Key>{escape(key)}</Key></Error>"
    )
    return web.Response(status=status, body=body.encode(), content_type="application/xml")


# ---------------------------------------------------------------- AWS signature version 4


def _uri_encode(text: str, *, keep_slash: bool) -> str:
    return quote(text, safe="/-_.~" if keep_slash else "-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&") if raw_query else ():
        name, _, value = part.partition("=")
        pairs.append((_uri_encode(unquote(name), keep_slash=False), _uri_encode(unquote(value), keep_slash=False)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.digest(f"AWS4{secret}".encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def signature(
    secret: str,
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
    amz_date: str,
    scope: str,
) -> str:
    """The SigV4 signature of a request (the same computation signs and verifies)."""
    canonical = "\n".join(
        [
            method,
            _uri_encode(unquote(raw_path), keep_slash=True),
            canonical_query(raw_query),
            "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed_headers),
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    date, region, service, _ = scope.split("/")
    return hmac.new(signing_key(secret, date, region, service), to_sign.encode(), "sha256").hexdigest()


_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})")


def verify(request: web.BaseRequest, access_key: str, secret: str, now: float | None = None) -> str | None:
    """None when the request is signed with the store's key (header form, SigV4), else why not."""
    m = _AUTH.fullmatch(request.headers.get("Authorization", "").strip())
    if not m:
        return "missing or unsupported Authorization"
    credential, signed, given = m.groups()
    key_id, _, scope = credential.partition("/")
    if not hmac.compare_digest(key_id, access_key) or scope.count("/") != 3:
        return "unknown access key"
    amz_date = request.headers.get("x-amz-date", "")
    try:
        at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return "bad x-amz-date"
    if abs((now or time.time()) - at) > MAX_CLOCK_SKEW_S or not scope.startswith(amz_date[:8]):
        return "request time too skewed"
    signed_headers = signed.split(";")
    headers = {h: ",".join(request.headers.getall(h, [])) for h in signed_headers}
    raw_path, _, raw_query = request.raw_path.partition("?")
    expected = signature(
        secret,
        method=request.method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        signed_headers=signed_headers,
        payload_hash=request.headers.get("x-amz-content-sha256", ""),
        amz_date=amz_date,
        scope=scope,
    )
    return None if hmac.compare_digest(expected, given) else "signature does not match"


# ---------------------------------------------------------------- what is stored


@dataclass(slots=True)
class Entry:
    etag: str | None  # quoted, as S3 sends it; None until known (hashed on first need)
    size: int
    mtime: float
    body: bytes | None = None

    def http_date(self) -> str:
        return formatdate(self.mtime, usegmt=True)

    def iso_date(self) -> str:
        return datetime.fromtimestamp(self.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Bucket:
    """Every object of one bucket: sorted keys and their entries, loaded from rclone's folder on first use."""

    def __init__(self, folder: Path, cache: BodyCache, keep_bytes: int) -> None:
        self.folder = folder
        self.cache = cache
        self.keep_bytes = keep_bytes
        self.keys: list[str] = []
        self.entries: dict[str, Entry] = {}
        self.loaded = False

    def load(self) -> None:
        if self.loaded:
            return
        started = time.monotonic()
        if self.folder.is_dir():
            for path in self.folder.rglob("*"):
                rel = path.relative_to(self.folder).as_posix()
                if IN_PROGRESS.search(rel) or not path.is_file():
                    continue
                st = path.stat()
                self.entries[rel] = Entry(None, st.st_size, st.st_mtime)
        self.keys = sorted(self.entries)
        self.loaded = True
        log.info("bucket %s: %d objects known in %.2fs", self.folder.name, len(self.keys), time.monotonic() - started)

    def get(self, key: str) -> Entry | None:
        """The object's entry, its ETag known (hashed from the file once, keeping a small body while at it)."""
        self.load()
        entry = self.entries.get(key)
        if entry is not None and entry.etag is None:
            try:
                with open(self.folder / key, "rb") as fh:
                    data = fh.read() if entry.size <= self.keep_bytes else None
                    if data is None:
                        digest = hashlib.md5()  # an S3 ETag (rclone's), not a security hash
                        while chunk := fh.read(1 << 20):
                            digest.update(chunk)
                    else:
                        digest = hashlib.md5(data)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):  # removed behind the gate's back
                self.drop(key)
                return None
            entry.etag = f'"{digest.hexdigest()}"'
            if data is not None:
                entry.size = len(data)
                entry.body = data
                self.cache.add((self.folder.name, key), entry)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.load()
        if key not in self.entries:
            bisect.insort(self.keys, key)
        else:
            self.cache.forget((self.folder.name, key))
        self.entries[key] = entry
        self.cache.add((self.folder.name, key), entry)

    def drop(self, key: str) -> None:
        self.cache.forget((self.folder.name, key))
        if self.entries.pop(key, None) is not None:
            i = bisect.bisect_left(self.keys, key)
            if i < len(self.keys) and self.keys[i] == key:
                del self.keys[i]

    def refresh(self, key: str) -> None:
        """Learn an object again from disk (after a change the gate did not make itself, or a failed write)."""
        self.load()
        path = self.folder / key
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            self.drop(key)
            return
        if path.is_file():
            self.put(key, Entry(None, st.st_size, st.st_mtime))


class BodyCache:
    """Bodies of recent small objects, least recently used out first, bounded in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.lru: OrderedDict[tuple[str, str], Entry] = OrderedDict()

    def add(self, ident: tuple[str, str], entry: Entry) -> None:
        self.forget(ident)
        if entry.body is None:
            return
        self.lru[ident] = entry
        self.size += len(entry.body)
        while self.size > self.limit and self.lru:
            _, old = self.lru.popitem(last=False)
            self.size -= len(old.body or b"")
            old.body = None

    def touch(self, ident: tuple[str, str]) -> None:
        if ident in self.lru:
            self.lru.move_to_end(ident)

    def forget(self, ident: tuple[str, str]) -> None:
        old = self.lru.pop(ident, None)
        if old is not None:
            self.size -= len(old.body or b"")
            old.body = None


class KeyLocks:
    """One lock per object while anyone holds or waits for it."""

    def __init__(self) -> None:
        self.locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, ident: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self.locks.get(ident, (None, 0))
        lock = lock or asyncio.Lock()
        self.locks[ident] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self.locks[ident]
            if users == 1:
                del self.locks[ident]
            else:
                self.locks[ident] = (lock, users - 1)


# ---------------------------------------------------------------- the gate


class Gate:
    def __init__(
        self, *, socket: str, root: Path, access_key: str, secret_key: str, cache_bytes: int, cache_object_bytes: int
    ) -> None:
        self.socket = socket
        self.root = root.resolve()
        self.access_key = access_key
        self.secret_key = secret_key
        self.cache_object_bytes = cache_object_bytes
        self.cache = BodyCache(cache_bytes)
        self.buckets: dict[str, Bucket] = {}
        self.locks = KeyLocks()
        self.session: ClientSession | None = None
        self.stats: defaultdict[str, int] = defaultdict(int)

    async def start(self) -> None:
        # rclone closes idle connections after a while: drop ours to it sooner.
        connector = UnixConnector(path=self.socket, limit=64, keepalive_timeout=20)
        self.session = ClientSession(
            connector=connector,
            timeout=ClientTimeout(total=300, sock_connect=10),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def bucket(self, name: str) -> Bucket | None:
        if not name or name.startswith(".") or "/" in name:
            return None
        b = self.buckets.get(name)
        if b is None:
            folder = self.root / name
            if not folder.is_dir():
                return None
            b = self.buckets[name] = Bucket(folder, self.cache, self.cache_object_bytes)
        return b

    @staticmethod
    def split(raw_path: str) -> tuple[str, str]:
        path = unquote(raw_path.partition("?")[0]).lstrip("/")
        bucket, _, key = path.partition("/")
        return bucket, key

    @staticmethod
    def safe_key(key: str) -> bool:
        return bool(key) and ".." not in key.split("/") and "\x00" not in key and not key.endswith("/")

    # ---- dispatch

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        self.stats[request.method] += 1
        bucket_name, key = self.split(request.raw_path)
        query = request.raw_path.partition("?")[2]
        bucket = self.bucket(bucket_name)
        if bucket is None:
            return await self.forward(request)
        if not key:
            if request.method == "GET" and "list-type=2" in query.split("&"):
                return await self.list_objects(request, bucket_name, bucket, query)
            return await self.forward(request)
        if not self.safe_key(key) or query:  # multipart upload parts, tagging, acl ...: rclone's
            return await self.forward(request, mutates=(bucket, key) if request.method != "GET" else None)
        if request.method in ("GET", "HEAD"):
            return await self.read(request, bucket_name, bucket, key)
        if request.method == "PUT" and "x-amz-copy-source" not in request.headers:
            return await self.write(request, bucket_name, bucket, key)
        return await self.forward(request, mutates=(bucket, key))

    def refuse(self, request: web.BaseRequest) -> web.Response | None:
        why = verify(request, self.access_key, self.secret_key)
        if why is None:
            return None
        self.stats["refused"] += 1
        return s3_error(403, "SignatureDoesNotMatch" if "signature" in why else "AccessDenied", why)

    # ---- reads

    async def read(self, request: web.BaseRequest, bucket_name: str, bucket: Bucket, key: str) -> web.StreamResponse:
        if any(h in request.headers for h in READ_CONDITIONS_FORWARDED):
            return await self.forward(request)
        if (refused := self.refuse(request)) is not None:
            return refused
        entry = bucket.get(key)
        if entry is None:
            self.stats["404"] += 1
            return s3_error(404, "NoSuchKey", "The specified key does not exist.", key)
        headers = {"ETag": entry.etag or "", "Last-Modified": entry.http_date(), "Accept-Ranges": "bytes"}
        if (match := request.headers.get("If-Match")) is not None and not etag_in(entry.etag, match):
            return s3_error(
                412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", key
            )
        if (none_match := request.headers.get("If-None-Match")) is not None and etag_in(entry.etag, none_match):
            self.stats["304"] += 1
            return web.Response(status=304, headers=headers)
        if request.method == "HEAD":
            response = web.StreamResponse(status=200, headers={**headers, "Content-Type": "binary/octet-stream"})
            response.content_length = entry.size
            await response.prepare(request)
            return response
        if entry.body is not None:
            self.stats["cached"] += 1
            self.cache.touch((bucket_name, key))
            return web.Response(status=200, body=entry.body, headers={**headers, "Content-Type": "binary/octet-stream"})
        return await self.forward(request)  # a large object: rclone streams it

    async def list_objects(
        self, request: web.BaseRequest, bucket_name: str, bucket: Bucket, query: str
    ) -> web.Response:
        if (refused := self.refuse(request)) is not None:
            return refused
        params = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in query.split("&") if p)}
        prefix = params.get("prefix", "")
        delimiter = params.get("delimiter", "")
        try:
            max_keys = max(0, min(int(params.get("max-keys", "1000")), 1000))
        except ValueError:
            return s3_error(400, "InvalidArgument", "max-keys is not a number")
        after = max(params.get("continuation-token", ""), params.get("start-after", ""))
        bucket.load()
        keys = bucket.keys
        i = bisect.bisect_left(keys, prefix)
        if after:
            # a token ending in the delimiter is a common prefix already answered: skip every key under it
            skip = after + "\U0010ffff" if delimiter and after.endswith(delimiter) else after
            i = max(i, bisect.bisect_right(keys, skip))
        contents: list[str] = []
        prefixes: list[str] = []
        last = ""
        truncated = False
        while i < len(keys):
            k = keys[i]
            if not k.startswith(prefix):
                break
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if delimiter and (cut := k.find(delimiter, len(prefix))) >= 0:
                common = k[: cut + len(delimiter)]
                prefixes.append(f"<CommonPrefixes><Prefix>{escape(common)}</Prefix></CommonPrefixes>")
                last = common
                i = bisect.bisect_right(keys, common + "\U0010ffff")
                continue
            entry = bucket.get(k)
            i += 1
            if entry is None:  # vanished from disk
                continue
            contents.append(
                f"<Contents><Key>{escape(k)}</Key><LastModified>{entry.iso_date()}</LastModified>"
                f"<ETag>{escape(entry.etag or '')}</ETag><Size>{entry.size}</Size>"
                "<StorageClass>STANDARD</StorageClass></Contents>"
            )
            last = k
        self.stats["list"] += 1
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
            f"<Name>{escape(bucket_name)}</Name><Prefix>{escape(prefix)}</Prefix>",
            f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
            f"<Delimiter>{escape(delimiter)}</Delimiter>" if delimiter else "",
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>",
            f"<NextContinuationToken>{escape(last)}</NextContinuationToken>" if truncated else "",
            *contents,
            *prefixes,
            "</ListBucketResult>",
        ]
        return web.Response(status=200, body="".join(parts).encode(), content_type="application/xml")

    # ---- writes

    async def write(self, request: web.BaseRequest, bucket_name: str, bucket: Bucket, key: str) -> web.StreamResponse:
        none_match = request.headers.get("If-None-Match")
        match = request.headers.get("If-Match")
        async with self.locks.hold((bucket_name, key)):
            if none_match is not None or match is not None:
                if (refused := self.refuse(request)) is not None:
                    return refused
                entry = bucket.get(key)
                current = entry.etag if entry is not None else None
                if (
                    none_match is not None
                    and (etag_in(current, none_match) or none_match.strip() == "*" and current is not None)
                ) or (match is not None and not etag_in(current, match)):
                    self.stats["412"] += 1
                    return s3_error(
                        412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", key
                    )
            return await self.forward(request, learn=(bucket_name, bucket, key))

    # ---- to rclone

    async def forward(
        self,
        request: web.BaseRequest,
        *,
        learn: tuple[str, Bucket, str] | None = None,
        mutates: tuple[Bucket, str] | None = None,
    ) -> web.StreamResponse:
        """Pass a request to rclone as it came (signature untouched) and its answer back.

        ``learn``: a PUT of that object: remember its ETag (and body, when small) from rclone's answer.
        ``mutates``: any other change to that object: learn it again from disk.
        """
        assert self.session is not None
        self.stats["forwarded"] += 1
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        length = request.content_length
        body: bytes | StreamReader | None = None
        if request.body_exists:
            if length is not None and length <= self.cache_object_bytes:
                body = await request.read()
            else:
                body = request.content  # streamed
        if length is not None:
            headers.append(("Content-Length", str(length)))
        changed = learn[1:] if learn is not None else mutates
        try:
            upstream = await self._send(
                request.method,
                f"http://rclone{request.raw_path}",
                headers,
                body,
                retry=body is None or isinstance(body, bytes),
            )
        except (TimeoutError, ClientError, OSError) as exc:
            log.warning("rclone did not answer %s %s: %s", request.method, request.raw_path, exc)
            if changed is not None:  # it may or may not have changed on disk
                changed[0].refresh(changed[1])
            return s3_error(503, "ServiceUnavailable", "the object store did not answer")
        try:
            status = upstream.status
            etag = upstream.headers.get("ETag")
            if learn is not None and 200 <= status < 300 and etag and isinstance(body, bytes):
                _, bucket, key = learn
                bucket.put(key, Entry(etag, len(body), time.time(), body))
            elif changed is not None and request.method != "GET":
                changed[0].refresh(changed[1])
            reply = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
            if request.method == "HEAD":
                response = web.StreamResponse(status=status, headers=reply)
                if upstream.content_length is not None:
                    response.content_length = upstream.content_length
                await response.prepare(request)
                return response
            if upstream.content_length is not None and upstream.content_length <= self.cache_object_bytes:
                return web.Response(status=status, body=await upstream.read(), headers=reply)
            response = web.StreamResponse(status=status, headers=reply)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(1 << 16):
                await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            upstream.release()

    async def _send(
        self, method: str, url: str, headers: list, body: bytes | StreamReader | None, *, retry: bool
    ) -> ClientResponse:
        assert self.session is not None
        for attempt in (1, 2):
            try:
                return await self.session.request(method, url, headers=headers, data=body, allow_redirects=False)
            except (ClientError, OSError) as exc:
                # A keep-alive connection rclone closed meanwhile: send once more on a new one.
                if attempt == 2 or not retry:
                    raise
                log.debug("retrying %s %s after %s", method, url, exc)
        raise AssertionError("unreachable")


def etag_in(etag: str | None, header: str) -> bool:
    """Whether an If-Match / If-None-Match list names ``etag`` (``*`` names any existing object)."""
    if etag is None:
        return False
    wanted = {w.strip().removeprefix("W/").strip('"') for w in header.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


async def serve(args: argparse.Namespace) -> None:
    gate = Gate(
        socket=args.socket,
        root=args.root,
        access_key=os.environ["S3GATE_ACCESS_KEY"],
        secret_key=os.environ["S3GATE_SECRET_KEY"],
        cache_bytes=args.cache_bytes,
        cache_object_bytes=args.cache_object_bytes,
    )
    await gate.start()
    # The broker's HTTP client keeps idle connections for 90 s and does not retry a write on a connection the
    # server closed meanwhile: keep them open longer than it does.
    server = web.Server(gate, keepalive_timeout=600, access_log=None, handler_cancellation=False)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", args.port, reuse_address=True, backlog=512)
    log.warning("s3 gate on 127.0.0.1:%d in front of %s (folder %s)", args.port, args.socket, args.root)
    stop = asyncio.Event()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    listener.close()
    await server.shutdown(2)
    await gate.close()
    log.warning("stopped; requests %s", dict(gate.stats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True, help="rclone serve s3's Unix socket")
    parser.add_argument("--root", type=Path, required=True, help="the folder rclone serves (one folder per bucket)")
    parser.add_argument("--cache-bytes", type=int, default=64 << 20, help="bodies kept in memory, in all")
    parser.add_argument("--cache-object-bytes", type=int, default=1 << 20, help="largest body kept in memory")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        import uvloop

        uvloop.run(serve(args))
    except ImportError:
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
