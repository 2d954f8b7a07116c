"""Standing scenarios: both feet stay put and the whole-body COP moves over them.

The whole-body COP c(t) is built in layers:

    c = baseline (closed-loop commands: set_target / set_weight_share)
        + the scenario's pattern (rhythmic shift, rocking, single-leg, sit-to-stand...)
        + postural sway (body.SwayProcess, scaled: eyes closed, single-leg...)
        + an optional scheduled loss of balance

and is then *split* over the feet: the share of each foot follows from where c
lies between the feet's resting COPs (that is how people shift weight in the
frontal plane, Winter 1995), and the rest of c is carried by moving both foot
COPs together. Each foot clips its COP to what its sole can produce, so the
resulting COP never leaves the base of support; the reported truth is computed
from the clipped foot COPs and therefore always physically consistent.
"""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass

import numpy as np

from device.sim.body import (
    EYES_CLOSED,
    Body,
    SwayProcess,
    keyframes,
    minimum_jerk,
    shift_duration_s,
    smoothstep,
)
from device.sim.falls import DIRECTIONS, Fall
from device.sim.feet import SIDES, BodyState, FootState, GaitEvent
from device.sim.footprint import (
    FootTemplate,
    convex_hull,
    foot_to_mat,
    inside_polygon,
    mat_to_foot,
    project_to_polygon,
)
from device.sim.mat import MatGeometry


@dataclass
class Pattern:
    """The scenario's contribution at one instant."""

    offset: np.ndarray  # mm added to the baseline COP
    force_factor: float = 1.0  # share of body weight on the feet (sit-to-stand)
    share_right: float | None = None  # forces the right foot's share (single-leg, unloading)
    contact: tuple[bool, bool] = (True, True)  # left, right
    poses: dict | None = None  # side -> (heel_mm, angle_deg) when feet move (stepping off)
    sway: float = 1.0  # sway amplitude factor


@dataclass(frozen=True)
class _Move:
    start: float  # movement onset (command time + reaction time)
    duration: float
    origin: np.ndarray
    target: np.ndarray
    scripted: bool = False  # one of the scenario's own cues (auto_targets), not a drill's command


