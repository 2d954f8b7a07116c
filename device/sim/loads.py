"""A virtual calibration rig: the loads a calibration needs, on the virtual patient's sensors.

Calibration procedures need loads a patient scenario does not have: an empty
mat, an air bladder at a set pressure, a flat plate of known weight (possibly
partly off the sensing area), a person standing still on both feet or on one,
a person walking, and -- to prove the procedures refuse them -- someone left
standing on the mat during zeroing and a load that never settles.

:class:`CalibrationRig` is a :class:`~device.sim.VirtualPatient` (same seed,
body, mat and insoles, hence the SAME sensor models, so a calibration made on
the rig is valid for ``sim://`` devices of that seed) whose ``sample(t)``
renders the rig's current :class:`Load` instead of a fixed scenario. The
loads are changed by :meth:`CalibrationRig.perform`, the *virtual technician*:
it reads a calibration step's ``request`` (plain data such as
``{"load": "plate", "force_n": 200}``; calibration/steps.py) and puts that load
on -- or, for the mistakes named in ``misbehave``, the wrong one:

==========  ==================================================================
zero        a person stays on the mat when asked to clear it
unstable    every load keeps creeping (+4 %/s) and never settles
offarea     plates are put down half off the sensing area (at the left edge)
==========  ==================================================================

``sim://mat?rig=1&misbehave=zero`` builds one behind a port (the sim handler
hands URL options to the constructor), so ``gaitkiosk calibrate`` runs the
real reader stack against it.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from device.sim.body import smoothstep
from device.sim.feet import SIDES
from device.sim.mat import MatGeometry
from device.sim.patient import COP_MIN_FORCE_N, FootSample, PatientSample, VirtualPatient

MISTAKES = ("zero", "unstable", "offarea")


class Load:
    """A load on the rig; ``t`` is seconds since it was put on."""

    name = "load"

    def mat_kpa(self, t: float, mat: MatGeometry) -> np.ndarray:
        return np.zeros((mat.rows, mat.cols), dtype=np.float32)

    def insole_kpa(self, t: float, n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.float32)

    def describe(self) -> dict:
        return {"load": self.name}


class Empty(Load):
    name = "empty"


class Uniform(Load):
    """An air bladder (or an insole in a pressure chamber) inflating to ``kpa`` over ``rise_s``."""

    name = "uniform"

    def __init__(self, kpa: float, rise_s: float = 0.5):
        if not 0 < kpa < 2000:
            raise ValueError(f"bladder pressure must be in (0, 2000) kPa, got {kpa}")
        self.kpa, self.rise_s = float(kpa), float(rise_s)

    def level(self, t: float) -> float:
        return self.kpa * smoothstep(t / self.rise_s) if self.rise_s > 0 else self.kpa

    def mat_kpa(self, t, mat):
        return np.full((mat.rows, mat.cols), self.level(t), dtype=np.float32)

    def insole_kpa(self, t, n):
        return np.full(n, self.level(t), dtype=np.float32)

    def describe(self):
        return {"load": self.name, "kpa": self.kpa}


def plate_coverage(mat: MatGeometry, centre_mm, size_mm) -> np.ndarray:
    """Fraction of each sensel's area under an axis-aligned rectangle (rows, cols)."""
    py, px = mat.pitch_mm
    (cx, cy), (w, h) = centre_mm, size_mm
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    cols = np.arange(mat.cols) * px
    rows = np.arange(mat.rows) * py
    ox = np.clip(np.minimum(cols + px, x1) - np.maximum(cols, x0), 0, None) / px
    oy = np.clip(np.minimum(rows + py, y1) - np.maximum(rows, y0), 0, None) / py
    return np.outer(oy, ox)


