"""Drill names -> drill classes, with their parameter schemas.

    from drills import registry
    registry.names()                               # every drill, in program order
    registry.get("quiet_standing")                 # the class (PARAMS, PROGRESSION, summary...)
    registry.validate("quiet_standing", {"duration_s": "45"})   # -> full params dict, or DrillParamError
    drill = registry.create("quiet_standing", {"eyes": "both"}, mat_shape=(48, 48))
    registry.describe()                            # JSON-ready schema for a CLI or therapist screen

Unknown drills, unknown parameters and values out of range raise
:class:`drills.errors.DrillParamError` / :class:`UnknownDrillError` with a
message that lists what is allowed.
"""

from __future__ import annotations

import importlib

from drills import params as params_mod
from drills.errors import UnknownDrillError

# name -> "module:Class", in the order a program usually runs them.
_DRILLS = {
    "quiet_standing": "drills.quiet_standing:QuietStanding",
    "limits_of_stability": "drills.limits_of_stability:LimitsOfStability",
    "rhythmic_shift": "drills.rhythmic_shift:RhythmicShift",
    "tandem_walk": "drills.tandem_walk:TandemWalk",
    "heel_toe_rocking": "drills.heel_toe_rocking:HeelToeRocking",
    "weight_symmetry": "drills.weight_symmetry:WeightSymmetry",
    "gait_insoles": "drills.gait_insoles:GaitInsoles",
}
_cache: dict[str, type] = {}


def names() -> list[str]:
    """Every drill that is available, in program order."""
    return [n for n in _DRILLS if _load(n) is not None]


def _load(name: str):
    if name in _cache:
        return _cache[name]
    module, _, cls = _DRILLS[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    _cache[name] = getattr(mod, cls)
    return _cache[name]


def get(name: str) -> type:
    """The drill class called ``name``, or UnknownDrillError listing the drills."""
    cls = _load(name) if name in _DRILLS else None
    if cls is None:
        raise UnknownDrillError(f"unknown drill {name!r}; the drills are: {', '.join(names())}")
    return cls


def validate(name: str, given: dict | None) -> dict:
    """The complete, checked parameter dict of a prescription (defaults filled in)."""
    return params_mod.validate(name, get(name).PARAMS, given)


def create(name: str, params: dict | None = None, **kwargs):
    """A new drill instance (keyword arguments go to :class:`drills.base.Drill`)."""
    return get(name)(params, **kwargs)


def describe(name: str | None = None) -> dict:
    """JSON-ready description of one drill or all: title, summary, sensors, parameters, progression."""
    if name is not None:
        cls = get(name)
        prog = cls.PROGRESSION
        return {
            "name": cls.name, "title": cls.title, "summary": cls.summary, "sensors": list(cls.SENSORS),
            "params": [{"name": p.name, "type": p.kind.__name__, "default": p.default, "unit": p.unit,
                        "min": p.min, "max": p.max, "choices": list(p.choices), "help": p.help,
                        "allowed": p.describe_range()} for p in cls.PARAMS],
            "progression": None if prog is None else {"param": prog[0], "steps": list(prog[1])},
        }
    return {n: describe(n) for n in names()}
