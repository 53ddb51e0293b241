"""URLs of other services, built so that no value can change which resource is called.

Every path segment is percent-encoded on its own (a ``/``, ``?``, ``#`` or ``%`` in an id stays
inside its segment), and ``.``/``..`` segments are refused, so an id never walks up the path.
Ids are also bounded by their patterns in ``shared.contracts.bounds``; this is the second lock.
"""

from __future__ import annotations

from urllib.parse import quote


def service_url(base: str, *segments: str | int) -> str:
    """``base`` followed by ``segments``, each escaped as one path segment."""
    parts = []
    for segment in segments:
        text = str(segment)
        if text in ("", ".", ".."):
            raise ValueError(f"{text!r} cannot be a path segment")
        parts.append(quote(text, safe=""))
    return base.rstrip("/") + "/" + "/".join(parts)
