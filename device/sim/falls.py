"""A scheduled loss of balance, for testing drills' safety stops.

Three ways a standing person loses balance, each at ``fall_at`` seconds:

- ``edge``: the centre of mass starts to fall like an inverted pendulum
  (x ~ cosh(w t), w = sqrt(g / h)) and drags the COP to the edge of the base of
  support in ``fall_dir`` within 0.5 s; it stays there ``fall_hold_s``, then recovers.
- ``unload``: the ``fall_side`` foot suddenly lifts (0.15 s): all weight and the COP
  jump onto the other foot; after ``fall_hold_s`` the foot comes back down.
- ``step_off``: a step backward off the mat, ``fall_side`` first, then the other
  foot: the mat goes empty while the insoles still carry the person. No recovery.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from device.sim.body import keyframes, minimum_jerk, smoothstep
from device.sim.feet import SIDES, GaitEvent

if TYPE_CHECKING:
    from device.sim.standing import Pattern, Standing

FALL_KINDS = ("edge", "unload", "step_off")
DIRECTIONS = {"forward": (0.0, 1.0), "backward": (0.0, -1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}
EDGE_S = 0.5  # time for the COP to reach the edge
UNLOAD_S = 0.15  # time for a foot to unload


class Fall:
    """One scheduled loss of balance of a standing scenario (see the module docstring)."""

    def __init__(self, params: dict) -> None:
        self.at = float(params["fall_at"])
        self.kind = params.get("fall", "edge")
        if self.kind not in FALL_KINDS:
            raise ValueError(f"fall must be one of {', '.join(FALL_KINDS)}, not {self.kind!r}")
        direction = params.get("fall_dir", "forward")
        if direction not in DIRECTIONS:
            raise ValueError(f"fall_dir must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        self.direction = np.array(DIRECTIONS[direction])
        self.side = params.get("fall_side", "left")
        if self.side not in SIDES:
            raise ValueError(f"fall_side must be 'left' or 'right', not {self.side!r}")
        self.other = "right" if self.side == "left" else "left"
        self.hold = float(params.get("fall_hold_s", 1.5))
        self.recover = bool(params.get("fall_recover", True))

    @classmethod
    def from_params(cls, params: dict) -> Fall | None:
        return None if params.get("fall_at") is None else cls(params)

    def events(self) -> list[GaitEvent]:
        if self.kind == "unload":
            out = [GaitEvent(self.at + UNLOAD_S, self.side, "off")]
            if self.recover:
                out.append(GaitEvent(self.at + UNLOAD_S + self.hold, self.side, "contact"))
            return out
        if self.kind == "step_off":
            return [
                GaitEvent(self.at + 0.10, self.side, "off"),
                GaitEvent(self.at + 0.60, self.side, "contact"),
                GaitEvent(self.at + 0.80, self.other, "off"),
                GaitEvent(self.at + 1.30, self.other, "contact"),
            ]
        return []

    def apply(self, person: Standing, t: float, base: np.ndarray, pat: Pattern, cop: np.ndarray) -> Pattern:
        """Change the scenario's pattern ``pat`` at time t (nothing before ``fall_at``).

        ``cop`` is where the COP would be without the fall (the weight bearing starts from it).
        """
        if t < self.at:
            return pat
        tau = t - self.at
        recovering = self.recover and tau > EDGE_S + self.hold
        back = smoothstep((tau - EDGE_S - self.hold) / 1.0) if recovering else 0.0
        if self.kind == "edge":
            origin = base + pat.offset
            dist = person.reach(origin, self.direction) + 15.0  # aim past the edge: the feet stop it there
            w = math.sqrt(9810.0 / person.body.com_height_mm)
            grow = (math.cosh(w * min(tau, EDGE_S)) - 1.0) / (math.cosh(w * EDGE_S) - 1.0)
            pat.offset = pat.offset + self.direction * dist * grow * (1.0 - back)
            pat.sway *= 1.0 + 1.5 * grow * (1.0 - back)
            return pat
        if self.kind == "unload":
            s = smoothstep(tau / UNLOAD_S) * (1.0 - back)
            lifted = tau >= UNLOAD_S and not (recovering and tau >= UNLOAD_S + self.hold)
            if pat.share_right is None:
                share_right = person.natural_share_right(cop, pat.poses or person.poses)
            else:
                share_right = pat.share_right
            share_other = share_right if self.other == "right" else 1.0 - share_right
            share_other += (1.0 - share_other) * s
            pat.share_right = share_other if self.other == "right" else 1.0 - share_other
            pat.offset = pat.offset + (person.neutral[self.other] - base - pat.offset) * s
            pat.contact = (not lifted, True) if self.side == "left" else (True, not lifted)
            pat.sway *= 1.0 + 1.5 * s
            return pat
        # step_off: backward off the mat, one foot then the other, and stand behind it
        back_mm = person.mat.length_mm + person.body.foot_length_mm
        poses = dict(pat.poses or person.poses)
        for side, lift in ((self.side, 0.1), (self.other, 0.8)):
            (hx, hy), ang = person.poses[side]
            poses[side] = ((hx, hy - back_mm * minimum_jerk((tau - lift) / 0.45)), ang)
        # share of the first foot: off it, (in the air), onto it behind the mat, off the second, even
        s1 = keyframes(tau, (0.0, 0.1, 0.6, 0.8, 1.3, 1.6), (0.5, 0.0, 0.0, 1.0, 1.0, 0.5))
        a1, a2 = person.neutral_point(self.side, poses), person.neutral_point(self.other, poses)
        pat.offset = s1 * a1 + (1.0 - s1) * a2 - base
        pat.poses = poses
        contact = {self.side: not 0.1 < tau < 0.6, self.other: not 0.8 < tau < 1.3}
        pat.contact = (contact["left"], contact["right"])
        pat.share_right = s1 if self.side == "right" else 1.0 - s1
        return pat
