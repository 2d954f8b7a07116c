"""Cost per frame of the streaming detectors and the online sway accumulator.

What the live kiosk pays for every frame on top of the per-frame analysis:

* ``SwayAccumulator.add`` (compiled ``kernels._online`` and its pure-Python
  reference, measured in the same run: the ratio is the speed-up);
* ``ContactDetector.update`` for one foot;
* ``FootStream.update`` for one insole foot (force, COP, regions), step
  metrics included when a stance completes;
* ``MatStepAssembler.update`` on the FrameResults of a simulated walk (two
  feet, footprints fetched while in contact, steps assembled as they end).

Numbers are microseconds per frame (median of repeats), and the share of a
100 Hz frame period (10 ms). Run: ``.venv/bin/python bench/run.py detectors``.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

PERIOD_US = 10_000.0  # 100 Hz


def per_call_us(fn, n: int, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(times)


def bench_accumulator(n: int = 200_000) -> dict:
    from kernels import online_reference

    rng = np.random.default_rng(0)
    xs = rng.normal(0, 5, n).tolist()
    ys = rng.normal(0, 5, n).tolist()
    out = {}
    impls = {"reference": online_reference.SwayAccumulator}
    try:
        impls["compiled"] = importlib.import_module("kernels._online").SwayAccumulator
    except ImportError:
        pass
    for name, cls in impls.items():
        def run(cls=cls):
            acc = cls(100.0)
            add = acc.add
            for x, y in zip(xs, ys, strict=True):
                add(x, y)
        out[name] = per_call_us(run, n)
    return out


def walk_series(seconds: float = 60.0, rate: float = 100.0):
    """One foot's force/COP/regions over a steady walk (1.1 s stride, 62 % stance)."""
    t = np.arange(int(seconds * rate)) / rate
    phase = (t % 1.1) / 1.1
    stance = phase < 0.62
    s = np.where(stance, phase / 0.62, 0.0)
    force = np.where(stance, 700 * (np.sin(np.pi * s) + 0.3 * np.sin(3 * np.pi * s)), 0.0)
    cop = np.column_stack([10 * np.sin(np.pi * s), -100 + 320 * s])
    regions = np.column_stack([force * (1 - s), force * 0.1, force * s])
    return t, force, cop, regions


def bench_foot_detectors() -> dict:
    from kernels.detectors import ContactDetector, FootStream

    t, force, cop, regions = walk_series()
    tl, fl = t.tolist(), force.tolist()
    copl = [tuple(c) for c in cop.tolist()]
    regl = [tuple(r) for r in regions.tolist()]
    n = len(t)

    def contact():
        d = ContactDetector()
        up = d.update
        for a, b in zip(tl, fl, strict=True):
            up(a, b)

    def stream():
        s = FootStream("left", source="insole")
        up = s.update
        for k in range(n):
            up(tl[k], fl[k], copl[k], regl[k], "left")

    return {"contact_detector": per_call_us(contact, n), "foot_stream": per_call_us(stream, n)}


def bench_mat_assembler() -> dict:
    import metrics_synth

    from kernels.detectors import MatStepAssembler
    from kernels.frame import FrameAnalyzer

    rec, _ = metrics_synth.walk(n_steps=5)
    rows, cols = rec.mat_kpa.shape[1:]
    frames = [np.ascontiguousarray(f) for f in rec.mat_kpa]
    t = rec.mat_t.tolist()
    analyzer = FrameAnalyzer(rows, cols, pitch_mm=tuple(rec.mat_pitch_mm))
    results = [analyzer.analyze(f) for f in frames]
    # Replay the same results through fresh assemblers; the analyzer stays on the last
    # frame, so footprints are fetched from it exactly as in the live loop's cost.
    n = len(results)

    def assemble():
        a = MatStepAssembler(analyzer)
        for k in range(n):
            a.update(t[k], results[k])

    return {"mat_step_assembler": per_call_us(assemble, n, repeats=9), "mat_frames": n,
            "frame_analyzer": analyzer.implementation}


def main() -> dict:
    acc = bench_accumulator()
    foot = bench_foot_detectors()
    mat = bench_mat_assembler()
    rows = [
        ("SwayAccumulator.add (reference)", acc["reference"]),
        *([("SwayAccumulator.add (compiled)", acc["compiled"])] if "compiled" in acc else []),
        ("ContactDetector.update (1 foot)", foot["contact_detector"]),
        ("FootStream.update (1 insole foot)", foot["foot_stream"]),
        ("MatStepAssembler.update (2 feet)", mat["mat_step_assembler"]),
    ]
    print(f"{'per frame':<38}{'µs':>9}{'% of 10 ms':>12}")
    for name, us in rows:
        print(f"{name:<38}{us:9.2f}{100 * us / PERIOD_US:11.3f}%")
    numbers = {
        "sway_accumulator_reference_us": round(acc["reference"], 3),
        "contact_detector_us": round(foot["contact_detector"], 3),
        "foot_stream_us": round(foot["foot_stream"], 3),
        "mat_step_assembler_us": round(mat["mat_step_assembler"], 3),
        "frame_analyzer_implementation": mat["frame_analyzer"],
    }
    if "compiled" in acc:
        numbers["sway_accumulator_compiled_us"] = round(acc["compiled"], 3)
        numbers["sway_accumulator_speedup"] = round(acc["reference"] / acc["compiled"], 1)
        print(f"compiled accumulator: {numbers['sway_accumulator_speedup']}x the reference")
    return numbers


if __name__ == "__main__":
    main()
