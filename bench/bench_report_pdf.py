"""Session PDF benchmark (issue 11: "session PDF <= 2 s here").

A real headless visit (three quiet-standing drills on the virtual patient) is stored; then
``gaitkiosk report SESSION --out FILE.pdf`` is timed as a therapist meets it: a new process
each time (interpreter start, imports, the store opened, matplotlib's COP plot, fpdf2's
layout, the file written and renamed), median of RUNS. The layout alone (in one process,
after the first run: imports and matplotlib's font cache warm) is given beside it. The page
holds only the stored report's numbers, so the recording's length does not change the time.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = "4823"
DRILLS = 3
RUNS = 5
BUDGET_S = 2.0


def _env() -> dict:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _gaitkiosk(*argv: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "gaitkiosk", *argv], capture_output=True, text=True, env=_env(),
                          cwd=ROOT, timeout=600)
    if done.returncode:
        raise RuntimeError(f"gaitkiosk {' '.join(argv[:2])}: {done.stderr.strip()}")
    return done


def _visit(data: Path) -> str:
    from gaitkiosk.config import load_config
    from gaitkiosk.demo_seed import seed_demo
    from store import open_store

    seed_demo(data, load_config(None), CODE)  # a scripted visit checks in as a demo patient only
    _gaitkiosk("program", "set", CODE, *["quiet_standing"] * DRILLS, "--data-dir", str(data))
    _gaitkiosk("run", "--simulate", "--headless", "--no-seed", "--code", CODE, "--seconds", "3",
               "--countdown", "0.3", "--timeout", "300", "--data-dir", str(data))
    with open_store(data, create=False) as st:
        return st.sessions.list(limit=1)[0].session.id


def main() -> dict:
    from gaitkiosk import session_pdf
    from store import open_store

    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        data = tmp / "data"
        session_id = _visit(data)
        out = tmp / "session.pdf"
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            _gaitkiosk("report", session_id, "--out", str(out), "--data-dir", str(data))
            times.append(time.perf_counter() - started)
        with open_store(data, create=False) as st:
            session = st.sessions.get(session_id)
            trials = st.trials.for_session(session_id)
        page = session_pdf.page_of({"name": "Bench clinic"}, session, CODE, trials)
        session_pdf.render(page)  # imports and matplotlib's font cache, once
        started = time.perf_counter()
        size = len(session_pdf.render(page))
        layout = time.perf_counter() - started
        started = time.perf_counter()
        _gaitkiosk("--version")
        bare = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    median = statistics.median(times)
    print(f"gaitkiosk report ({DRILLS} trials, one page, COP plot): median {median:.2f} s of {RUNS} new processes "
          f"(min {min(times):.2f}, max {max(times):.2f}); budget {BUDGET_S:.1f} s -> "
          f"{'ok' if median <= BUDGET_S else 'OVER'}")
    print(f"  of which the page's layout and plot in a warm process: {layout * 1000:.0f} ms ({size / 1024:.0f} KiB); "
          f"`gaitkiosk --version` alone: {bare:.2f} s")
    return {"report_median_s": round(median, 3), "report_min_s": round(min(times), 3),
            "report_max_s": round(max(times), 3), "runs": RUNS, "trials": DRILLS, "budget_s": BUDGET_S,
            "within_budget": median <= BUDGET_S, "warm_render_ms": round(layout * 1000, 1), "pdf_bytes": size,
            "bare_start_s": round(bare, 3)}


if __name__ == "__main__":
    main()
