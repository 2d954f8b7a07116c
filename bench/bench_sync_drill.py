"""`python bench/run.py sync_drill`: does the kiosk's sync disturb a live drill?

The whole kiosk runs in this process on the virtual patient, as bench/bench_ui.py runs it (a
48 x 48 mat and two insoles at 100 Hz through sim:// ports and reader threads, the analysis
thread, the recording writer, the UI under SDL's dummy driver stepped at 60 frames per second
on the live drill screen, 800 x 480). Its database holds a backlog: GAITKIOSK_BENCH_SYNC_DRILL_SESSIONS
closed sessions (default 1,000: session, trial, report), GAITKIOSK_BENCH_SYNC_DRILL_RECORDINGS of
them (default 80) with a mat recording of GAITKIOSK_BENCH_SYNC_DRILL_RECORDING_S seconds (default
120; the virtual patient standing, zero-gated, through the store's recording writer).

Once the drill runs, three ways in each round (GAITKIOSK_BENCH_SYNC_DRILL_ROUNDS, default 2), each
a fresh kiosk and database: the drill alone; with the sync worker's pass (sync.worker.Worker.once,
the kiosk's [sync] defaults: batches of rows, then the recordings) as a thread of the kiosk; with
the same pass as its own process (`nice -n 10 gaitkiosk sync once`, as the systemd unit runs it).
Against a real `gaitkiosk server` on a real PostgreSQL on this machine. A sync window counts the
frames while the pass ran; the drill alone is taken over the same first seconds of its window.

Per window: UI frame time (one App.step) median/p95, device-to-screen latency median/p95, mat
frames/s reaching the analysis, the kiosk process's CPU (all its threads) and the sync thread's
own. The server and PostgreSQL stand for another machine: they run at nice 19 so that their CPU
on this 2-core machine weighs on the drill as little as the scheduler allows.
GAITKIOSK_BENCH_SYNC_DRILL_THREAD_NICE (an experiment): nice the sync thread alone to that value.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

SIZE, DIAGONAL = (800, 480), 7.0
FPS = 60.0


def _env(name: str, default: float) -> float:
    return float(os.environ.get(f"GAITKIOSK_BENCH_SYNC_DRILL_{name}", default))


def _thread_cpu_s(native_id: int) -> float:
    """User + system CPU seconds of one thread of this process (/proc/self/task/TID/stat)."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _renice(pid: int, value: int = 19) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, value)
    except OSError as exc:  # not ours to renice: measured as it is, and said
        print(f"note: could not renice {pid}: {exc}")


class SyncPass(threading.Thread):
    """The kiosk's sync worker, one full pass, as a thread of the kiosk (its own SQLite connection)."""

    def __init__(self, data_dir: Path, config: dict):
        super().__init__(name="kiosk-sync", daemon=True)
        self.data_dir, self.config = data_dir, config
        self.done_at: float | None = None
        self.cycle = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from sync.worker import Worker

        nice = int(os.environ.get("GAITKIOSK_BENCH_SYNC_DRILL_THREAD_NICE", "0"))
        if nice:  # an experiment: the sync thread alone niced (Linux: a thread id is a process id here)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        try:
            with Worker(self.data_dir, self.config.get("sync")) as worker:
                self.cycle = worker.once()
        except BaseException as exc:  # noqa: BLE001 - said by the bench
            self.error = exc
        self.done_at = time.monotonic()


def make_kiosk(data_dir: Path, config: dict, sessions: int, recording: list, recordings: int) -> None:
    from sync_kiosk_support import backlog

    from gaitkiosk.demo_seed import seed_demo

    seed_demo(data_dir, config, "1234")
    backlog(data_dir, sessions, per_commit=500, recording=recording, recordings=recordings)


class SyncProcess:
    """The same pass as its own process, as the gaitkiosk-sync.service unit runs it (Nice=10)."""

    def __init__(self, data_dir: Path):
        self.process = subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "gaitkiosk", "sync", "once",
                                         "--data-dir", str(data_dir), "--json"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.done_at: float | None = None
        self.cycle = None
        self.error: str | None = None

    def poll(self) -> None:
        if self.done_at is None and self.process.poll() is not None:
            self.done_at = time.monotonic()

    def join(self, timeout: float) -> None:
        out, err = self.process.communicate(timeout=timeout)
        self.poll()
        if self.process.returncode:
            self.error = (err or out).strip()[-500:]
        else:
            self.cycle = json.loads(out)


