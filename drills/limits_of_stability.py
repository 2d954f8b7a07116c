"""Drill 2, limits of stability: lean to eight targets around the base of support.

Eight targets (forward, forward-right, right, back-right, back, back-left,
left, forward-left) at ``reach_pct`` % of the patient's limits of stability,
one at a time in that order. Between targets the patient returns to the
centre and holds still for ``centre_hold_s``; then a target lights with a tone
and the patient leans to it as quickly and accurately as they can, and holds
it for ``hold_s`` (or until ``time_limit_s``).

Limits: those measured in the patient's last completed run of this drill with
``reach_pct=100`` (the maximal excursion per direction, handed over by the
program as ``context["limits_mm"]``), else 90 % of the way to the edge of the region
between the feet (:meth:`drills.geometry.Stance.limit`); never beyond that
default, so targets stay inside the safe zone.

Measures per direction (definitions of the NeuroCom Balance Master LOS test,
computed on the COP in mm instead of the COG in degrees; see docs/drills.md):
reaction time, movement velocity, endpoint excursion, maximal excursion,
directional control.
"""

from __future__ import annotations

import math

from drills import scoring
from drills.base import Drill, Target
from drills.params import Param

DIRECTIONS = (
    ("forward", (0.0, 1.0)), ("forward_right", (1.0, 1.0)), ("right", (1.0, 0.0)), ("back_right", (1.0, -1.0)),
    ("back", (0.0, -1.0)), ("back_left", (-1.0, -1.0)), ("left", (-1.0, 0.0)), ("forward_left", (-1.0, 1.0)),
)
# Neighbouring targets keep at least this much mat between them (about one sensel): on the
# screen each stays a shape of its own, and the patient can tell which one is lit.
TARGET_GAP_MM = 8.0
ONSET_SPEED_MM_S = 25.0  # COP speed that marks the start of a voluntary lean (sway stays well below)
SPEED_WINDOW = 2  # samples on each side for the speed estimate (a 50 ms centred difference at 100 Hz)
CENTRE_RADIUS_MM = 15.0


def _unit(v):
    n = math.hypot(*v)
    return (v[0] / n, v[1] / n)


def place_targets(stance, reach_pct: float, radius_mm: float, measured: dict | None = None):
    """The eight targets around ``stance`` (a :class:`drills.geometry.Stance`) and the limit used
    in each direction: ``(targets, {direction: limit_mm})``.

    Each target lies at ``reach_pct`` % of the limit in its direction. Its radius is
    ``radius_mm``, but at most half its distance from the middle (a target never covers the
    middle: backward limits are short) and small enough to leave ``TARGET_GAP_MM`` to every
    other target: the three backward targets sit close together, and were they to touch, the
    patient could not tell which one is lit.
    """
    c = stance.centre_mm
    measured = measured or {}
    limits, centres, radii = {}, [], []
    for name, d in DIRECTIONS:
        u = _unit(d)
        default = stance.limit(u)
        limit = min(float(measured.get(name, default)), default) if measured.get(name) else default
        limits[name] = limit
        r = reach_pct / 100.0 * limit
        centres.append((c[0] + u[0] * r, c[1] + u[1] * r))
        radii.append(min(radius_mm, 0.5 * r))
    n = len(centres)
    dist = [[math.dist(centres[i], centres[j]) for j in range(n)] for i in range(n)]
    # Each target first gets at most half the room to its nearest neighbour; then, in turn, any
    # room a smaller neighbour leaves (in place, so that no pair can grow into each other).
    for i in range(n):
        radii[i] = max(0.0, min([radii[i]] + [(dist[i][j] - TARGET_GAP_MM) / 2 for j in range(n) if j != i]))
    for i in range(n):
        room = min(dist[i][j] - TARGET_GAP_MM - radii[j] for j in range(n) if j != i)
        radii[i] = max(radii[i], min(radius_mm, 0.5 * math.dist(centres[i], c), room))
    targets = tuple(Target(x, y, r, name) for (x, y), r, (name, _) in zip(centres, radii, DIRECTIONS, strict=True))
    return targets, limits


