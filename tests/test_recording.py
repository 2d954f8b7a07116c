"""Recording interchange file (DESIGN 4.1): round trips and every kind of malformed file."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from device.errors import RecordingError
from device.recording import FORMAT, Recording, check_recording, load_recording, save_recording
from gaitkiosk.errors import KioskError


def times(n: int, rate: float = 100.0) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / rate


def mat_rec(n: int = 5, rows: int = 4, cols: int = 3) -> Recording:
    return Recording(
        meta={"device": "test"},
        mat_kpa=np.random.default_rng(1).uniform(0, 200, (n, rows, cols)).astype(np.float32),
        mat_t=times(n),
        mat_pitch_mm=np.array([8.47, 8.47]),
    )


def insole_rec(n: int = 6, sensors: int = 16) -> Recording:
    rng = np.random.default_rng(2)
    return Recording(
        insole_left_kpa=rng.uniform(0, 300, (n, sensors)).astype(np.float32),
        insole_right_kpa=rng.uniform(0, 300, (n, sensors)).astype(np.float32),
        insole_t=times(n),
        insole_left_sensors_mm=rng.uniform(-40, 220, (sensors, 2)),
        insole_right_sensors_mm=rng.uniform(-40, 220, (sensors, 2)),
        insole_sensor_area_mm2=np.full(sensors, 153.9),
    )


def write_raw(path, **arrays) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


# --- round trips ------------------------------------------------------------------------------

finite32 = st.floats(-50, 1200, width=32, allow_nan=False)


@st.composite
def recordings(draw) -> Recording:
    rec = Recording(meta=draw(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans()), max_size=4)))
    groups = draw(st.sets(st.sampled_from(["mat", "insoles", "cop"]), min_size=1))

    def tbase(n):
        steps = draw(hnp.arrays(np.float64, n, elements=st.floats(1e-4, 1.0)))
        return np.cumsum(steps) + draw(st.floats(-10, 10))

    if "mat" in groups:
        n, r, c = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
        rec.mat_t = tbase(n)
        rec.mat_kpa = draw(hnp.arrays(np.float32, (n, r, c), elements=finite32))
        rec.mat_pitch_mm = np.array(draw(st.tuples(st.floats(0.5, 20), st.floats(0.5, 20))), dtype=np.float64)
    if "insoles" in groups:
        n, k = draw(st.integers(1, 4)), draw(st.integers(1, 20))
        rec.insole_t = tbase(n)
        rec.insole_sensor_area_mm2 = draw(hnp.arrays(np.float64, k, elements=st.floats(1, 500)))
        for side in draw(st.sets(st.sampled_from(["left", "right"]), min_size=1)):
            setattr(rec, f"insole_{side}_kpa", draw(hnp.arrays(np.float32, (n, k), elements=finite32)))
            setattr(rec, f"insole_{side}_sensors_mm", draw(hnp.arrays(np.float64, (k, 2), elements=st.floats(-300, 300))))
    if "cop" in groups:
        n = draw(st.integers(1, 5))
        rec.cop_t = tbase(n)
        rec.cop_mm = draw(hnp.arrays(np.float64, (n, 2), elements=st.one_of(st.floats(-500, 500), st.just(np.nan))))
        if draw(st.booleans()):
            rec.cop_force_n = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 2000)))
            rec.force_left_n = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 2000)))
    if draw(st.booleans()):
        rec.truth = {"truth_force_n": draw(hnp.arrays(np.float64, draw(st.integers(0, 4)), elements=st.floats(0, 2000)))}
    return rec


@given(rec=recordings())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_valid_recording_round_trips_exactly(tmp_path, rec):
    path = tmp_path / "r.npz"
    save_recording(path, rec)
    back = load_recording(path)
    assert back.meta == rec.meta
    for key, value in rec.arrays().items():
        if key in ("format", "meta"):
            continue
        got = back.truth[key] if key.startswith("truth_") else getattr(back, key)
        assert got.dtype == value.dtype and got.shape == value.shape
        np.testing.assert_array_equal(got, value)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "r.npz"
    save_recording(path, mat_rec())
    original = path.read_bytes()
    bad = mat_rec()
    bad.mat_t = bad.mat_t[::-1].copy()
    with pytest.raises(RecordingError):
        save_recording(path, bad)
    assert path.read_bytes() == original  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.npz"]


def test_properties_and_arrays():
    rec = mat_rec(n=11)
    assert rec.has_mat and not rec.has_insoles and not rec.has_cop
    assert rec.duration_s == pytest.approx(0.1)
    arrays = rec.arrays()
    assert str(arrays["format"]) == FORMAT and json.loads(str(arrays["meta"])) == {"device": "test"}


# --- malformed in memory ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: setattr(r, "mat_kpa", r.mat_kpa.astype(np.float64)), "'mat_kpa' must be float32"),
        (lambda r: setattr(r, "mat_t", r.mat_t.astype(np.float32)), "'mat_t' must be float64"),
        (lambda r: setattr(r, "mat_kpa", r.mat_kpa[:, 0]), "'mat_kpa' must have 3 dimension"),
        (lambda r: setattr(r, "mat_t", r.mat_t[:-1]), "'mat_kpa' has 5 rows but 'mat_t' has 4"),
        (lambda r: r.mat_t.__setitem__(3, 0.0), "'mat_t' is not strictly increasing: t\\[2\\]"),
        (lambda r: r.mat_t.__setitem__(1, 0.0), "not strictly increasing"),
        (lambda r: r.mat_t.__setitem__(2, np.nan), "'mat_t' holds NaN"),
        (lambda r: r.mat_kpa.__setitem__((1, 1, 1), np.inf), "'mat_kpa' holds NaN or infinite"),
        (lambda r: setattr(r, "mat_pitch_mm", np.array([8.47, 0.0])), "'mat_pitch_mm' must be two positive"),
        (lambda r: setattr(r, "mat_pitch_mm", None), "mat group is incomplete.*mat_pitch_mm"),
        (lambda r: setattr(r, "meta", ["not", "a", "dict"]), "'meta' must be a JSON object"),
        (lambda r: setattr(r, "truth", {"force": np.zeros(3)}), "prefix 'truth_'"),
        (lambda r: setattr(r, "mat_t", np.zeros(0)), "'mat_t' is empty"),
    ],
)
def test_malformed_mat_group_is_named(change, message):
    rec = mat_rec()
    change(rec)
    with pytest.raises(RecordingError, match=message):
        check_recording(rec)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: setattr(r, "insole_t", None), "no 'insole_t'"),
        (lambda r: setattr(r, "insole_left_sensors_mm", None), "'insole_left_kpa' needs its sensor positions"),
        (lambda r: setattr(r, "insole_sensor_area_mm2", np.full(15, 150.0)), "has 16 sensors but 'insole_sensor_area_mm2' has 15"),
        (lambda r: setattr(r, "insole_right_sensors_mm", np.zeros((16, 3))), "must have shape \\(16, 2\\)"),
        (lambda r: (setattr(r, "insole_left_kpa", None), setattr(r, "insole_right_kpa", None)), "neither"),
        (lambda r: setattr(r, "insole_right_kpa", r.insole_right_kpa[:4]), "'insole_right_kpa' has 4 rows but 'insole_t' has 6"),
    ],
)
def test_malformed_insole_group_is_named(change, message):
    rec = insole_rec()
    change(rec)
    with pytest.raises(RecordingError, match=message):
        check_recording(rec)


def test_cop_group_rules():
    ok = Recording(cop_t=times(3), cop_mm=np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, 4.0]]))
    check_recording(ok)  # NaN rows: no contact
    bad = Recording(cop_t=times(3), cop_mm=np.array([[1.0, 2.0], [np.inf, 0.0], [3.0, 4.0]]))
    with pytest.raises(RecordingError, match="'cop_mm' holds infinite"):
        check_recording(bad)
    with pytest.raises(RecordingError, match="needs 'cop_t' and 'cop_mm'"):
        check_recording(Recording(cop_t=times(3)))
    with pytest.raises(RecordingError, match="'force_left_n' has 2 rows"):
        check_recording(Recording(cop_t=times(3), cop_mm=np.zeros((3, 2)), force_left_n=np.zeros(2)))


def test_no_data_group():
    with pytest.raises(RecordingError, match="no data"):
        check_recording(Recording(meta={"a": 1}))


def test_errors_are_kiosk_errors_and_value_errors():
    with pytest.raises(KioskError):
        check_recording(Recording())
    with pytest.raises(ValueError):
        check_recording(Recording())


# --- malformed files -----------------------------------------------------------------------------


def good_arrays() -> dict:
    return mat_rec().arrays()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a.pop("format"), "no 'format' array"),
        (lambda a: a.update(format=np.array("something-else/1")), "'format' is 'something-else/1'"),
        (lambda a: a.update(format=np.array("gaitkiosk-recording/3")), "'gaitkiosk-recording/3' is not supported.*update gaitkiosk"),
        (lambda a: a.update(format=np.array([1, 2])), "'format' must be a string"),
        (lambda a: a.pop("meta"), "no 'meta' array"),
        (lambda a: a.update(meta=np.array("{not json")), "'meta' is not valid JSON"),
        (lambda a: a.update(meta=np.array("[1, 2]")), "'meta' must be a JSON object"),
        (lambda a: a.update(mat_kpas=np.zeros(3)), "unknown array\\(s\\) mat_kpas"),
        (lambda a: a.update(mat_t=a["mat_t"][::-1].copy()), "'mat_t' is not strictly increasing"),
    ],
)
def test_malformed_files_are_refused_with_the_array_named(tmp_path, edit, message):
    arrays = good_arrays()
    edit(arrays)
    path = tmp_path / "bad.npz"
    write_raw(path, **arrays)
    with pytest.raises(RecordingError, match=message) as err:
        load_recording(path)
    assert str(path) in str(err.value)


def test_truth_arrays_are_kept_and_unknown_truth_is_ignored_by_readers(tmp_path):
    arrays = good_arrays()
    arrays["truth_something_new"] = np.arange(4.0)
    path = tmp_path / "t.npz"
    write_raw(path, **arrays)
    rec = load_recording(path)
    np.testing.assert_array_equal(rec.truth["truth_something_new"], np.arange(4.0))


def test_pickled_object_arrays_are_refused(tmp_path):
    arrays = good_arrays()
    arrays["truth_evil"] = np.array([{"a": 1}, None], dtype=object)
    path = tmp_path / "pickle.npz"
    with open(path, "wb") as f:
        np.savez(f, **arrays)  # numpy pickles object arrays when writing
    with pytest.raises(RecordingError, match="'truth_evil' holds Python objects"):
        load_recording(path)


def test_files_that_are_not_recordings(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(RecordingError, match="does not exist"):
        load_recording(missing)
    with pytest.raises(RecordingError, match="is a directory"):
        load_recording(tmp_path)
    text = tmp_path / "notes.npz"
    text.write_text("this is not a zip file\n" * 10)
    with pytest.raises(RecordingError, match="not an .npz recording"):
        load_recording(text)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(RecordingError, match="single .npy array"):
        load_recording(single)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError):
        load_recording(empty)


def test_truncated_and_damaged_files(tmp_path):
    good = tmp_path / "good.npz"
    save_recording(good, mat_rec(n=50, rows=16, cols=16))
    data = good.read_bytes()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(RecordingError, match="damaged or truncated|not an .npz"):
            load_recording(bad)
    # flip bytes inside the compressed mat_kpa member: zip CRC or zlib catches it
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf) as z:
        info = z.getinfo("mat_kpa.npy")
    flipped = bytearray(data)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    for i in range(start, start + 20):
        flipped[i] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(RecordingError, match="damaged or truncated|cannot be read"):
        load_recording(bad)


def test_save_refuses_a_missing_directory(tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        save_recording(tmp_path / "no" / "such" / "r.npz", mat_rec())
