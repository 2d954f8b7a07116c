"""Home-exercise sheet benchmark (issue 11 item 7, beside "session PDF <= 2 s here").

A patient with a program of every drill (seven, two pages) is stored; then
``gaitkiosk program sheet CODE --out FILE.pdf`` is timed as a therapist meets it: a new process
each time (interpreter start, imports, the store opened, the plan made, pygame drawing each
drill's picture, fpdf2's layout, the file written and renamed), median of RUNS. The sheet's
content and layout alone (in one warm process) is given beside it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench_report_pdf import BUDGET_S, _gaitkiosk

CODE = "4823"
RUNS = 5


def main() -> dict:
    from drills import registry
    from drills.program import plan_for_patient
    from gaitkiosk import home_sheet
    from store import open_store

    tmp = Path(tempfile.mkdtemp(prefix="bench-sheet-"))
    try:
        data = tmp / "data"
        drills = registry.names()
        _gaitkiosk("patients", "add", CODE, "--data-dir", str(data))
        _gaitkiosk("program", "set", CODE, *drills, "--data-dir", str(data))
        out = tmp / "sheet.pdf"
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            _gaitkiosk("program", "sheet", CODE, "--out", str(out), "--data-dir", str(data))
            times.append(time.perf_counter() - started)
        with open_store(data, create=False) as st:
            plan = plan_for_patient(st, CODE)
        home_sheet.render(home_sheet.sheet_of({"name": "Bench clinic"}, plan, dt.date.today()))  # imports, once
        started = time.perf_counter()
        sheet = home_sheet.sheet_of({"name": "Bench clinic"}, plan, dt.date.today())
        pictures = time.perf_counter() - started
        started = time.perf_counter()
        size = len(home_sheet.render(sheet))
        layout = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    median = statistics.median(times)
    print(f"gaitkiosk program sheet ({len(drills)} drills, pictures): median {median:.2f} s of {RUNS} new processes "
          f"(min {min(times):.2f}, max {max(times):.2f}); budget {BUDGET_S:.1f} s -> "
          f"{'ok' if median <= BUDGET_S else 'OVER'}")
    print(f"  of which in a warm process: content and pictures {pictures * 1000:.0f} ms, layout "
          f"{layout * 1000:.0f} ms ({size / 1024:.0f} KiB)")
    return {"sheet_median_s": round(median, 3), "sheet_min_s": round(min(times), 3),
            "sheet_max_s": round(max(times), 3), "runs": RUNS, "drills": len(drills), "budget_s": BUDGET_S,
            "within_budget": median <= BUDGET_S, "warm_pictures_ms": round(pictures * 1000, 1),
            "warm_layout_ms": round(layout * 1000, 1), "pdf_bytes": size}


if __name__ == "__main__":
    main()
