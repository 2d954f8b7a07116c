"""What a scenario hands the patient for one instant: each foot's pose, load and COP.

Scenarios (standing, walking) only decide *where* each foot is, *how much* it
carries and *where* its centre of pressure should be; the patient turns that
into pressure maps. Keeping this boundary small is what lets the two kinds of
scenario share the footprint, mat, insole and sensor code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

SIDES = ("left", "right")


@dataclass(frozen=True)
class FootState:
    side: str
    heel_mm: tuple[float, float]  # heel centre, mat frame
    angle_deg: float  # long axis turned from +y toward +x (right toe-out > 0, left toe-out < 0)
    force_n: float  # vertical load on this foot
    cop_foot_mm: np.ndarray  # wanted COP in the foot (insole) frame; the foot clips it to its support
    in_contact: bool


@dataclass(frozen=True)
class BodyState:
    left: FootState
    right: FootState
    com_mm: tuple[float, float] | None = None  # whole-body centre of mass projected on the floor
    uniform_kpa: float | None = None  # a calibration rig presses every sensor with this pressure

    def foot(self, side: str) -> FootState:
        return self.left if side == "left" else self.right


class GaitEvent(NamedTuple):
    """A truth gait event: a foot touches down ("contact") or lifts off ("off"); a plain tuple."""

    t: float
    side: str
    kind: str
