"""The config file: defaults for everything, clear refusals for mistakes."""

import pytest

from gaitkiosk.config import DEFAULTS, data_dir, load_config
from gaitkiosk.errors import ConfigError, KioskError


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setattr("gaitkiosk.config.SYSTEM_CONFIG", tmp_path / "absent.toml")
    assert load_config() == DEFAULTS
    assert load_config() is not DEFAULTS  # a copy: callers may not mutate the defaults


def test_file_overrides_only_what_it_names(tmp_path):
    config = load_config(write(tmp_path, '[sim]\nseed = 7\nrate_hz = 50\n'))
    assert config["sim"]["seed"] == 7
    assert config["sim"]["rate_hz"] == 50.0 and isinstance(config["sim"]["rate_hz"], float)
    assert config["sim"]["mat_rows"] == DEFAULTS["sim"]["mat_rows"]


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'sim\.sede'"):
        load_config(write(tmp_path, "[sim]\nsede = 7\n"))


def test_wrong_type_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"'sim\.mat_rows' must be int, got str"):
        load_config(write(tmp_path, '[sim]\nmat_rows = "48"\n'))


def test_bool_is_not_an_int(tmp_path):
    with pytest.raises(ConfigError, match="must be int"):
        load_config(write(tmp_path, "[sim]\nseed = true\n"))


def test_table_expected(tmp_path):
    with pytest.raises(ConfigError, match=r"'sim' must be a table"):
        load_config(write(tmp_path, "sim = 3\n"))


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[sim\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_config_error_is_a_kiosk_error_and_value_error():
    assert issubclass(ConfigError, KioskError) and issubclass(ConfigError, ValueError)


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    config = load_config(write(tmp_path, f'[kiosk]\ndata_dir = "{tmp_path / "cfg"}"\n'))
    assert data_dir(config, str(tmp_path / "cli")) == tmp_path / "cli"
    assert data_dir(config) == tmp_path / "cfg"
    config["kiosk"]["data_dir"] = ""
    assert data_dir(config) == tmp_path / "xdg" / "gaitkiosk"


def _names(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _names(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_every_key_has_a_range_and_its_default_is_in_it():
    from gaitkiosk.config import ALLOWED

    names = dict(_names(DEFAULTS))
    assert set(names) == set(ALLOWED)
    for name, default in names.items():
        assert ALLOWED[name].ok(default), name


@pytest.mark.parametrize("text, words", [
    ("[devices]\nqueue_frames = 0\n", "'devices.queue_frames' must be a whole number from 16 to 1000000, got 0"),
    ("[devices]\nhello_timeout_s = -1\n", "'devices.hello_timeout_s' must be a number of seconds above 0"),
    ("[devices]\nsilence_timeout_s = inf\n", "'devices.silence_timeout_s' must be a number of seconds above 0"),
    ("[calibration]\nstep_timeout_s = nan\n", "'calibration.step_timeout_s' must be"),
    ("[kiosk]\nlog_level = \"verbose\"\n", "'kiosk.log_level' must be one of debug, info, warning, error"),
    ("[devices]\nusb_ids = [\"2e8a:000a\", \"2e8a-000a\"]\n", "'devices.usb_ids' entry '2e8a-000a' must be VID:PID"),
    ("[devices]\ninsoles = [\"a\", \"b\", \"c\"]\n", "'devices.insoles' must be up to 2 items"),
    ("[devices]\nzero_gate = -2\n", "'devices.zero_gate' must be a whole number from -1 to 65535"),
    ("[analysis]\ncontact_on_n = 10\ncontact_off_n = 40\n", "contact_off_n must not exceed contact_on_n"),
    ("[ui]\nwidth = 100000\n", "'ui.width' must be a whole number from 320 to 7680"),
])
def test_values_outside_a_keys_range_are_refused_with_the_key_and_range(tmp_path, text, words):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text))
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_the_virtual_bodys_config_ranges_are_the_bodys_own():
    # sim.body_mass_kg and sim.foot_length_mm allow what device.sim.Body accepts, no more, no less.
    from device.sim import Body
    from gaitkiosk.config import ALLOWED

    for key, field in (("sim.body_mass_kg", "mass_kg"), ("sim.foot_length_mm", "foot_length_mm")):
        spec = ALLOWED[key]
        for v in (spec.least, spec.most):
            Body(**{field: v})
        for v in (spec.least - 0.01, spec.most + 0.01):
            with pytest.raises(ValueError):
                Body(**{field: v})


def test_a_file_that_is_not_utf8_is_refused_by_name(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"[kiosk]\ndata_dir = \"caf\xe9\"\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(path)


def test_demo_data_dir_is_its_own_unless_given(tmp_path, monkeypatch):
    from gaitkiosk.config import demo_data_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert demo_data_dir() == tmp_path / "xdg" / "gaitkiosk-demo"
    assert demo_data_dir(str(tmp_path / "d")) == tmp_path / "d"
