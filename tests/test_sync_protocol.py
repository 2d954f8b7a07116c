"""docs/sync.md's row payload as pure functions: what the kiosk builds, the server checks to the same bytes."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import PayloadError
from sync.protocol import MAX_ROW_BYTES, canonical, check_clinic, check_row_put, row_body

ROW_ID = "3f2a9c1e-0000-4000-8000-000000000001"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@given(data=st.dictionaries(st.text(max_size=10).filter(lambda k: k != "id"), json_values, max_size=6),
       seq=st.integers(0, 2**63 - 1))
def test_a_built_row_checks_to_its_canonical_text(data, seq):
    put = check_row_put("session", ROW_ID, row_body(seq, data))
    assert put.seq == seq
    assert json.loads(put.body) == data
    assert put.body == canonical(data)
    assert put.sha256 == hashlib.sha256(put.body.encode()).digest()


def test_key_order_and_spacing_do_not_change_the_identity():
    a = check_row_put("trial", ROW_ID, b'{"seq": 1, "data": {"b": 1, "a": [1.5, "\\u00e9"]}}')
    b = check_row_put("trial", ROW_ID, row_body(1, {"a": [1.5, "é"], "b": 1}))
    assert a.sha256 == b.sha256 and a.body == b.body
    assert check_row_put("trial", ROW_ID, row_body(1, {"a": [1.5, "é"], "b": 2})).sha256 != a.sha256


@pytest.mark.parametrize("entity, row_id, body, words", [
    ("session", ROW_ID, b"not json", "not JSON"),
    ("session", ROW_ID, b'{"seq": 1, "data": {"x": NaN}}', "NaN"),
    ("session", ROW_ID, b'\xff\xfe', "not UTF-8"),
    ("session", ROW_ID, b'{"data": {}}', '"seq" and "data"'),
    ("session", ROW_ID, b'{"seq": 1, "data": {}, "more": 1}', '"seq" and "data"'),
    ("session", ROW_ID, b'{"seq": -1, "data": {}}', '"seq" must be'),
    ("session", ROW_ID, b'{"seq": "1", "data": {}}', '"seq" must be'),
    ("session", ROW_ID, b'{"seq": true, "data": {}}', '"seq" must be'),
    ("session", ROW_ID, b'{"seq": 1, "data": [1]}', '"data" must be'),
    ("session", ROW_ID, b'{"seq": 1, "data": {"id": "another"}}', "is not the id in the path"),
    ("session", "P-007", b'{"seq": 1, "data": {}}', "not a UUID"),
    ("session", ROW_ID.replace("-", ""), b'{"seq": 1, "data": {}}', "8-4-4-4-12"),
    ("recording", ROW_ID, b'{"seq": 1, "data": {}}', "unknown entity"),
])
def test_a_bad_row_is_refused_with_what_is_wrong(entity, row_id, body, words):
    with pytest.raises(PayloadError, match=words.replace("(", r"\(")):
        check_row_put(entity, row_id, body)


def test_an_oversized_row_is_refused_before_parsing():
    body = row_body(1, {"x": "a" * MAX_ROW_BYTES})
    with pytest.raises(PayloadError, match="over the limit"):
        check_row_put("report", str(uuid.uuid4()), body)


@pytest.mark.parametrize("clinic", ["", "-a", "a b", "x" * 65, "é"])
def test_a_bad_clinic_id_is_refused(clinic):
    with pytest.raises(PayloadError, match="clinic"):
        check_clinic(clinic)
