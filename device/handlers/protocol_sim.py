"""``sim://`` -- the virtual patient as a serial port (a pyserial URL handler).

    sim://mat?scenario=quiet&seed=1&rate=100&rows=48&cols=48&pitch=8.47
    sim://insole?side=left          (also sim://insole-left, sim://insole_right)
    sim://mat?pattern=1             (a test pattern instead of a person)

Each port is a :class:`~device.virtual.VirtualDevice` that speaks the wire
protocol exactly like the firmware, fed by a
:class:`~device.sim.VirtualPatient`. Ports opened in the same process with
the same ``patient=NAME`` (default ``shared``) share ONE patient, so the mat
and the two insoles show the same person at the same instant; the patient's
time is the host's monotonic clock since the patient was created.

Device options (the rest of the URL is about the patient):

============  ==========================================================
rate          samples per second (default 100)
rows, cols    mat sensels (default 48 x 48); ``pitch`` mm, one value or ``row,col`` (8.47)
side          insole side, ``left`` or ``right``
bits          counts on the wire: 16, 12 (packed, default) or 8
serial        the serial number in the HELLO (default: the virtual sensor's own, :func:`unit_serial`)
clock_offset  device clock at power-on, s (default: drawn from the seed, 0..1000)
drift_ppm     device crystal error (default: drawn from the seed, -50..50)
jitter_ms     USB latency spread (default 0)
drop          fraction of frames lost on the device (default: the sensor model's)
corrupt       fraction of packets with one flipped bit (default: the sensor model's)
protocol      protocol version the device speaks (default 1; for testing old/new devices)
pattern       1: stream :class:`~device.virtual.TestPattern` counts
zero          the device zeroes itself at every power-up from an unloaded reading
              (as a controller that keeps its baseline), with this gate: 0 default,
              > 0 counts, -1 no gate (docs/protocol.md section 9.1); default: not zeroed
patient       name of the shared patient (default ``shared``)
tile, tiles   this port is tile ``tile`` (0 rearmost) of the patient's mat cut into ``tiles`` tiles
              end to end, its own device and clock (a virtual walkway, docs/walkway.md)
============  ==========================================================

Patient options: ``scenario``, ``seed`` and any scenario or body parameter of
``device.sim.SCENARIOS`` / ``device.sim.Body`` (``mass_kg=80``,
``eyes=closed``, ``weight_left_pct=60``...). The first port of a patient
creates it; a later port that asks for a different scenario, seed or mat of the
same patient is refused with the reason (name another ``patient=``).
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import numpy as np
from serial.serialutil import SerialException

from device.framing import AckResult, DeviceKind
from device.handlers.virtual_port import (  # noqa: F401 - public: pull/replug a virtual cable
    VirtualPort,
    parse_query,
    plug,
    query_number,
    release_shared,
    unplug,
)
from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate
from device.virtual import FrameSource, TestPattern, VirtualDevice

KIND_ALIASES = {
    "mat": (DeviceKind.MAT, None),
    "insole": (None, None),
    "insole-left": (DeviceKind.INSOLE_LEFT, "left"),
    "insole_left": (DeviceKind.INSOLE_LEFT, "left"),
    "insole-right": (DeviceKind.INSOLE_RIGHT, "right"),
    "insole_right": (DeviceKind.INSOLE_RIGHT, "right"),
}
DEVICE_KEYS = {"rate", "side", "bits", "serial", "clock_offset", "drift_ppm", "jitter_ms", "drop",
               "corrupt", "protocol", "pattern", "patient", "zero", "tile", "tiles"}
MAT_KEYS = {"rows", "cols", "pitch"}
ZERO_MAX_FORCE_N = 20.0  # refuse ZERO above this: someone is standing on the sensor

# config [sim] key -> URL option (for apply_config_defaults)
_CONFIG_OPTIONS = {"seed": "seed", "scenario": "scenario", "rate_hz": "rate", "body_mass_kg": "mass_kg",
                   "foot_length_mm": "foot_length_mm"}
_CONFIG_MAT_OPTIONS = {"mat_rows": "rows", "mat_cols": "cols", "mat_pitch_mm": "pitch"}


@dataclass
class SharedPatient:
    patient: Any  # device.sim.VirtualPatient
    epoch: float  # host monotonic time of the patient's t = 0
    spec: dict[str, str]
    opened_by: str
    refs: int = 0


_patients: dict[str, SharedPatient] = {}
_patients_lock = threading.Lock()


def patient(name: str = "shared"):
    """The live VirtualPatient behind ``patient=name`` ports (None if none is open).

    Drills use it to close the loop in demos (``set_target``); tests use it for the truth.
    """
    with _patients_lock:
        shared = _patients.get(name)
        return None if shared is None else shared.patient


def patient_time(name: str = "shared", t_host: float | None = None) -> float | None:
    """The patient's own time (s) at host monotonic time ``t_host`` (default now)."""
    with _patients_lock:
        shared = _patients.get(name)
    if shared is None:
        return None
    return (time.monotonic() if t_host is None else t_host) - shared.epoch