def live_drill(data_dir: Path, config: dict, seconds: float, mode: str) -> dict:
    """One window of the live drill. ``mode``: "alone" (no sync), "thread" (the kiosk's sync thread runs
    meanwhile: the same worker, a thread of this process) or "process" (`gaitkiosk sync once`, Nice 10).
    Returns the per-frame numbers; :func:`window_numbers` sums them up."""
    import pygame
    from bench_ui import _wait

    from gaitkiosk.runtime import Runtime
    from ui import screens
    from ui.app import App, Intent
    from ui.theme import load_theme

    pygame.display.init()
    surface = pygame.display.set_mode(SIZE)
    app = App(surface, load_theme(), diagonal_in=DIAGONAL, router=screens.route)
    app.reset(screens.AttractScreen(app))
    # The kiosk's own sync thread is off: the bench starts the same worker when the drill runs.
    rt = Runtime({**config, "sync": {**config["sync"], "in_kiosk": False}}, data_dir, simulate=True,
                 countdown_s=0.5).start(app)
    sync = None
    try:
        app.post(Intent("checkin", {"code": "1234"}))
        _wait(app, lambda: app.top.name == "program")
        app.post(Intent("start_drill", {"index": 0}))
        _wait(app, lambda: app.top.name == "instruction")
        app.post(Intent("begin_drill", {"index": 0}))
        _wait(app, lambda: app.top.name == "drill" and app.top.view.get("phase") == "running")
        screen = app.top
        # per frame: time since start, App.step ms, latency ms (None: no mat frame yet), process CPU s
        frames = []
        app.frame_times.clear()
        mat_before = rt.stats["mat_frames"]
        cpu_before, sync_cpu = time.process_time(), 0.0
        start = time.monotonic()
        if mode == "thread":
            sync = SyncPass(data_dir, config)
            sync.start()
        elif mode == "process":
            sync = SyncProcess(data_dir)
        end = start + seconds
        last = start
        while time.monotonic() < end:
            t0 = time.monotonic()
            app.step(t0 - last, [])
            pygame.display.flip()
            shown = time.monotonic()
            last = t0
            frames.append((shown - start, app.frame_times[-1] * 1e3,
                           (shown - screen.frame_t) * 1e3 if screen.frame_t is not None else None,
                           time.process_time() - cpu_before))
            if mode == "thread" and sync.done_at is None and sync.is_alive():
                sync_cpu = _thread_cpu_s(sync.native_id)
            elif mode == "process":
                sync.poll()
            time.sleep(max(0.0, 1.0 / FPS - (time.monotonic() - t0)))
        took = time.monotonic() - start
        mat_frames = rt.stats["mat_frames"] - mat_before
        still_running = app.top is screen and screen.view.get("phase") == "running"
        max_gap_ms = rt.stats["max_mat_gap_s"] * 1e3
        app.post(Intent("stop_drill"))
        _wait(app, lambda: app.top.name == "result")
    finally:
        rt.close()
        pygame.display.quit()
    out = {"mode": mode, "frames": frames, "window_s": took, "mat_frames_per_s": round(mat_frames / took, 1),
           "max_mat_gap_ms": round(max_gap_ms, 1), "drill_running_throughout": still_running}
    if sync is not None:
        sync.join(600)
        if sync.error is not None:
            raise RuntimeError(f"the sync pass failed: {sync.error}")
        out["sync_s"] = round(sync.done_at - start, 2)
        if mode == "thread":
            out["sync_thread_cpu_s"] = sync_cpu  # last read while it ran
            out["sync_rows_sent"] = sync.cycle.sent
    return out


def window_numbers(w: dict, span: float) -> dict:
    """The frames of the window's first ``span`` seconds: frame time, latency, the process's CPU."""
    from bench_ui import _pct

    frames = [f for f in w["frames"] if f[0] <= span] or w["frames"][:1]
    frame_ms = [f[1] for f in frames]
    lat = [f[2] for f in frames if f[2] is not None]
    t, cpu = frames[-1][0], frames[-1][3]
    return {"frames": len(frames), "measured_s": round(t, 2),
            "frame_ms_median": round(statistics.median(frame_ms), 2), "frame_ms_p95": round(_pct(frame_ms, 0.95), 2),
            "latency_ms_median": round(statistics.median(lat), 1), "latency_ms_p95": round(_pct(lat, 0.95), 1),
            "process_cpu_pct": round(100 * cpu / t, 1)}


