"""Turn a stretch of the virtual patient into a Recording (DESIGN 4.1) with its truth.

Truth arrays (all sampled at ``truth_t``, the mat's times, or the insoles' when
there is no mat; "feet" axes are (left, right); NaN where undefined):

=========================  ================  ==================================================
truth_t                    (T,)              s
truth_force_n              (T,)              total force on the mat
truth_cop_mm               (T, 2)            whole-body COP on the mat (NaN: mat unloaded)
truth_grf_n                (T,)              total vertical GRF under both feet (mat or floor)
truth_com_mm               (T, 2)            centre of mass over the floor (NaN when walking)
truth_foot_force_n         (T, 2)            load under each foot (what a perfect insole reads)
truth_foot_mat_force_n     (T, 2)            the part of it on the mat
truth_foot_cop_mm          (T, 2, 2)         each foot's COP, mat frame
truth_insole_cop_mm        (T, 2, 2)         each foot's COP, insole frame
truth_regions_n            (T, 2, 3)         rear / mid / fore load of each foot
truth_in_contact           (T, 2) bool       the foot is loaded
truth_on_mat               (T, 2) bool       the foot is over the mat
truth_heel_mm              (T, 2, 2)         heel centre of each foot, mat frame
truth_events               (E, 3)            gait events: t, side (0 left, 1 right), kind (1 contact, 0 off)
truth_mat_kpa, truth_insole_left_kpa, truth_insole_right_kpa   true kPa, only with sensor_counts
=========================  ================  ==================================================
"""

from __future__ import annotations

import numpy as np

from device.recording import FORMAT, Recording
from device.sim.feet import SIDES
from device.sim.patient import VirtualPatient


def _times(seconds: float, rate: float) -> np.ndarray:
    n = max(1, int(round(seconds * rate)))
    return np.arange(n, dtype=np.float64) / rate


