"""sim:// and replay:// URL handlers: options, the shared patient, replay fidelity, bad files."""

from __future__ import annotations

import time

import numpy as np
import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st
from waiting import wait_until

import device  # noqa: F401 - registers the handlers
from device.errors import DeviceError
from device.framing import DeviceKind
from device.handlers import protocol_sim
from device.handlers.protocol_replay import DEFAULT_KPA_PER_COUNT, quantise, recording_path
from device.reader import FINISHED, CommandError, DeviceReader
from device.recording import Recording, save_recording

# -- sim:// --------------------------------------------------------------------------------


@pytest.mark.parametrize("url, kind", [
    ("sim://mat", DeviceKind.MAT),
    ("sim://insole?side=left", DeviceKind.INSOLE_LEFT),
    ("sim://insole-left", DeviceKind.INSOLE_LEFT),
    ("sim://insole_right", DeviceKind.INSOLE_RIGHT),
    ("sim://insole?side=RIGHT", DeviceKind.INSOLE_RIGHT),
])
def test_sim_url_kinds(url, kind):
    with serial.serial_for_url(url + ("&" if "?" in url else "?") + "patient=kinds", timeout=0.1) as port:
        assert port.device.source.kind == kind
        assert port.read(1) == b"\x00"  # the power-up HELLO starts with its delimiter


@pytest.mark.parametrize("url, message", [
    ("sim://treadmill", "unknown virtual device 'treadmill'"),
    ("sim://insole", "side=left or side=right"),
    ("sim://insole-left?side=right", "does not fit"),
    ("sim://insole?side=left&rows=4", "rows is a mat option"),
    ("sim://mat?rate=0&patient=r0", "rate must be"),
    ("sim://mat?drop=2", "drop_rate"),
    ("sim://mat?scenario=juggling&patient=bad1", "juggling"),
    ("sim://mat?patient=bad2&mass_kg=heavy", "mass_kg"),
    ("sim://mat?rate=1&rate=2", "given twice"),
])
def test_sim_url_errors_say_what_is_wrong(url, message):
    with pytest.raises(serial.SerialException, match=message):
        serial.serial_for_url(url)
    assert protocol_sim.patient("bad1") is None and protocol_sim.patient("bad2") is None


def test_ports_of_one_patient_share_one_person_and_release_it():
    mat = serial.serial_for_url("sim://mat?patient=p1&scenario=rocking&seed=7")
    left = serial.serial_for_url("sim://insole?side=left&patient=p1")
    other = serial.serial_for_url("sim://insole?side=left&patient=p2&scenario=walk")
    try:
        p1 = protocol_sim.patient("p1")
        assert p1 is not None and p1.scenario == "rocking" and p1.seed == 7
        assert mat.device.source.shared is left.device.source.shared
        assert protocol_sim.patient("p2").scenario == "walk"
        # A second port that wants another person under the same name is refused.
        with pytest.raises(serial.SerialException, match="patient 'p1' is already running with scenario='rocking'"):
            serial.serial_for_url("sim://insole?side=right&patient=p1&scenario=quiet")
        # The same instant reads the same person: the truth behind mat and insoles agrees.
        t = time.monotonic()
        s_mat = mat.device.source.shared.patient.sample(protocol_sim.patient_time("p1", t))
        s_left = left.device.source.shared.patient.sample(protocol_sim.patient_time("p1", t))
        assert s_mat.feet["left"].force_n == pytest.approx(s_left.feet["left"].force_n)
    finally:
        mat.close()
        left.close()
        other.close()
    assert protocol_sim.patient("p1") is None and protocol_sim.patient("p2") is None


