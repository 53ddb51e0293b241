"""Reading a parcel manifest as it arrives: the header first, then one parcel at a time.

``ManifestStream.feed(chunk)`` takes the body in pieces of any size and returns what became
complete: ``("header", dict)`` once, when ``parcels`` begins (every header field must come before
it), then ``("parcel", value)`` for each element of ``parcels`` (a dict, or whatever else a client
put there), and ``("end", None)`` when the document closes. Only the parcel being read and the
header are ever held, so a 10,000-parcel manifest takes the memory of one parcel, not of the body.
Numbers arrive as ``int`` or ``Decimal`` (never float), so 4.20 stays 4.20.
"""

from __future__ import annotations

from typing import Any

import ijson


class ManifestFormatError(Exception):
    """The body is not a manifest document (not JSON, not an object, parcels not a list, header after parcels)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ManifestStream:
    """Two C parsers over the same pieces: one builds each parcel (``parcels.item``), the other gives the
    events the header is built from and, once every declared parcel has arrived, what follows them. The
    events inside ``parcels`` are never looked at one by one in Python."""

    def __init__(self) -> None:
        self._items = ijson.sendable_list()
        self._items_coro = ijson.items_coro(self._items, "parcels.item", use_float=False)
        self._events = ijson.sendable_list()
        self._events_coro = ijson.parse_coro(self._events, use_float=False)
        self.header: dict[str, Any] = {}
        self._builder: ijson.ObjectBuilder | None = None
        self._key: str | None = None  # header field being built
        self._phase = "start"  # start -> header -> parcels -> tail -> end
        self._expected: int | None = None  # parcel_count, once the header is complete
        self._count = 0

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        """Parse a piece of the body; returns the header / parcels / end completed by it."""
        if not chunk:  # an empty piece would tell the parsers the body ended (servers send one last)
            return []
        try:
            self._events_coro.send(chunk)
            self._items_coro.send(chunk)
        except ijson.JSONError as exc:
            raise ManifestFormatError("malformed_json", f"request body is not valid JSON: {exc}") from exc
        except StopIteration as exc:  # a parser finished earlier: something follows the document
            raise ManifestFormatError("malformed_json", "request body has data after the manifest") from exc
        return self._drain()

    def close(self) -> list[tuple[str, Any]]:
        """The body ended: anything left, or an error if the document is incomplete."""
        try:
            self._events_coro.close()
            self._items_coro.close()
        except ijson.JSONError as exc:
            raise ManifestFormatError("malformed_json", f"request body is not valid JSON: {exc}") from exc
        out = self._drain(final=True)
        if self._phase in ("start", "header"):
            raise ManifestFormatError("parcels_missing", "the manifest has no 'parcels' list")
        return out

    def _drain(self, final: bool = False) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        events = self._events
        if self._phase in ("start", "header"):
            for i, (prefix, event, value) in enumerate(events):
                if self._header_event(prefix, event, value, out):
                    # parcels began: what follows in this piece is theirs, or after them
                    rest = [e for e in events[i + 1 :] if not e[0]]
                    break
            else:
                rest = []
        else:
            # inside parcels: only top-level events matter, and only once every declared parcel is in
            done = self._expected is None or self._count + len(self._items) >= self._expected
            rest = [e for e in events if not e[0]] if (done or final) else []
        del events[:]
        for value in self._items:
            out.append(("parcel", value))
        self._count += len(self._items)
        del self._items[:]
        for _prefix, event, value in rest:
            self._tail_event(event, value, out)
        return out

    def _header_event(self, prefix: str, event: str, value: Any, out: list) -> bool:
        """One event before the parcels; True when the parcels list begins."""
        if self._phase == "start":
            if event != "start_map":
                raise ManifestFormatError("not_a_manifest", "the body must be a JSON object (the manifest)")
            self._phase = "header"
            return False
        if self._builder is not None:
            self._builder.event(event, value)
            if prefix == self._key and event in ("end_map", "end_array"):
                self.header[self._key] = self._builder.value
                self._builder = None
            return False
        if prefix == "" and event == "map_key":
            self._key = value
            return False
        if prefix == "" and event == "end_map":
            raise ManifestFormatError("parcels_missing", "the manifest has no 'parcels' list")
        if self._key == "parcels":
            if event != "start_array":
                raise ManifestFormatError("not_a_manifest", "'parcels' must be a list of parcels")
            self._phase = "parcels"
            count = self.header.get("parcel_count")
            self._expected = count if isinstance(count, int) and not isinstance(count, bool) else None
            out.append(("header", self.header))
            return True
        if event in ("start_map", "start_array"):
            self._builder = ijson.ObjectBuilder()
            self._builder.event(event, value)
            return False
        assert self._key is not None  # the header object's first event after its start is a key (or its end)
        self.header[self._key] = value  # a scalar header field
        return False

    def _tail_event(self, event: str, value: Any, out: list) -> None:
        """A top-level event after the parcels: only the end of the manifest may follow them."""
        if event == "map_key":
            if value == "parcels":
                raise ManifestFormatError("not_a_manifest", "'parcels' appears twice")
            raise ManifestFormatError(
                "header_after_parcels",
                f"header field {value!r} comes after 'parcels': send every header field before the parcels",
            )
        if event == "end_map":
            self._phase = "end"
            out.append(("end", None))
