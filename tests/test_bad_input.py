"""Bad values on the command line and in the config: one line naming the option, never a hang (issue 9, defect 10).

Each case runs the real ``gaitkiosk`` in its own process, as a user types it.
The subprocess timeout only guards the suite against a hang (several of these
used to run until the visit's own 900 s limit, or forever); the assertions are
about what the command says: a non-zero exit, exactly one line on stderr that
names the option or config key, no "internal error" and no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gaitkiosk import checks
from store import open_store

GUARD_S = 120  # a hang fails the test instead of the suite; no assertion depends on it


def gaitkiosk(*args, cwd=None):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *args], capture_output=True, text=True,
                          timeout=GUARD_S, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A kiosk database with one patient (commands that need a database find one)."""
    d = tmp_path_factory.mktemp("data")
    from store.patients import Patient

    with open_store(d) as st:
        st.patients.add(Patient(code="4711"))
    return d


# (argv, what the one line must name). "D" is the data directory, "T" a fresh temporary directory.
CLI_CASES = [
    (["sessions", "show", "nosuchid", "--data-dir", "D"], "no session with id nosuchid"),
    (["sessions", "list", "--limit", "1e20", "--data-dir", "D"], "--limit"),
    (["sessions", "list", "--limit", "100000000000000000000", "--data-dir", "D"], "--limit"),
    (["sessions", "list", "--limit", "1" + "0" * 400, "--data-dir", "D"], "--limit"),  # no float holds it
    (["db", "prune", "--older-than-days", "-1", "--data-dir", "D"], "--older-than-days"),
    (["db", "prune", "--older-than-days", "nan", "--data-dir", "D"], "--older-than-days"),
    (["db", "prune", "--older-than-days", "inf", "--data-dir", "D"], "--older-than-days"),
    (["simulate", "--rate", "nan", "--seconds", "0.2", "--out", "T/a.npz"], "--rate"),
    (["simulate", "--rate", "inf", "--seconds", "0.2", "--out", "T/a.npz"], "--rate"),
    (["simulate", "--pitch", "inf", "--seconds", "0.2", "--out", "T/a.npz"], "--pitch"),
    (["simulate", "--rows", "1e20", "--seconds", "0.2", "--out", "T/a.npz"], "--rows"),
    (["simulate", "--rows", "100000000000000000000", "--seconds", "0.2", "--out", "T/a.npz"], "--rows"),
    (["record", "sim://mat?rows=inf", "--seconds", "0.5", "--out", "T/b.npz"], "rows='inf'"),
    (["record", "sim://mat?pitch=inf", "--seconds", "0.5", "--out", "T/b.npz"], "pitch='inf'"),
    (["record", "sim://mat?rows=1000000000", "--seconds", "0.5", "--out", "T/b.npz"], "256 rows"),
    (["sessions", "export", "--from", "2000-01-01", "--out", "", "--data-dir", "D"], "--out"),
    (["run", "--simulate", "--headless", "--size", "1e20x1e20", "--data-dir", "T"], "--size"),
    (["run", "--simulate", "--headless", "--size", "100000000000000000000x100000000000000000000", "--data-dir", "T"],
     "--size"),
    (["run", "--simulate", "--headless", "--code", "12ab", "--data-dir", "T"], "--code"),
    (["run", "--simulate", "--headless", "--seconds", "nan", "--data-dir", "T"], "--seconds"),
    (["run", "--simulate", "--headless", "--seconds", "inf", "--data-dir", "T"], "--seconds"),
    (["run", "--simulate", "--headless", "--countdown", "nan", "--data-dir", "T"], "--countdown"),
    (["run", "--simulate", "--headless", "--fall-at", "nan", "--data-dir", "T"], "--fall-at"),
    (["run", "--simulate", "--headless", "--timeout", "nan", "--data-dir", "T"], "--timeout"),
    (["record", "sim://mat", "--seconds", "nan", "--out", "T/c.npz"], "--seconds"),
    # and every other number a command takes
    (["record", "sim://mat", "--kpa-per-count", "inf", "--out", "T/c.npz"], "--kpa-per-count"),
    (["record", "sim://mat", "--zero", "--zero-gate", "1e9", "--out", "T/c.npz"], "--zero-gate"),
    (["simulate", "--seed", "-1", "--out", "T/a.npz"], "--seed"),
    (["simulate", "--insole-rate", "0", "--out", "T/a.npz"], "--insole-rate"),
    (["sessions", "export", "someid", "--mat-pitch-mm", "nan", "--out", "T/x.npz", "--data-dir", "D"], "--mat-pitch-mm"),
    (["sessions", "list", "--offset", "-1", "--data-dir", "D"], "--offset"),
    (["calibrate", "zero", "sim://mat", "--weights-n", "1,nan", "--data-dir", "T"], "--weights-n"),
    (["calibrate", "zero", "sim://mat", "--plate-mm", "10xinf", "--data-dir", "T"], "--plate-mm"),
    (["calibrate", "verify", "sim://mat", "--weight-n", "-5", "--data-dir", "T"], "--weight-n"),
    (["calibrate", "zero", "sim://mat", "--ready-s", "nan", "--data-dir", "T"], "--ready-s"),
    (["analyze", "T/x.npz", "--lowpass", "inf"], "--lowpass"),
    (["analyze", "T/x.npz", "--window", "inf:"], "--window"),
    (["demo", "--interval", "0"], "--interval"),
    (["demo", "--seconds", "nan"], "--seconds"),
    (["devices", "--timeout", "-1"], "--timeout"),
    (["patients", "add", "4711", "--birth-year", "99999", "--data-dir", "T"], "--birth-year"),
]