def main() -> dict:
    from pg_support import Cluster, bin_dir
    from sync_kiosk_support import record_mat
    from sync_support import running_server

    from gaitkiosk.config import default_config
    from sync.enrolment import enrol
    from sync.server import admin

    if bin_dir() is None:
        print("skipped: no PostgreSQL server binaries (apt-get install postgresql)")
        return {"skipped": "no PostgreSQL"}
    sessions = int(_env("SESSIONS", 1000))
    recordings = int(_env("RECORDINGS", 80))
    rec_s = _env("RECORDING_S", 120)
    seconds = _env("S", 10)
    rounds = int(_env("ROUNDS", 2))
    config = default_config()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-drill-"))
    cluster = Cluster()
    cluster.start()
    results = []  # per round: {mode: window}
    try:
        _renice(int((cluster.data / "postmaster.pid").read_text().split()[0]))
        template = record_mat(work / "template", rec_s)
        dsn = cluster.new_database()
        with running_server(dsn, work, extra=("--connections", "4")) as srv:
            _renice(srv.process.pid)
            for r in range(rounds):
                results.append({})
                for mode in MODES:
                    d = work / f"kiosk-{r}-{mode}"
                    make_kiosk(d, config, sessions, template, recordings)
                    if mode != "alone":
                        code, _ = admin.enrol_code(dsn, "bench", 1.0)
                        enrol(d, srv.url, code, name=d.name)
                    w = results[-1][mode] = live_drill(d, config, seconds, mode)
                    print(json.dumps({k: v for k, v in w.items() if k != "frames"}), flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)

    # Each sync window counts while its pass ran; the round's drill alone over the same first seconds.
    table = {mode: [] for mode in MODES}
    for rnd in results:
        for mode in MODES[1:]:
            w = rnd[mode]
            span = min(w["window_s"], w["sync_s"])
            row = {**window_numbers(w, span), "sync_s": w["sync_s"], "busy_whole_window": w["sync_s"] >= w["window_s"]}
            if mode == "thread":
                row["sync_thread_cpu_pct"] = round(100 * w["sync_thread_cpu_s"] / row["measured_s"], 1)
                row["sync_rows_sent"] = w["sync_rows_sent"]
            table[mode].append({**row, **_window_facts(w)})
            table["alone"].append({**window_numbers(rnd["alone"], span), "as_span_of": mode,
                                   **_window_facts(rnd["alone"])})
    stream_mb = sum(len(b) for _, b in template) / 1e6
    print(f"\nkiosk backlog: {sessions} sessions, {recordings} recordings of {rec_s:g} s of mat "
          f"({stream_mb:.2f} MB of chunks each); live drill {SIZE[0]}x{SIZE[1]}, {rounds} rounds "
          f"(alone, sync thread, sync process), each sync window counted while the pass ran, alone over the same span")
    keys = ("measured_s", "frame_ms_median", "frame_ms_p95", "latency_ms_median", "latency_ms_p95", "process_cpu_pct",
            "mat_frames_per_s")
    print(f"{'':<15}" + "".join(f"{k:>19}" for k in keys))
    for mode in MODES:
        for row in table[mode]:
            print(f"{NAMES[mode]:<15}" + "".join(f"{row[k]:>19}" for k in keys)
                  + (f"   sync pass {row['sync_s']} s" if "sync_s" in row else f"   (span of the {row['as_span_of']})")
                  + (f", sync thread CPU {row['sync_thread_cpu_pct']} %" if "sync_thread_cpu_pct" in row else ""))
    return {"sessions": sessions, "recordings": recordings, "recording_s": rec_s,
            "recording_mb_each": round(stream_mb, 2), "window_s": seconds, **table}


def _window_facts(w: dict) -> dict:
    """Over the whole window: the mat's rate into the analysis, its longest gap, the drill still running."""
    return {k: w[k] for k in ("mat_frames_per_s", "max_mat_gap_ms", "drill_running_throughout")}


MODES = ("alone", "thread", "process")
NAMES = {"alone": "drill alone", "thread": "sync thread", "process": "sync process"}


if __name__ == "__main__":
    main()