def test_config_defaults_fill_only_what_the_url_leaves_open():
    sim = {"seed": 4, "scenario": "walk", "rate_hz": 120.0, "mat_rows": 32, "mat_cols": 40, "mat_pitch_mm": 10.0,
           "body_mass_kg": 80.0, "foot_length_mm": 270.0, "insole_sensors": 16}
    url = protocol_sim.apply_config_defaults("sim://mat?scenario=quiet", sim)
    assert "scenario=quiet" in url and "scenario=walk" not in url
    assert "seed=4" in url and "rate=120" in url and "rows=32" in url and "mass_kg=80" in url
    insole = protocol_sim.apply_config_defaults("sim://insole?side=left", sim)
    assert "rows" not in insole and "seed=4" in insole
    assert protocol_sim.apply_config_defaults("/dev/ttyACM0", sim) == "/dev/ttyACM0"
    assert protocol_sim.apply_config_defaults("sim://mat?pattern=1", sim) == "sim://mat?pattern=1"


def test_sim_mat_counts_come_from_the_patient():
    with DeviceReader("sim://mat?patient=counts&rows=32&cols=24&pitch=10,12&seed=3") as r:
        hello = r.wait_ready(5)
        frame = r.get(timeout=2)
    assert hello.shape == (32, 24) and hello.pitch_mm == pytest.approx((10.0, 12.0))
    assert frame.counts.shape == (32, 24) and frame.counts.dtype == np.uint16
    loaded = frame.counts > 200
    assert 10 < loaded.sum() < 32 * 24 / 2  # two feet, not a flat field


# -- replay:// -----------------------------------------------------------------------------


def _recording(tmp_path, n=40, rate=100.0, insoles=True, mat=True, seed=0):
    rng = np.random.default_rng(seed)
    rec = Recording(meta={"test": True})
    t = 12.5 + np.arange(n) / rate
    if mat:
        rec.mat_kpa = (rng.random((n, 6, 5)) * 400).astype(np.float32)
        rec.mat_t = t.copy()
        rec.mat_pitch_mm = np.array([8.47, 8.47])
    if insoles:
        rec.insole_t = t + 0.003
        rec.insole_left_kpa = (rng.random((n, 4)) * 300).astype(np.float32)
        rec.insole_right_kpa = (rng.random((n, 4)) * 300).astype(np.float32)
        rec.insole_left_sensors_mm = rng.random((4, 2)) * 100
        rec.insole_right_sensors_mm = rng.random((4, 2)) * 100
        rec.insole_sensor_area_mm2 = np.full(4, 150.0)
    path = tmp_path / "rec.npz"
    save_recording(path, rec)
    return path, rec


def _play(url, timeout=5.0):
    with DeviceReader(url, queue_frames=10000) as r:
        hello = r.wait_ready(3)
        assert wait_until(lambda: r.status().state == FINISHED, timeout)
        return hello, r.frames.drain(), r.status()


def test_replay_as_fast_as_possible_reproduces_the_recording(tmp_path):
    path, rec = _recording(tmp_path)
    hello, frames, st = _play(f"replay://{path}?speed=0")
    assert hello.kind == DeviceKind.MAT and hello.kpa_per_count == pytest.approx(DEFAULT_KPA_PER_COUNT)
    assert len(frames) == 40 and st.counters["gaps"] == 0
    kpa = np.stack([f.kpa() for f in frames])
    assert np.max(np.abs(kpa - rec.mat_kpa)) <= DEFAULT_KPA_PER_COUNT / 2 + 1e-4
    # The device clock is the recording's own time since its first sample.
    np.testing.assert_allclose([f.t_device for f in frames], rec.mat_t - rec.mat_t[0], atol=1e-6)
    _, left, _ = _play(f"replay://{path}?speed=0&device=left")
    np.testing.assert_allclose([f.t_device for f in left], rec.insole_t - rec.mat_t[0], atol=1e-6)
    assert np.max(np.abs(np.stack([f.kpa() for f in left]) - rec.insole_left_kpa)) <= 0.0251
    hello_r, right, _ = _play(f"replay://{path}?speed=0&device=insole_right&kpa_per_count=0.5")
    assert hello_r.sensors_mm == pytest.approx(rec.insole_right_sensors_mm.astype(np.float32))
    assert np.max(np.abs(np.stack([f.kpa() for f in right]) - rec.insole_right_kpa)) <= 0.2501