class Standing:
    """Base of every standing scenario; subclasses override :meth:`pattern` and :meth:`scheduled_events`."""

    standing = True

    def __init__(self, body: Body, mat: MatGeometry, feet: dict[str, FootTemplate], seed: int, params: dict) -> None:
        self.body = body
        self.mat = mat
        self.templates = feet
        self.params = params
        self.sway = SwayProcess(seed, body.com_height_mm)
        self._closed_at_start = params.get("eyes", "open") == "closed"
        self.sway_factor = body.sway_scale * (EYES_CLOSED if self._closed_at_start else 1.0)
        self._eyes: list[tuple[float, bool]] = []  # (time, closed) commands
        cx, cy = mat.centre_mm
        px, py = params.get("position_x_mm"), params.get("position_y_mm")
        cx = cx if px is None else float(px)
        cy = cy if py is None else float(py)
        L = body.foot_length_mm
        heel_y = cy - (feet["left"].rear_edge_mm + feet["left"].toe_tip_mm) / 2.0  # centre the feet's length
        half = body.stance_width_mm / 2.0
        self.poses = {
            "left": ((cx - half, heel_y), -body.toe_out_deg),
            "right": ((cx + half, heel_y), body.toe_out_deg),
        }
        self._L = L
        self.neutral = {s: self.neutral_point(s, self.poses) for s in SIDES}
        w_left = body.weight_left_pct / 100.0
        self.rest_cop = w_left * self.neutral["left"] + (1.0 - w_left) * self.neutral["right"]
        self.bos = self.base_of_support(self.poses, (True, True))
        self._reach_cache: dict[tuple[float, float], float] = {}
        self._lock = threading.Lock()
        self._moves: list[_Move] = []
        self._starts: list[float] = []
        self._fall = Fall.from_params(params)

    # --- geometry -----------------------------------------------------------------------

    def neutral_point(self, side: str, poses: dict) -> np.ndarray:
        """Mat-frame resting COP of one foot at ``poses``."""
        heel, angle = poses[side]
        return foot_to_mat(self.templates[side].neutral_cop(), heel, angle)

    def base_of_support(self, poses: dict, contact: tuple[bool, bool]) -> np.ndarray:
        """Convex polygon (mat frame) of the COPs the feet in contact can produce together."""
        pts = [foot_to_mat(self.templates[s].support, *poses[s]) for s, on in zip(SIDES, contact, strict=True) if on]
        if not pts:
            return np.zeros((0, 2))
        return convex_hull(np.vstack(pts))

    def reach_from_rest(self, direction: tuple[float, float]) -> float:
        """:meth:`reach` from the resting COP, cached (patterns ask for it every sample)."""
        key = (float(direction[0]), float(direction[1]))
        hit = self._reach_cache.get(key)
        if hit is None:
            hit = self._reach_cache[key] = self.reach(self.rest_cop, np.array(key))
        return hit

    def reach(self, origin: np.ndarray, direction: np.ndarray, poly: np.ndarray | None = None) -> float:
        """How far (mm) the COP can go from ``origin`` along ``direction`` inside the base of support."""
        poly = self.bos if poly is None else poly
        d = np.asarray(direction, dtype=float)
        d = d / max(float(np.hypot(*d)), 1e-12)
        lo, hi = 0.0, 2000.0
        if not inside_polygon(origin, poly):
            return 0.0
        for _ in range(40):
            mid = (lo + hi) / 2.0
            if inside_polygon(origin + mid * d, poly):
                lo = mid
            else:
                hi = mid
        return lo

    # --- closed loop ----------------------------------------------------------------------

    def command_target(self, target_mm: np.ndarray, at: float, scripted: bool = False) -> np.ndarray:
        """Start a voluntary shift of the COP toward ``target_mm`` (clipped to the base of support).

        A command from outside (a drill) cancels the scenario's own scripted cues after it.
        """
        target = project_to_polygon(np.asarray(target_mm, dtype=float), self.bos)
        with self._lock:
            start = at + self.body.reaction_time_s
            if not scripted:
                while self._moves and self._moves[-1].scripted and self._moves[-1].start >= start:
                    self._moves.pop()
                    self._starts.pop()
            if self._starts and start < self._starts[-1]:
                raise ValueError(f"a command at t={at:.3f} s is older than the previous one; commands must come in time order")
            origin = self._baseline_locked(start)
            move = _Move(start, shift_duration_s(float(np.hypot(*(target - origin)))), origin, target, scripted)
            self._moves.append(move)
            self._starts.append(start)
        return target

    def command_weight_share(self, left_pct: float, at: float) -> np.ndarray:
        """Shift weight so that the left foot carries ``left_pct`` % (AP position kept)."""
        if not 0.0 <= left_pct <= 100.0:
            raise ValueError(f"weight share must be within 0..100 %, got {left_pct}")
        a_l, a_r = self.neutral["left"], self.neutral["right"]
        current = self.baseline(at)
        u = (a_r - a_l) / max(float(np.hypot(*(a_r - a_l))), 1e-9)
        along = a_l + (1.0 - left_pct / 100.0) * (a_r - a_l)
        perp = (current - a_l) - ((current - a_l) @ u) * u
        return self.command_target(along + perp, at)

    def _baseline_locked(self, t: float) -> np.ndarray:
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return self.rest_cop.copy()
        m = self._moves[i]
        s = minimum_jerk((t - m.start) / m.duration)
        return m.origin + (m.target - m.origin) * s

    def command_eyes(self, closed: bool, at: float) -> None:
        """Open or close the eyes from ``at`` on (sway changes over half a second)."""
        with self._lock:
            if self._eyes and at < self._eyes[-1][0]:
                raise ValueError(f"an eyes command at t={at:.3f} s is older than the previous one")
            self._eyes.append((float(at), bool(closed)))

    def _eyes_factor(self, t: float) -> float:
        """Sway factor of eyes commands relative to the scenario's own eyes condition."""
        with self._lock:
            changes = list(self._eyes)
        factor = 1.0
        for at, closed in changes:
            if t < at:
                break
            target = (EYES_CLOSED if closed else 1.0) / (EYES_CLOSED if self._closed_at_start else 1.0)
            factor = factor + (target - factor) * smoothstep((t - at) / 0.5)
        return factor

    def baseline(self, t: float) -> np.ndarray:
        with self._lock:
            return self._baseline_locked(t)

    # --- the scenario's own movement ---------------------------------------------------------

    def pattern(self, t: float, base: np.ndarray) -> Pattern:
        return Pattern(offset=np.zeros(2))

    def scheduled_events(self, t0: float, t1: float) -> list[GaitEvent]:
        """Foot lift / touch-down events in (t0, t1] that the scenario itself causes."""
        return []

    # --- the state ---------------------------------------------------------------------------

    def events_between(self, t0: float, t1: float) -> list[GaitEvent]:
        ev = [e for e in (self._fall.events() if self._fall else []) if t0 < e.t <= t1]
        return sorted(ev + self.scheduled_events(t0, t1))

    def state(self, t: float) -> BodyState:
        base = self.baseline(t)
        pat = self.pattern(t, base)
        sway = self.sway.at(t) * self._eyes_factor(t)
        if self._fall is not None:
            before = base + pat.offset + sway[2:] * (self.sway_factor * pat.sway)  # the COP without the fall
            pat = self._fall.apply(self, t, base, pat, before)
        poses = pat.poses or self.poses
        sw = sway * (self.sway_factor * pat.sway)
        cop = base + pat.offset + sw[2:]
        com = base + pat.offset + sw[:2]
        weight = self.body.weight_n * pat.force_factor
        return BodyState(*self.split(cop, weight, poses, pat.contact, pat.share_right), com_mm=(float(com[0]), float(com[1])))

    def natural_share_right(self, cop: np.ndarray, poses: dict) -> float:
        """The right foot's share of the load when the whole-body COP is at ``cop``."""
        a_l, a_r = self.neutral_point("left", poses), self.neutral_point("right", poses)
        d = a_r - a_l
        return float(np.clip((cop - a_l) @ d / max(float(d @ d), 1e-9), 0.0, 1.0))

    def split(self, cop: np.ndarray, weight: float, poses: dict, contact: tuple[bool, bool], share_right: float | None) -> tuple[FootState, FootState]:
        """Share the load and the COP ``cop`` over the two feet (see the module docstring)."""
        a_l = self.neutral_point("left", poses)
        a_r = self.neutral_point("right", poses)
        if share_right is None:
            share_right = self.natural_share_right(cop, poses)
        if not contact[0]:
            share_right = 1.0
        if not contact[1]:
            share_right = 0.0 if contact[0] else share_right
        share_right = min(max(share_right, 0.0), 1.0)
        residual = cop - ((1.0 - share_right) * a_l + share_right * a_r)
        feet = []
        for side, share, anchor, on in (("left", 1.0 - share_right, a_l, contact[0]), ("right", share_right, a_r, contact[1])):
            heel, angle = poses[side]
            target = mat_to_foot(anchor + residual, heel, angle)
            force = weight * share if on else 0.0
            feet.append(FootState(side, (float(heel[0]), float(heel[1])), float(angle), force, target, bool(on and force > 0.0)))
        return feet[0], feet[1]


