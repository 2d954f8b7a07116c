"""Stored visits for the Patients and Trends tests and the bench: sessions and trials written through
the store's API with results and reports in the shape the drills and the analysis store them
(``DrillResult.to_dict()``, docs/metrics.md section 8), values varying from visit to visit."""

from __future__ import annotations

import datetime as dt
import random

from store import rows
from store.patients import Patient
from store.programs import Prescription, Program
from store.sessions import Session
from store.trials import Trial

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
MAT = {"serial": "SIM-MAT-1", "state": "calibrated", "uncalibrated": False, "calibration_id": "cal-mat-1", "used": True}


def calibration(state: str = "calibrated", cal_id: str = "cal-mat-1") -> dict:
    sensor = {**MAT, "state": state, "uncalibrated": state != "calibrated",
              "calibration_id": cal_id if state == "calibrated" else None}
    return {"state": state, "words": "", "sensors": {"mat": sensor}}


def quiet_standing(rng, cal) -> tuple[dict, dict]:
    open_a, closed_a = rng.uniform(80, 400), rng.uniform(150, 900)
    open_v, closed_v = rng.uniform(5, 15), rng.uniform(8, 30)
    sway = {"eyes_open": {"sway": {"ellipse95_area_mm2": open_a, "mean_velocity_mm_s": open_v}, "duration_s": 30.0,
                          "time_in_zone_pct": 90.0},
            "eyes_closed": {"sway": {"ellipse95_area_mm2": closed_a, "mean_velocity_mm_s": closed_v}, "duration_s": 30.0,
                            "time_in_zone_pct": 70.0}}
    results = {"drill": "quiet_standing", "params": {"stance": "apart", "eyes": "both", "_level": 0}, "status": "complete",
               "score": rng.uniform(40, 99), "duration_s": 60.0, "measures_version": 2, "calibration": cal,
               "measures": {"stance": "apart", "conditions": sway,
                            "romberg": {"ellipse_area_ratio": closed_a / open_a, "mean_velocity_ratio": closed_v / open_v},
                            "headline": {"ellipse95_area_mm2": open_a, "mean_velocity_mm_s": open_v}}}
    report = {"source": "mat", "metrics_version": 3, "calibration": cal,
              "sway": {"ellipse95_area_mm2": (open_a + closed_a) / 2, "mean_velocity_mm_s": (open_v + closed_v) / 2},
              "weight": {"left_pct": rng.uniform(42, 58), "right_pct": 50.0}}
    return results, report


def weight_symmetry(rng, cal) -> tuple[dict, dict]:
    left = rng.uniform(35, 60)
    results = {"drill": "weight_symmetry", "params": {"posture": "standing"}, "status": "complete",
               "score": rng.uniform(30, 95), "duration_s": 30.0, "measures_version": 1, "calibration": cal,
               "measures": {"mean_left_pct": left, "time_in_band_pct": rng.uniform(30, 95), "target_left_pct": 50.0}}
    return results, {"source": "mat", "metrics_version": 3, "calibration": cal, "weight": {"left_pct": left}}


def gait_insoles(rng, cal) -> tuple[dict, dict]:
    cadence = rng.uniform(85, 120)
    results = {"drill": "gait_insoles", "params": {}, "status": "complete", "score": rng.uniform(50, 90),
               "duration_s": 90.0, "measures_version": 1, "calibration": cal,
               "measures": {"on_beat_pct": rng.uniform(40, 90),
                            "training": {"cadence_steps_min": cadence + 5, "abs_symmetry_index_pct": rng.uniform(1, 9)}}}
    report = {"source": "insoles", "metrics_version": 3, "calibration": cal,
              "gait": {"cadence_steps_min": cadence, "step_count": 120}}
    return results, report


MAKERS = {"quiet_standing": quiet_standing, "weight_symmetry": weight_symmetry, "gait_insoles": gait_insoles}


def add_patient_with_visits(st, code: str, visits: int, *, drills=tuple(MAKERS), seed: int = 1, every_days: float = 2.0,
                            uncalibrated_at: set[int] = frozenset(), stopped_at: set[int] = frozenset(),
                            programs_at: tuple[int, ...] = (0,)) -> Patient:
    """A patient with ``visits`` complete sessions of ``drills``; visits in ``uncalibrated_at`` were
    measured on the factory line, the first drill of visits in ``stopped_at`` was stopped; a program
    is stored at each visit index of ``programs_at`` (prescription changes)."""
    rng = random.Random(seed)
    patient = st.patients.add(Patient(code=code, name=f"Patient {code}"))
    for k in range(visits):
        at = START + dt.timedelta(days=every_days * k)
        if k in programs_at:
            st.programs.add(Program(patient.id, f"program {k}", [Prescription(d, {}) for d in drills],
                                    created_at=rows.format_time(at - dt.timedelta(hours=1))))
        session = st.sessions.add(Session(patient.id, status="complete", started_at=rows.format_time(at),
                                          ended_at=rows.format_time(at + dt.timedelta(minutes=20))))
        cal = calibration("uncalibrated" if k in uncalibrated_at else "calibrated")
        for pos, drill in enumerate(drills):
            results, report = MAKERS[drill](rng, cal)
            status = "stopped" if (k in stopped_at and pos == 0) else "complete"
            results["status"] = status
            st.trials.add(Trial(session.id, drill, results["params"], pos, status, results=results, report=report,
                                metrics_version=3, recording="complete",
                                calibration_ids={} if k in uncalibrated_at else {"SIM-MAT-1": "cal-mat-1"},
                                started_at=rows.format_time(at + dt.timedelta(minutes=2 + 5 * pos)),
                                ended_at=rows.format_time(at + dt.timedelta(minutes=4 + 5 * pos))))
    return patient


def add_patients(st, n: int, first: int = 100000) -> None:
    """``n`` patients with codes from ``first`` (no visits), in one transaction."""
    with rows.atomic(st.db):
        for k in range(n):
            p = Patient(code=str(first + k), name=f"Name {k:05d}" if k % 3 else None, archived=k % 50 == 7)
            st.db.execute("INSERT INTO patients (id, code, name, birth_year, notes, created_at, archived) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", [p.id, p.code, p.name, None, "", p.created_at, int(p.archived)])
