"""The recording upload stream (sync/recording_stream.py): pure round trips and one-line refusals."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import PayloadError
from sync.recording_stream import (
    META_FIELDS,
    check_offset,
    check_recording_put,
    parse,
    put_body,
    sha256_hex,
    stream,
)

META = {k: None for k in META_FIELDS} | {"id": str(uuid.uuid4()), "kind": "mat", "shape": [48, 48], "frames": 7}


@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.binary(max_size=300)), max_size=8))
def test_a_stream_parses_back_into_its_blobs(blobs):
    data = stream(META, blobs)
    meta, back = parse(data)
    assert back == blobs
    assert meta["id"] == META["id"] and meta["chunks"] == len(blobs) and meta["format"] == "gaitkiosk-recording"
    assert stream(META, blobs) == data  # the same recording gives the same bytes, hence the same SHA-256


@pytest.mark.parametrize("cut", [0, 3, 12, 20])
def test_a_truncated_or_padded_stream_is_refused(cut):
    data = stream(META, [(0, b"abc" * 10), (1, b"de")])
    with pytest.raises(PayloadError):
        parse(data[:len(data) - cut - 1])
    with pytest.raises(PayloadError, match="after its last chunk"):
        parse(data + b"\0")


def test_a_put_body_is_checked():
    rid = str(uuid.uuid4())
    put = check_recording_put(rid, put_body(10, sha256_hex(b"x")))
    assert (put.id, put.length, put.sha256.hex()) == (rid, 10, sha256_hex(b"x"))
    for body, words in ((b"[]", "exactly"), (put_body(0, "0" * 64), "length"), (put_body(True, "0" * 64), "length"),
                        (put_body(5, "0" * 63), "sha256"), (put_body(5, "A" * 64), "sha256"), (b"\xff", "JSON")):
        with pytest.raises(PayloadError, match=words):
            check_recording_put(rid, body)
    with pytest.raises(PayloadError, match="UUID"):
        check_recording_put("nope", put_body(10, "0" * 64))


def test_an_upload_offset_is_a_plain_number():
    assert check_offset("0") == 0 and check_offset("123") == 123
    for bad in (None, "", "-1", "1.5", " 1", "١٢", "9" * 20):
        with pytest.raises(PayloadError):
            check_offset(bad)
