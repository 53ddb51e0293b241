"""Files people upload: checked by content, named safely, kept in an S3-compatible object store.

Evidence photos and PDFs from examinations, holders' answers and guide images never touch the
web root: they are written to the bucket under a generated key and served back through the
pages with the content type found by sniffing their bytes (never the one the browser claimed),
``X-Content-Type-Options: nosniff`` and a sandboxing CSP. Locally the store is ``rclone serve s3``
(started by ``deploy/local/stack.py``); in production any S3 endpoint.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

import filetype
from aiobotocore.session import ClientCreatorContext, get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
# An evidence photo or a guide image is a photo, not a mural: larger images are refused before they are decoded.
MAX_PIXELS = 120_000_000


class UploadRefused(Exception):
    """An upload that is not accepted; ``code`` is machine-readable, the message is shown beside the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def sniff(data: bytes) -> str:
    """The type of ``data`` by its content (magic numbers), among the allowed ones; refused otherwise."""
    if not data:
        raise UploadRefused("empty_file", "the file is empty")
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind is not None else None
    if mime == "application/pdf" and not data.lstrip()[:5] == b"%PDF-":
        mime = None
    if mime not in ALLOWED:
        raise UploadRefused(
            "unsupported_type",
            "only photos (JPEG, PNG, WebP) and PDF documents are accepted" + (f"; this file is {mime}" if mime else ""),
        )
    return mime


def check_whole(data: bytes, mime: str) -> None:
    """Refuse a file whose content is not a whole image or PDF of its type (``corrupt_file``): a signature
    followed by anything else is not evidence. An image is read through (dimensions, checksums, the end of
    its data, within :data:`MAX_PIXELS`); a PDF must end with its end-of-file marker."""
    if mime in IMAGES:
        from PIL import Image, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # beyond it, Pillow's warning is raised (below) before decoding
        kind = mime.split("/")[1].upper()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data), formats=[kind])
            with image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise UploadRefused(
                        "image_too_large", f"the image is {width} x {height} pixels; at most {MAX_PIXELS:,} pixels"
                    )
                image.verify()  # its structure to the end (a PNG's chunk checksums and end chunk)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                image.load()  # every pixel decoded: a truncated or broken image fails here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadRefused("image_too_large", f"the image has more than {MAX_PIXELS:,} pixels") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UploadRefused("corrupt_file", f"the file is not a whole {kind} image") from exc
    elif mime == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise UploadRefused("corrupt_file", "the file is not a whole PDF document (no end-of-file marker)")


def safe_name(name: str | None, mime: str) -> str:
    """A display name without paths, control characters or anything but letters, digits, ``.-_`` and spaces,
    ending in the extension of its real type."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] in "LN" or ch in " .-_")
    base = re.sub(r"\s+", " ", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[:80] or "file"
    return f"{stem}.{ALLOWED[mime]}"


def check(data: bytes, name: str | None, max_bytes: int) -> tuple[str, str]:
    """(content type by sniffing, safe name) of an upload, or :class:`UploadRefused`."""
    if len(data) > max_bytes:
        raise UploadRefused(
            "file_too_large", f"the file is {len(data) / 1048576:.1f} MB; at most {max_bytes // 1048576} MB"
        )
    mime = sniff(data)
    check_whole(data, mime)
    return mime, safe_name(name, mime)


def new_key(purpose: str, owner: str, mime: str) -> str:
    """An object key nobody chooses: purpose/owner/date/random.ext (owner reduced to safe characters)."""
    owner = re.sub(r"[^A-Za-z0-9._-]", "_", owner)[:100] or "none"
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    return f"{purpose}/{owner}/{day}/{secrets.token_hex(12)}.{ALLOWED[mime]}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ObjectStore:
    endpoint_url: str | None
    region: str
    access_key: str
    secret_key: str
    bucket: str

    def _client(self) -> ClientCreatorContext:
        return get_session().create_client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    async def ensure_bucket(self) -> None:
        async with self._client() as s3:
            try:
                await s3.head_bucket(Bucket=self.bucket)
            except ClientError:
                await s3.create_bucket(Bucket=self.bucket)

    async def put(self, key: str, data: bytes, mime: str) -> None:
        async with self._client() as s3:
            await s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=mime)

    async def get(self, key: str) -> bytes:
        async with self._client() as s3:
            obj = await s3.get_object(Bucket=self.bucket, Key=key)
            async with obj["Body"] as body:
                return await body.read()

    async def check(self) -> None:
        """Readiness: the bucket answers."""
        async with self._client() as s3:
            await s3.head_bucket(Bucket=self.bucket)


StoreError = (BotoCoreError, ClientError, OSError)
