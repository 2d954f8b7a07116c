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
