"""VirtualPatient: a simulated person standing or walking on a mat, wearing two insoles.

    p = VirtualPatient(scenario="quiet", seed=1)
    s = p.sample(2.50)                 # the truth at t = 2.5 s
    counts = p.mat_counts(s)           # what the mat's ADC would send (uint16)

``sample(t)`` is a pure function of t, the seed, the parameters and the commands
given so far, so two virtual devices (mat and insoles, different rates and
phases) sampling the same patient from different threads, each with its own
increasing times, see one consistent person. Closed-loop commands
(:meth:`set_target`, :meth:`set_weight_share`) take effect from the latest time
anyone has sampled (plus the reaction time), never in the past.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass

import numpy as np

from device.sim.body import Body
from device.sim.errors import SimulationError
from device.sim.feet import SIDES, FootState, GaitEvent
from device.sim.footprint import FootTemplate, foot_to_mat
from device.sim.insole import InsoleGeometry
from device.sim.mat import MatGeometry, MatRenderer
from device.sim.scenarios import get_scenario, resolve_params
from device.sim.sensors import SensorModel

COP_MIN_FORCE_N = 1.0  # below this the mat has no COP in the truth


@dataclass(frozen=True)
class FootSample:
    """The truth for one foot at one instant."""

    side: str
    force_n: float  # vertical load on the foot (what a perfect insole would measure)
    cop_mm: tuple[float, float] | None  # the foot's COP in the mat frame (None when unloaded)
    on_mat: bool  # the foot is over the mat (wholly or partly)
    in_contact: bool  # the foot is loaded (touching the floor or mat)
    regions_n: tuple[float, float, float]  # rear, mid, fore (0-27-55-100 % of foot length)
    insole_cop_mm: tuple[float, float] | None  # COP in the insole frame (None when unloaded)
    mat_force_n: float  # the part of force_n that lands on the mat's sensels
    heel_mm: tuple[float, float]  # heel centre, mat frame
    angle_deg: float  # long axis from +y toward +x


@dataclass(frozen=True)
class PatientSample:
    """The truth at time ``t``: pressures, forces and centres of pressure."""

    t: float
    mat_kpa: np.ndarray | None  # float32 (rows, cols); None if sampled with mat=False
    insole_kpa: dict[str, np.ndarray] | None  # side -> float32 (N,); None if insoles=False
    force_n: float  # total force on the mat
    cop_mm: tuple[float, float] | None  # whole-body COP on the mat (None when the mat is unloaded)
    feet: dict[str, FootSample]
    grf_n: float  # total vertical ground reaction force under both feet (mat or floor)
    com_mm: tuple[float, float] | None  # centre of mass over the floor (standing scenarios)


class VirtualPatient:
    """A person (``body``) doing ``scenario`` on a mat and two insoles. See the module docstring.

    ``scenario_params`` are the scenario's parameters (``SCENARIOS[name].params``);
    any :class:`Body` field may be given there too (``mass_kg=80``), which is handy
    for ``sim://`` URLs. ``mat_sensor`` / ``insole_sensor`` are SensorModel keyword
    dicts (or ready SensorModel instances) overriding the defaults.
    """

    def __init__(
        self,
        scenario: str = "quiet",
        seed: int = 1,
        body: Body | None = None,
        mat: MatGeometry | None = None,
        insoles: InsoleGeometry | None = None,
        *,
        mat_sensor: SensorModel | dict | None = None,
        insole_sensor: SensorModel | dict | None = None,
        **scenario_params,
    ) -> None:
        info = get_scenario(scenario)
        body = body or Body()
        body_fields = {f.name for f in dataclasses.fields(Body)}
        body_over = {k: float(v) for k, v in scenario_params.items() if k in body_fields}
        try:
            body = dataclasses.replace(body, **body_over) if body_over else body
        except (TypeError, ValueError) as exc:
            raise SimulationError(str(exc)) from None
        params = resolve_params(scenario, {k: v for k, v in scenario_params.items() if k not in body_fields})
        self.scenario = info.name
        self.seed = int(seed)
        self.body = body
        self.mat = mat or MatGeometry()
        insoles = insoles or InsoleGeometry()
        if insoles.foot_length_mm is None:
            insoles = dataclasses.replace(insoles, foot_length_mm=body.foot_length_mm)
        self.insoles = insoles
        self.params = params
        self.feet_templates = {s: FootTemplate(body.foot_length_mm, s, body.foot_width_scale) for s in SIDES}
        try:
            self._scenario = info.cls(body, self.mat, self.feet_templates, self.seed, params)
        except ValueError as exc:
            raise SimulationError(f"scenario {scenario!r}: {exc}") from None
        self.mat_sensor = self._sensor(mat_sensor, (self.mat.rows, self.mat.cols), 1)
        self.insole_sensor = self._sensor(insole_sensor, (self.insoles.n_sensors,), 2, dead=0, hot=0)
        self._insole_sensors = {"left": self.insole_sensor, "right": self._sensor(insole_sensor, (self.insoles.n_sensors,), 3, dead=0, hot=0)}
        self._renderer = MatRenderer(self.mat)
        # insole reading per newton of each foot component: (K, N), the mean over each sensor's disc
        self._insole_unit = {
            s: self.feet_templates[s].unit_pressure(self.insoles.sample_points(s)).mean(axis=2) for s in SIDES
        }
        self._outlines = {s: t.outline() for s, t in self.feet_templates.items()}
        self._lock = threading.RLock()
        self._latest_t = 0.0

    def _sensor(self, given, shape, stream: int, **defaults) -> SensorModel:
        if isinstance(given, SensorModel):
            if given.shape != shape:
                raise SimulationError(f"sensor model of shape {given.shape} does not fit {shape}")
            return given
        kwargs = {"seed": self.seed * 16 + stream, **defaults, **(given or {})}
        return SensorModel(shape, **kwargs)

    # --- the truth --------------------------------------------------------------------------

    def sample(self, t: float, *, mat: bool = True, insoles: bool = True) -> PatientSample:
        """The truth at ``t`` seconds from the start (``mat``/``insoles`` False skip rendering them)."""
        t = float(t)
        if not math.isfinite(t) or t < 0:
            raise SimulationError(f"simulation time must be a finite number of seconds >= 0, got {t}")
        with self._lock:
            self._latest_t = max(self._latest_t, t)
            try:
                state = self._scenario.state(t)
            except ValueError as exc:
                raise SimulationError(str(exc)) from None
            frame = np.zeros((self.mat.rows, self.mat.cols), dtype=np.float32) if mat else None
            feet: dict[str, FootSample] = {}
            insole_kpa: dict[str, np.ndarray] = {}
            mat_force = 0.0
            mat_moment = np.zeros(2)
            grf = 0.0
            for side in SIDES:
                fs = state.foot(side)
                sample, loads, stamp, cop = self._foot(fs, frame)
                feet[side] = sample
                grf += sample.force_n
                mat_force += sample.mat_force_n
                if sample.mat_force_n > 0:
                    mat_moment += sample.mat_force_n * cop
                if insoles:
                    insole_kpa[side] = (loads @ self._insole_unit[side]).astype(np.float32)
            if state.uniform_kpa is not None:  # a calibration rig (device/sim/rig.py)
                u = float(state.uniform_kpa)
                if frame is not None:
                    frame += np.float32(u)
                if insoles:
                    insole_kpa = {side: np.full(self.insoles.n_sensors, u, dtype=np.float32) for side in SIDES}
                mat_force = u * self.mat.rows * self.mat.cols * self.mat.sensel_area_mm2 * 1e-3
                mat_moment = mat_force * np.array(self.mat.centre_mm)
            cop_mm = None
            if mat_force >= COP_MIN_FORCE_N:
                c = mat_moment / mat_force
                cop_mm = (float(c[0]), float(c[1]))
            return PatientSample(
                t=t,
                mat_kpa=frame,
                insole_kpa=insole_kpa if insoles else None,
                force_n=float(mat_force),
                cop_mm=cop_mm,
                feet=feet,
                grf_n=float(grf),
                com_mm=state.com_mm,
            )

    def _foot(self, fs: FootState, frame: np.ndarray | None):
        tmpl = self.feet_templates[fs.side]
        if fs.force_n <= 0.0:
            # an unloaded foot (swinging, lifted) moves every frame: test its outline, render nothing
            outline = foot_to_mat(self._outlines[fs.side], fs.heel_mm, fs.angle_deg)
            on_mat = bool(
                outline[:, 0].max() > 0 and outline[:, 0].min() < self.mat.width_mm
                and outline[:, 1].max() > 0 and outline[:, 1].min() < self.mat.length_mm
            )
            loads = np.zeros(len(tmpl.centres))
            return (
                FootSample(fs.side, 0.0, None, on_mat, False, (0.0, 0.0, 0.0), None, 0.0, fs.heel_mm, fs.angle_deg),
                loads,
                None,
                None,
            )
        stamp = self._renderer.stamp(tmpl, fs.heel_mm, fs.angle_deg)
        on_mat = bool(stamp.on_fraction.max(initial=0.0) > 1e-6)
        weights = tmpl.weights_for_cop(fs.cop_foot_mm)
        loads = fs.force_n * weights
        cop_foot = weights @ tmpl.centres
        cop_mat = foot_to_mat(cop_foot, fs.heel_mm, fs.angle_deg)
        regions = loads @ tmpl.region_fractions
        mat_force = 0.0
        mat_cop = cop_mat
        if not stamp.empty:
            on_loads = loads * stamp.on_fraction
            mat_force = float(on_loads.sum())
            if frame is not None:
                frame[stamp.rows, stamp.cols] += np.tensordot(loads.astype(np.float32), stamp.shapes, axes=1)
            if mat_force > 0 and stamp.on_fraction.min() < 1.0 - 1e-6:
                # partly on the mat: the mat sees the COP of the part that is on it
                ok = on_loads > 0
                mat_cop = (on_loads[ok, None] * stamp.on_centroid[ok]).sum(axis=0) / mat_force
            if mat_force < 1e-9:
                mat_force = 0.0
        sample = FootSample(
            side=fs.side,
            force_n=float(fs.force_n),
            cop_mm=(float(cop_mat[0]), float(cop_mat[1])),
            on_mat=on_mat,
            in_contact=bool(fs.in_contact),
            regions_n=tuple(float(r) for r in regions),
            insole_cop_mm=(float(cop_foot[0]), float(cop_foot[1])),
            mat_force_n=mat_force,
            heel_mm=fs.heel_mm,
            angle_deg=fs.angle_deg,
        )
        return sample, loads, stamp, mat_cop

    # --- through the sensors --------------------------------------------------------------------

    def mat_counts(self, s: PatientSample) -> np.ndarray:
        """The mat's uint16 counts for sample ``s`` (seeded read noise keyed on s.t)."""
        if s.mat_kpa is None:
            raise SimulationError("this sample was taken with mat=False; sample again with the mat")
        return self.mat_sensor.counts(s.mat_kpa, key=round(s.t * 1e6))

    def insole_counts(self, s: PatientSample, side: str) -> np.ndarray:
        """One insole's uint16 counts for sample ``s``."""
        if s.insole_kpa is None:
            raise SimulationError("this sample was taken with insoles=False; sample again with the insoles")
        if side not in SIDES:
            raise SimulationError(f"insole side must be 'left' or 'right', not {side!r}")
        return self._insole_sensors[side].counts(s.insole_kpa[side], key=round(s.t * 1e6))

    def insole_sensor_for(self, side: str) -> SensorModel:
        """The sensor model of one insole (``insole_sensor`` is the left one)."""
        return self._insole_sensors[side]

    # --- closed loop ----------------------------------------------------------------------------

    def set_target(self, x_mm: float, y_mm: float, at: float | None = None) -> tuple[float, float] | None:
        """Ask the patient to move the COP to (x, y) on the mat.

        The movement starts a reaction time after ``at`` (default: the latest time
        sampled so far), follows a minimum-jerk (bell-shaped velocity) path and stops
        at the target clipped to the base of support, which is returned. Walking
        scenarios ignore targets and return None.
        """
        with self._lock:
            when = self._latest_t if at is None else float(at)
            try:
                target = self._scenario.command_target(np.array((float(x_mm), float(y_mm))), when)
            except ValueError as exc:
                raise SimulationError(str(exc)) from None
        return None if target is None else (float(target[0]), float(target[1]))

    def set_weight_share(self, left_pct: float, at: float | None = None) -> tuple[float, float] | None:
        """Ask the patient to put ``left_pct`` % of their weight on the left foot."""
        with self._lock:
            when = self._latest_t if at is None else float(at)
            try:
                target = self._scenario.command_weight_share(float(left_pct), when)
            except ValueError as exc:
                raise SimulationError(str(exc)) from None
        return None if target is None else (float(target[0]), float(target[1]))

    def set_eyes(self, eyes: str, at: float | None = None) -> None:
        """Open or close the eyes ("open" / "closed") from ``at`` (default: the latest sampled time).

        Sway grows (or shrinks) to the eyes-closed amplitude over half a second; walking
        scenarios ignore it.
        """
        if eyes not in ("open", "closed"):
            raise SimulationError(f"eyes must be 'open' or 'closed', not {eyes!r}")
        command = getattr(self._scenario, "command_eyes", None)
        if command is None:
            return
        with self._lock:
            try:
                command(eyes == "closed", self._latest_t if at is None else float(at))
            except ValueError as exc:
                raise SimulationError(str(exc)) from None

    # --- truth about the scenario -------------------------------------------------------------

    def events_until(self, t: float, since: float = -math.inf) -> list[GaitEvent]:
        """Truth gait events (t, side, "contact"|"off") with since < t_event <= t, in time order."""
        return self._scenario.events_between(max(since, -1.0), float(t))

    def base_of_support(self) -> np.ndarray:
        """Convex polygon (M, 2), mat frame, of the COPs reachable in the resting stance (standing only)."""
        bos = getattr(self._scenario, "bos", None)
        return np.zeros((0, 2)) if bos is None else bos.copy()

    def rest_cop(self) -> tuple[float, float] | None:
        """Where the whole-body COP rests in quiet stance (standing scenarios)."""
        c = getattr(self._scenario, "rest_cop", None)
        return None if c is None else (float(c[0]), float(c[1]))

    @property
    def standing(self) -> bool:
        return bool(self._scenario.standing)

    def describe(self) -> dict:
        """JSON-friendly parameters: scenario, seed, body, geometry, sensor models."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "params": dict(self.params),
            "body": dataclasses.asdict(self.body),
            "mat": {"rows": self.mat.rows, "cols": self.mat.cols, "pitch_mm": list(self.mat.pitch_mm), "rate_hz": self.mat.rate_hz},
            "insoles": {
                "n_sensors": self.insoles.n_sensors,
                "sensor_area_mm2": self.insoles.sensor_area_mm2,
                "foot_length_mm": self.insoles.foot_length_mm,
                "rate_hz": self.insoles.rate_hz,
            },
            "mat_sensor": self.mat_sensor.params(),
            "insole_sensor": {s: m.params() for s, m in self._insole_sensors.items()},
        }
