"""Kiosk CPU during a live drill, with the devices in another process (issue 16 "CPU budget", issue 14).

The virtual devices run in ANOTHER process (``gaitkiosk simulate --pty``), so this process holds
exactly what a kiosk holds: the Runtime with its real readers on the pseudo-terminals (configured
as ``devices.mat`` / ``devices.insoles``, or ``[[devices.tiles]]`` for the walkway), the analysis
thread, the worker, the store's recording writer, and the UI ``App`` stepped at 60 frames per
second (``ui.fps``) under SDL's dummy video driver, flipping the display as ``App.run`` does.

The demo patient checks in and starts a live quiet-standing drill (a prescription of
``duration_s`` = 90 s, eyes open; no autopilot: the person is the simulator's), exactly through
the intents the buttons post (tests/test_run_runtime.py). Once it runs, over ``MEASURE_S``:

* the whole process: CPU (user + system, ``getrusage``) as a share of one core, VmRSS and VmHWM;
* every thread: utime + stime from ``/proc/self/task/<tid>/stat``, named by its Python thread
  (``threading.enumerate()`` native_id): readers, stitcher, analysis, worker, writer, UI (main).

Configurations, each in a fresh process, alternating over ``ROUNDS`` rounds (the machine is shared):

* ``mat48_insoles``: the 48 x 48 mat at 100 Hz and two insoles (target <= 6 % of one core);
* ``mat48_insoles_before``: the same with the kiosk as before issue 16's fixes (the baseline in
  the same run: COP trail to pixels point by point, paragraphs wrapped every frame, the virtual
  patient and scipy.stats imported by the sensors' URLs, scipy.optimize by the calibration curves);
* ``mat48_insoles_30fps``: the same with ``ui.fps = 30``;
* ``walkway4_insoles``: 4 tiles (``--tiles 4``, ``[[devices.tiles]]``: 192 x 48 at 100 Hz) and two
  insoles (target <= 20 %);
* ``walkway_big_insoles``: 4 tiles of 64 x 64 at 200 Hz (256 x 64) and two insoles at 100 Hz.

``KIOSK_CPU_ONLY=name,name`` runs some; ``KIOSK_CPU_ROUNDS`` sets the rounds; ``KIOSK_CPU_DEBUG=1`` prints
every reader's (and tile's) link counters and the runtime's stats on stderr after the window. ``KIOSK_CPU_PROFILE=1``:
after the window, 10 s of a CPU-weighted stack sampler over every thread (``sys._current_frames()``
at ~1 kHz), 10 s of cProfile (thread CPU time) of the UI's ``App.step`` and 10 s of the analysis
thread's steps, printed per thread. The CPU numbers come from the unprofiled window only.

    nice -n 5 python bench/run.py kiosk_cpu
"""

from __future__ import annotations

import collections
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sim_link  # bench/sim_link.py: the devices in another process, CPU per thread

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

WARMUP_S = 3.0
MEASURE_S = 20.0
ROUNDS = int(os.environ.get("KIOSK_CPU_ROUNDS", "2"))
FPS = 60.0
HEAVY = ("scipy", "scipy.stats", "matplotlib", "reportlab", "PIL", "httpx", "numba", "pandas", "serial")
PITCH = 8.47  # mm, the virtual mat's sensel pitch
DRILL_S = 90.0  # the prescription's duration: longer than warm-up + window (+ the profiled window)
CONFIGS = [  # name, tiles, target % of one core, UI as before issue 16's fixes?, UI frames per second
    ("mat48_insoles", 1, 6.0, False, FPS),
    ("mat48_insoles_before", 1, 6.0, True, FPS),
    ("mat48_insoles_30fps", 1, 6.0, False, 30.0),
    ("walkway4_insoles", 4, 20.0, False, FPS),
    ("walkway_big_insoles", 4, 20.0, False, FPS),
]
# Tiles other than 48 x 48 at 100 Hz: name -> (tile rows, tile cols, mat rate Hz); insoles stay at 100 Hz.
TILE_SHAPES = {"walkway_big_insoles": (64, 64, 200.0)}


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _part(name: str) -> str:
    """A thread's part of the kiosk, from its Python name."""
    if name.startswith(("reader", "tile ")):
        return "readers"
    return {"MainThread": "ui (main)", "kiosk-analysis": "analysis", "kiosk-worker": "worker",
            "recording-writer": "writer", "walkway stitcher": "stitcher"}.get(name, name)


