"""Import speed per vendor format, in MB/s, against reading the same file's numbers with numpy.

The baseline, measured in the same run on the same file: ``numpy.loadtxt`` of the data part
(the importer's job minus its checks: headers, units, frame numbering, line-numbered errors;
pandas is not a dependency of the kiosk, so it is not installed here);
for emed, whose pictures are cropped sub-tables, pliance, whose frames are followed by a
force/COP block and the sensor geometry, and XSENSOR, whose frames interleave grids and region
lists, ``numpy`` float parsing of every numeric field (for emed split out of the text before
timing, for pliance and XSENSOR split inside the timed call, as loadtxt does); for footscan (a binary Excel
workbook, which neither numpy nor pandas reads without it) ``xlrd`` opening the workbook and
reading every row. The ratio is importer time / baseline time (below 1: the importer is faster).

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
FILES = {"fscan": "fscan_testL.asf", "emed": "emed_test.lst", "amti": "amti_test_first3000.csv",
         "pedar": "pedar_example.asc", "pliance": "pliance_test.asc", "xsensor": "xsensor_data.csv",
         "stappone": "stappone_example.csv", "footscan": "footscan_test.xls", "plates": "PDS13OR1grf_first1000.txt"}


def options(fmt: str, tmp: Path) -> dict:
    """What the formats that lack it need (docs/import.md); a made-up insole layout."""
    if fmt in ("pedar", "stappone"):
        sides, n = (("left", "right"), 99) if fmt == "pedar" else (("left",), 12)
        geo = tmp / f"{fmt}-geometry.csv"
        geo.write_text("side,sensor,x_mm,y_mm,area_mm2\n" + "".join(
            f"{s},{k},{k % 7 * 10},{k // 7 * 15},150\n" for s in sides for k in range(1, n + 1)))
        return {"insole_geometry": geo, **({"side": "left", "kpa_per_count": 0.25} if fmt == "stappone" else {})}
    if fmt == "footscan":
        return {"pressure_unit": "N/cm2", "pitch_mm": (7.62, 5.08)}
    return {}


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
    if fmt in ("pedar", "stappone", "plates"):
        skip = {"pedar": 10, "stappone": 1, "plates": 1}[fmt]
        return lambda: np.loadtxt(path, delimiter="," if fmt == "stappone" else None, skiprows=skip)
    if fmt == "pliance":  # every number after the header: frames, summaries, force/COP block, geometry
        return lambda: np.array([f for line in text.splitlines()[7:] for f in line.split()[1:] if f[:1].isdigit()],
                                dtype=np.float32)
    if fmt == "xsensor":  # every numeric line's fields (grid rows and the groups' lists)
        return lambda: np.array([f for line in text.splitlines() if line[:1].isdigit()
                                 for f in line.rstrip(",").split(",")], dtype=np.float32)
    if fmt == "footscan":  # the workbook library alone: open and every row's values
        import xlrd

        def read_book():
            sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
            return [sheet.row_values(r) for r in range(sheet.nrows)]
        return read_book
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
            opts = options(fmt, Path(tmp))
            ours = best_of(lambda p=path, o=opts: import_file(p, **o))
            base = best_of(baseline(fmt, path))
            out[fmt] = {"mb": round(mb, 3), "import_mb_s": round(mb / ours, 1), "baseline_mb_s": round(mb / base, 1),
                        "ratio_time": round(ours / base, 2)}
        # C3D export of the emed step (506 analog channels x 106 frames) and reading it back
        from device.c3d_file import read_c3d, write_c3d

        rec = import_file(Path(tmp) / FILES["emed"])
        target = Path(tmp) / "step.c3d"
        out["c3d_emed"] = {"write_s": round(best_of(lambda: write_c3d(target, rec), 3), 3),
                           "read_s": round(best_of(lambda: read_c3d(target), 3), 3),
                           "kb": round(target.stat().st_size / 1e3, 1)}
    c3d_row = out.pop("c3d_emed")
    print(f"{'format':8} {'MB':>7} {'import MB/s':>12} {'numpy MB/s':>18} {'time ratio':>11}")
    for fmt, r in out.items():
        print(f"{fmt:8} {r['mb']:7.3f} {r['import_mb_s']:12.1f} {r['baseline_mb_s']:18.1f} {r['ratio_time']:11.2f}")
    print(f"C3D of the emed step: write {c3d_row['write_s']} s, read back {c3d_row['read_s']} s, {c3d_row['kb']} kB")
    out["c3d_emed"] = c3d_row
    return out
