"""Drill parameters: each drill declares its :class:`Param` list, and prescriptions
are validated against it at the boundary (CLI, therapist screens, the stored
program) with one clear message per mistake.

Values may arrive as Python values or as text (``duration_s=30`` on the command
line); :func:`validate` converts, checks ranges and choices, and fills the
defaults. Inner drill code trusts the validated dict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from drills.errors import DrillParamError

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Param:
    """One prescribable parameter: type, default, range or choices, unit and a plain description."""

    name: str
    kind: type  # float, int, str or bool
    default: object
    help: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind is bool:
            return "true or false"
        unit = f" {self.unit}" if self.unit else ""
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)} to {_num(self.max)}{unit}"
        if self.min is not None:
            return f"at least {_num(self.min)}{unit}"
        return f"a {self.kind.__name__}{unit}"

    def convert(self, value: object, drill: str) -> object:
        where = f"drill {drill!r}: {self.name}={value}"  # as typed: the CLI and the screens read alike
        try:
            if self.kind is bool:
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low not in _TRUE + _FALSE:
                        raise ValueError(value)
                    value = low in _TRUE
                elif not isinstance(value, bool):
                    raise ValueError(value)
            elif self.kind is int:
                if isinstance(value, bool):
                    raise ValueError(value)
                number = float(value)
                if not number.is_integer():
                    raise ValueError(value)
                value = int(number)
            elif self.kind is float:
                if isinstance(value, bool):
                    raise ValueError(value)
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError(value)
            else:
                value = str(value).strip()
        except (TypeError, ValueError):
            raise DrillParamError(f"{where} is not valid: it must be {self.describe_range()}") from None
        if self.choices and value not in self.choices:
            raise DrillParamError(f"{where} is not valid: it must be {self.describe_range()}")
        if self.kind in (int, float):
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise DrillParamError(f"{where} is out of range: it must be {self.describe_range()}")
        return value


def _num(x: float) -> str:
    return f"{x:g}"


def validate(drill: str, spec: tuple[Param, ...], given: dict | None) -> dict:
    """Defaults of ``spec`` overlaid with ``given`` (converted and checked).

    Raises :class:`DrillParamError` naming the drill, the parameter and what
    is allowed. Keys starting with ``_`` are bookkeeping (level, prescription
    id) and pass through unchanged.
    """
    by_name = {p.name: p for p in spec}
    out = {p.name: p.default for p in spec}
    for key, value in (given or {}).items():
        if key.startswith("_"):
            out[key] = value
            continue
        p = by_name.get(key)
        if p is None:
            known = ", ".join(by_name) or "none"
            raise DrillParamError(f"drill {drill!r} has no parameter {key!r}; its parameters are: {known}")
        out[key] = p.convert(value, drill)
    return out
