"""The diagnostics room's work on the worker thread (issue 14 item 5; the worker is also the kiosk's).

A real kiosk (``Runtime`` with sim:// sensors streaming, the SQLite store) and a technician's
``Desk`` on a store connection of its own: the ``diagnostics`` view (every reading the room
shows) and the export archive without patient data (``diagnostics_export.archive``, in memory,
with a full log ring of 5,000 lines scrubbed of patient codes and names), RUNS times each. The first view of the process is reported apart: it imports the calibration
health code.

    python bench/bench_diagnostics.py          (or: make bench)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 30


def main() -> dict:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from ui_support import make_app
    from waiting import wait_until

    from gaitkiosk import diagnostics_export, staff_views
    from gaitkiosk.config import default_config
    from gaitkiosk.demo_seed import seed_demo
    from gaitkiosk.runtime import Runtime
    from gaitkiosk.staff_rooms import diagnostics
    from store import open_store
    from ui import screens

    data = Path(tempfile.mkdtemp(prefix="bench-diagnostics-"))
    config = default_config()
    seed_demo(data, config, "1234")
    with open_store(data) as st:
        tech = st.users.add("Bo L.", "technician", "1111")
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, data, simulate=True).start(app)
    try:
        assert wait_until(lambda: len(rt.sensors.readers) == 3 and all(
            r.status().state == "streaming" for r in rt.sensors.readers), 30), "the sensors did not stream"
        import logging

        from gaitkiosk.logbuffer import KEEP_LINES

        for i in range(KEEP_LINES):  # a full log ring: what the export carries on a unit that ran for a while
            logging.getLogger("gaitkiosk.bench").warning("line %d: sensor sim-mat-48x48-seed1 is reconnecting: "
                                                         "the device did not answer for 1 s", i)
        with open_store(data) as st:
            desk = staff_views.Desk(st, tech, config, rt)
            t = time.perf_counter()
            staff_views.show(desk, "diagnostics", {})
            first = time.perf_counter() - t
            views, archives, size = [], [], 0
            for _ in range(RUNS):
                t = time.perf_counter()
                staff_views.show(desk, "diagnostics", {})
                views.append(time.perf_counter() - t)
                t = time.perf_counter()
                size = len(diagnostics_export.archive(desk, diagnostics.snapshot(desk), patient_data=False))
                archives.append(time.perf_counter() - t)
    finally:
        rt.close()
    out = {"first_view_ms": round(first * 1000, 1),
           "view_median_ms": round(statistics.median(views) * 1000, 2), "view_max_ms": round(max(views) * 1000, 2),
           "archive_median_ms": round(statistics.median(archives) * 1000, 2),
           "archive_max_ms": round(max(archives) * 1000, 2), "archive_bytes": size, "runs": RUNS}
    for k, v in out.items():
        print(f"{k:>20}: {v}")
    return out


if __name__ == "__main__":
    main()
