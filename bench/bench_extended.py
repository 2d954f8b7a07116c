"""The extended posturography set's time for a 60 s trial, against the basic sway set (docs/metrics.md 2b).

Input: trial BDS00004 of Santos & Duarte (2016) from tests/data (60 s at 100 Hz, force plate),
(ML, AP) in mm. Timed in the same process, interleaved, fastest (and median) of REPEATS runs each:

- ``basic``: ``kernels.sway.sway_metrics`` (the 11 descriptors of section 2, 13 fields);
- ``extended``: ``kernels.posturography.extended_set`` (all 72, preprocessing included);
- the extended set's parts: preprocessing (purge, SWARII, filter), sway density, spectra,
  diffusion;
- ``sway_density_literal``: the sway density's definition run sample by sample in Python (the
  test's reference, tests/test_posturography.py), once: what the banded numpy search replaces;
- a 300 s trial (five trials one after the other, each re-centred) for the growth with length.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from kernels.posturography import _diffusion, _spectral, extended_set, sway_density  # noqa: E402
from kernels.swarii import preprocess  # noqa: E402
from kernels.sway import sway_metrics  # noqa: E402

DATA = ROOT / "tests" / "data" / "santos-duarte-2016"
REPEATS = 31
RATE = 100.0


def trial(name: str) -> np.ndarray:
    with gzip.open(DATA / f"{name}_cop.txt.gz", "rt") as f:
        d = np.loadtxt(f, skiprows=1)
    return np.column_stack([d[:, 2], d[:, 1]]) * 10.0  # ML = COPy, AP = COPx; cm -> mm


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def best_ms(jobs: dict, repeats: int = REPEATS) -> tuple[dict, dict]:
    """(fastest, median) wall time (ms) of each job, the jobs interleaved run by run so load hits
    all alike. On this shared machine the fastest run is the steadier measure of the work itself."""
    times: dict = {k: [] for k in jobs}
    for fn, *args in jobs.values():  # warm-up: imports, scipy's first calls
        fn(*args)
    for _ in range(repeats):
        for key, (fn, *args) in jobs.items():
            times[key].append(timed(fn, *args))
    return ({k: round(1000 * min(v), 3) for k, v in times.items()},
            {k: round(1000 * statistics.median(v), 3) for k, v in times.items()})


def main() -> dict:
    cop = trial("BDS00004")
    signal, _ = preprocess(cop, RATE)
    ms, med = best_ms({
        "basic_ms": (sway_metrics, cop, RATE),
        "extended_ms": (extended_set, cop, RATE),
        "preprocess_ms": (preprocess, cop, RATE),
        "sway_density_ms": (sway_density, signal, 25.0, 3.0),
        "spectral_ms": (_spectral, signal, 25.0, {}),
        "diffusion_ms": (_diffusion, signal, 25.0, {}),
    })
    from test_posturography import literal_sway_density_counts

    literal_ms = 1000 * timed(literal_sway_density_counts, signal, 3.0)
    long = np.concatenate([trial(n) - trial(n).mean(axis=0) for n in
                           ("BDS00001", "BDS00004", "BDS00007", "BDS00010", "BDS00037")])
    long_ms, _ = best_ms({"basic_300s_ms": (sway_metrics, long, RATE),
                          "extended_300s_ms": (extended_set, long, RATE)}, repeats=7)
    out = {**ms, **long_ms, "basic_median_ms": med["basic_ms"], "extended_median_ms": med["extended_ms"],
           "ratio_extended_to_basic": round(ms["extended_ms"] / ms["basic_ms"], 1),
           "ratio_extended_to_basic_median": round(med["extended_ms"] / med["basic_ms"], 1),
           "ratio_extended_to_basic_300s": round(long_ms["extended_300s_ms"] / long_ms["basic_300s_ms"], 1),
           "sway_density_literal_ms": round(literal_ms, 1),
           "sway_density_speedup": round(literal_ms / ms["sway_density_ms"], 1),
           "samples_60s": len(cop), "samples_after_resampling": len(signal)}
    print(f"60 s trial at 100 Hz ({len(cop)} samples; {len(signal)} after resampling to 25 Hz), fastest of {REPEATS}:")
    print(f"  basic set (11 descriptors)      {ms['basic_ms']:8.2f} ms")
    print(f"  extended set (72 descriptors)   {ms['extended_ms']:8.2f} ms   ({out['ratio_extended_to_basic']} x basic; "
          f"medians {med['extended_ms']:.2f} / {med['basic_ms']:.2f} ms, {out['ratio_extended_to_basic_median']} x)")
    print(f"    preprocessing                 {ms['preprocess_ms']:8.2f} ms")
    print(f"    sway density                  {ms['sway_density_ms']:8.2f} ms   "
          f"(sample-by-sample definition: {literal_ms:.0f} ms, {out['sway_density_speedup']} x)")
    print(f"    spectra                       {ms['spectral_ms']:8.2f} ms")
    print(f"    diffusion                     {ms['diffusion_ms']:8.2f} ms")
    print(f"300 s trial: basic {long_ms['basic_300s_ms']:.2f} ms, extended {long_ms['extended_300s_ms']:.2f} ms "
          f"({out['ratio_extended_to_basic_300s']} x)")
    return out


if __name__ == "__main__":
    main()
