"""Calibration rigs: nobody on the sensors, or a uniform pressure over all of them.

Calibration needs loads whose truth is simple: ``empty`` (no load at all, for zero /
tare and for reading each sensel's offset) and ``bladder`` (an air bladder pressing
every sensel of the mat and the insoles with the same known pressure, stepped
through ``levels_kpa``, as equilibration and calibration rigs do).
"""

from __future__ import annotations

import numpy as np

from device.sim.body import Body, minimum_jerk
from device.sim.feet import SIDES, BodyState, FootState, GaitEvent
from device.sim.footprint import FootTemplate
from device.sim.mat import MatGeometry

_AWAY = (-10_000.0, -10_000.0)  # nobody near the mat


def parse_levels(text: str) -> tuple[float, ...]:
    try:
        levels = tuple(float(v) for v in str(text).replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise ValueError(f"levels_kpa {text!r} must be numbers separated by commas (e.g. 0,50,100,200)") from None
    if not levels or min(levels) < 0:
        raise ValueError(f"levels_kpa {text!r} must list one or more pressures >= 0 kPa")
    return levels


class Rig:
    """Uniform pressure on every sensel, stepping through the levels (then repeating)."""

    standing = False

    def __init__(self, body: Body, mat: MatGeometry, feet: dict[str, FootTemplate], seed: int, params: dict) -> None:
        self.levels = parse_levels(params.get("levels_kpa", "0"))
        self.step_s = float(params.get("step_s", 5.0))
        self.ramp_s = float(params.get("ramp_s", 0.5))
        if self.step_s <= 0 or not 0 <= self.ramp_s < self.step_s:
            raise ValueError("step_s must be positive and ramp_s between 0 and step_s")

    def level(self, t: float) -> float:
        """The pressure (kPa) the rig applies at t: each level held ``step_s``, smooth ramps between."""
        n = len(self.levels)
        i = int(t // self.step_s)
        u = t - i * self.step_s
        now = self.levels[i % n]
        before = self.levels[(i - 1) % n] if i > 0 else now
        if self.ramp_s > 0 and u < self.ramp_s:
            return before + (now - before) * minimum_jerk(u / self.ramp_s)
        return now

    def state(self, t: float) -> BodyState:
        idle = {s: FootState(s, _AWAY, 0.0, 0.0, np.zeros(2), False) for s in SIDES}
        return BodyState(idle["left"], idle["right"], com_mm=None, uniform_kpa=self.level(t))

    def events_between(self, t0: float, t1: float) -> list[GaitEvent]:
        return []

    def command_target(self, target_mm, at):
        return None

    def command_weight_share(self, left_pct, at):
        return None