class LimitsOfStability(Drill):
    name = "limits_of_stability"
    title = "Lean to the targets"
    summary = "Lean to eight targets around you and back (limits of stability: reaction time, velocity, excursion, control)."
    INSTRUCTION = "Keep your feet flat. Lean to move the dot onto each target."
    HOME = ("Stand with your feet apart in a corner of a room, or with a sturdy chair in front of you, close "
            "enough to hold on. Keep your feet flat and your body straight. Lean slowly forward as far as you "
            "can without lifting your heels, hold for a moment, and come back to the middle. Do the same "
            "leaning back, to the left, to the right and to the four corners in between.")
    PARAMS = (
        Param("reach_pct", float, 75.0, "targets at this share of the patient's limits of stability", "%", 40, 100),
        Param("target_radius_mm", float, 20.0, "radius of each target", "mm", 10, 40),
        Param("time_limit_s", float, 8.0, "time allowed for each target", "s", 3, 15),
        Param("hold_s", float, 1.0, "how long to hold the dot on the target", "s", 0, 3),
        Param("centre_hold_s", float, 1.0, "how long to hold still in the middle before the next target", "s", 0.5, 5),
    )
    PROGRESSION = ("reach_pct", (60.0, 70.0, 75.0, 80.0, 90.0, 100.0))
    HEADLINE = (("Reach", "summary.max_excursion_pct", "%", "higher"),
                ("Control", "summary.directional_control_pct", "%", "higher"),
                ("Reaction time", "summary.reaction_time_s", "s", "lower"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.index = 0
        self.stage = "centre"  # centre -> target
        self._stage_t = None
        self._hold_since = None
        self._samples: list = []  # (t, x, y) since the cue
        self.results: list[dict] = []
        self.limits: dict[str, float] = {}

    def planned_duration(self):
        return None

    def home_details(self):
        return [f"{len(DIRECTIONS)} directions, once each"]

    def progress(self):
        return len(self.results) / len(DIRECTIONS)

    def stopped_score(self, score, share):
        # "reached" already counts the targets not tried as missed (out of all eight); only the
        # parts averaged over the targets tried are scaled by the share done.
        parts = self.measures()[1]["score_parts"]
        return scoring.weighted({"excursion": (parts["excursion"] * share, 0.4),
                                 "control": (parts["control"] * share, 0.3), "reached": (parts["reached"], 0.3)})

    def on_start(self, t):
        self._place_targets()
        self._to_centre(t)

    def _place_targets(self):
        targets, self.limits = place_targets(self.stance, self.params["reach_pct"], self.params["target_radius_mm"],
                                             self.context.get("limits_mm"))
        self.live.targets = targets

    def preview_targets(self, stance):
        return place_targets(stance, self.params["reach_pct"], self.params["target_radius_mm"],
                             self.context.get("limits_mm"))[0]

    def on_resume(self, t):
        self._place_targets()  # around where the patient stands now
        self._to_centre(t)  # the interrupted direction is repeated

    def on_pause(self, t):
        self._samples = []

    def _to_centre(self, t):
        c = self.stance.centre_mm
        self.stage = "centre"
        self._stage_t = t
        self._hold_since = None
        self.live.active_target = None
        self.live.zone = Target(c[0], c[1], CENTRE_RADIUS_MM, "centre")
        self.message = "Come back to the middle and stand still."

    def on_frame(self, t, frame, events, insoles):
        cop = frame.cop_mm
        if self.stage == "centre":
            if self.live.zone.contains(cop):
                self._hold_since = t if self._hold_since is None else self._hold_since
                if t - self._hold_since >= self.params["centre_hold_s"]:
                    self._cue_target(t)
            else:
                self._hold_since = None
            return
        self._samples.append((t, cop[0], cop[1]))
        target = self.live.targets[self.index]
        if target.contains(cop):
            self._hold_since = t if self._hold_since is None else self._hold_since
        else:
            self._hold_since = None
        held = self._hold_since is not None and t - self._hold_since >= self.params["hold_s"]
        if held or t - self._stage_t >= self.params["time_limit_s"]:
            self.results.append(self._measure(self.index, self._stage_t))
            if held:
                self._cue("hit", t)
            self.index += 1
            if self.index >= len(DIRECTIONS):
                self.finish(t)
            else:
                self._to_centre(t)

    def _cue_target(self, t):
        self.stage = "target"
        self._stage_t = t
        self._hold_since = None
        self._samples = []
        self.live.zone = None
        self.live.active_target = self.index
        name = DIRECTIONS[self.index][0].replace("_", " ")
        self.message = f"Lean {name} to the target."
        self._cue("target", t)

    def _measure(self, i: int, cue_t: float) -> dict:
        name, d = DIRECTIONS[i]
        u = _unit(d)
        c = self.stance.centre_mm
        limit = self.limits[name]
        target = self.live.targets[i]
        dist = math.hypot(target.x_mm - c[0], target.y_mm - c[1])
        s = self._samples
        on = [(p[1] - c[0]) * u[0] + (p[2] - c[1]) * u[1] for p in s]
        off = [-(p[1] - c[0]) * u[1] + (p[2] - c[1]) * u[0] for p in s]
        out = {"direction": name, "limit_mm": limit, "target_mm": dist, "reached": False,
               "reaction_time_s": None, "movement_velocity_mm_s": None, "endpoint_excursion_pct": None,
               "max_excursion_pct": None, "max_excursion_mm": None, "directional_control_pct": None}
        if len(s) < 2 * SPEED_WINDOW + 2:
            return out
        out["reached"] = any(target.contains((p[1], p[2])) for p in s)
        out["max_excursion_mm"] = max(on)
        out["max_excursion_pct"] = 100.0 * max(on) / limit if limit > 0 else None
        speed = [0.0] * len(s)
        w = SPEED_WINDOW
        for k in range(w, len(s) - w):
            dt = s[k + w][0] - s[k - w][0]
            speed[k] = math.hypot(s[k + w][1] - s[k - w][1], s[k + w][2] - s[k - w][2]) / dt if dt > 0 else 0.0
        onset = next((k for k in range(len(s)) if speed[k] > ONSET_SPEED_MM_S and on[k] > 0), None)
        if onset is None:
            return out
        out["reaction_time_s"] = s[onset][0] - cue_t
        peak = max(range(onset, len(s)), key=lambda k: speed[k])
        end = next((k for k in range(peak, len(s) - w) if speed[k] < ONSET_SPEED_MM_S), len(s) - 1)
        endpoint = on[end]
        out["endpoint_excursion_pct"] = 100.0 * endpoint / limit if limit > 0 else None
        # Movement velocity: mean speed between 5 % and 95 % of the way to the primary endpoint.
        start = on[onset - 1] if onset > 0 else on[0]
        lo, hi = start + 0.05 * (endpoint - start), start + 0.95 * (endpoint - start)
        k5 = next((k for k in range(onset - 1 if onset else 0, end + 1) if on[k] >= lo), None)
        k95 = next((k for k in range(onset - 1 if onset else 0, end + 1) if on[k] >= hi), None)
        if k5 is not None and k95 is not None and s[k95][0] > s[k5][0]:
            out["movement_velocity_mm_s"] = (on[k95] - on[k5]) / (s[k95][0] - s[k5][0])
        # Directional control: (on-axis movement - off-axis movement) / on-axis movement, onset to endpoint.
        along = sum(abs(on[k + 1] - on[k]) for k in range(onset, end))
        across = sum(abs(off[k + 1] - off[k]) for k in range(onset, end))
        if along > 0:
            out["directional_control_pct"] = 100.0 * (along - across) / along
        return out

    def measures(self):
        if not self.results:
            return None, {}
        r = self.results
        excursion = scoring.mean(scoring.ratio_pct(x["max_excursion_mm"] or 0.0, x["target_mm"]) for x in r)
        control = scoring.mean(scoring.clip(x["directional_control_pct"]) for x in r)
        reached = 100.0 * sum(x["reached"] for x in r) / len(DIRECTIONS)
        score = scoring.weighted({"excursion": (excursion, 0.4), "control": (control, 0.3), "reached": (reached, 0.3)})
        summary = {
            "targets_reached": sum(x["reached"] for x in r), "targets": len(DIRECTIONS),
            "reaction_time_s": scoring.mean(x["reaction_time_s"] for x in r),
            "movement_velocity_mm_s": scoring.mean(x["movement_velocity_mm_s"] for x in r),
            "endpoint_excursion_pct": scoring.mean(x["endpoint_excursion_pct"] for x in r),
            "max_excursion_pct": scoring.mean(x["max_excursion_pct"] for x in r),
            "directional_control_pct": scoring.mean(x["directional_control_pct"] for x in r),
        }
        # Only a run with targets at 100 % asks the patient to lean as far as they can: its maximal
        # excursions are their limits (used to scale later targets). A run at 75 % measures 75 %.
        limits = {}
        if self.params["reach_pct"] >= 100.0:
            limits = {x["direction"]: x["max_excursion_mm"] for x in r
                      if x["max_excursion_mm"] and x["max_excursion_mm"] > 0}
        return score, {"summary": summary, "directions": r, "limits_mm": limits,
                       "score_parts": {"excursion": excursion, "control": control, "reached": reached}}
