"""Calibration: counts -> kPa speed against the per-frame analysis, and accuracy against the truth.

1. Speed. The compiled counts -> kPa (``calibration._apply`` via ``CountsToKpa``),
   its numpy reference, and -- the baseline the issue names -- the per-frame
   mat analysis ``kernels.FrameAnalyzer.analyze`` on the same frames (48 x 48
   virtual mat, quiet standing and walking), each called once per frame from
   Python as the live loop does, over frames with a foot on the mat. The calibration must cost no more than the
   analysis it feeds: ratio = analysis time / calibration time (> 1 is faster).
2. Accuracy. The seed-1 virtual mat is zeroed and equilibrated (4 bladder
   pressures) on the virtual rig; its calibrated kPa are compared with the
   simulator's true kPa over 10 s of quiet standing and of walking, next to
   the factory-nominal straight line (``counts x kpa_per_count``) and that line
   after a zero only. Per-sensel error over sensels >= 10 kPa, total-force
   error over frames >= 50 N, COP distance in mm (calibration/accuracy.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from calibration_support import blank_mat, run_on_rig, truth_frames  # noqa: E402

from calibration import EquilibrationCalibration, ZeroCalibration  # noqa: E402
from calibration.accuracy import accuracy  # noqa: E402
from calibration.apply import CountsToKpa  # noqa: E402

PITCH = (8.47, 8.47)
AREA = PITCH[0] * PITCH[1]


def per_frame_us(fn, frames, repeat=3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for f in frames:
            fn(f)
        best = min(best, (time.perf_counter() - t0) / len(frames))
    return best * 1e6


def main() -> dict:
    from kernels import FrameAnalyzer

    res, _ = run_on_rig([ZeroCalibration(), EquilibrationCalibration()], blank_mat())
    model = res.model
    speed, acc = [], []
    for scenario in ("quiet", "walk"):
        patient, counts, truth = truth_frames(scenario, seconds=10.0, step_s=0.01)
        comp = CountsToKpa(model, "compiled")
        ref = CountsToKpa(model, "reference")
        kpa = comp.many(counts)
        analyzer = FrameAnalyzer(48, 48, PITCH)
        # frames with a foot on the mat only: an empty frame costs the analysis next to nothing
        loaded = truth.sum(axis=(1, 2)) * AREA * 1e-3 >= 50.0
        frames = list(counts[loaded][:600])
        kframes = list(kpa[loaded][:600])
        c_us = per_frame_us(comp, frames)
        r_us = per_frame_us(ref, frames[:200], repeat=1)
        a_us = per_frame_us(analyzer.analyze, kframes)
        speed.append({"scenario": scenario, "compiled_us": round(c_us, 2), "reference_us": round(r_us, 1),
                      "analysis_us": round(a_us, 1), "analysis_over_calibration": round(a_us / c_us, 1)})
        sensor = patient.mat_sensor
        zeroed = lambda c, o=model.offset, k=sensor.kpa_per_count: np.clip(c - o, 0, None) * k  # noqa: E731
        for name, fn in (("calibrated", comp), ("nominal line", sensor.nominal_kpa), ("zero + nominal line", zeroed)):
            a = accuracy(fn, counts[::5], truth[::5], AREA, PITCH)
            acc.append({"scenario": scenario, "conversion": name, **{k: (round(v, 2) if isinstance(v, float) else v)
                                                                      for k, v in a.items()}})
    print(f"{'scenario':>8} {'compiled µs':>12} {'reference µs':>13} {'analysis µs':>12} {'analysis/calibration':>21}")
    for r in speed:
        print(f"{r['scenario']:>8} {r['compiled_us']:>12} {r['reference_us']:>13} {r['analysis_us']:>12} "
              f"{r['analysis_over_calibration']:>20}x")
    print(f"\n{'scenario':>8} {'conversion':>20} {'sensel med %':>12} {'sensel p95 %':>12} {'force mean %':>12} "
          f"{'force p95 %':>11} {'COP mean mm':>11} {'COP p95 mm':>10}")
    for r in acc:
        print(f"{r['scenario']:>8} {r['conversion']:>20} {r['sensel_median_pct']:>12} {r['sensel_p95_pct']:>12} "
              f"{r['force_mean_abs_pct']:>12} {r['force_p95_pct']:>11} {r['cop_mean_mm']:>11} {r['cop_p95_mm']:>10}")
    return {"speed": speed, "accuracy": acc, "curve": model.curve.to_json()}


if __name__ == "__main__":
    main()