def apply_config_defaults(url: str, sim: dict[str, Any]) -> str:
    """Add the config's ``[sim]`` values to a ``sim://`` URL where it does not say otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        return url
    given = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    if given.get("pattern") in ("1", "true", "yes"):
        return url
    options = dict(_CONFIG_OPTIONS)
    if parts.netloc == "mat":
        options.update(_CONFIG_MAT_OPTIONS)
    extra = {opt: _fmt(sim[key]) for key, opt in options.items() if key in sim and opt not in given}
    if not extra:
        return url
    query = "&".join(filter(None, [parts.query, urllib.parse.urlencode(extra)]))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class SimSource(FrameSource):
    """Counts of one sensor (mat or an insole) worn or stood on by a shared VirtualPatient."""

    def __init__(self, shared: SharedPatient, kind: DeviceKind, side: str | None):
        self.shared = shared
        p = shared.patient
        self.kind = kind
        self.side = side
        if kind == DeviceKind.MAT:
            self.rows, self.cols = p.mat.rows, p.mat.cols
            self.pitch_mm = tuple(p.mat.pitch_mm)
            self.bits = p.mat_sensor.bits
        else:
            self.rows, self.cols = p.insoles.n_sensors, 1
            self.sensors_mm = p.insoles.positions(side)
            self.sensor_area_mm2 = p.insoles.sensor_areas_mm2()
            self.bits = p.insole_sensor_for(side).bits
        self.onboard: ZeroGate | None = None  # the on-board zero and gate of the last good ZERO
        self.power_up_gate: int | None = None  # ``zero=`` option: zero at every power-up, unloaded

    def _t(self, t_host: float) -> float:
        return max(0.0, t_host - self.shared.epoch)

    def _read(self, t_host: float):
        p = self.shared.patient
        if self.kind == DeviceKind.MAT:
            s = p.sample(self._t(t_host), insoles=False)
            return s, p.mat_counts(s), s.force_n
        s = p.sample(self._t(t_host), mat=False)
        return s, p.insole_counts(s, self.side), s.feet[self.side].force_n

    def raw_counts(self, t_host: float) -> np.ndarray:
        """What the sensor reads before the on-board zero and gate (for tests and calibration truth)."""
        return self._read(t_host)[1]

    def counts(self, t_host: float, index: int) -> np.ndarray:
        _, counts, _ = self._read(t_host)
        if self.onboard is not None:
            counts = self.onboard.apply(counts)
        return counts

    def forget_zero(self) -> None:
        super().forget_zero()
        self.onboard = None
        if self.power_up_gate is not None:
            self._zero_unloaded(self.power_up_gate)

    def _sensor(self):
        p = self.shared.patient
        return p.mat_sensor if self.kind == DeviceKind.MAT else p.insole_sensor_for(self.side)

    def _zero_unloaded(self, gate: int) -> None:
        # the sensor's own counts with nothing on it (keys apart from any sample's time)
        sensor = self._sensor()
        unloaded = np.zeros(sensor.shape)
        window = np.stack([sensor.counts(unloaded, key=(1 << 47) + k) for k in range(ZERO_WINDOW_SCANS)])
        self.onboard = ZeroGate.measure(window, gate)
        self.zeroed, self.gate_counts = True, self.onboard.gate_counts

    def zero(self, t_host: float, gate: int = 0, period_s: float = 0.01) -> tuple[AckResult, str]:
        # A controller scans all the time, streaming or not: the window is the scans just before the
        # command (or, just after power-up, the first scans it makes).
        start = max(t_host - (ZERO_WINDOW_SCANS - 1) * period_s, self.shared.epoch)
        times = [start + k * period_s for k in range(ZERO_WINDOW_SCANS)]
        window, peak = [], 0.0
        for t in times:
            _, counts, force = self._read(t)
            window.append(counts)
            peak = max(peak, force)
        if peak > ZERO_MAX_FORCE_N:
            return AckResult.BUSY, f"the sensor is loaded ({peak:.0f} N): ask the patient to step off, then zero"
        self.onboard = ZeroGate.measure(np.stack(window), gate)
        self.zeroed, self.gate_counts = True, self.onboard.gate_counts
        return AckResult.OK, ""


def unit_serial(label: str, patient) -> str:
    """The serial of a virtual sensor: what makes the sensor, never the person standing on it.

    A real unit's mat keeps its serial whoever stands on it, so a calibration
    made with ``gaitkiosk calibrate`` applies in ``gaitkiosk run`` and ``record``.
    The virtual sensor's sensels (gains, dead and hot ones, noise) are drawn from
    the seed and its geometry; the scenario, the body and the ``patient=`` name
    are the person. So ``sim://mat`` with the default ``[sim]`` config is
    ``sim-mat-48x48-seed1`` in every command, and a mat of another size or pitch,
    or another seed, is another device with its own calibration.
    """
    if label != "mat":
        return f"sim-{label}-seed{patient.seed}"
    pitch = tuple(float(v) for v in patient.mat.pitch_mm)
    size = f"{patient.mat.rows}x{patient.mat.cols}"
    if pitch != _DEFAULT_PITCH_MM:
        size += f"-{pitch[0]:g}x{pitch[1]:g}mm"
    return f"sim-mat-{size}-seed{patient.seed}"


class Serial(VirtualPort):
    """pyserial port for ``sim://`` URLs (see the module docstring)."""

    scheme = "sim"

    def __init__(self, *args, **kwargs):
        self._patient_name: str | None = None
        super().__init__(*args, **kwargs)

    def make_device(self, url: str) -> VirtualDevice:
        parts, params = parse_query(url, "sim")
        where = (parts.netloc + parts.path).strip("/").lower() or "mat"
        if where not in KIND_ALIASES:
            raise SerialException(
                f"{url}: unknown virtual device {where!r}; use sim://mat, sim://insole?side=left or sim://insole?side=right"
            )
        kind, side = KIND_ALIASES[where]
        if kind is None:
            side = params.get("side", "").lower()
            if side not in ("left", "right"):
                raise SerialException(f"{url}: an insole needs side=left or side=right")
            kind = DeviceKind.INSOLE_LEFT if side == "left" else DeviceKind.INSOLE_RIGHT
        elif "side" in params and params["side"].lower() != (side or ""):
            raise SerialException(f"{url}: side={params['side']} does not fit sim://{where}")
        if kind != DeviceKind.MAT:
            for key in MAT_KEYS & params.keys():
                raise SerialException(f"{url}: {key} is a mat option, not an insole one")
        name = params.get("patient", "shared") or "shared"
        rate = query_number(url, params, "rate", 100.0)
        seed = int(query_number(url, params, "seed", 1))
        pattern = params.get("pattern", "0").lower() in ("1", "true", "yes")
        tile = self._tile(url, params, kind)
        rng = np.random.default_rng([seed, int(kind)] + ([tile[0]] if tile else []))
        if pattern:
            source: FrameSource = TestPattern(
                kind, int(query_number(url, params, "rows", 48)) if kind == DeviceKind.MAT else 16,
                int(query_number(url, params, "cols", 48)) if kind == DeviceKind.MAT else 1,
                bits=int(query_number(url, params, "bits", 12)),
            )
            drop = corrupt = 0.0
        else:
            shared = self._acquire(url, name, params, kind, rate)
            source = SimSource(shared, kind, side)
            if "zero" in params:
                gate = query_number(url, params, "zero", 0)
                if not (gate.is_integer() and gate >= -1):
                    self.release()
                    raise SerialException(f"{url}: zero={params['zero']} must be -1, 0 or a whole number of counts")
                source.power_up_gate = int(gate)
            if "bits" in params:
                source.bits = max(source.bits, int(query_number(url, params, "bits", 12)))
            sensor = shared.patient.mat_sensor if kind == DeviceKind.MAT else shared.patient.insole_sensor_for(side)
            drop, corrupt = sensor.packet_drop_rate, sensor.packet_corrupt_rate
        label = {DeviceKind.MAT: "mat", DeviceKind.INSOLE_LEFT: "insole-left", DeviceKind.INSOLE_RIGHT: "insole-right"}[kind]
        serial = params.get("serial") or (f"sim-{label}-pattern" if pattern else unit_serial(label, shared.patient))
        if tile and not pattern:
            from device.tile_sim import TileSource

            index, count = tile
            rows = source.rows // count
            if rows * count != source.rows:
                self.release()
                raise SerialException(f"{url}: a mat of {source.rows} rows does not split into {count} equal tiles")
            source = TileSource(source, index * rows, rows)
            serial = f"{serial}-tile{index + 1}"
        try:
            return VirtualDevice(
                source,
                serial=serial,
                firmware="gaitkiosk-sim 1.0",
                rate_hz=rate,
                clock=time.monotonic,
                boot_clock_s=query_number(url, params, "clock_offset", float(rng.uniform(0, 1000))),
                drift_ppm=query_number(url, params, "drift_ppm", float(rng.uniform(-50, 50))),
                jitter_s=query_number(url, params, "jitter_ms", 0.0) / 1e3,
                drop_rate=query_number(url, params, "drop", drop),
                corrupt_rate=query_number(url, params, "corrupt", corrupt),
                protocol=int(query_number(url, params, "protocol", 1)),
                battery_pct=None if kind == DeviceKind.MAT else 87,
                seed=seed * 4 + int(kind),
            )
        except ValueError as exc:
            self.release()
            raise SerialException(f"{url}: {exc}") from None

    @staticmethod
    def _tile(url: str, params: dict[str, str], kind: DeviceKind) -> tuple[int, int] | None:
        """``tile=i&tiles=N``: this port is tile i (from the rear) of the patient's mat cut into N tiles."""
        if "tile" not in params and "tiles" not in params:
            return None
        if kind != DeviceKind.MAT or "tile" not in params or "tiles" not in params:
            raise SerialException(f"{url}: tile=I and tiles=N go together, on a mat")
        index, count = int(query_number(url, params, "tile", 0)), int(query_number(url, params, "tiles", 2))
        if not 2 <= count <= 16 or not 0 <= index < count:
            raise SerialException(f"{url}: tile={params['tile']} of tiles={params['tiles']}: 2 to 16 tiles, "
                                  "tile 0 to tiles - 1")
        return index, count

    def _acquire(self, url: str, name: str, params: dict[str, str], kind: DeviceKind, rate: float) -> SharedPatient:
        spec = {k: v for k, v in params.items() if k not in DEVICE_KEYS}
        with _patients_lock:
            shared = _patients.get(name)
            if shared is not None:
                for key, value in spec.items():
                    if shared.spec.get(key, _default_spec(key)) != value:
                        raise SerialException(
                            f"{url}: patient {name!r} is already running with "
                            f"{key}={shared.spec.get(key, _default_spec(key))!r} (opened by {shared.opened_by}); "
                            f"give this device the same {key}, or patient=OTHER for a second person"
                        )
            else:
                shared = SharedPatient(self._new_patient(url, spec, kind, rate), time.monotonic(), spec, url)
                _patients[name] = shared
            shared.refs += 1
            self._patient_name = name
            return shared

    @staticmethod
    def _new_patient(url: str, spec: dict[str, str], kind: DeviceKind, rate: float):
        from device.sim import InsoleGeometry, MatGeometry, VirtualPatient

        rest = dict(spec)
        scenario = rest.pop("scenario", "quiet")
        seed = int(query_number(url, rest, "seed", 1))
        rest.pop("seed", None)
        mat_kwargs: dict[str, Any] = {}
        for key in ("rows", "cols"):
            if key in rest:
                mat_kwargs[key] = int(query_number(url, rest, key, 48))
                rest.pop(key)
        if "pitch" in rest:
            text = rest.pop("pitch")
            pitch = [query_number(url, {"pitch": v}, "pitch", 0.0) for v in text.split(",")]
            mat_kwargs["pitch_mm"] = tuple(pitch * 2 if len(pitch) == 1 else pitch)
        try:
            mat = MatGeometry(**mat_kwargs, rate_hz=rate if kind == DeviceKind.MAT else 100.0)
            insoles = InsoleGeometry(rate_hz=rate if kind != DeviceKind.MAT else 100.0)
            if rest.pop("rig", None) is not None:  # rig=1: the calibration rig (device/sim/loads.py)
                from device.sim.loads import CalibrationRig

                return CalibrationRig(scenario=scenario, seed=seed, mat=mat, insoles=insoles, **rest)
            return VirtualPatient(scenario=scenario, seed=seed, mat=mat, insoles=insoles, **rest)
        except (ValueError, TypeError) as exc:
            raise SerialException(f"{url}: {exc}") from None

    def release(self) -> None:
        name, self._patient_name = self._patient_name, None
        release_shared(_patients, _patients_lock, name)


_DEFAULT_PITCH_MM = (8.47, 8.47)
_SPEC_DEFAULTS = {"scenario": "quiet", "seed": "1", "rows": "48", "cols": "48", "pitch": "8.47"}


def _default_spec(key: str) -> str | None:
    return _SPEC_DEFAULTS.get(key)

