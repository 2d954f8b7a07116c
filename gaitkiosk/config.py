"""One TOML configuration file with defaults for everything.

On a unit the file is ``/etc/gaitkiosk/config.toml``; elsewhere pass
``--config FILE``. Every key the file may hold is listed in :data:`DEFAULTS`
with what it allows in :data:`ALLOWED` (both in ``docs/configuration.md``); an
unknown key, a value of the wrong type or one outside its range is refused at
start-up with the key's dotted name, so a typo in a clinic's config cannot
silently fall back to a default or reach the code as a hang.
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

from gaitkiosk import checks
from gaitkiosk.errors import ConfigError, UsageError

SYSTEM_CONFIG = Path("/etc/gaitkiosk/config.toml")

DEFAULTS: dict[str, Any] = {
    "kiosk": {
        # Where the database, recordings and exports live. Empty: the user's
        # data directory (~/.local/share/gaitkiosk), /var/lib/gaitkiosk on a unit.
        "data_dir": "",
        "log_level": "info",
    },
    "devices": {
        # Port URLs the kiosk opens at start-up. On a unit these are the udev
        # names from deploy/99-gaitkiosk.rules; sim:// runs the virtual patient.
        "mat": "sim://mat",
        "insoles": ["sim://insole?side=left", "sim://insole?side=right"],
        # A walkway of mat tiles, each its own port, stitched into one mat (docs/walkway.md):
        # [[devices.tiles]] tables {port, offset [row, col] or offset_mm [y, x], rotation}. Empty: one mat.
        "tiles": [],
        # USB VID:PID pairs (hex) that `gaitkiosk devices` treats as sensors.
        "usb_ids": ["2e8a:000a", "2e8a:0005", "0403:6001", "10c4:ea60", "1a86:7523"],
        "baudrate": 921600,
        "hello_timeout_s": 2.0,
        "silence_timeout_s": 1.0,
        "reconnect_interval_s": 0.5,
        "queue_frames": 256,
        # A reader of a low-bandwidth device (an insole) wakes at most this often
        # (s), its packets waiting in the kernel's buffer: fewer wake-ups, less
        # CPU. Devices whose data would not fit half a tty buffer meanwhile (a
        # mat) are read packet by packet. 0: every device packet by packet.
        "read_interval_s": 0.02,
        # ZERO each sensor while nobody is on it (start-up, start screen; never in a drill): the
        # controller subtracts its baseline and sends 0 below the noise gate (docs/protocol.md 9.1).
        "zero_when_idle": True,
        # the ZERO gate: 0 each sensel's own 3 sigma, > 0 counts, -1 baseline only
        "zero_gate": 0,
    },
    "sim": {
        "seed": 1,
        "scenario": "quiet",
        "rate_hz": 100.0,
        "mat_rows": 48,
        "mat_cols": 48,
        "mat_pitch_mm": 8.47,
        "insole_sensors": 16,
        "body_mass_kg": 70.0,
        "foot_length_mm": 260.0,
        # > 1: the demo's mat is a walkway of this many virtual tiles of mat_rows each (docs/walkway.md)
        "tiles": 0,
    },
    "store": {
        # docs/store.md. Raw frames are committed in chunks of this length per device.
        "chunk_s": 1.0,
        "codec": "auto",
        # 30 s of a mat and two insoles at 100 Hz; beyond it frames are dropped and counted.
        "writer_queue_frames": 9000,
        # No recording starts (and a running one stops) with less than this left.
        "min_free_mb": 500,
        # Cap on the database file (0: none); reaching it stops recording like a full disk.
        "max_db_mb": 0,
        # Raw recordings synced upstream and older than this may be pruned (never unsynced ones).
        "prune_after_days": 90.0,
    },
    "sync": {
        # docs/sync.md and docs/configuration.md: the kiosk's sync worker (when enrolled).
        # Run it as a thread of the kiosk (false: the gaitkiosk-sync.service unit runs it instead).
        "in_kiosk": True,
        # The kiosk's thread waits while a patient is in an exercise (sync between exercises).
        "hold_during_drills": True,
        # Seconds between passes when nothing is queued.
        "poll_s": 30.0,
        # Backoff with full jitter after a failure: first ceiling, and the cap.
        "backoff_base_s": 1.0,
        "backoff_cap_s": 300.0,
        # Upload cap in bytes per second (0: none).
        "bandwidth_bytes_per_s": 0,
        # Rows read from the outbox per batch (marked sent in one short transaction), and sent at once.
        "batch_rows": 200,
        "parallel": 4,
        # Seconds to wait for the server's answer.
        "timeout_s": 30.0,
        # Download new releases the server offers in the background, check and stage them (never
        # applied by the kiosk: docs/install.md "Update from the sync server"), every this many seconds.
        "fetch_releases": True,
        "release_check_s": 21600.0,
    },
    "calibration": {
        # docs/calibration.md. A calibration older than this is "due".
        "due_after_days": 180.0,
        # Not verified with a known weight for this long: "due".
        "verify_every_days": 30.0,
        # A verification erring by more than this (%) fails and makes the device "out of spec".
        "max_error_pct": 3.0,
        # A step's load counts as stable when it changes by at most this (%) over its window.
        "stable_tolerance_pct": 2.0,
        # Give up on a step whose load has not settled after this long.
        "step_timeout_s": 30.0,
    },
    "ui": {
        # docs/configuration.md [ui]. The touchscreen: resolution and physical size (for mm-sized targets).
        "width": 800,
        "height": 480,
        "diagonal_in": 7.0,
        "fullscreen": True,
        "fps": 60,
        # Tones for start, metronome and safety stops (silently off without a sound device).
        "sound": True,
        # Optional theme TOML overriding colours and text sizes (docs/kiosk.md).
        "theme": "",
        # Smallest touch target on the glass.
        "min_target_mm": 15.0,
        # Check-in screen untouched this long: back to the start screen.
        "idle_timeout_s": 90.0,
        # Staff screens untouched this long: the staff user is logged out (docs/therapist.md).
        "staff_idle_logout_s": 120.0,
    },
    "analysis": {
        # docs/metrics.md. Foot contact / foot-off hysteresis on each foot's force (N).
        "contact_on_n": 30.0,
        "contact_off_n": 20.0,
        # Shorter contacts are not steps.
        "min_stance_s": 0.1,
        # Mat sensels below this are unloaded (noise floor) in the per-frame analysis.
        "mat_threshold_kpa": 10.0,
    },
    "clinic": {
        # Printed at the top of every report (`gaitkiosk report`, docs/therapist.md). Empty: no name line.
        "name": "",
        # A PNG or JPEG printed beside the name (empty: none). A file that is missing is an error, not a blank.
        "logo": "",
    },
    "reports": {
        # Where a staff screen may save a PDF (a report, a home-exercise sheet; gaitkiosk/handout.py):
        # this folder (a network share, say; empty: none) and USB sticks mounted under usb_root.
        "folder": "",
        # A stick counts only when it is a mount point below this (listed in /proc/mounts); empty: none.
        "usb_root": "/media",
    },
    "panel": {
        # The GPIO safety panel (docs/technician.md): stop button, stack light, buzzer. Off: no GPIO at all.
        "enabled": False,
        # gpiozero's pin factory: "rpigpio" (the RPi.GPIO API; rpi-lgpio provides it on a Pi 5) or "lgpio".
        "pin_factory": "rpigpio",
        # BCM GPIO numbers. The button closes to ground (the pin's pull-up holds it high).
        "stop_pin": 17,
        "green_pin": 22,
        "amber_pin": 23,
        "red_pin": 24,
        "buzzer_pin": 27,
    },
}



class _TilesCheck:
    """``devices.tiles``: parsed by device.tiles only when a file lists tiles (it loads the device layer)."""

    def describe(self) -> str:
        return "2 to 16 tables {port, offset [row, col] or offset_mm [y, x], rotation 0/90/180/270}, or none (one mat)"

    def ok(self, value) -> bool:
        try:
            self.check(value)
        except UsageError:
            return False
        return True

    def check(self, value, name: str = ""):
        if value == []:
            return value
        from device.tiles import TileError, parse_tiles

        try:
            parse_tiles(value)
        except TileError as exc:
            raise UsageError(f"config key {exc}") from None
        return value


def _codecs() -> tuple[str, ...]:
    from store import codec  # only when a file names a codec: it loads the compressors

    return (codec.AUTO, *codec.METHOD_IDS)


# What each key allows (docs/configuration.md shows the same words: tests/test_docs.py).
# The limits are where a value stops making sense for a kiosk, not tight tuning bounds.
ALLOWED: dict[str, Any] = {
    "kiosk.data_dir": checks.text("a directory (empty: the per-user default)"),
    "kiosk.log_level": checks.one_of("debug", "info", "warning", "error"),
    "devices.mat": checks.text("a port URL (empty: no mat)"),
    "devices.insoles": checks.list_of(checks.text("a port URL"), most=2),
    "devices.tiles": _TilesCheck(),
    "devices.usb_ids": checks.list_of(checks.matching(r"[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}",
                                                      "VID:PID in hex, 4 digits each (e.g. 2e8a:000a)")),
    "devices.baudrate": checks.integer(1200, 12_000_000),
    "devices.hello_timeout_s": checks.positive(most=60.0, unit="seconds"),
    "devices.silence_timeout_s": checks.positive(most=60.0, unit="seconds"),
    "devices.reconnect_interval_s": checks.positive(most=60.0, unit="seconds"),
    # Fewer than 16 frames (0.16 s at 100 Hz) drop frames on every scheduling hiccup; 0 starves the kiosk.
    "devices.queue_frames": checks.integer(16, 1_000_000),
    "devices.read_interval_s": checks.within(0.0, 1.0, unit="seconds"),
    "devices.zero_when_idle": checks.flag(),
    "devices.zero_gate": checks.integer(-1, 65535),
    "sim.seed": checks.integer(0, 2**32 - 1),
    # Checked where the virtual patient is made (`gaitkiosk simulate --list` names them): the
    # scenario table loads the whole simulator, too slow for every command's start.
    "sim.scenario": checks.text("a scenario name (`gaitkiosk simulate --list`)"),
    "sim.rate_hz": checks.positive(most=1000.0),
    # The wire protocol carries frames up to 256 x 256 (docs/protocol.md).
    "sim.mat_rows": checks.integer(1, 256),
    "sim.tiles": checks.integer(0, 16),
    "sim.mat_cols": checks.integer(1, 256),
    "sim.mat_pitch_mm": checks.positive(most=100.0),
    "sim.insole_sensors": checks.integer(16, 16),  # the virtual insole's one layout
    # The virtual body's plausible ranges (device/sim/body.py).
    "sim.body_mass_kg": checks.within(10.0, 300.0),
    "sim.foot_length_mm": checks.within(120.0, 360.0),
    "store.chunk_s": checks.within(0.1, 60.0, unit="seconds"),
    "store.codec": checks.one_of(lazy=_codecs),
    "store.writer_queue_frames": checks.integer(100, 10_000_000),
    "store.min_free_mb": checks.integer(0, 10_000_000),
    "store.max_db_mb": checks.integer(0, 10_000_000),
    "store.prune_after_days": checks.within(0.0, 36500.0, unit="days"),
    "sync.in_kiosk": checks.flag(),
    "sync.hold_during_drills": checks.flag(),
    "sync.poll_s": checks.within(1.0, 86400.0, unit="seconds"),
    "sync.backoff_base_s": checks.within(0.01, 3600.0, unit="seconds"),
    "sync.backoff_cap_s": checks.within(0.1, 86400.0, unit="seconds"),
    "sync.bandwidth_bytes_per_s": checks.integer(0, 10_000_000_000),
    "sync.batch_rows": checks.integer(1, 10_000),
    "sync.parallel": checks.integer(1, 32),
    "sync.timeout_s": checks.within(1.0, 600.0, unit="seconds"),
    "sync.fetch_releases": checks.flag(),
    "sync.release_check_s": checks.within(60.0, 604800.0, unit="seconds"),
    "calibration.due_after_days": checks.positive(most=3650.0, unit="days"),
    "calibration.verify_every_days": checks.positive(most=3650.0, unit="days"),
    "calibration.max_error_pct": checks.positive(most=100.0),
    "calibration.stable_tolerance_pct": checks.positive(most=100.0),
    "calibration.step_timeout_s": checks.positive(most=3600.0, unit="seconds"),
    "ui.width": checks.integer(320, 7680),
    "ui.height": checks.integer(240, 4320),
    "ui.diagonal_in": checks.within(2.0, 100.0),
    "ui.fullscreen": checks.flag(),
    "ui.fps": checks.integer(1, 240),
    "ui.sound": checks.flag(),
    "ui.theme": checks.text("a theme TOML file (empty: the built-in theme)"),
    "ui.min_target_mm": checks.within(5.0, 50.0),
    "ui.idle_timeout_s": checks.within(10.0, 3600.0, unit="seconds"),
    "ui.staff_idle_logout_s": checks.within(10.0, 3600.0, unit="seconds"),
    "analysis.contact_on_n": checks.positive(most=10000.0),
    "analysis.contact_off_n": checks.positive(most=10000.0),
    "analysis.min_stance_s": checks.within(0.0, 10.0, unit="seconds"),
    "analysis.mat_threshold_kpa": checks.within(0.0, 1000.0),
    "clinic.name": checks.text("the clinic's name (empty: none)"),
    "clinic.logo": checks.text("a PNG or JPEG file (empty: no logo)"),
    # Absolute: a relative folder would depend on where the kiosk was started.
    "reports.folder": checks.matching(r"(/.*)?", "an absolute directory (empty: none)"),
    "reports.usb_root": checks.matching(r"(/.*)?", "an absolute directory (empty: no USB sticks)"),
    "panel.enabled": checks.flag(),
    "panel.pin_factory": checks.one_of("rpigpio", "lgpio"),
    # GPIO 2..27 are the 40-pin header's BCM numbers on a Pi 4 and a Pi 5.
    **{f"panel.{name}_pin": checks.integer(2, 27) for name in ("stop", "green", "amber", "red", "buzzer")},
}


def default_config() -> dict[str, Any]:
    return copy.deepcopy(DEFAULTS)


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> None:
    for key, value in override.items():
        name = f"{where}.{key}" if where else key
        if key not in base:
            known = ", ".join(sorted(base)) or "(none)"
            raise ConfigError(f"unknown config key '{name}'; known keys here: {known}")
        default = base[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{name}' must be a table ([{name}])")
            _merge(default, value, name)
            continue
        value = _check_type(name, default, value)
        try:
            ALLOWED[name].check(value, f"config key '{name}'")
        except UsageError as exc:
            raise ConfigError(str(exc)) from None
        base[key] = value


def _check_type(name: str, default: Any, value: Any) -> Any:
    # TOML integers are accepted where a float is expected; nothing else is coerced.
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, type(d)) for d in default[:1] for v in value)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(
            f"config key '{name}' must be {type(default).__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Return the configuration: defaults, overlaid with the file if there is one.

    ``path`` None means the system file when it exists, else pure defaults.
    """
    config = default_config()
    if path is None:
        if not SYSTEM_CONFIG.exists():
            return config
        path = SYSTEM_CONFIG
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; pass an existing file to --config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (TOML must be): byte {exc.start} cannot be read; "
                          "save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        _merge(config, data, "")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if config["devices"]["tiles"] and data.get("devices", {}).get("mat"):
        raise ConfigError(f"{path}: [devices] has both mat and tiles: the tiles are the mat; "
                          "remove mat or set it to \"\"")
    analysis = config["analysis"]
    if analysis["contact_off_n"] > analysis["contact_on_n"]:
        raise ConfigError(f"{path}: [analysis] contact_off_n must not exceed contact_on_n "
                          f"({analysis['contact_off_n']:g} > {analysis['contact_on_n']:g}): the two are a hysteresis band")
    pins = [config["panel"][f"{name}_pin"] for name in ("stop", "green", "amber", "red", "buzzer")]
    if config["panel"]["enabled"] and len(set(pins)) != len(pins):
        raise ConfigError(f"{path}: [panel] stop_pin, green_pin, amber_pin, red_pin and buzzer_pin must be "
                          f"five different GPIO numbers, got {pins}")
    return config


def data_dir(config: dict[str, Any], override: str | None = None) -> Path:
    """The data directory: ``--data-dir``, then the config, then a per-user default."""
    chosen = override or config["kiosk"]["data_dir"]
    if chosen:
        return Path(chosen).expanduser()
    return _user_data() / "gaitkiosk"


def demo_data_dir(override: str | None = None) -> Path:
    """Where demos on the virtual patient keep their sessions: ``--data-dir``, else a per-user folder.

    Never the config's ``kiosk.data_dir``: that is the clinic's database, and a demo's made-up
    sessions must not land beside real patients' (or be synced upstream with them).
    """
    if override:
        return Path(override).expanduser()
    return _user_data() / "gaitkiosk-demo"


def _user_data() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"))
