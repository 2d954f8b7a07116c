"""Shared helpers for the calibration tests: a calibrated virtual mat, frames with truth."""

from __future__ import annotations

import numpy as np

from calibration import steps
from calibration.model import CalibrationModel
from device.sim import VirtualPatient
from device.sim.loads import CalibrationRig, rig_frames

PITCH = (8.47, 8.47)


def blank_mat(serial: str = "sim-mat-shared", shape=(48, 48)) -> CalibrationModel:
    return CalibrationModel.for_device(serial, "mat", shape, sensel_area_mm2=PITCH[0] * PITCH[1], pitch_mm=PITCH)


def blank_insole(side: str = "left", serial: str | None = None) -> CalibrationModel:
    kind = f"insole_{side}"
    return CalibrationModel.for_device(serial or f"sim-{kind}", kind, (16,), sensel_area_mm2=float(np.pi * 7.0**2))


def run_on_rig(procedures, model, rig=None, kind="mat", **rig_kwargs):
    rig = rig or CalibrationRig(seed=1, **rig_kwargs)
    return steps.run(procedures, model, rig_frames(rig, kind), operator=lambda st: rig.perform(st.request)), rig


def truth_frames(scenario: str, seconds: float = 6.0, step_s: float = 0.05, seed: int = 1):
    """(counts, true kPa) of the mat of a virtual patient doing ``scenario``."""
    p = VirtualPatient(scenario, seed=seed)
    samples = [p.sample(t, insoles=False) for t in np.arange(0.0, seconds, step_s)]
    return p, np.stack([p.mat_counts(s) for s in samples]), np.stack([s.mat_kpa for s in samples])
