"""Drills: per-frame cost of ``drill.update`` against the per-frame mat analysis it follows,
the cost of the final result, and the safety stop's latency for every simulated fall.

The drill runs in the kiosk's analysis loop right after the kernels, once per frame
(100 Hz), so its budget is a small share of the kernel's. Baseline, measured in the same
run: ``KernelFeed.mat_frame`` (FrameAnalyzer + step detector) on the same frames.
Safety latency: alert time minus the truth (the virtual patient's COP reaching the edge of
its base of support, or its foot-off event), over several seeds.

    .venv/bin/python bench/run.py drills
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

DRILLS = [
    ("quiet_standing", {"duration_s": 30}, None),
    ("limits_of_stability", {"hold_s": 0.5}, None),
    ("rhythmic_shift", {"cycles": 8, "period_s": 2}, None),
    ("heel_toe_rocking", {"cycles": 8}, None),
    ("weight_symmetry", {"duration_s": 30}, None),
    ("tandem_walk", {"steps": 6}, (96, 48)),
    ("gait_insoles", {"baseline_s": 20, "training_s": 40}, None),
]
FALLS = [("edge", {"fall_dir": d}) for d in ("forward", "backward", "left", "right")] + [
    ("unload", {"fall_side": "left"}), ("step_off", {})]
SEEDS = range(1, 6)


def _cost(name, params, mat):
    from drills import registry
    from drills.autopilot import feed_for, patient_for, run_drill

    d = registry.create(name, params, mat_shape=mat or (48, 48), mat_pitch_mm=(8.47, 8.47))
    p = patient_for(d, seed=1)
    feed = feed_for(d, p)
    drill_ns, kernel_ns = [], []
    update, mat_frame, insole_frames = d.update, feed.mat_frame, feed.insole_frames

    def timed_update(*a, **k):
        t0 = time.perf_counter_ns()
        update(*a, **k)
        drill_ns.append(time.perf_counter_ns() - t0)

    def timed(fn):
        def inner(*a, **k):
            t0 = time.perf_counter_ns()
            out = fn(*a, **k)
            kernel_ns.append(time.perf_counter_ns() - t0)
            return out
        return inner

    d.update = timed_update
    feed.mat_frame, feed.insole_frames = timed(mat_frame), timed(insole_frames)
    run_drill(d, p, feed=feed, max_s=600)
    t0 = time.perf_counter()
    result = d.result()
    result_ms = (time.perf_counter() - t0) * 1e3
    return {"frames": len(drill_ns), "update_us_median": statistics.median(drill_ns) / 1e3,
            "update_us_p99": sorted(drill_ns)[int(0.99 * len(drill_ns))] / 1e3,
            "kernel_us_median": statistics.median(kernel_ns) / 1e3,
            "ratio": statistics.median(drill_ns) / statistics.median(kernel_ns),
            "result_ms": result_ms, "score": result.score}


def _latency(kind, extra, seed):
    from drill_support import edge_time

    from drills import registry
    from drills.autopilot import patient_for, run_drill

    fall_at = 6.0
    d = registry.create("quiet_standing", {"duration_s": 30}, mat_shape=(48, 48))
    p = patient_for(d, seed=seed, fall_at=fall_at, fall=kind, **extra)
    out = run_drill(d, p)
    if not out.alerts:
        return None, None
    if kind == "edge":
        truth = edge_time(p, fall_at, fall_at + 1.0)
    else:
        truth = min(e.t for e in p.events_until(fall_at + 2.0) if e.kind == "off")
    return out.alerts[0].t - truth, out.alerts[0].reason


def main() -> dict:
    import kernels

    numbers = {"implementation": kernels.IMPLEMENTATION, "drills": {}, "safety": {}}
    print(f"kernels: {kernels.IMPLEMENTATION}")
    print(f"{'drill':<22}{'frames':>7}{'update µs':>11}{'p99 µs':>9}{'kernels µs':>12}{'ratio':>8}{'result ms':>11}{'score':>7}")
    for name, params, mat in DRILLS:
        c = _cost(name, params, mat)
        numbers["drills"][name] = c
        print(f"{name:<22}{c['frames']:>7}{c['update_us_median']:>11.1f}{c['update_us_p99']:>9.1f}"
              f"{c['kernel_us_median']:>12.1f}{c['ratio']:>8.3f}{c['result_ms']:>11.1f}{c['score']:>7.1f}")
    print(f"\n{'fall':<18}{'alert':<15}{'latency ms (seeds ' + str(SEEDS[0]) + '-' + str(SEEDS[-1]) + ')':>32}")
    for kind, extra in FALLS:
        label = kind + ("-" + "-".join(extra.values()) if extra else "")
        lat, reasons = [], set()
        for seed in SEEDS:
            dt, reason = _latency(kind, extra, seed)
            if dt is not None:
                lat.append(1e3 * dt)
                reasons.add(reason)
        numbers["safety"][label] = {"detected": len(lat), "runs": len(SEEDS), "reasons": sorted(reasons),
                                    "latency_ms_median": statistics.median(lat) if lat else None,
                                    "latency_ms_max": max(lat) if lat else None}
        print(f"{label:<18}{','.join(sorted(reasons)):<15}   detected {len(lat)}/{len(SEEDS)}, "
              f"median {statistics.median(lat):.0f}, max {max(lat):.0f}" if lat else f"{label:<18} not detected")
    return numbers


if __name__ == "__main__":
    main()
