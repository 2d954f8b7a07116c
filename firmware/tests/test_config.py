"""The flash configuration: a good file loads with defaults, a bad one says what to fix."""

from firmware import config
from firmware.tests.run import ROOT

GOOD = {"side": "left", "serial": "INS-L-000123", "pins": {"adc": 26, "mux": [2, 3, 4, 5], "led": 25}}


def _error(raw):
    try:
        config.check(raw)
    except ValueError as exc:
        return str(exc)
    return None


def test_good_config_gets_defaults():
    cfg = config.check(dict(GOOD))
    assert (cfg["sensors"], cfg["bits"], cfg["rate_hz"], cfg["address"]) == (16, 12, 100, 0)


def test_example_file_on_flash_loads():
    cfg = config.load(ROOT + "/firmware/config.example.json")
    assert cfg["side"] in ("left", "right") and len(cfg["pins"]["mux"]) == 4
    assert len(cfg["positions"]) == cfg["sensors"] == len(cfg["areas"])


def test_bad_configs_say_what_is_wrong():
    assert "side" in _error(dict(GOOD, side="middle"))
    assert "serial" in _error(dict(GOOD, serial=""))
    assert "rate_hz" in _error(dict(GOOD, rate_hz=150))
    assert "pins" in _error(dict(GOOD, pins={"mux": [1, 2, 3, 4]}))
    assert "mux" in _error(dict(GOOD, pins={"adc": 26, "mux": [2, 3]}))  # 4 channels < 16 sensors
    assert "positions" in _error(dict(GOOD, positions=[[0, 0]]))
    assert "no configuration file" in _error_load(ROOT + "/firmware/no-such-config.json")


def _error_load(path):
    try:
        config.load(path)
    except ValueError as exc:
        return str(exc)
    return None