class Plate(Load):
    """A rigid flat plate of ``force_n`` newtons, ``size_mm`` (x, y) wide, centred at ``centre_mm``.

    The plate presses uniformly on what is under it; the part hanging over the
    mat's edge rests on the floor, so the mat carries only the on-mat share.
    """

    name = "plate"

    def __init__(self, force_n: float, centre_mm=None, size_mm=(100.0, 100.0), rise_s: float = 0.3):
        if not 0 < force_n < 20000:
            raise ValueError(f"plate weight must be in (0, 20000) N, got {force_n}")
        self.force_n, self.centre_mm = float(force_n), centre_mm
        self.size_mm = (float(size_mm[0]), float(size_mm[1]))
        self.rise_s = float(rise_s)
        self._cache: dict = {}

    def mat_kpa(self, t, mat):
        key = (mat, self.centre_mm)
        if key not in self._cache:
            centre = self.centre_mm or mat.centre_mm
            cover = plate_coverage(mat, centre, self.size_mm)
            kpa = self.force_n / (self.size_mm[0] * self.size_mm[1]) * 1e3
            self._cache[key] = (cover * kpa).astype(np.float32)
        f = smoothstep(t / self.rise_s) if self.rise_s > 0 else 1.0
        return self._cache[key] * np.float32(f)

    def describe(self):
        return {"load": self.name, "force_n": self.force_n, "centre_mm": self.centre_mm, "size_mm": list(self.size_mm)}


class Drifting(Load):
    """``inner`` growing by ``pct_per_s`` % every second: a load that never settles."""

    name = "drifting"

    def __init__(self, inner: Load, pct_per_s: float = 4.0):
        self.inner, self.pct_per_s = inner, float(pct_per_s)

    def _f(self, t):
        return np.float32(1.0 + self.pct_per_s / 100.0 * t)

    def mat_kpa(self, t, mat):
        return self.inner.mat_kpa(t, mat) * self._f(t)

    def insole_kpa(self, t, n):
        return self.inner.insole_kpa(t, n) * self._f(t)

    def describe(self):
        return {"load": self.name, "pct_per_s": self.pct_per_s, "inner": self.inner.describe()}


class Person(Load):
    """The rig's person doing ``scenario`` (quiet, single_leg, walk...) from the moment they step on."""

    name = "person"

    def __init__(self, patient: VirtualPatient, scenario: str, label: str):
        self.patient, self.scenario, self.label = patient, scenario, label

    def describe(self):
        return {"load": self.name, "stance": self.label, "scenario": self.scenario}


def _empty_feet() -> dict[str, FootSample]:
    return {s: FootSample(s, 0.0, None, False, False, (0.0, 0.0, 0.0), None, 0.0, (0.0, 0.0), 0.0) for s in SIDES}


