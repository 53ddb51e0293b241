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
    def __init__(self) -> None:
        self._events = ijson.sendable_list()
        self._coro = ijson.basic_parse_coro(self._events, use_float=False)
        self._depth = 0  # nesting depth before the current event
        self._key: str | None = None  # current top-level key
        self.header: dict[str, Any] = {}
        self._builder: ijson.ObjectBuilder | None = None
        self._builder_depth = 0
        self._in_parcels = False
        self._parcels_seen = False
        self._out: list[tuple[str, Any]] = []

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        """Parse a piece of the body; returns the header / parcels / end completed by it."""
        if not chunk:  # an empty piece would tell the parser the body ended (servers send one last)
            return []
        try:
            self._coro.send(chunk)
        except ijson.JSONError as exc:
            raise ManifestFormatError("malformed_json", f"request body is not valid JSON: {exc}") from exc
        except StopIteration as exc:  # the parser finished earlier: something follows the document
            raise ManifestFormatError("malformed_json", "request body has data after the manifest") from exc
        return self._drain()

    def close(self) -> list[tuple[str, Any]]:
        """The body ended: anything left, or an error if the document is incomplete."""
        try:
            self._coro.close()
        except ijson.JSONError as exc:
            raise ManifestFormatError("malformed_json", f"request body is not valid JSON: {exc}") from exc
        out = self._drain()
        if not self._parcels_seen:
            raise ManifestFormatError("parcels_missing", "the manifest has no 'parcels' list")
        return out

    def _drain(self) -> list[tuple[str, Any]]:
        out, self._out = self._out, []
        for event, value in self._events:
            self._event(event, value)
        del self._events[:]
        out.extend(self._out)
        self._out = []
        return out

    def _event(self, event: str, value: Any) -> None:
        opens = event in ("start_map", "start_array")
        closes = event in ("end_map", "end_array")
        if self._builder is not None:  # inside a header value or a parcel
            self._builder.event(event, value)
            if opens:
                self._builder_depth += 1
            elif closes:
                self._builder_depth -= 1
            if self._builder_depth == 0:
                self._finish_value(self._builder.value)
            if closes:
                self._depth -= 1
            elif opens:
                self._depth += 1
            return
        if self._depth == 0:
            if event != "start_map":
                raise ManifestFormatError("not_a_manifest", "the body must be a JSON object (the manifest)")
            self._depth = 1
            return
        if self._depth == 1:
            if event == "map_key":
                if self._parcels_seen and value != "parcels":
                    raise ManifestFormatError(
                        "header_after_parcels",
                        f"header field {value!r} comes after 'parcels': send every header field before the parcels")
                if value == "parcels" and self._parcels_seen:
                    raise ManifestFormatError("not_a_manifest", "'parcels' appears twice")
                self._key = value
                return
            if event == "end_map":
                self._depth = 0
                self._out.append(("end", None))
                return
            # the value of a top-level key
            if self._key == "parcels":
                if event != "start_array":
                    raise ManifestFormatError("not_a_manifest", "'parcels' must be a list of parcels")
                self._parcels_seen = True
                self._in_parcels = True
                self._out.append(("header", self.header))
                self._depth = 2
                return
            if opens:
                self._start_builder(event, value)
                self._depth += 1
                return
            self.header[self._key] = value  # a scalar header field
            return
        if self._in_parcels and self._depth == 2:
            if event == "end_array":
                self._in_parcels = False
                self._depth = 1
                return
            if opens:
                self._start_builder(event, value)
                self._depth += 1
                return
            self._out.append(("parcel", value))  # a scalar where a parcel should be: rejected by the caller
            return
        raise ManifestFormatError("not_a_manifest", f"unexpected JSON event {event}")  # pragma: no cover

    def _start_builder(self, event: str, value: Any) -> None:
        self._builder = ijson.ObjectBuilder()
        self._builder.event(event, value)
        self._builder_depth = 1

    def _finish_value(self, value: Any) -> None:
        self._builder = None
        if self._in_parcels:
            self._out.append(("parcel", value))
        else:
            assert self._key is not None
            self.header[self._key] = value
