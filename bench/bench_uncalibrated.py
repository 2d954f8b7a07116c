"""What an uncalibrated sensor does to a report's numbers (docs/metrics.md section 10).

The seed-1 virtual mat under quiet standing (20 s at 100 Hz; the 70 kg patient,
once evenly and once with 65 % of the weight on the left foot) is read as the kiosk
reads it: counts through the device's own ZERO (baseline and noise gate), then
either the factory-nominal line (``gaitkiosk.pressure`` without a calibration,
stuck sensels dropped) or the calibration of ``calibrate equilibrate sim://mat``
(zero + 4 bladder pressures on the virtual rig, used without its offsets on the
zeroed stream; made by the CLI itself). Both go through ``kernels.report.analyze_recording`` beside the
simulator's true kPa. Reported: the median total force on the mat, the left share,
the left rearfoot share, sway velocity (the report's: the mat's COP low-passed at 10 Hz)
and, for comparison, of the unfiltered COP (``--lowpass off``, metrics version 2), 95 %
ellipse area and AP range.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from calibration.storage import active_model  # noqa: E402
from device.sim import VirtualPatient  # noqa: E402
from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate  # noqa: E402
from gaitkiosk.pressure import NOMINAL, Pressure  # noqa: E402
from kernels.report import analyze_recording  # noqa: E402

PITCH = (8.47, 8.47)
RATE = 100.0
SECONDS = 20.0


def _report(kpa: np.ndarray, t: np.ndarray) -> dict:
    rec = SimpleNamespace(meta="{}", mat_kpa=kpa.astype(np.float32), mat_t=t, mat_pitch_mm=np.array(PITCH))
    r = analyze_recording(rec)
    raw = analyze_recording(rec, lowpass_hz=None)  # metrics version 2's sway speed: the COP unfiltered
    force = float(np.median(kpa.sum(axis=(1, 2), dtype=np.float64) * PITCH[0] * PITCH[1] * 1e-3))
    return {"force_n": round(force, 1), "left_pct": round(r["weight"]["left_pct"], 1),
            "left_rearfoot_pct": round(r["weight"]["left"]["rearfoot_pct"], 1),
            "sway_velocity_mm_s": round(r["sway"]["mean_velocity_mm_s"], 2),
            "unfiltered_velocity_mm_s": round(raw["sway"]["mean_velocity_mm_s"], 2),
            "ellipse95_area_mm2": round(r["sway"]["ellipse95_area_mm2"], 1),
            "range_ap_mm": round(r["sway"]["range_ap_mm"], 2)}


def _calibrate():
    """The calibration ``gaitkiosk calibrate equilibrate sim://mat`` makes (in real time, ~15 s)."""
    import contextlib
    import io
    import tempfile

    from gaitkiosk.cli import main as cli
    from store import open_store

    with tempfile.TemporaryDirectory() as data:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if cli(["calibrate", "equilibrate", "sim://mat?patient=bench-uncal", "--data-dir", data]) != 0:
                raise SystemExit("the virtual mat's calibration failed")
        with open_store(data) as st:
            return active_model(st, "sim-mat-48x48-seed1")[1]


def main() -> dict:
    calibrated, _ = _calibrate().for_stream({"zeroed": True, "gate_counts": 0})
    convert = calibrated.converter().many
    rows = []
    for label, params in (("even", {}), ("65 % left", {"weight_left_pct": 65.0})):
        patient = VirtualPatient("quiet", seed=1, **params)
        sensor = patient.mat_sensor
        # the device's ZERO at power-up, nobody on the mat (device/handlers/protocol_sim.py)
        unloaded = np.zeros(sensor.shape)
        gate = ZeroGate.measure(np.stack([sensor.counts(unloaded, key=(1 << 47) + k)
                                          for k in range(ZERO_WINDOW_SCANS)]), 0)
        t = np.arange(0.0, SECONDS, 1.0 / RATE)
        samples = [patient.sample(x, insoles=False) for x in t]
        counts = np.stack([gate.apply(patient.mat_counts(s)) for s in samples])
        truth = np.stack([s.mat_kpa for s in samples])
        nominal = Pressure("sim-mat-48x48-seed1", NOMINAL, kpa_per_count=float(sensor.kpa_per_count),
                           stuck_counts=(1 << sensor.bits) - 1)
        for name, kpa in (("truth", truth), ("calibrated", convert(counts)),
                          ("factory-nominal", np.stack([nominal.kpa(c) for c in counts]))):
            rows.append({"stance": label, "conversion": name, **_report(np.asarray(kpa), t)})
    keys = ("force_n", "left_pct", "left_rearfoot_pct", "sway_velocity_mm_s", "unfiltered_velocity_mm_s",
            "ellipse95_area_mm2", "range_ap_mm")
    print(f"{'stance':>10} {'conversion':>16} " + " ".join(f"{k:>19}" for k in keys))
    for r in rows:
        print(f"{r['stance']:>10} {r['conversion']:>16} " + " ".join(f"{r[k]:>19}" for k in keys))
    return {"rows": rows, "body_weight_n": round(70.0 * 9.80665, 1)}


if __name__ == "__main__":
    main()
