"""Virtual patient speed: frames per second of sample(), and a 60 s recording.

Baseline: real time. The virtual mat must produce 100 frames/s (plus two insoles) for
``sim://`` and ``simulate --pty``, and ``gaitkiosk simulate --seconds 60`` should take a
few seconds at most. Ratios are "times faster than real time", measured in this run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from device.recording import save_recording
from device.sim import VirtualPatient
from device.sim.record import simulate_recording

RATE = 100.0


def _frames_per_s(scenario: str, seconds: float = 10.0, counts: bool = False) -> float:
    p = VirtualPatient(scenario, seed=1)
    times = np.arange(0, seconds, 1 / RATE)
    start = time.perf_counter()
    for t in times:
        s = p.sample(t)
        if counts:
            p.mat_counts(s)
            p.insole_counts(s, "left")
            p.insole_counts(s, "right")
    return len(times) / (time.perf_counter() - start)


def _recording_s(scenario: str, seconds: float = 60.0) -> tuple[float, float]:
    p = VirtualPatient(scenario, seed=1)
    start = time.perf_counter()
    rec = simulate_recording(p, seconds)
    made = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        save_recording(Path(tmp) / "r.npz", rec)
    return made, time.perf_counter() - start


def main() -> dict:
    numbers: dict = {}
    print(f"{'what':44s} {'value':>12s} {'x real time':>12s}")
    for scenario in ("quiet", "walk", "rocking"):
        fps = _frames_per_s(scenario)
        fps_counts = _frames_per_s(scenario, counts=True)
        numbers[f"{scenario}_truth_frames_per_s"] = round(fps, 1)
        numbers[f"{scenario}_counts_frames_per_s"] = round(fps_counts, 1)
        print(f"{scenario + ': truth (mat + insoles) frames/s':44s} {fps:12.0f} {fps / RATE:12.1f}")
        print(f"{scenario + ': + counts of all three sensors, frames/s':44s} {fps_counts:12.0f} {fps_counts / RATE:12.1f}")
    for scenario in ("quiet", "walk"):
        made, total = _recording_s(scenario)
        numbers[f"{scenario}_60s_recording_s"] = round(made, 2)
        numbers[f"{scenario}_60s_recording_saved_s"] = round(total, 2)
        print(f"{scenario + ': 60 s recording, s (then saved)':44s} {made:6.2f} ({total:4.2f}) {60.0 / total:12.1f}")
    return numbers


if __name__ == "__main__":
    main()
