"""The named scenarios of the virtual patient and their parameters.

``SCENARIOS[name]`` is a :class:`ScenarioInfo` with a one-line description, the
parameters the scenario takes (with defaults and help) and the class that runs
it. Parameters arrive as Python values or, from the command line and ``sim://``
URLs, as strings; :func:`resolve_params` converts and checks them and names the
valid choices when something is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from device.sim import falls, rig, standing, walking
from device.sim.errors import SimulationError


@dataclass(frozen=True)
class Param:
    default: object
    kind: type  # float, int, bool or str
    help: str
    choices: tuple = ()


_STANDING = {
    "position_x_mm": Param(None, float, "where the person stands (mid-point between the heels, x); default mat centre"),
    "position_y_mm": Param(None, float, "where the person stands (mid-length of the feet, y); default mat centre"),
    "eyes": Param("open", str, "eyes open or closed (closed: 1.35x sway)", ("open", "closed")),
    "fall_at": Param(None, float, "time (s) of a scheduled loss of balance; none by default"),
    "fall": Param("edge", str, "kind of loss of balance: COP runs to the edge / one foot unloads / steps off the mat", falls.FALL_KINDS),
    "fall_dir": Param("forward", str, "direction of an 'edge' loss of balance", tuple(falls.DIRECTIONS)),
    "fall_side": Param("left", str, "foot that unloads ('unload') or steps first ('step_off')", ("left", "right")),
    "fall_hold_s": Param(1.5, float, "how long the lost balance lasts before recovery"),
    "fall_recover": Param(True, bool, "recover after fall_hold_s (step_off never does)"),
}

_WALKING = {
    "cadence": Param(None, float, "steps per minute (default 110; tandem 40)"),
    "step_length_mm": Param(None, float, "heel-to-heel distance of successive steps (default 650; tandem one foot length)"),
    "stance_frac": Param(None, float, "stance as a fraction of the stride (default 0.60; tandem 0.75)"),
    "step_width_mm": Param(None, float, "distance between the left and right heel lines (default 100; tandem 0)"),
    "lap_mm": Param(None, float, "looped walkway length: how often the walker crosses the mat (default 4000; tandem 2000)"),
    "position_x_mm": Param(None, float, "x of the walking line; default mat centre"),
    "first_contact_s": Param(0.1, float, "time of the first heel contact"),
}


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    description: str
    cls: type
    params: dict[str, Param] = field(default_factory=dict)

    def defaults(self) -> dict:
        return {k: p.default for k, p in self.params.items()}


def _info(name, description, cls, base, **extra) -> ScenarioInfo:
    return ScenarioInfo(name, description, cls, {**base, **extra})


SCENARIOS: dict[str, ScenarioInfo] = {
    s.name: s
    for s in (
        _info("quiet", "quiet standing, feet apart, eyes open: realistic postural sway", standing.Quiet, _STANDING),
        _info(
            "quiet_eyes_closed",
            "quiet standing with eyes closed (Romberg): larger, faster sway",
            standing.Quiet,
            {**_STANDING, "eyes": Param("closed", str, "eyes open or closed", ("open", "closed"))},
        ),
        _info(
            "weight_shift",
            "stands still and moves the COP to commanded targets (set_target / set_weight_share), for closed-loop drills",
            standing.WeightShift,
            _STANDING,
            auto_targets=Param(False, bool, "cue itself: left, centre, right, centre, forward, centre, backward... (for demos without a drill)"),
            hold_s=Param(5.0, float, "seconds between scripted cues"),
            reach=Param(0.6, float, "scripted targets at this fraction of the way to the edge of the base of support"),
        ),
        _info(
            "rhythmic_shift",
            "rhythmic side-to-side (ml) or forward-backward (ap) weight shifting",
            standing.RhythmicShift,
            _STANDING,
            axis=Param("ml", str, "direction of the shift", ("ml", "ap")),
            period_s=Param(4.0, float, "period of one full shift cycle"),
            amplitude_mm=Param(None, float, "COP amplitude; default 70 % of the way to the edge of the base of support"),
        ),
        _info(
            "rocking",
            "heel-toe rocking: the COP swings between the heels and the forefoot",
            standing.Rocking,
            _STANDING,
            period_s=Param(3.0, float, "period of one rock"),
            depth=Param(0.85, float, "fraction of the way to the heel / toe edge"),
        ),
        _info(
            "single_leg",
            "single-leg stance: shifts over, lifts the other foot, holds, puts it down, rests, repeats",
            standing.SingleLeg,
            _STANDING,
            side=Param("left", str, "the standing leg", ("left", "right")),
            lift_at=Param(2.0, float, "time the free foot first lifts"),
            hold_s=Param(20.0, float, "how long the foot stays up"),
            rest_s=Param(5.0, float, "double stance between holds"),
        ),
        _info(
            "sit_to_stand",
            "repeated sit-to-stand: ~20 % of body weight on the feet when seated, peak at seat-off",
            standing.SitToStand,
            _STANDING,
            period_s=Param(10.0, float, "one sit-stand-sit cycle"),
            seated_fraction=Param(0.2, float, "share of body weight on the feet when seated"),
        ),
        _info(
            "loss_of_balance",
            "quiet standing, then at fall_at the COP runs to the front edge (or a foot unloads / steps off the mat)",
            standing.Quiet,
            {**_STANDING, "fall_at": Param(10.0, float, "time (s) of the loss of balance")},
        ),
        _info("walk", "ordinary walking over the mat (looped walkway); the insoles see every step", walking.Walking, _WALKING),
        _info("tandem", "heel-to-toe tandem walking along the mat's centre line", walking.Tandem, _WALKING),
        _info(
            "empty",
            "nobody on the mat or insoles: for zero / tare and reading the sensors' offsets",
            rig.Rig,
            {"levels_kpa": Param("0", str, "pressure levels (kPa); 0 = no load")},
        ),
        _info(
            "bladder",
            "calibration rig: a uniform pressure on every sensel and insole sensor, stepped through levels",
            rig.Rig,
            {
                "levels_kpa": Param("0,25,50,100,200,300,400", str, "pressure levels in kPa, comma-separated"),
                "step_s": Param(5.0, float, "seconds each level is held"),
                "ramp_s": Param(0.5, float, "smooth ramp between levels"),
            },
        ),
    )
}


def _coerce(scenario: str, name: str, value: object, spec: Param) -> object:
    if value is None or (isinstance(value, str) and value.lower() in ("none", "")):
        return None
    try:
        if spec.kind is bool:
            if isinstance(value, str):
                low = value.lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                value = low in ("1", "true", "yes", "on")
            else:
                value = bool(value)
        elif spec.kind is float:
            value = float(value)
        elif spec.kind is int:
            value = int(value)
        else:
            value = str(value)
    except (TypeError, ValueError):
        raise SimulationError(f"scenario {scenario!r}: parameter {name}={value!r} must be a {spec.kind.__name__}") from None
    if spec.choices and value not in spec.choices:
        raise SimulationError(f"scenario {scenario!r}: {name} must be one of {', '.join(map(str, spec.choices))}, not {value!r}")
    return value


def get_scenario(name: str) -> ScenarioInfo:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise SimulationError(f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}") from None


def resolve_params(name: str, given: dict) -> dict:
    """Defaults of scenario ``name`` overlaid with ``given`` (converted and checked)."""
    info = get_scenario(name)
    params = info.defaults()
    for key, value in given.items():
        spec = info.params.get(key)
        if spec is None:
            raise SimulationError(f"scenario {name!r} has no parameter {key!r}; its parameters: {', '.join(info.params)}")
        params[key] = _coerce(name, key, value, spec)
    return params