# --- the standing scenarios -------------------------------------------------------------------


class Quiet(Standing):
    """Quiet standing, eyes open or closed."""


class WeightShift(Quiet):
    """Quiet standing that follows set_target / set_weight_share; optionally a scripted cue sequence."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.params.get("auto_targets"):
            hold = float(self.params.get("hold_s", 5.0))
            reach = float(self.params.get("reach", 0.6))
            horizon = float(self.params.get("auto_horizon_s", 3600.0))
            dirs = ("left", None, "right", None, "forward", None, "backward", None)
            t, i = 2.0, 0
            while t < horizon:
                d = dirs[i % len(dirs)]
                if d is None:
                    target = self.rest_cop
                else:
                    v = np.array(DIRECTIONS[d])
                    target = self.rest_cop + v * reach * self.reach(self.rest_cop, v)
                self.command_target(target, t, scripted=True)
                t += hold
                i += 1


class RhythmicShift(Quiet):
    """Sinusoidal weight shift along ML or AP."""

    def pattern(self, t: float, base: np.ndarray) -> Pattern:
        axis = self.params.get("axis", "ml")
        v = np.array((1.0, 0.0) if axis == "ml" else (0.0, 1.0))
        amp = self.params.get("amplitude_mm")
        phase = math.sin(2 * math.pi * t / float(self.params.get("period_s", 4.0)))
        if amp is None:
            amp = 0.7 * self.reach_from_rest(tuple(v if phase >= 0 else -v))
        return Pattern(offset=v * float(amp) * phase)


class Rocking(Quiet):
    """Heel-toe rocking: the COP swings between the heels and the forefoot."""

    def pattern(self, t: float, base: np.ndarray) -> Pattern:
        phase = math.sin(2 * math.pi * t / float(self.params.get("period_s", 3.0)))
        depth = float(self.params.get("depth", 0.85))
        v = np.array((0.0, 1.0 if phase >= 0 else -1.0))
        return Pattern(offset=v * depth * self.reach_from_rest(tuple(v)) * abs(phase))


class SingleLeg(Quiet):
    """Single-leg stance on ``side``: shift over, lift the other foot, hold, put it down, rest, repeat."""

    def _cycle(self) -> tuple[float, float, float]:
        return float(self.params.get("lift_at", 2.0)), float(self.params.get("hold_s", 20.0)), float(self.params.get("rest_s", 5.0))

    def _lift_phase(self, t: float) -> tuple[float, bool]:
        lift_at, hold, rest = self._cycle()
        if t < lift_at - 0.6:
            return 0.0, False
        period = 0.6 + hold + rest
        u = (t - (lift_at - 0.6)) % period
        if u < 0.6:
            return minimum_jerk(u / 0.6), False
        if u < 0.6 + hold:
            return 1.0, True
        return 1.0 - minimum_jerk((u - 0.6 - hold) / 0.6), False

    def pattern(self, t: float, base: np.ndarray) -> Pattern:
        stance = self.params.get("side", "left")
        s, lifted = self._lift_phase(t)
        share_stance = 0.5 + 0.5 * s
        contact = (True, not lifted) if stance == "left" else (not lifted, True)
        return Pattern(
            offset=(self.neutral[stance] - base) * s,
            share_right=share_stance if stance == "right" else 1.0 - share_stance,
            contact=contact,
            sway=1.0 + 1.3 * s,  # one narrow foot: sway roughly doubles
        )

    def scheduled_events(self, t0: float, t1: float) -> list[GaitEvent]:
        lift_at, hold, rest = self._cycle()
        stance = self.params.get("side", "left")
        free = "right" if stance == "left" else "left"
        period = 0.6 + hold + rest
        out = []
        k = max(0, int((t0 - lift_at) // period))
        while True:
            up = lift_at + k * period
            if up > t1:
                break
            for t, kind in ((up, "off"), (up + hold, "contact")):
                if t0 < t <= t1:
                    out.append(GaitEvent(t, free, kind))
            k += 1
        return out


class SitToStand(Quiet):
    """Repeated sit-to-stand: the feet carry ~20 % of body weight seated, a peak at seat-off."""

    def pattern(self, t: float, base: np.ndarray) -> Pattern:
        period = float(self.params.get("period_s", 10.0))
        seated = float(self.params.get("seated_fraction", 0.2))
        u = (t % period) / period * 10.0  # the keyframes below are for a 10 s cycle
        times = (0.0, 2.0, 2.8, 3.1, 3.6, 7.0, 7.5, 7.9, 8.6, 10.0)
        force = (seated, seated, 0.95, 1.15, 1.0, 1.0, 0.9, 0.85, seated, seated)
        ap = (-10.0, -10.0, 40.0, 25.0, 0.0, 0.0, 20.0, 25.0, -10.0, -10.0)
        sway = (0.3, 0.3, 1.5, 1.5, 1.0, 1.0, 1.3, 1.3, 0.3, 0.3)
        return Pattern(
            offset=np.array((0.0, keyframes(u, times, ap))),
            force_factor=keyframes(u, times, force),
            sway=keyframes(u, times, sway),
        )