def simulate_recording(
    patient: VirtualPatient,
    seconds: float,
    *,
    mat: bool = True,
    insoles: bool = True,
    sensor_counts: bool = False,
) -> Recording:
    """Sample ``patient`` for ``seconds`` into a Recording (true kPa, or nominal kPa of the counts)."""
    if not (mat or insoles):
        raise ValueError("nothing to record: ask for the mat, the insoles or both")
    mat_t = _times(seconds, patient.mat.rate_hz) if mat else None
    ins_t = _times(seconds, patient.insoles.rate_hz) if insoles else None
    same = mat and insoles and len(mat_t) == len(ins_t) and np.array_equal(mat_t, ins_t)
    truth_t = mat_t if mat else ins_t
    T = len(truth_t)
    tr = {
        "truth_t": truth_t,
        "truth_force_n": np.zeros(T),
        "truth_cop_mm": np.full((T, 2), np.nan),
        "truth_grf_n": np.zeros(T),
        "truth_com_mm": np.full((T, 2), np.nan),
        "truth_foot_force_n": np.zeros((T, 2)),
        "truth_foot_mat_force_n": np.zeros((T, 2)),
        "truth_foot_cop_mm": np.full((T, 2, 2), np.nan),
        "truth_insole_cop_mm": np.full((T, 2, 2), np.nan),
        "truth_regions_n": np.zeros((T, 2, 3)),
        "truth_in_contact": np.zeros((T, 2), dtype=bool),
        "truth_on_mat": np.zeros((T, 2), dtype=bool),
        "truth_heel_mm": np.zeros((T, 2, 2)),
    }
    rec = Recording()
    if mat:
        rec.mat_t = mat_t
        rec.mat_kpa = np.empty((T, patient.mat.rows, patient.mat.cols), dtype=np.float32)
        rec.mat_pitch_mm = np.array(patient.mat.pitch_mm, dtype=np.float64)
        if sensor_counts:
            tr["truth_mat_kpa"] = np.empty_like(rec.mat_kpa)
    if insoles:
        n = patient.insoles.n_sensors
        rec.insole_t = ins_t
        rec.insole_left_kpa = np.empty((len(ins_t), n), dtype=np.float32)
        rec.insole_right_kpa = np.empty((len(ins_t), n), dtype=np.float32)
        rec.insole_left_sensors_mm = patient.insoles.positions("left")
        rec.insole_right_sensors_mm = patient.insoles.positions("right")
        rec.insole_sensor_area_mm2 = patient.insoles.sensor_areas_mm2()
        if sensor_counts:
            tr["truth_insole_left_kpa"] = np.empty_like(rec.insole_left_kpa)
            tr["truth_insole_right_kpa"] = np.empty_like(rec.insole_right_kpa)

    def put_insoles(i: int, s) -> None:
        for side in SIDES:
            out = rec.insole_left_kpa if side == "left" else rec.insole_right_kpa
            if sensor_counts:
                sensor = patient.insole_sensor_for(side)
                out[i] = sensor.nominal_kpa(patient.insole_counts(s, side))
                tr[f"truth_insole_{side}_kpa"][i] = s.insole_kpa[side]
            else:
                out[i] = s.insole_kpa[side]

    for i, t in enumerate(truth_t):
        s = patient.sample(t, mat=mat, insoles=bool(same or (insoles and not mat)))
        if mat:
            if sensor_counts:
                rec.mat_kpa[i] = patient.mat_sensor.nominal_kpa(patient.mat_counts(s))
                tr["truth_mat_kpa"][i] = s.mat_kpa
            else:
                rec.mat_kpa[i] = s.mat_kpa
        if s.insole_kpa is not None:
            put_insoles(i, s)
        tr["truth_force_n"][i] = s.force_n
        tr["truth_grf_n"][i] = s.grf_n
        if s.cop_mm is not None:
            tr["truth_cop_mm"][i] = s.cop_mm
        if s.com_mm is not None:
            tr["truth_com_mm"][i] = s.com_mm
        for j, side in enumerate(SIDES):
            f = s.feet[side]
            tr["truth_foot_force_n"][i, j] = f.force_n
            tr["truth_foot_mat_force_n"][i, j] = f.mat_force_n
            if f.cop_mm is not None:
                tr["truth_foot_cop_mm"][i, j] = f.cop_mm
                tr["truth_insole_cop_mm"][i, j] = f.insole_cop_mm
            tr["truth_regions_n"][i, j] = f.regions_n
            tr["truth_in_contact"][i, j] = f.in_contact
            tr["truth_on_mat"][i, j] = f.on_mat
            tr["truth_heel_mm"][i, j] = f.heel_mm
    if insoles and not same and mat:
        for i, t in enumerate(ins_t):
            put_insoles(i, patient.sample(t, mat=False))

    end = max(truth_t[-1], ins_t[-1] if ins_t is not None else 0.0)
    events = patient.events_until(end)
    tr["truth_events"] = np.array(
        [(e.t, SIDES.index(e.side), 1.0 if e.kind == "contact" else 0.0) for e in events], dtype=np.float64
    ).reshape(-1, 3)
    rec.truth = tr
    units = "nominal kPa (uncalibrated counts x factory kpa_per_count)" if sensor_counts else "kPa (true)"
    rec.meta = {
        "format": FORMAT,
        "source": "gaitkiosk simulate",
        "device": "virtual patient",
        "units": {"pressure": units, "force": "N", "length": "mm", "time": "s"},
        "sensor_counts": bool(sensor_counts),
        **patient.describe(),
        "calibration": _calibration(patient, mat, insoles, sensor_counts),
        "truth_events_columns": ["t_s", "side (0 left, 1 right)", "kind (1 contact, 0 off)"],
    }
    return rec


def _calibration(patient: VirtualPatient, mat: bool, insoles: bool, sensor_counts: bool) -> dict:
    """Each stream's calibration state (device/calibration_state.py): the factory line, or the true kPa."""
    from device import calibration_state as cs

    sensors = ({"mat": patient.mat_sensor} if mat else {}) | (
        {f"insole_{side}": patient.insole_sensor_for(side) for side in SIDES} if insoles else {})
    if not sensor_counts:
        return {kind: cs.entry(None, cs.TRUTH) for kind in sensors}
    return {kind: cs.entry(None, cs.NOMINAL, kpa_per_count=float(sensor.kpa_per_count)) for kind, sensor in sensors.items()}
