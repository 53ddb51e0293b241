"""The object store gate checks request signatures itself for what it answers from memory (AWS signature v4)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from deploy.local.s3gate import verify

# AWS's published example of a signed S3 request (GET Object, header-based authentication, signature v4).
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SIGNATURE = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
AT = datetime(2013, 5, 24, tzinfo=UTC).timestamp()


def request(signature: str = SIGNATURE, *, key: str = ACCESS_KEY, path: str = "/test.txt", range_: str = "bytes=0-9"):
    headers = CIMultiDict(
        {
            "Host": "examplebucket.s3.amazonaws.com",
            "Range": range_,
            "x-amz-content-sha256": EMPTY_SHA256,
            "x-amz-date": "20130524T000000Z",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20130524/us-east-1/s3/aws4_request,"
            f"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}",
        }
    )
    return make_mocked_request("GET", path, headers=headers)


def test_the_published_example_is_accepted() -> None:
    assert verify(request(), ACCESS_KEY, SECRET, now=AT) is None


def test_a_changed_request_another_key_or_secret_or_a_stale_time_is_refused() -> None:
    assert verify(request(path="/other.txt"), ACCESS_KEY, SECRET, now=AT) == "signature does not match"
    assert verify(request(range_="bytes=0-10"), ACCESS_KEY, SECRET, now=AT) == "signature does not match"
    assert verify(request("0" * 64), ACCESS_KEY, SECRET, now=AT) == "signature does not match"
    assert verify(request(), ACCESS_KEY, SECRET + "x", now=AT) == "signature does not match"
    assert verify(request(key="AKIAOTHER"), ACCESS_KEY, SECRET, now=AT) == "unknown access key"
    assert verify(request(), ACCESS_KEY, SECRET, now=AT + 3600) == "request time too skewed"
    assert verify(make_mocked_request("GET", "/test.txt"), ACCESS_KEY, SECRET, now=AT) is not None
