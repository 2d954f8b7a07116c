"""Loss-of-balance detection shared by the drills.

A :class:`SafetyMonitor` is armed with the patient's reference
:class:`~drills.geometry.Stance` (body weight, feet, safe zone) when a drill
starts running, and ``check(t, frame)`` is called with every mat frame. It
returns a :class:`SafetyAlert` the first time a condition has lasted
``confirm_s`` (default 40 ms, four frames at 100 Hz, so that one noisy frame
never stops a drill):

* ``no_load``: the mat carries less than 20 % of body weight (the patient
  stepped or fell off, or sat down);
* ``foot_unloaded``: in a two-foot drill, one foot carries less than 3 % of
  body weight (it was lifted or slipped away: a stepping reaction);
* ``foot_down``: in a single-leg drill, the free foot took more than 5 % of
  body weight (the patient had to put it down);
* ``cop_outside``: the centre of pressure stayed outside the safe zone of the
  base of support (:data:`drills.geometry.ZONE_ALONG`) for ``CONFIRM_COP_S`` (100 ms);
* ``off_mat``: a loaded foot touches the edge of the mat (given the mat's
  size), so part of it is off the sensing area.

Two reasons are raised from outside the monitor: ``side_step`` (the tandem
walk's balance-saving step) and ``sensor_lost`` (the kiosk's runtime, when the
mat stops sending during a drill: not a fall, but the patient must hold on and
wait for the staff).

The drill pauses at once on an alert, shows ``message`` and raises the alert
to the kiosk (UI, later the GPIO panel's buzzer and light). Thresholds are in
docs/drills.md ("Safety").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from drills.geometry import Stance, inside

NO_LOAD_FRACTION = 0.20
UNLOAD_FRACTION = 0.03
FOOT_DOWN_FRACTION = 0.05
CONFIRM_S = 0.04
# The COP near the zone's edge is also where a patient leaning to a far target sways for a
# moment; a fall keeps it there. 100 ms tells them apart and still stops a fall well within 200 ms.
CONFIRM_COP_S = 0.10

MESSAGES = {
    "no_load": "Paused: you stepped off the mat. Hold on to the rail, then tap Continue when you are ready.",
    "foot_unloaded": "Paused: you lifted a foot. Hold on to the rail. Keep both feet down when you continue.",
    "foot_down": "Paused: your other foot touched down. Hold on to the rail, rest, then tap Continue.",
    "cop_outside": "Paused: you leaned too far. Hold on to the rail and stand up straight.",
    "off_mat": "Paused: a foot is at the edge of the mat. Step back to the middle, then tap Continue.",
    "side_step": "Paused: you stepped to the side to catch your balance. Hold on to the rail, then tap Continue.",
    "sensor_lost": "Please wait, calling staff. The mat stopped working. Hold on to the rail and stand still.",
}


@dataclass(frozen=True)
class SafetyAlert:
    """A loss-of-balance event: ``reason`` (a code from :data:`MESSAGES`), plain message, time (s)."""

    reason: str
    message: str
    t: float
    drill: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def alert(reason: str, t: float, drill: str = "") -> SafetyAlert:
    return SafetyAlert(reason, MESSAGES[reason], float(t), drill)


class SafetyMonitor:
    """Checks each mat frame against the reference stance (see the module docstring).

    ``mode``: ``"two_feet"`` (both feet must stay loaded), ``"single_leg"``
    (``stance_side`` carries the body; the other foot must stay up),
    ``"seated"`` (sit-to-stand: no-load threshold 5 % of body weight, a foot
    counts as unloaded only while the feet carry more than half the weight), or
    ``"off"`` (walking drills check their own conditions).
    ``mat_shape``: (rows, cols) to detect a foot at the mat's edge.
    """

    def __init__(self, mode: str = "two_feet", *, stance_side: str | None = None,
                 mat_shape: tuple[int, int] | None = None, confirm_s: float = CONFIRM_S):
        if mode not in ("two_feet", "single_leg", "seated", "off"):
            raise ValueError(f"unknown safety mode {mode!r}")
        self.mode = mode
        self.stance_side = stance_side
        self.mat_shape = mat_shape
        self.confirm_s = confirm_s
        self.stance: Stance | None = None
        self._since: dict[str, float] = {}

    def arm(self, stance: Stance) -> None:
        self.stance = stance
        self._since.clear()

    def disarm(self) -> None:
        self.stance = None
        self._since.clear()

    def check(self, t: float, frame) -> SafetyAlert | None:
        """The first confirmed alert for this frame, or None. ``frame`` None means no mat data (no load)."""
        if self.stance is None or self.mode == "off":
            return None
        found = self._conditions(frame)
        for reason in list(self._since):
            if reason not in found:
                del self._since[reason]
        for reason in found:
            start = self._since.setdefault(reason, t)
            confirm = max(self.confirm_s, CONFIRM_COP_S) if reason == "cop_outside" else self.confirm_s
            if t - start >= confirm - 1e-9:
                self._since.clear()
                return alert(reason, t)
        return None

    def _conditions(self, frame) -> list[str]:
        w = self.stance.weight_n
        force = 0.0 if frame is None else frame.force_n
        no_load = (0.05 if self.mode == "seated" else NO_LOAD_FRACTION) * w
        if frame is None or force < no_load or frame.cop_mm is None:
            return ["no_load"]
        out = []
        if self.mode == "two_feet" or (self.mode == "seated" and force > 0.5 * w):
            # By force, not by side: in a tandem stance the kernels may not know which foot is which.
            loads = sorted((f.force_n for f in frame.feet), reverse=True)
            if len(loads) < 2 or loads[1] < UNLOAD_FRACTION * w:
                out.append("foot_unloaded")
        elif self.mode == "single_leg":
            # A foot that just came down may not have its side yet: anything but the stance foot counts.
            free = sum(f.force_n for f in frame.feet if f.side != self.stance_side)
            if free > FOOT_DOWN_FRACTION * w:
                out.append("foot_down")
        if self.mode != "seated" and not inside(self.stance.zone, frame.cop_mm):
            out.append("cop_outside")
        if self.mat_shape is not None:
            rows, cols = self.mat_shape
            for foot in frame.feet:
                r0, c0, r1, c1 = foot.bbox_rc
                if foot.force_n > UNLOAD_FRACTION * w and (r0 <= 0 or c0 <= 0 or r1 >= rows - 1 or c1 >= cols - 1):
                    out.append("off_mat")
                    break
        return out