class CalibrationRig(VirtualPatient):
    """A VirtualPatient whose sensors carry the rig's current load (module docstring).

    Extra keyword options (also from ``sim://`` URLs): ``rig`` (ignored marker),
    ``misbehave`` (comma-separated :data:`MISTAKES`). The rig starts empty.
    """

    def __init__(self, scenario: str = "quiet", seed: int = 1, *args, rig=None, misbehave: str | tuple = (), **params):
        if isinstance(misbehave, str):
            misbehave = tuple(m for m in misbehave.replace(";", ",").split(",") if m)
        for m in misbehave:
            if m not in MISTAKES:
                raise ValueError(f"unknown rig mistake {m!r}; known: {', '.join(MISTAKES)}")
        self.misbehave = tuple(misbehave)
        self._person_params = {k: v for k, v in params.items()}
        super().__init__(scenario, seed, *args, **params)
        self._rig_lock = threading.RLock()
        self._loads: list[tuple[float, Load]] = [(0.0, Empty())]

    # --- loads ------------------------------------------------------------------------------

    def set_load(self, load: Load, at: float | None = None) -> Load:
        """Put ``load`` on from time ``at`` (default: the latest sampled time)."""
        with self._rig_lock:
            when = self._latest_t if at is None else float(at)
            self._loads = [(t, ld) for t, ld in self._loads if t < when] + [(when, load)]
            del self._loads[:-8]
        return load

    def load_at(self, t: float) -> tuple[float, Load]:
        with self._rig_lock:
            for start, load in reversed(self._loads):
                if start <= t:
                    return start, load
            return self._loads[0]

    def person(self, scenario: str, label: str, **params) -> Person:
        body = {k: v for k, v in self._person_params.items() if k not in ("scenario",)}
        # scenario parameters of the URL are for the URL's scenario; keep only the body's
        from dataclasses import fields

        from device.sim.body import Body

        body_keys = {f.name for f in fields(Body)}
        extra = {k: v for k, v in body.items() if k in body_keys}
        p = VirtualPatient(scenario, self.seed, self.body, self.mat, self.insoles, **extra, **params)
        return Person(p, scenario, label)

    def perform(self, request: dict, at: float | None = None) -> Load:
        """The virtual technician: put on the load a calibration step asks for (module docstring)."""
        kind = request.get("load")
        if kind == "empty":
            load: Load = self.person("quiet", "both") if "zero" in self.misbehave else Empty()
        elif kind == "uniform":
            load = Uniform(float(request["kpa"]), float(request.get("rise_s", 0.5)))
        elif kind == "plate":
            size = tuple(request.get("size_mm", (100.0, 100.0)))
            centre = request.get("centre_mm")
            if "offarea" in self.misbehave:
                centre = (0.0, self.mat.length_mm / 2.0)
            load = Plate(float(request["force_n"]), None if centre is None else tuple(centre), size)
        elif kind == "person":
            stance = request.get("stance", "both")
            if stance == "both":
                load = self.person("quiet", "both")
            elif stance in SIDES:
                load = self.person("single_leg", stance, side=stance, lift_at=0.3, hold_s=600.0)
            elif stance == "walk":
                load = self.person("walk", "walk")
            else:
                raise ValueError(f"unknown stance {stance!r}")
        else:
            raise ValueError(f"the virtual technician does not know the load {kind!r}")
        if "unstable" in self.misbehave and not isinstance(load, Person):
            load = Drifting(load if not isinstance(load, Empty) else Uniform(5.0, 0.0))
        return self.set_load(load, at)

    # --- the truth --------------------------------------------------------------------------

    def sample(self, t: float, *, mat: bool = True, insoles: bool = True) -> PatientSample:
        t = float(t)
        if not math.isfinite(t) or t < 0:
            return super().sample(t)  # raises the patient's error
        with self._lock:
            self._latest_t = max(self._latest_t, t)
        start, load = self.load_at(t)
        rel = t - start
        if isinstance(load, Person):
            s = load.patient.sample(rel, mat=mat, insoles=insoles)
            return PatientSample(t, s.mat_kpa, s.insole_kpa, s.force_n, s.cop_mm, s.feet, s.grf_n, s.com_mm)
        frame = load.mat_kpa(rel, self.mat) if mat else None
        ins = {s: load.insole_kpa(rel, self.insoles.n_sensors) for s in SIDES} if insoles else None
        full = load.mat_kpa(rel, self.mat) if frame is None else frame
        force = float(full.sum(dtype=np.float64) * self.mat.sensel_area_mm2 * 1e-3)
        cop = None
        if force >= COP_MIN_FORCE_N:
            xs, ys = self.mat.sensel_centres()
            w = full.astype(np.float64)
            cop = (float((w.sum(axis=0) * xs).sum() / w.sum()), float((w.sum(axis=1) * ys).sum() / w.sum()))
        return PatientSample(t, frame, ins, force, cop, _empty_feet(), force, None)

    def describe(self) -> dict:
        d = super().describe()
        d["rig"] = {"misbehave": list(self.misbehave), "load": self.load_at(self._latest_t)[1].describe()}
        return d


def rig_frames(rig: VirtualPatient, kind: str = "mat", rate_hz: float = 100.0, start_s: float | None = None):
    """Endless (t, counts) of one sensor of ``rig`` (any VirtualPatient), sampled at ``rate_hz``.

    Not real time: for tests and offline runs of calibration procedures. ``kind``
    is ``mat``, ``insole_left`` or ``insole_right``; the stream starts at
    ``start_s`` (default: just after the latest time the rig was sampled, so a
    new stream sees the loads put on since).
    """
    if start_s is None:
        start_s = rig._latest_t + 1.0 / rate_hz
    k = 0
    while True:
        t = start_s + k / rate_hz
        if kind == "mat":
            s = rig.sample(t, insoles=False)
            yield t, rig.mat_counts(s)
        else:
            s = rig.sample(t, mat=False)
            yield t, rig.insole_counts(s, kind.removeprefix("insole_"))
        k += 1
