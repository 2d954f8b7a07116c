"""Walking scenarios: ordinary walking and heel-to-toe (tandem) walking over the mat.

The walker follows a straight line in +y (toward the screen) along the mat's
centre line. The walkway is looped: every ``lap_mm`` of progression the walker
is back before the mat, so a continuous stream crosses the mat again and again
(the insoles see every step; the mat sees the steps that land on it). The lap is
rounded to an odd number of steps, and the steps are phased so that on every
pass one foot lands centred on the mat, left and right in turn: a clean footprint
per pass for analysis and demos, with the neighbouring steps partly on the mat.

Step k (k = ..., -1, 0, 1, ...; even k left, odd k right) touches down at
``t_k = t0 + k * T`` with T = 60 / cadence, and lifts off ``stance_s`` later.
During stance the foot stays put, its vertical force follows the double-hump GRF
curve (ordinary walking) or a smooth weight transfer (tandem walking, where
speeds are so low that the GRF is quasi-static), and its COP rolls from the
heel along the lateral midfoot to the forefoot and out over the hallux (the
"gait line", e.g. Cavanagh & Rodgers; Chiu et al. 2013 for the CPEI).
"""

from __future__ import annotations

import math

import numpy as np

from device.sim.body import Body, minimum_jerk, smoothstep, stance_grf
from device.sim.feet import SIDES, BodyState, FootState, GaitEvent
from device.sim.footprint import REAR_EDGE, TOE_TIP, FootTemplate
from device.sim.mat import MatGeometry

# gait line in the foot frame: (fraction of stance, fraction of length from the rear edge,
# lateral offset in foot lengths; + = lateral)
_TAU = (0.0, 0.10, 0.30, 0.50, 0.80, 1.00)
_U = (0.10, 0.16, 0.40, 0.62, 0.72, 0.86)
_LAT = (0.00, 0.01, 0.05, 0.02, -0.03, -0.09)


