"""The kiosk zeroes its sensors when nobody is on them; ``gaitkiosk record --zero``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from device.recording import load_recording
from gaitkiosk.cli import main
from gaitkiosk.config import ConfigError, default_config, load_config
from gaitkiosk.sensors import Sensors, config_urls, sim_urls
from gaitkiosk.visit import Visit


def test_idle_kiosk_zeroes_an_empty_mat_and_decides_its_conversion_again():
    sensors = Sensors(default_config())
    try:
        sensors.open(["sim://mat?scenario=empty&patient=zk-empty"])
        sensors.identify()
        (serial,) = sensors.pressure
        assert sensors.readers[0].hello.zeroed is False
        assert sensors.zero(0) == {serial: "zeroed"}
        assert sensors.readers[0].hello.zeroed and sensors.readers[0].hello.gate_counts == 0
        assert serial not in sensors.pressure  # counts changed meaning: conversion decided again
        sensors.identify()
        assert serial in sensors.pressure
        assert sensors.zero(0) == {serial: "zeroed"}  # not asked twice (the device is zeroed already)
        assert sensors.readers[0].status().counters["commands_refused"] == 0
    finally:
        sensors.close()


def test_a_loaded_mat_stays_raw_and_is_asked_again_later():
    sensors = Sensors(default_config())
    try:
        sensors.open(["sim://mat?scenario=quiet&patient=zk-quiet"])
        result = sensors.zero(0)
        (state,) = result.values()
        assert state.startswith("busy:") and "step off" in state
        assert sensors.readers[0].hello.zeroed is False
    finally:
        sensors.close()


def _visit(sensors, config, **state):
    visit = Visit(SimpleNamespace(config=config, sensors=sensors))
    for k, v in state.items():
        setattr(visit, k, v)
    return visit


def test_the_kiosk_never_zeroes_during_a_visit_and_honours_the_config():
    config = default_config()
    sensors = Sensors(config)
    try:
        sensors.open(["sim://mat?scenario=empty&patient=zk-visit"])
        _visit(sensors, config, session=object())._zero_if_idle()
        _visit(sensors, config, prepared=object())._zero_if_idle()
        off = default_config()
        off["devices"]["zero_when_idle"] = False
        _visit(sensors, off)._zero_if_idle()
        assert sensors.readers[0].hello.zeroed is False and sensors.zero_results == {}
        config["devices"]["zero_gate"] = 25
        _visit(sensors, config)._zero_if_idle()  # the start screen, nobody checked in
        assert sensors.readers[0].hello.zeroed and sensors.readers[0].hello.gate_counts == 25
    finally:
        sensors.close()


def test_virtual_sensors_of_a_simulated_person_power_up_zeroed():
    config = default_config()
    urls = sim_urls(config, patient="zk-sim", scenario="quiet")
    assert all("zero=0" in u for u in urls)
    assert all(u.endswith("&zero=0") for u in config_urls(config))  # configured sim:// sensors too
    config["devices"]["zero_when_idle"] = False
    assert not any("zero=" in u for u in sim_urls(config, patient="zk-sim2") + config_urls(config))
    sensors = Sensors(default_config())
    try:
        sensors.open(urls)
        assert all(r.hello.zeroed and r.hello.gate_counts == 0 for r in sensors.readers)
        mat = sensors.by_kind("mat")
        mat.frames.drain()
        frame = mat.get(timeout=2.0)
        # someone stands on it: the feet are there, the 88 % background is 0, not offset + noise
        assert frame.counts.max() > 100 and (frame.counts == 0).mean() > 0.8
    finally:
        sensors.close()


def test_a_bad_zero_option_or_gate_is_refused(tmp_path):
    from device.errors import DeviceError
    from device.reader import DeviceReader

    with pytest.raises(DeviceError, match="zero=-5 must be -1, 0 or a whole number"):
        DeviceReader("sim://mat?zero=-5&patient=zk-bad").open()
    cfg = tmp_path / "c.toml"
    cfg.write_text("[devices]\nzero_gate = -4\n")
    with pytest.raises(ConfigError, match="zero_gate"):
        load_config(cfg)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_record_zero(capsys, tmp_path):
    out_file = tmp_path / "zeroed.npz"
    code, out, err = run_cli(capsys, "record", "sim://mat?scenario=empty&patient=zk-rec", "--zero", "--seconds", "0.5",
                             "--out", str(out_file))
    assert code == 0, err
    rec = load_recording(out_file)
    assert rec.meta["devices"][0]["zero"] == {"zeroed": True, "gate_counts": 0}
    assert (rec.mat_kpa > 0).mean() < 0.01  # an empty, zeroed mat: the rare noise peak above 3 sigma

    code, _, err = run_cli(capsys, "record", "sim://mat?scenario=quiet&patient=zk-rec2", "--zero", "--seconds", "0.5",
                           "--out", str(tmp_path / "busy.npz"))
    assert code == 1 and "cannot zero" in err and "BUSY" in err and not (tmp_path / "busy.npz").exists()
    code, _, err = run_cli(capsys, "record", "sim://mat?patient=zk-rec3", "--zero-gate", "5", "--seconds", "0.5",
                           "--out", str(tmp_path / "x.npz"))
    assert code == 1 and "--zero-gate goes with --zero" in err

    code, _, err = run_cli(capsys, "record", "sim://mat?scenario=empty&patient=zk-rec4", "--seconds", "0.3",
                           "--out", str(tmp_path / "raw.npz"))
    assert code == 0, err
    raw = load_recording(tmp_path / "raw.npz")
    assert raw.meta["devices"][0]["zero"] == {"zeroed": False, "gate_counts": None}
    assert (raw.mat_kpa > 0).mean() > 0.9 and np.isfinite(raw.mat_kpa).all()
