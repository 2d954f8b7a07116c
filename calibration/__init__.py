"""calibration: raw sensor counts -> trustworthy kPa (DESIGN section 2; docs/calibration.md).

    model = CalibrationModel.for_device(serial, "mat", (48, 48), sensel_area_mm2=71.7)
    result = steps.run([ZeroCalibration(), EquilibrationCalibration()], model, feed, operator=...)
    to_kpa = result.model.converter()          # compiled counts -> kPa for live frames
    storage.save(store, result.model, result.procedures, operator="Ana")

Modules: ``model`` (the per-device model and its JSON), ``curves`` (response
curves), ``apply`` (compiled counts -> kPa), ``steps`` (steps, progress, runner),
one module per procedure (``zero``, ``equilibrate``, ``known_load``,
``bodyweight``, ``sweep``, ``verify``), ``storage`` (records in the store,
live conversion), ``health``, ``accuracy``, ``errors``. Light to import:
procedure classes load on first use.
"""

from importlib import import_module

_LAZY = {
    "CalibrationModel": "calibration.model",
    "ZeroCalibration": "calibration.zero",
    "EquilibrationCalibration": "calibration.equilibrate",
    "KnownLoadCalibration": "calibration.known_load",
    "BodyWeightCalibration": "calibration.bodyweight",
    "DeadSenselDetection": "calibration.sweep",
    "Verification": "calibration.verify",
    "LiveCalibration": "calibration.storage",
    "CountsToKpa": "calibration.apply",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in ("steps", "storage", "health", "model", "curves", "apply", "accuracy", "errors"):
        return import_module(f"calibration.{name}")
    raise AttributeError(name)
