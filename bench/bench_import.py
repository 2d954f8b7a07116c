"""Import speed per vendor format, in MB/s, against reading the same file's numbers with numpy.

The baseline, measured in the same run on the same file: ``numpy.loadtxt`` of the data part
(the importer's job minus its checks: headers, units, frame numbering, line-numbered errors;
pandas is not a dependency of the kiosk, so it is not installed here);
for emed, whose pictures are cropped sub-tables, ``numpy`` float parsing of every tab-separated
field. The ratio is importer time / baseline time (below 1: the importer is faster).

Run: ``.venv/bin/python bench/run.py import`` (or ``make bench``).
"""

from __future__ import annotations

import gzip
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from device.importers import import_file

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "vendor-exports"
FILES = {"fscan": "fscan_testL.asf", "emed": "emed_test.lst", "amti": "amti_test_first3000.csv"}


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def baseline(fmt: str, path: Path):
    text = path.read_bytes().decode("latin-1")
    if fmt == "fscan":
        body = "\n".join(line for line in text.split("ASCII_DATA @@", 1)[1].splitlines()
                         if line and not line.startswith(("Frame", "@@")))
        body = body.replace("B", "nan")
        return lambda: np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float32)
    if fmt == "amti":
        skip = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("MocapFrame"))) + 1
        return lambda: np.loadtxt(path, delimiter=",", skiprows=skip)
    fields = [f for line in text.splitlines() if line[:1].isdigit() for f in line.split("\t")[1:]]
    return lambda: np.array([f or "0" for f in fields], dtype=np.float32)


def main() -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, name in FILES.items():
            path = Path(tmp) / name
            with gzip.open(DATA / f"{name}.gz", "rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mb = path.stat().st_size / 1e6
            ours = best_of(lambda p=path: import_file(p))
            base = best_of(baseline(fmt, path))
            out[fmt] = {"mb": round(mb, 3), "import_mb_s": round(mb / ours, 1), "baseline_mb_s": round(mb / base, 1),
                        "ratio_time": round(ours / base, 2)}
    print(f"{'format':8} {'MB':>7} {'import MB/s':>12} {'numpy MB/s':>18} {'time ratio':>11}")
    for fmt, r in out.items():
        print(f"{fmt:8} {r['mb']:7.3f} {r['import_mb_s']:12.1f} {r['baseline_mb_s']:18.1f} {r['ratio_time']:11.2f}")
    return out
