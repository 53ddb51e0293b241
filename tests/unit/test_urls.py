"""URLs to other services: an id stays inside its own path segment, whatever it contains."""

from __future__ import annotations

import httpx
import pytest

from shared.urls import service_url


@pytest.mark.parametrize(
    ("segment", "path"),
    [
        ("CN5300-2026-0000123", "/v1/declarations/CN5300-2026-0000123"),
        ("a?admin=1", "/v1/declarations/a%3Fadmin%3D1"),
        ("a/../../v1/holds", "/v1/declarations/a%2F..%2F..%2Fv1%2Fholds"),
        ("a#frag", "/v1/declarations/a%23frag"),
        ("Ä 1%", "/v1/declarations/%C3%84%201%25"),
    ],
)
def test_each_segment_is_escaped_on_its_own(segment: str, path: str) -> None:
    url = httpx.URL(service_url("http://intake:8001/", "v1", "declarations", segment))
    assert url.host == "intake" and url.raw_path.decode() == path
    assert url.query == b"" and url.fragment == ""


@pytest.mark.parametrize("segment", ["", ".", ".."])
def test_segments_that_move_in_the_path_are_refused(segment: str) -> None:
    with pytest.raises(ValueError):
        service_url("http://intake:8001", "v1", "declarations", segment)