def test_replay_at_real_pace_takes_the_recording_time(tmp_path):
    path, _ = _recording(tmp_path, n=40)
    started = time.monotonic()
    _, frames, _ = _play(f"replay://{path}")
    took = time.monotonic() - started
    assert len(frames) == 40
    assert took >= 0.35  # 40 frames at 100 Hz
    t_host = np.array([f.t_host for f in frames])
    assert np.allclose(np.diff(t_host), 0.01, atol=0.004)


def test_replay_loops_on_request(tmp_path):
    path, _ = _recording(tmp_path, n=20)
    with DeviceReader(f"replay://{path}?speed=4&loop=1", queue_frames=1000) as r:
        r.wait_ready(3)
        assert wait_until(lambda: r.status().counters["frames"] >= 45, timeout=3)
        assert r.status().state != FINISHED
    t = np.array([f.t_device for f in r.frames.drain()])
    assert np.all(np.diff(t) > 0)


def test_replay_refuses_to_change_rate(tmp_path):
    path, _ = _recording(tmp_path, n=400)
    with DeviceReader(f"replay://{path}") as r:
        r.wait_ready(3)
        with pytest.raises(CommandError, match="UNSUPPORTED.*recorded 100 Hz"):
            r.set_rate(50)


def test_malformed_recordings_are_refused_with_the_reason(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not a zip at all")
    truncated = tmp_path / "truncated.npz"
    good, _ = _recording(tmp_path)
    truncated.write_bytes(good.read_bytes()[:300])
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, format=np.array("something-else/1"), meta=np.array("{}"))
    cop_only = tmp_path / "cop.npz"
    save_recording(cop_only, Recording(meta={}, cop_t=np.arange(5) / 100.0, cop_mm=np.zeros((5, 2))))
    cases = [
        (tmp_path / "missing.npz", "does not exist"),
        (garbage, "not a readable .npz|not an .npz"),
        (truncated, "damaged or truncated|not an .npz"),
        (wrong, "'format' is 'something-else/1'"),
        (cop_only, "only centre-of-pressure data"),
    ]
    for path, message in cases:
        with pytest.raises(DeviceError, match=message):
            DeviceReader(f"replay://{path}").open()
    with pytest.raises(DeviceError, match="has no insole_left data"):
        path, _ = _recording(tmp_path, insoles=False)
        DeviceReader(f"replay://{path}?device=left").open()
    with pytest.raises(DeviceError, match="unknown option"):
        DeviceReader(f"replay://{good}?sped=2").open()
    with pytest.raises(DeviceError, match="speed must be"):
        DeviceReader(f"replay://{good}?speed=-1").open()


def test_recording_path_forms():
    assert str(recording_path("replay:///abs/dir/x.npz")) == "/abs/dir/x.npz"
    assert str(recording_path("replay://rel/dir/x.npz?speed=0")) == "rel/dir/x.npz"
    assert str(recording_path("replay://my%20file.npz")) == "my file.npz"


@settings(max_examples=200, deadline=None)
@given(
    kpa=st.lists(st.floats(-50, 5000, allow_nan=False, width=32), min_size=1, max_size=64),
    kpa_per_count=st.sampled_from([0.01, 0.05, 0.1, 1.0]),
)
def test_quantisation_round_trip(kpa, kpa_per_count):
    """Documented in protocol_replay: +-half a count inside the range, 0 below, saturation above."""
    values = np.array(kpa, dtype=np.float32)
    back = quantise(values, kpa_per_count).astype(np.float64) * kpa_per_count
    top = 0xFFFF * kpa_per_count
    expected = np.clip(values.astype(np.float64), 0.0, top)
    assert np.all(np.abs(back - expected) <= kpa_per_count / 2 + 1e-9 * max(1.0, top))
