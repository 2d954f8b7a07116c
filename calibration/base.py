"""The shape every calibration procedure shares (STYLE 7, after gaitmap's algorithm objects).

* parameters are ``__init__`` keyword arguments with defaults, kept as attributes;
* ``steps(model)`` lists what the user must do (calibration/steps.py);
* ``check(step, capture, model)`` refuses a wrong load right after it is measured;
* ``fit(captures, model)`` computes and returns ``self``; results live in
  attributes ending in ``_`` (``passed_``, ``accuracy_pct_``, ``message_`` at least);
* ``update(model)`` returns a NEW model carrying the results (the old one is untouched);
* ``to_json()`` / ``from_json()`` round-trip parameters and results exactly, so the
  calibration behind every session can be stored and re-examined.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar

import numpy as np

from calibration.errors import CalibrationFileError


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": value.dtype.str, "shape": list(value.shape), "data": value.ravel().tolist()}
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            try:
                return np.asarray(value["data"], dtype=np.dtype(value["__array__"])).reshape(value["shape"])
            except (TypeError, ValueError) as exc:
                raise CalibrationFileError(f"calibration record: a stored array is malformed ({exc})") from None
        if "__float__" in value:
            return float(value["__float__"])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


PROCEDURE_MODULES = ("zero", "equilibrate", "known_load", "bodyweight", "sweep", "verify")


def _import_procedures() -> None:
    """Register every procedure class (a record may name any of them)."""
    import importlib

    for module in PROCEDURE_MODULES:
        importlib.import_module(f"calibration.{module}")


class Procedure:
    """Base of the calibration procedures (module docstring)."""

    name: ClassVar[str] = "procedure"
    registry: ClassVar[dict[str, type]] = {}

    passed_: bool
    accuracy_pct_: float | None
    message_: str

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Procedure.registry[cls.name] = cls

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict:
        return {p: getattr(self, p) for p in self.param_names()}

    def results(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def steps(self, model) -> list:
        raise NotImplementedError

    def check(self, step, capture, model) -> None:
        """Refuse a wrong load as soon as it is measured (default: accept)."""

    def fit(self, captures: dict, model):
        raise NotImplementedError

    def update(self, model):
        """A new model with this procedure's results (default: unchanged, history noted)."""
        new = model.copy()
        new.history.append(self.summary())
        return new

    def summary(self) -> dict:
        return {"procedure": self.name, "passed": bool(getattr(self, "passed_", False)),
                "accuracy_pct": getattr(self, "accuracy_pct_", None)}

    def to_json(self) -> dict:
        return {"procedure": self.name, "params": _plain(self.get_params()), "results": _plain(self.results())}

    @classmethod
    def from_json(cls, data) -> Procedure:
        if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
            raise CalibrationFileError("calibration record: a procedure entry needs 'procedure' and 'params'")
        name = data.get("procedure")
        _import_procedures()
        klass = cls if cls.name == name else Procedure.registry.get(name)
        if klass is None or (cls is not Procedure and klass is not cls):
            raise CalibrationFileError(f"calibration record: unknown procedure {name!r}")
        params = _restore(data["params"])
        unknown = set(params) - set(klass.param_names())
        if unknown:
            raise CalibrationFileError(f"calibration record: procedure {name} has no parameter(s) {sorted(unknown)}")
        try:
            obj = klass(**params)
        except (TypeError, ValueError) as exc:
            raise CalibrationFileError(f"calibration record: procedure {name}: {exc}") from None
        results = data.get("results") or {}
        if not isinstance(results, dict) or not all(k.endswith("_") for k in results):
            raise CalibrationFileError(f"calibration record: procedure {name} results must be an object of name_ keys")
        for k, v in _restore(results).items():
            setattr(obj, k, v)
        return obj

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return _plain(self.to_json()) == _plain(other.to_json())

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