def _fill(argv, data, tmp):
    out = []
    for a in argv:
        a = str(data) if a == "D" else a
        out.append(str(tmp) if a == "T" else a.replace("T/", f"{tmp}/"))
    return out


def assert_one_clear_line(result, names: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1, result.stderr
    assert names in lines[0], lines[0]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv, names", CLI_CASES, ids=[" ".join(a[:4]) for a, _ in CLI_CASES])
def test_a_bad_value_on_the_command_line_is_one_line_naming_it(argv, names, data, tmp_path):
    result = gaitkiosk(*_fill(argv, data, tmp_path), cwd=tmp_path)
    assert_one_clear_line(result, names)
    assert not list(tmp_path.iterdir())  # nothing half-written (not even a demo database)


@pytest.mark.parametrize("text, key", [
    ("[devices]\nqueue_frames = 0\n", "devices.queue_frames"),  # the kiosk used to sit on the program screen
    ("[devices]\nhello_timeout_s = -1\n", "devices.hello_timeout_s"),
    ("[devices]\nsilence_timeout_s = inf\n", "devices.silence_timeout_s"),
    ("[devices]\nreconnect_interval_s = nan\n", "devices.reconnect_interval_s"),
    ("[ui]\nidle_timeout_s = -5\n", "ui.idle_timeout_s"),
    ("[kiosk]\nlog_level = \"loud\"\n", "kiosk.log_level"),
    ("[devices]\nusb_ids = [\"2e8a\"]\n", "devices.usb_ids"),
    ("[devices]\nusb_ids = [\"zz:0001\"]\n", "devices.usb_ids"),
    ("[sim]\nmat_rows = 100000\n", "sim.mat_rows"),
    ("[store]\ncodec = \"gzip\"\n", "store.codec"),
])
def test_a_config_value_out_of_range_is_one_line_naming_the_key(text, key, data, tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text(text)
    result = gaitkiosk("sessions", "list", "--config", str(cfg), "--data-dir", str(data))
    assert_one_clear_line(result, f"'{key}'")


def test_a_config_file_that_is_not_utf8_is_one_line(data, tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_bytes(b'[kiosk]\ndata_dir = "/var/lib/gaitkiosk\xe9"\n')  # Latin-1 from an old editor
    result = gaitkiosk("sessions", "list", "--config", str(cfg), "--data-dir", str(data))
    assert_one_clear_line(result, "not UTF-8")


@pytest.mark.parametrize("what", ["range", "one session"])
def test_export_to_a_folder_that_does_not_exist_is_refused_and_creates_nothing(what, data, tmp_path):
    stick = tmp_path / "media" / "usb"  # not mounted: the mount point is missing
    args = ["--from", "2000-01-01", "--out", str(stick)] if what == "range" else ["someid", "--out", str(stick / "s.npz")]
    result = gaitkiosk("sessions", "export", *args, "--data-dir", str(data))
    assert_one_clear_line(result, "does not exist")
    assert not (tmp_path / "media").exists()


def test_good_values_still_pass(tmp_path):
    out = tmp_path / "ok.npz"
    result = gaitkiosk("simulate", "--rate", "50", "--rows", "32", "--pitch", "10,5", "--seconds", "0.2",
                       "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.exists()


# -- the checkers themselves ------------------------------------------------------------------------
@pytest.mark.parametrize("checker, good, bad", [
    (checks.positive(most=60.0), [1e-9, 1, 60.0], [0, -1, 60.1, float("nan"), float("inf"), True, "5"]),
    (checks.within(0.0, 1.0), [0, 0.5, 1], [-0.1, 1.1, float("nan"), None]),
    (checks.integer(1, 10), [1, 10], [0, 11, 1.0, 2.5, True, float("inf")]),
    (checks.finite(), [-1e300, 0, 3], [float("nan"), float("-inf")]),
    (checks.one_of("a", "b"), ["a", "b"], ["c", "", None]),
])
def test_checkers_take_exactly_their_range(checker, good, bad):
    for v in good:
        assert checker.ok(v), v
    for v in bad:
        assert not checker.ok(v), v


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e20", "", "abc", "0"])
def test_an_option_checker_refuses_text_with_its_range(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match=r"must be a number of seconds above 0 and at most 60, got "):
        checks.positive(most=60.0, unit="seconds")(text)
    assert checks.positive(most=60.0, unit="seconds")("2.5") == 2.5
    assert checks.integer(1, 8)("8") == 8


@pytest.mark.parametrize("content, words", [
    (b"[type]\nbody_mm = nan\n", "type size body_mm must be a number of mm from 3 to 100, got nan"),
    (b"[type]\nbody_mm = inf\n", "type size body_mm must be a number of mm from 3 to 100, got inf"),
    (b"[colors]\naccent = \"#E69F00\" # caf\xe9\n", "is not UTF-8 text"),
])
def test_a_bad_theme_file_is_one_line(tmp_path, content, words):
    from gaitkiosk.errors import ConfigError
    from ui.theme import load_theme

    path = tmp_path / "theme.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as exc:
        load_theme(path)
    assert words in str(exc.value) and "\n" not in str(exc.value)