class Walking:
    """Ordinary walking (``tandem=False``) or heel-to-toe tandem walking."""

    standing = False
    tandem = False

    def __init__(self, body: Body, mat: MatGeometry, feet: dict[str, FootTemplate], seed: int, params: dict) -> None:
        self.body = body
        self.mat = mat
        self.templates = feet
        self.params = params
        L = body.foot_length_mm

        def get(name, default):
            v = params.get(name)
            return float(default if v is None else v)

        self.cadence = get("cadence", 40.0 if self.tandem else 110.0)
        if not 10.0 <= self.cadence <= 200.0:
            raise ValueError(f"cadence {self.cadence} steps/min is outside 10..200")
        self.step_s = 60.0 / self.cadence
        default_len = L + 2.0 if self.tandem else 650.0
        self.step_length = get("step_length_mm", default_len)
        default_frac = 0.75 if self.tandem else 0.60
        self.stance_s = get("stance_frac", default_frac) * 2.0 * self.step_s
        if self.stance_s <= self.step_s * 0.5 or self.stance_s >= 2.0 * self.step_s:
            raise ValueError("stance_frac must lie between 0.25 and 1.0 of the stride")
        self.step_width = get("step_width_mm", 0.0 if self.tandem else 100.0)
        wanted_lap = get("lap_mm", 2000.0 if self.tandem else 4000.0)
        steps_per_lap = max(1, int(round(wanted_lap / self.step_length)))
        if steps_per_lap % 2 == 0:
            steps_per_lap += 1
        self.lap = steps_per_lap * self.step_length
        self.t0 = get("first_contact_s", 0.1)
        cx, cy = mat.centre_mm
        self.line_x = cx if params.get("position_x_mm") is None else float(params.get("position_x_mm"))
        self.lap_start = cy - self.lap / 2.0
        # step 3 (the first pass, ~1.7 s in at 110 steps/min) lands centred on the mat
        self.y_first = cy - (REAR_EDGE + TOE_TIP) / 2.0 * L - 3 * self.step_length
        self.toe_out = 0.0 if self.tandem else body.toe_out_deg
        self.push_off = {"left": body.push_off_left, "right": body.push_off_right}

    # --- step schedule ----------------------------------------------------------------------

    def step_side(self, k: int) -> str:
        return SIDES[k % 2]

    def step_time(self, k: int) -> float:
        return self.t0 + k * self.step_s

    def placement(self, k: int) -> tuple[tuple[float, float], float]:
        """Heel centre (mat frame, looped) and angle of step k."""
        side = self.step_side(k)
        y = self.y_first + k * self.step_length
        y = self.lap_start + (y - self.lap_start) % self.lap
        x = self.line_x + (-0.5 if side == "left" else 0.5) * self.step_width
        angle = -self.toe_out if side == "left" else self.toe_out
        return (x, y), angle

    def _last_step(self, side: str, t: float) -> int:
        k = math.floor((t - self.t0) / self.step_s)
        if self.step_side(k) != side:
            k -= 1
        return k

    # --- per-foot state -----------------------------------------------------------------------

    def _force(self, side: str, tau: float) -> float:
        w = self.body.weight_n
        if not self.tandem:
            return w * stance_grf(tau, self.push_off[side])
        # tandem: the load is handed over smoothly during each double support
        ds = (self.stance_s - self.step_s) / self.stance_s
        if tau < ds:
            return w * smoothstep(tau / ds)
        if tau > 1.0 - ds:
            return w * smoothstep((1.0 - tau) / ds)
        return w

    def _cop(self, side: str, tau: float) -> np.ndarray:
        L = self.body.foot_length_mm
        u = np.interp(tau, _TAU, _U)
        p = self.push_off[side]
        if p < 1.0 and tau > 0.5:
            # weak push-off: the COP does not get as far onto the toes
            u = 0.62 + (u - 0.62) * (0.4 + 0.6 * p)
        lat = np.interp(tau, _TAU, _LAT)
        mirror = 1.0 if side == "right" else -1.0
        return np.array((mirror * lat * L, (u + REAR_EDGE) * L))

    def foot(self, side: str, t: float) -> FootState:
        k = self._last_step(side, t)
        tau = (t - self.step_time(k)) / self.stance_s
        if tau < 1.0:
            heel, angle = self.placement(k)
            force = self._force(side, tau)
            return FootState(side, heel, angle, force, self._cop(side, tau), force > 0.0)
        # swing: between this placement and the next one of the same foot
        (x0, y0), a0 = self.placement(k)
        (x1, y1), a1 = self.placement(k + 2)
        if y1 < y0:  # the walkway looped: keep moving forward out of the mat
            y1 += self.lap
        s = minimum_jerk((t - self.step_time(k) - self.stance_s) / (2 * self.step_s - self.stance_s))
        heel = (x0 + (x1 - x0) * s, y0 + (y1 - y0) * s)
        return FootState(side, heel, a0 + (a1 - a0) * s, 0.0, self._cop(side, 0.0), False)

    def state(self, t: float) -> BodyState:
        return BodyState(self.foot("left", t), self.foot("right", t), com_mm=None)

    def events_between(self, t0: float, t1: float) -> list[GaitEvent]:
        out = []
        k = math.floor((t0 - self.t0 - self.stance_s) / self.step_s) - 1
        while self.step_time(k) <= t1:
            on, off = self.step_time(k), self.step_time(k) + self.stance_s
            side = self.step_side(k)
            if t0 < on <= t1 and on >= 0.0:
                out.append(GaitEvent(on, side, "contact"))
            if t0 < off <= t1 and off >= 0.0:
                out.append(GaitEvent(off, side, "off"))
            k += 1
        return sorted(out)

    # closed-loop commands mean nothing while walking; the patient ignores them
    def command_target(self, target_mm, at):
        return None

    def command_weight_share(self, left_pct, at):
        return None


class Tandem(Walking):
    tandem = True