def thread_cpu() -> dict[str, float]:
    """CPU seconds per kiosk part, summed over its threads (Linux /proc/self/task)."""
    return sim_link.thread_cpu(_part, unnamed="other (not Python)")


def start_devices(tiles: int, shape: tuple[int, int, float] = (48, 48, 100.0)) -> tuple[subprocess.Popen, dict[str, str]]:
    cmd = ["--seconds", "900", "--scenario", "quiet",
           "--rows", str(shape[0]), "--cols", str(shape[1]), "--rate", f"{shape[2]:g}", "--insole-rate", "100"]
    if tiles > 1:
        cmd += ["--tiles", str(tiles)]
    return sim_link.start_pty_devices(cmd, tiles + 2)


def stop_devices(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def kiosk_config(paths: dict[str, str], tiles: int) -> dict:
    from gaitkiosk.config import default_config

    config = default_config()
    devices = config["devices"]
    devices["insoles"] = [paths["insole_left"], paths["insole_right"]]
    if tiles > 1:
        devices["mat"] = ""
        devices["tiles"] = [{"port": paths[f"mat_{i + 1}"]} for i in range(tiles)]
    else:
        devices["mat"] = paths["mat"]
    return config


def seed_patient(data_dir: Path, config: dict) -> None:
    """The demo patient, whose newest program is one long quiet-standing drill."""
    from drills import registry
    from gaitkiosk.demo_seed import DEMO_CODE, seed_demo
    from store import open_store
    from store.programs import Prescription, Program

    pid = seed_demo(data_dir, config, DEMO_CODE)
    params = registry.validate("quiet_standing", {"duration_s": DRILL_S, "eyes": "open"})
    with open_store(data_dir) as st:
        st.programs.add(Program(patient_id=pid, name="cpu bench", prescriptions=[
            Prescription(drill="quiet_standing", params=params)]))


def seed_calibrations(data_dir: Path, tiles: int, shape: tuple[int, int, float] = (48, 48, 100.0)) -> None:
    """An active calibration for each served device (a pty device is not ``sim://``: uncalibrated, no
    drill runs): the virtual sensor's own response curve, offset 0 and gain 1, as a calibration of
    a device-zeroed stream would hold. The walkway's is stored under its stitched serial."""
    if "device.sim" not in sys.modules:  # the simulator (and scipy.stats) stays out of the kiosk's process
        subprocess.run([sys.executable, __file__, "--seed-calibrations", str(data_dir), str(tiles),
                        str(shape[0]), str(shape[1])], check=True)
        return
    from calibration.curves import PowerLawCurve
    from calibration.model import CalibrationModel
    from calibration.storage import save
    from device.sim import VirtualPatient
    from store import open_store

    sensor = VirtualPatient("quiet", seed=1).mat_sensor
    curve = PowerLawCurve(sensor.full_scale_kpa / float(sensor.full_counts) ** (1.0 / sensor.exponent),
                          1.0 / sensor.exponent)
    if tiles > 1:
        mats = [("tiles:" + "+".join(f"sim-tile{i + 1}-pty" for i in range(tiles)), (shape[0] * tiles, shape[1]))]
    else:
        mats = [("sim-mat-pty", shape[:2])]
    devices = [(serial, "mat", shape, PITCH * PITCH, (PITCH, PITCH)) for serial, shape in mats]
    devices += [(f"sim-insole-{side}-pty", f"insole_{side}", (16, 1), 153.93803, None) for side in ("left", "right")]
    with open_store(data_dir) as st:
        for serial, kind, shape, area, pitch in devices:
            model = CalibrationModel.for_device(serial, kind, shape, sensel_area_mm2=area, pitch_mm=pitch)
            model.curve = curve
            if not save(st, model, [], operator="bench").active:
                raise RuntimeError(f"bench: the calibration of {serial} was not put in force")


class Ui:
    """The UI loop as ``App.run`` turns it: step, flip, hold the frame rate."""

    def __init__(self, app, fps: float = FPS):
        import pygame

        self.app, self.clock, self.dt, self.pygame, self.fps = app, pygame.time.Clock(), 0.0, pygame, fps
        self.cpu = {"step": 0.0, "flip": 0.0, "tick": 0.0}  # this thread's CPU seconds in each part
        self.profiler = None  # a cProfile.Profile that sees App.step only (KIOSK_CPU_PROFILE)

    def turn(self) -> None:
        t0 = time.thread_time()
        if self.profiler is not None:
            self.profiler.runcall(self.app.step, self.dt)
        else:
            self.app.step(self.dt)
        t1 = time.thread_time()
        self.pygame.display.flip()
        t2 = time.thread_time()
        self.dt = self.clock.tick(self.fps) / 1000.0
        t3 = time.thread_time()
        self.cpu["step"] += t1 - t0
        self.cpu["flip"] += t2 - t1
        self.cpu["tick"] += t3 - t2

    def run_for(self, seconds: float) -> int:
        end, n = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            self.turn()
            n += 1
        return n

    def until(self, pred, what: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.turn()
            if pred():
                return
        error = getattr(self.app.top, "error", None) or getattr(self.app.top, "message", None)
        raise RuntimeError(f"bench: no {what} within {timeout:g} s (screen {self.app.top.name}: {error})")


class Sampler:
    """Every thread's Python stack, ~1 kHz, weighted by the CPU the thread used since the last look
    (µs): self and inclusive CPU per (thread part, function). A C call shows as its Python caller."""

    def __init__(self, interval_s: float = 0.001):
        self.interval_s = interval_s
        self.self_counts: collections.Counter = collections.Counter()
        self.incl_counts: collections.Counter = collections.Counter()
        self.samples: collections.Counter = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _run(self) -> None:
        me = threading.get_ident()
        last_cpu: dict[int, float] = {}
        while not self._stop.is_set():
            names = {t.ident: _part(t.name) for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                # only a thread that ran since the last look: samples weighted by CPU, not wall time
                try:
                    cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except (OSError, ProcessLookupError):
                    continue
                ran = cpu - last_cpu.get(ident, cpu)
                last_cpu[ident] = cpu
                if ran <= 0:
                    continue
                weight = int(round(ran * 1e6))  # microseconds of CPU since the last look
                part = names.get(ident, "other")
                self.samples[part] += weight
                top = True
                seen = set()
                while frame is not None:
                    code = frame.f_code
                    key = (part, f"{Path(code.co_filename).name}:{code.co_name}")
                    if top:
                        self.self_counts[key] += weight
                        top = False
                    if key not in seen:
                        self.incl_counts[key] += weight
                        seen.add(key)
                    frame = frame.f_back
            time.sleep(self.interval_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def report(self, top: int = 12) -> dict:
        out = {}
        for part, n in self.samples.most_common():
            rows = [(k[1], c, self.incl_counts[k]) for k, c in self.self_counts.most_common() if k[0] == part][:top]
            incl = [(k[1], c) for k, c in self.incl_counts.most_common() if k[0] == part][:top]
            out[part] = {"samples": n, "self": rows, "inclusive": incl}
        return out


def profile_step(ui: Ui, seconds: float) -> str:
    """cProfile of the UI thread's App.step over ``seconds``: the top functions by own time."""
    import cProfile
    import io
    import pstats

    ui.profiler = cProfile.Profile(time.thread_time)  # CPU, not wall time (GIL waits)
    n = ui.run_for(seconds)
    prof, ui.profiler = ui.profiler, None
    text = io.StringIO()
    text.write(f"{n} UI frames\n")
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(18)
    return text.getvalue()


def profile_analysis(rt, ui: Ui, seconds: float) -> str:
    """cProfile of the analysis thread's steps over ``seconds`` (the UI turning meanwhile)."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile(time.thread_time)  # this thread's CPU, not wall time (GIL waits)
    step = rt._analysis_step
    rt._analysis_step = lambda state: prof.runcall(step, state)  # runs on the analysis thread
    try:
        ui.run_for(seconds)
    finally:
        rt._analysis_step = step
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(22)
    return text.getvalue()


def as_before(app):
    """The baseline in the same run: the kiosk as it was before issue 16's fixes: the live drill screen
    cleared and painted whole every frame (no kept layer), the heat map's indices by the numpy
    reference (no ``ui._heat``), the COP trail turned into pixels point by point and thinned in Python, every paragraph
    wrapped afresh each frame, the pressure picture coloured every frame (no ``MAP_HZ``), the virtual patient (with scipy.stats and scipy.signal) imported by the
    sensors' URLs and scipy.optimize by the calibration curves."""
    import scipy.optimize  # noqa: F401 - what calibration.curves imported at the top

    import device.handlers.protocol_sim  # noqa: F401 - what config_urls imported
    from ui import heat
    from ui.heatmap import MatView
    from ui.screens import drill
    from ui.screens.drill import LiveDrillScreen

    saved = MatView.trail_points, LiveDrillScreen.draw, heat._module, drill.MAP_HZ
    drill.MAP_HZ = 1e9  # coloured every frame
    MatView.trail_points = lambda self, trail: [self.to_px(x, y) for x, y in trail]  # draw_trail thins them
    app.fonts.wrap_cache_size = 0

    def draw_whole(self, surface):  # as before: clear, then every part painted on the screen itself
        surface.fill(self.app.theme.colors.background)
        self._kept.ring_shown, self._kept.dirty = None, []
        self._draw_column(surface)
        self._draw_live(surface)

    LiveDrillScreen.draw = draw_whole
    heat._module = None  # MatViews made from now on colour through the numpy reference

    def restore():
        MatView.trail_points, LiveDrillScreen.draw, heat._module, drill.MAP_HZ = saved
    return restore


def live_drill(name: str, tiles: int, target: float, data_dir: Path, profile: bool, before: bool = False,
               fps: float = FPS) -> dict:
    import pygame

    from gaitkiosk.runtime import Runtime
    from ui import screens
    from ui.app import App, Intent
    from ui.theme import load_theme

    shape = TILE_SHAPES.get(name, (48, 48, 100.0))
    proc, paths = start_devices(tiles, shape)
    try:
        config = kiosk_config(paths, tiles)
        seed_patient(data_dir, config)
        seed_calibrations(data_dir, tiles, shape)
        pygame.display.init()
        surface = pygame.display.set_mode((800, 480))  # the 7" touchscreen
        app = App(surface, load_theme(), diagonal_in=7.0, router=screens.route)
        app.reset(screens.AttractScreen(app))
        restore = as_before(app) if before else (lambda: None)
        rt = Runtime(config, data_dir, countdown_s=0.5).start(app)
        ui = Ui(app, fps)
        try:
            app.post(Intent("start"))
            ui.until(lambda: app.top.name == "checkin", "check-in screen")
            app.post(Intent("checkin", {"code": "1234"}))
            ui.until(lambda: app.top.name == "program", "program")
            app.post(Intent("start_drill", {"index": 0}))
            ui.until(lambda: app.top.name == "instruction", "instruction")
            app.post(Intent("begin_drill", {"index": 0}))
            ui.until(lambda: app.top.name == "drill" and app.top.view.get("phase") == "running", "running drill")
            ui.run_for(WARMUP_S)
            mat0, ins0 = rt.stats["mat_frames"], rt.stats["insole_frames"]
            ui0 = dict(ui.cpu)
            th0, c0, w0 = thread_cpu(), _cpu(), time.monotonic()
            frames = ui.run_for(MEASURE_S)
            th1, c1, w1 = thread_cpu(), _cpu(), time.monotonic()
            ui1 = dict(ui.cpu)
            mat1, ins1 = rt.stats["mat_frames"], rt.stats["insole_frames"]
            rss, hwm = _status_kb("VmRSS"), _status_kb("VmHWM")
            heavy = sorted(m for m in HEAVY if m in sys.modules)
            phase = app.top.view.get("phase") if app.top.name == "drill" else app.top.name
            mat_shape = app.top.snapshot.mat_kpa.shape if app.top.name == "drill" and app.top.snapshot.mat_kpa is not None else None
            hot = None
            if profile:
                with Sampler() as sampler:
                    ui.run_for(10.0)
                hot = sampler.report()
                hot["ui_step_cprofile"] = profile_step(ui, 10.0)
                hot["analysis_cprofile"] = profile_analysis(rt, ui, 10.0)
            alerts = [a.reason for a in rt.alerts]
            if os.environ.get("KIOSK_CPU_DEBUG"):
                for r in rt.sensors.readers:
                    st = r.status()
                    print(st.name, st.state, st.reason, {k: v for k, v in st.counters.items() if v}, file=sys.stderr)
                    for t in getattr(r, "tile_statuses", lambda: [])():
                        print("  ", t.name, t.state, t.reason, {k: v for k, v in t.counters.items() if v}, file=sys.stderr)
                print(rt.stats, file=sys.stderr)
            app.post(Intent("stop_drill"))
            ui.until(lambda: app.top.name == "result", "result")
        finally:
            rt.close()
            restore()
            pygame.display.quit()
    finally:
        stop_devices(proc)
    wall = w1 - w0
    cpu_pct = 100.0 * (c1 - c0) / wall
    threads = {k: round(100.0 * (th1.get(k, 0.0) - th0.get(k, 0.0)) / wall, 2) for k in th1}
    return {
        "config": name, "target_pct": target, "ui_as_before": before, "fps": fps, "cpu_pct": round(cpu_pct, 2), "wall_s": round(wall, 1),
        "threads_pct": dict(sorted(threads.items(), key=lambda kv: -kv[1])),
        "vmrss_mb": round(rss / 1024, 1), "vmhwm_mb": round(hwm / 1024, 1), "heavy_modules": heavy,
        "modules": len(sys.modules),
        "ui_fps": round(frames / wall, 1),
        "ui_parts_pct": {k: round(100.0 * (ui1[k] - ui0[k]) / wall, 2) for k in ui1}, "mat_hz": round((mat1 - mat0) / wall, 1),
        "insole_hz": round((ins1 - ins0) / wall, 1), "mat_shape": list(mat_shape) if mat_shape else None,
        "phase_at_end": phase, "alerts": alerts, "profile": hot,
    }


def ui_step_ab(rounds: int = 3, n: int = 1500) -> dict:
    """CPU of one ``App.step`` of the live drill screen, now and as before (``as_before``), alternating:
    the same stream of snapshots (a 48 x 48 frame with noise on the feet, a 200-point quiet-sway trail)."""
    import numpy as np
    import pygame

    from gaitkiosk.runtime import LiveSnapshot
    from ui import screens
    from ui.app import App
    from ui.theme import load_theme

    class Feed:
        snapshot = None

        def latest(self):
            return self.snapshot

    pygame.display.init()
    rng = np.random.default_rng(3)
    trail = tuple(map(tuple, ((200.0, 180.0) + np.cumsum(rng.normal(0.0, 0.3, (200, 2)), axis=0)).tolist()))
    feet = np.zeros((48, 48), np.float32)
    feet[8:36, 10:18] = feet[8:36, 30:38] = 120.0
    # noise on the feet only: a mat's zero gate leaves the unloaded sensels at 0 (as the virtual patient's)
    frames = [feet * (1.0 + rng.normal(0, 0.05, (48, 48))).astype(np.float32) for _ in range(20)]
    drill = {"name": "quiet_standing", "title": "Stand still", "phase": "running",
             "cue": "Stand still and keep the dot in the circle.", "countdown_s": None, "remaining_s": 12.0,
             "duration_s": 30.0, "progress": None, "targets": [], "zone": {"x_mm": 200.0, "y_mm": 180.0,
             "radius_mm": 20.0}, "share": None, "values": []}
    ms = {"before": [], "now": []}
    try:
        for _ in range(rounds):
            for which in ("before", "now"):
                feed = Feed()
                app = App(pygame.Surface((800, 480)), load_theme(), diagonal_in=7.0, feed=feed, router=screens.route)
                app.push(screens.LiveDrillScreen(app, {"title": "Stand still"}))
                restore = as_before(app) if which == "before" else (lambda: None)
                t0 = time.thread_time()
                for i in range(n):
                    feed.snapshot = LiveSnapshot(seq=i + 1, t_frame=1.0, mat_kpa=frames[i % 20],
                                                 mat_geometry=(48, 48, (PITCH, PITCH)), cop_mm=trail[-1],
                                                 cop_trail=trail, drill=drill)
                    app.step(1 / FPS, [])
                ms[which].append(round((time.thread_time() - t0) / n * 1e3, 3))
                restore()
    finally:
        pygame.display.quit()
    return ms


def frame_times(n: int = 600) -> dict:
    """The live drill screen's whole frame (``App.step``: update, the heat map, the marks, the ring) at
    the single mat's and the walkways' sizes: wall ms per frame (median, p95, max) and CPU ms, on an
    800 x 480 surface, a new frame (noise on the feet) every step, a 200-point trail, the ring counting down."""
    import numpy as np
    import pygame

    from gaitkiosk.runtime import LiveSnapshot
    from ui import screens
    from ui.app import App
    from ui.theme import load_theme

    class Feed:
        snapshot = None

        def latest(self):
            return self.snapshot

    pygame.display.init()
    out = {}
    try:
        for rows, cols in ((48, 48), (192, 48), (256, 64)):
            rng = np.random.default_rng(4)
            feet = np.zeros((rows, cols), np.float32)
            r0 = rows // 2 - 14
            feet[r0:r0 + 28, cols // 5:cols // 5 + 8] = feet[r0 + 10:r0 + 38, cols * 3 // 5:cols * 3 // 5 + 8] = 120.0
            frames = [feet * (1.0 + rng.normal(0, 0.05, (rows, cols))).astype(np.float32) for _ in range(20)]
            centre = (cols * PITCH / 2, rows * PITCH / 2)
            trail = tuple(map(tuple, (centre + np.cumsum(rng.normal(0.0, 0.3, (200, 2)), axis=0)).tolist()))
            feed = Feed()
            app = App(pygame.Surface((800, 480)), load_theme(), diagonal_in=7.0, feed=feed, router=screens.route)
            app.push(screens.LiveDrillScreen(app, {"title": "Stand still"}))
            wall, cpu = [], 0.0
            for i in range(n + 30):
                drill = {"name": "quiet_standing", "title": "Stand still", "phase": "running",
                         "cue": "Stand still and keep the dot in the circle.", "remaining_s": 60.0 - i / 60.0,
                         "duration_s": 90.0, "progress": None, "targets": [], "values": [],
                         "zone": {"x_mm": centre[0], "y_mm": centre[1], "radius_mm": 20.0}, "share": None}
                feed.snapshot = LiveSnapshot(seq=i + 1, t_frame=1.0, mat_kpa=frames[i % 20],
                                             mat_geometry=(rows, cols, (PITCH, PITCH)), cop_mm=trail[-1],
                                             cop_trail=trail, drill=drill)
                c0, t0 = time.thread_time(), time.perf_counter()
                app.step(1 / FPS, [])
                if i >= 30:  # the first frames build the layer and the map
                    wall.append((time.perf_counter() - t0) * 1e3)
                    cpu += time.thread_time() - c0
            wall.sort()
            out[f"{rows}x{cols}"] = {"median_ms": round(wall[len(wall) // 2], 3), "p95_ms": round(wall[int(len(wall) * 0.95)], 3),
                                     "max_ms": round(wall[-1], 3), "cpu_ms": round(cpu / n * 1e3, 3)}
    finally:
        pygame.display.quit()
    return out


def one(name: str) -> dict:
    """One configuration in this (fresh) process."""
    start_kb = _status_kb("VmRSS")
    import numpy  # noqa: F401 - what any kiosk process holds before its own code
    import pygame  # noqa: F401

    base_kb = _status_kb("VmRSS")
    (cfg,) = [c for c in CONFIGS if c[0] == name]
    _, tiles, target, before, fps = cfg
    with tempfile.TemporaryDirectory() as tmp:
        run = live_drill(name, tiles, target, Path(tmp), os.environ.get("KIOSK_CPU_PROFILE") == "1", before, fps)
    return {**run, "vmrss_mb_at_start": round(start_kb / 1024, 1), "vmrss_mb_numpy_pygame": round(base_kb / 1024, 1)}


def main() -> dict:
    only = os.environ.get("KIOSK_CPU_ONLY")
    out = {"load_average_1min_before": round(os.getloadavg()[0], 2), "runs": [], "rounds": ROUNDS}
    names = [c[0] for c in CONFIGS if not only or c[0] in only.split(",")]
    rounds: dict[str, list] = {n: [] for n in names}
    for _ in range(ROUNDS):  # the machine is shared: configurations alternate, each round in turn
        for name in names:  # each in a fresh process: its memory and imports are its own
            child = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
            if child.returncode != 0:
                raise RuntimeError(f"bench {name} failed: {child.stderr[-2000:]}")
            rounds[name].append(json.loads(child.stdout.strip().splitlines()[-1]))
    for name in names:  # the round with the (lower) median process CPU stands for the configuration
        runs = sorted(rounds[name], key=lambda r: r["cpu_pct"])
        out["runs"].append({**runs[(len(runs) - 1) // 2], "cpu_pct_rounds": [r["cpu_pct"] for r in rounds[name]]})
    out["ui_step_ms"] = ui_step_ab()
    out["frame_ms"] = frame_times()
    out["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    print(f"kiosk CPU during a live quiet-standing drill, devices in another process, UI at {FPS:g} fps; "
          f"window {MEASURE_S:g} s; load average {out['load_average_1min_before']} -> {out['load_average_1min_after']}")
    print(f"live drill screen, CPU ms per App.step, alternating rounds: {out['ui_step_ms']}")
    print(f"live drill screen's frame (App.step) by mat size, rows x cols: {out['frame_ms']}")
    for r in out["runs"]:
        print(f"\n{r['config']}: {r['cpu_pct']:.1f} % of one core (rounds {r['cpu_pct_rounds']}; target {r['target_pct']:g} %), "
              f"VmRSS {r['vmrss_mb']:.0f} MB, VmHWM {r['vmhwm_mb']:.0f} MB; mat {r['mat_hz']} Hz {r['mat_shape']}, "
              f"insoles {r['insole_hz']} frames/s, UI {r['ui_fps']} fps, phase {r['phase_at_end']}, alerts {r['alerts']}")
        print(f"    modules loaded {r['modules']}, of them heavy: {r['heavy_modules']}; VmRSS at start "
              f"{r['vmrss_mb_at_start']} MB, after numpy + pygame {r['vmrss_mb_numpy_pygame']} MB")
        for part, pct in r["threads_pct"].items():
            print(f"    {part:<24} {pct:6.2f} %")
        print("    UI thread by part: " + ", ".join(f"{k} {v:.2f} %" for k, v in r["ui_parts_pct"].items()))
        prof = dict(r["profile"] or {})
        for key in ("ui_step_cprofile", "analysis_cprofile"):
            if key in prof:
                print(prof.pop(key))
        for part, rows in prof.items():
            print(f"  profile {part} ({rows['samples'] / 1e6:.2f} s CPU sampled): self / inclusive, ms")
            for fn, own, inc in rows["self"][:8]:
                print(f"      {own / 1e3:8.1f} {inc / 1e3:8.1f}  {fn}")
            print("    inclusive: " + ", ".join(f"{fn} {c / 1e3:.0f}" for fn, c in rows["inclusive"][:12]))
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(sys.argv[2])))
    elif sys.argv[1:2] == ["--seed-calibrations"]:
        import device.sim  # noqa: F401 - in this helper process only

        seed_calibrations(Path(sys.argv[2]), int(sys.argv[3]), (int(sys.argv[4]), int(sys.argv[5]), 0.0))
    else:
        main()
