"""The running kiosk: reader threads -> calibration -> kernels -> drill -> UI, and the store writer.

Threads (the UI thread never waits on any of them):

* one **reader** thread per sensor (``device.reader``), each filling a bounded queue;
* the **analysis** thread (:meth:`Runtime._analysis_loop`): drains the queues,
  turns counts into kPa (``gaitkiosk.pressure``), runs the kernels
  (``drills.feed.KernelFeed``), updates the active drill, hands raw frames to
  the recording writer, and publishes an immutable :class:`LiveSnapshot`
  that the UI reads with :meth:`latest` (a reference swap: no lock, no wait);
* the **worker** thread (:class:`gaitkiosk.visit.Visit`): everything that
  touches the database or opens ports: check-in, sessions, trials, reports;
* the store's **recording writer** thread (``store.writer``).

The UI posts :class:`ui.app.Intent` objects into :attr:`Runtime.actions`; the
worker answers with :class:`ui.app.Message` objects through ``app.deliver``.
Drill commands (begin, pause, resume, stop) are applied on the analysis thread
so that only one thread ever touches a drill.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from device import stall
from gaitkiosk.liveview import drill_view
from gaitkiosk.pressure import NOMINAL

log = logging.getLogger(__name__)

TRAIL_POINTS = 200  # COP trail on the heat map: the last 2 s at 100 Hz (quiet sway is a few mm a second)
# A running mat drill whose mat sends nothing for this long is paused with a sensor alert. The
# reader only calls a link silent after devices.silence_timeout_s (1 s); a drill cannot wait that
# long unwatched. 0.3 s is 30 frames at 100 Hz, well above the scheduling hiccups measured on a
# loaded 2-core machine (bench_ui: max_mat_gap_ms).
MAT_SILENCE_S = 0.3
ANALYSIS_STOP_S = 10.0  # closing: the analysis thread ends within one step; more means a bug, logged
# Closing: the worker waits for the analysis thread, then stops a running trial's recording writer
# (the writer flushes its queue: up to store.writer_queue_frames on a slow SD card) and writes the
# visit's closing rows.
WORKER_CLOSE_S = ANALYSIS_STOP_S + 30.0
INSOLE_PAIR_S = 0.05  # wait this long for the other insole's frame before analysing one side alone


@dataclass(frozen=True)
class LiveSnapshot:
    """What the live screen draws; published by the analysis thread, never mutated."""

    seq: int
    t_frame: float | None = None  # host time of the newest frame in it (for latency)
    mat_kpa: np.ndarray | None = None
    mat_geometry: tuple | None = None  # (rows, cols, (row pitch, col pitch))
    cop_mm: tuple | None = None
    cop_trail: tuple = ()
    insole_kpa: dict | None = None
    insole_layout: dict | None = None
    drill: dict | None = None
    device_problem: str | None = None
    published_at: float = 0.0
    # kind -> how its kPa are made (device/calibration_state.py): a kPa legend on a staff screen says it
    calibration: dict = field(default_factory=dict)
    # kind -> the newest raw counts of that sensor, as the device sent them (the diagnostics screen's map)
    raw_counts: dict = field(default_factory=dict)


@dataclass
class ActiveDrill:
    """A drill while it runs on the analysis thread, with what it needs."""

    drill: object
    feed: object
    writer: object | None = None
    autopilot: object | None = None
    pressure: dict = field(default_factory=dict)
    finished: bool = False
    device_zero: dict = field(default_factory=dict)  # serial -> the sensor's ZERO state when the drill began


class Runtime:
    """Owns the threads. ``start(app)`` then the UI loop; ``close()`` at the end."""

    def __init__(self, config: dict, data_dir, *, simulate: bool = False, drill_seconds: float | None = None,
                 countdown_s: float | None = None, seed: int | None = None, sim_fall_at: float | None = None,
                 clock=time.monotonic, keypad_lockout=None, staff_lockout=None, panel_factory=None):
        from gaitkiosk.lockout import KeypadLockout
        from gaitkiosk.sensors import Sensors

        self.config = config
        self.data_dir = data_dir
        self.simulate = simulate
        self.drill_seconds = drill_seconds
        self.countdown_s = countdown_s
        self.sim_fall_at = sim_fall_at  # --simulate: one scheduled loss of balance (demos)
        self.seed = config["sim"]["seed"] if seed is None else seed
        self.clock = clock
        # Wrong check-in codes slow the keypad down; its own clock, so tests can move it without sleeping.
        self.keypad_lockout = keypad_lockout or KeypadLockout()
        self.staff_lockout = staff_lockout or KeypadLockout()  # wrong staff PINs: the same rule, counted apart
        self.sensors = Sensors(config)
        self.actions: queue.SimpleQueue = queue.SimpleQueue()
        self.app = None
        self.visit = None
        self.alert_listeners: list = []  # callables(alert), on the analysis thread: the GPIO panel's buzzer and light
        self.staff_listeners: list = []  # callables(reason): "staff needed" (the panel's buzzer pattern)
        self.panel = None  # gaitkiosk.panel.PanelDriver when [panel] enabled
        self._panel_factory = panel_factory  # a gpiozero pin factory for the panel (tests: MockFactory)
        self.alerts: list = []
        # The last drill command the analysis thread applied to a running drill, and when (runtime
        # clock): how the stop button's latency is measured (tests/test_panel.py).
        self.last_command: tuple[str, float] | None = None
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._latest = LiveSnapshot(seq=0)
        # part -> time.monotonic() of its thread's latest turn: "analysis", "worker", "ui" (the readers
        # and the recording writer keep their own .heartbeat). gaitkiosk/watchdog.py reads them.
        self.beats: dict[str, float] = {}
        # time.monotonic() at the ends of the start-up phases (watchdog.startup_phases: READY's STATUS, bench_boot)
        self.startup: dict[str, float] = {}
        self._seq = 0
        self._stop = threading.Event()
        self._sensors_lock = threading.Lock()
        self._analysis: threading.Thread | None = None
        self._left_active: ActiveDrill | None = None  # a drill still running when the analysis thread ended
        self._worker: threading.Thread | None = None
        self.sync = None  # sync.thread.SyncThread while the kiosk is enrolled
        self.release_fetcher = None  # gaitkiosk.update.background.ReleaseFetcher while enrolled
        self._trail: deque = deque(maxlen=TRAIL_POINTS)
        self._taps: dict[str, queue.Queue] = {}  # serial -> its raw frames for a calibration (tap())
        self.calibration_job = None  # the calibration wizard's running procedure (gaitkiosk/calibration_job.py)
        self.device_problem: str | None = None  # set by the worker: one plain line, or None
        self.stats = {"mat_frames": 0, "insole_frames": 0, "drill_updates": 0, "analysis_s": 0.0, "max_mat_gap_s": 0.0,
                      "max_mat_rx_gap_s": 0.0, "max_lag_s": 0.0,
                      "silence_not_confirmed": 0}

    # -- the UI's side ------------------------------------------------------------------------
    def drill_running(self) -> bool:
        """Whether a patient is in an exercise now (its countdown, its run or a pause): the sync
        worker holds off meanwhile ([sync] hold_during_drills), so the drill has the CPU."""
        drill = self._latest.drill
        return drill is not None and drill.get("phase") not in (None, "done")

    def latest(self) -> LiveSnapshot:
        """The newest snapshot (never blocks).

        The sensor status is the worker's latest word even when no frame comes at all (every
        sensor unplugged), which is exactly when the start screen must say so.
        """
        snap = self._latest
        if snap.device_problem != self.device_problem:
            snap = dataclasses.replace(snap, device_problem=self.device_problem)
        return snap

    def staff_needed(self, reason: str) -> None:
        """A problem the patient cannot solve (storage failed): log it for staff and tell listeners."""
        log.error("staff needed: %s", reason)
        for listener in list(self.staff_listeners):
            try:
                listener(reason)
            except Exception:  # noqa: BLE001 - a broken buzzer must not hide the problem
                log.exception("staff listener failed")

    def deliver(self, kind: str, /, **data) -> None:
        from ui.app import Message

        if self.app is not None:
            self.app.deliver(Message(kind, data))

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, app) -> Runtime:
        """Open the store and the sensors, start the threads, and connect ``app``."""
        from gaitkiosk import logbuffer
        from gaitkiosk.visit import Visit

        logbuffer.install()  # the recent log lines for the diagnostics export
        self.app = app
        app.outbox = self.actions
        app.feed = self
        ready = threading.Event()
        self.visit = Visit(self)
        self._worker = threading.Thread(target=self.visit.run, args=(ready,), name="kiosk-worker", daemon=True)
        self._worker.start()
        ready.wait(30.0)
        if self.visit.startup_error is not None:
            self.close()
            raise self.visit.startup_error
        self._analysis = threading.Thread(target=self._analysis_loop, name="kiosk-analysis", daemon=True)
        self._analysis.start()
        self._start_panel()
        self._start_sync()
        return self

    def _start_panel(self) -> None:
        """The GPIO safety panel, when the unit has one: a configured panel that cannot be opened
        stops the start (a kiosk must not run without the stop button it is supposed to have)."""
        from gaitkiosk.panel import start_panel

        try:
            self.panel = start_panel(self, self.config, self._panel_factory)
        except Exception as exc:
            from gaitkiosk.errors import KioskError

            self.close()
            raise KioskError(f"the GPIO safety panel cannot be opened ({exc}); check its wiring and [panel] in "
                             "the config, or set [panel] enabled = false on a unit without one") from None

    def _start_sync(self) -> None:
        """The sync worker's thread when the kiosk is enrolled (docs/sync.md): its own connection."""
        try:
            from sync.thread import start_if_enrolled
        except ImportError as exc:  # httpx missing: the kiosk runs, offline
            log.error("sync is not available: %s", exc)
            return
        self.sync = start_if_enrolled(self.data_dir, self.config, hold=self.drill_running)
        # New releases: fetched, checked and staged in the background, never applied (gaitkiosk/update/background.py)
        from gaitkiosk.update import background

        self.release_fetcher = background.start_if_enrolled(self.data_dir, self.config, hold=self.drill_running)

    def close(self) -> None:
        """Stop the threads; the worker closes the visit first (a running trial's writer and rows)."""
        if self.panel is not None:
            self.panel.close()
            self.panel = None
        self._stop.set()
        if self.sync is not None:
            self.sync.stop()
        if self.release_fetcher is not None:
            self.release_fetcher.stop()
        self.actions.put(None)
        for t, wait_s in ((self._analysis, ANALYSIS_STOP_S), (self._worker, WORKER_CLOSE_S)):
            if t is not None and t is not threading.current_thread():
                t.join(wait_s)
                if t.is_alive():
                    log.error("the %s thread did not end within %.0f s of closing", t.name, wait_s)
        with self._sensors_lock:
            self.sensors.close()

    def open_sensors(self, urls: list[str]) -> None:
        """(worker thread) Replace the open sensors; the analysis thread pauses meanwhile."""
        with self._sensors_lock:
            self.sensors.close()
            self.sensors.open(urls)
        self._trail.clear()

    def tap(self, serial: str, maxsize: int = 4096) -> queue.Queue:
        """(t_host, counts) of every frame of device ``serial`` from now on, as the analysis thread
        takes it off the device's reader (the calibration wizard measures through it: the kiosk's
        own reader, never a second opening of the port). ``untap`` ends it."""
        q: queue.Queue = queue.Queue(maxsize)
        self._taps = {**self._taps, serial: q}  # a new dict: the analysis thread reads it without a lock
        return q

    def untap(self, serial: str) -> None:
        self._taps = {k: v for k, v in self._taps.items() if k != serial}

    def recalibrated(self, serial: str, calibrations) -> None:
        """(worker thread) A calibration was stored for ``serial``: decide its kPa conversion afresh
        (``calibrations(serial)`` -> the store's active Calibration or None), as at start-up."""
        with self._sensors_lock:
            self.sensors.pressure.pop(serial, None)
            self.sensors.identify(calibrations)

    def command(self, name: str, payload=None) -> None:
        """Queue a drill command for the analysis thread: activate, begin, pause, resume, stop, drop."""
        self._commands.put((name, payload))

    # -- analysis thread -----------------------------------------------------------------------------
    def beat(self, part: str) -> None:
        """``part``'s thread is alive (a turn of its loop); the watchdog feeds systemd only while all are."""
        stall.point(part)
        self.beats[part] = time.monotonic()

    def _analysis_loop(self) -> None:
        state = _AnalysisState()
        try:
            while not self._stop.is_set():
                self.beat("analysis")
                try:
                    self._analysis_step(state)
                except Exception:  # noqa: BLE001 - a bug here must not freeze the kiosk silently
                    log.exception("analysis step failed")
                    active = state.active
                    if active is not None and not active.finished:
                        active.drill.stop(self.clock())
                        self._drill_done(state)
                    time.sleep(0.05)
        finally:
            # The kiosk is closing under a running (or safety-paused) drill: stop it here, the only
            # thread that touches a drill, and leave it to the worker, which stops its recording
            # writer and closes its trial (Visit._close, via analysis_stopped).
            a = state.active
            if a is not None and not a.finished:
                try:
                    a.drill.stop(self.clock())
                except Exception:  # noqa: BLE001 - its writer must still be stopped
                    log.exception("stopping the drill at close")
                a.finished = True
                self._left_active = a

    def analysis_stopped(self, timeout: float) -> ActiveDrill | None:
        """(worker thread, closing) Wait until the analysis thread has ended; the drill it left running.

        After this no frame reaches a recording writer any more, so stopping one stores
        every frame it accepted. None: no drill was running (or the thread would not end).
        """
        t = self._analysis
        if t is None or t is threading.current_thread():
            return None
        t.join(timeout)
        if t.is_alive():
            log.error("the analysis thread did not end within %.0f s of closing", timeout)
            return None
        return self._left_active

    def _analysis_step(self, state: _AnalysisState) -> None:
        self._apply_commands(state)
        with self._sensors_lock:
            readers = list(self.sensors.readers)
            pressure = dict(self.sensors.pressure)
            mat_reader = self.sensors.by_kind("mat")
        if not readers:
            time.sleep(0.01)
            self._tick_without_frames(state, None)
            return
        primary = mat_reader or readers[0]
        first = primary.frames.get(timeout=0.01)
        frames = [first] if first is not None else []
        for r in readers:
            frames.extend(r.frames.drain())
        frames.sort(key=lambda f: f.t_host)
        taps = self._taps
        if taps:
            for f in frames:
                q = taps.get(f.device)
                if q is not None:
                    try:
                        q.put_nowait((f.t_host, f.counts))
                    except queue.Full:  # nobody measures any more; the procedure times out on its own
                        pass
        now = self.clock()
        if any(f.kind == "mat" for f in frames):
            if state.last_mat_rx is not None:
                self.stats["max_mat_rx_gap_s"] = max(self.stats["max_mat_rx_gap_s"], now - state.last_mat_rx)
            state.last_mat_rx = now
            self.stats["max_lag_s"] = max(self.stats["max_lag_s"], now - frames[0].t_host)
        t0 = time.perf_counter()
        published = False
        for frame in frames:
            published |= self._frame(state, frame, pressure, readers)
        if frames and not published and state.active is None:
            self._publish(state, frames[-1].t_host)
        self._tick_without_frames(state, mat_reader)  # the mat may be silent while the insoles still talk
        self.stats["analysis_s"] += time.perf_counter() - t0

    def _apply_commands(self, state: _AnalysisState) -> None:
        while True:
            try:
                name, payload = self._commands.get_nowait()
            except queue.Empty:
                return
            now = self.clock()
            a = state.active
            if name == "activate":
                state.active = payload
                state.sensor_alert = None
                state.last_mat_frame_t = None
                state.armed_at = now
                state.view = drill_view(payload.drill)
                self._trail.clear()
            elif name == "drop":
                if a is not None and not a.finished:
                    # Still running (the visit ended under it): stop it so its writer is closed properly.
                    a.drill.stop(now)
                    self._drill_done(state)
                state.active = None
                state.view = None
            elif a is not None and not a.finished:
                if name == "begin":
                    a.drill.begin(now)
                elif name == "pause":
                    a.drill.pause(now)
                elif name == "resume":
                    state.sensor_alert = None
                    state.armed_at = now  # the mat gets MAT_SILENCE_S to show it is back
                    a.drill.resume(now)
                elif name == "stop":
                    a.drill.stop(now)
                self.last_command = (name, now)
                self._after_update(state, now)

    def _kpa(self, frame, pressure) -> np.ndarray | None:
        p = pressure.get(frame.device)
        if p is None or not p.usable:
            return None
        return p.kpa(frame.counts)

    def _frame(self, state: _AnalysisState, frame, pressure, readers) -> bool:
        a = state.active
        if a is not None and a.writer is not None:
            p = pressure.get(frame.device)
            if p is not None and p.source == NOMINAL and frame.kpa_per_count <= 0:
                # Store the scale that was used live, so the trial's report can be made from the
                # stored raw counts; the recording row keeps calibration_id empty (see pressure.py).
                frame = dataclasses.replace(frame, kpa_per_count=p.kpa_per_count)
            a.writer.put(frame)
        kpa = self._kpa(frame, pressure)
        p = pressure.get(frame.device)
        state.calibration[frame.kind] = p.source if p is not None else None
        state.raw_counts[frame.kind] = frame.counts
        if frame.kind == "mat":
            self.stats["mat_frames"] += 1
            if state.last_mat_frame_t is not None:
                gap = frame.t_host - state.last_mat_frame_t
                self.stats["max_mat_gap_s"] = max(self.stats["max_mat_gap_s"], gap)
            state.last_mat_frame_t = frame.t_host
            state.mat_kpa = kpa
            state.mat_geometry = self._geometry(readers, frame)
            if kpa is None:
                return False
            if a is not None and "mat" in a.drill.SENSORS and a.feed.analyzer is not None:
                result, events = a.feed.mat_frame(frame.t_host, kpa)
                state.cop = result.cop_mm
                if result.cop_mm is not None:
                    self._trail.append(result.cop_mm)
                self._update_drill(state, frame.t_host, result, events, None)
                self._publish(state, frame.t_host)
                return True
            return False
        # an insole
        self.stats["insole_frames"] += 1
        side = "left" if frame.kind == "insole_left" else "right"
        if kpa is None:
            return False
        state.insole_kpa[side] = kpa
        state.insole_t[side] = frame.t_host
        for r in readers:
            h = r.hello
            if h is not None and h.serial == frame.device and h.sensors_mm is not None:
                state.insole_layout.setdefault(side, np.asarray(h.sensors_mm))
        if a is not None and "insoles" in a.drill.SENSORS and a.feed.insoles:
            state.pending[side] = kpa
            other = "right" if side == "left" else "left"
            if other in state.pending or frame.t_host - state.insole_t.get(other, -1e9) > INSOLE_PAIR_S:
                results, events = a.feed.insole_frames(frame.t_host, dict(state.pending))
                state.pending.clear()
                self._update_drill(state, frame.t_host, None, events, results)
                self._publish(state, frame.t_host)
                return True
        return False

    def _geometry(self, readers, frame):
        for r in readers:
            h = r.hello
            if h is not None and h.serial == frame.device:
                return (h.rows, h.cols, tuple(float(v) for v in h.pitch_mm))
        return None

    def _tick_without_frames(self, state: _AnalysisState, mat_reader) -> None:
        """A running mat drill whose mat went silent is paused with a sensor alert.

        A lost sensor is not a loss of balance, so the drill is not fed made-up
        "no load" frames: the kiosk itself pauses it, tells the patient to hold on,
        and raises an alert (reason ``sensor_lost``) like a safety stop.

        Two clocks must agree before the mat is called silent: no mat frame has
        reached this thread for MAT_SILENCE_S, *and* the mat's reader has itself
        watched the port that long since the last frame (``watched_silence_s``).
        When the whole process got no CPU for a moment (a busy machine), the
        first is true and the second is not: the frames are waiting in the port,
        and the reader has not looked yet. That was the false "The mat stopped
        working" of a healthy link. A reader that is not streaming (unplugged,
        reconnecting) has no say: silence is silence.
        """
        a = state.active
        now = self.clock()
        if a is None or a.finished or state.sensor_alert is not None:
            return
        # Silence is judged by when frames *arrive* here, so an analysis that falls behind
        # (frames queued, older t_host) is never mistaken for a mat that went quiet.
        if "mat" in a.drill.SENSORS and a.drill.phase in ("countdown", "running") \
                and now - max(state.last_mat_rx or 0.0, state.armed_at) > MAT_SILENCE_S:
            watched = mat_reader.watched_silence_s() if mat_reader is not None else None
            if watched is not None and watched <= MAT_SILENCE_S:
                self.stats["silence_not_confirmed"] += 1
                return
            from drills.safety import alert as safety_alert

            alert = safety_alert("sensor_lost", now, a.drill.name)
            a.drill.pause(now)
            state.sensor_alert = alert
            self._raise_alert(alert)
            self.deliver("cue", name="alarm", say=None)
            self._after_update(state, now)
            self._publish(state, now)

    def _update_drill(self, state: _AnalysisState, t: float, frame, events, insoles) -> None:
        a = state.active
        if a is None or a.finished:
            return
        a.drill.update(t, frame, events, insoles)
        self.stats["drill_updates"] += 1
        if a.autopilot is not None:
            a.autopilot.act(t, a.drill)
        self._after_update(state, t)

    def _raise_alert(self, alert) -> None:
        self.alerts.append(alert)
        self.actions.put(_internal("alert", alert=alert))
        for listener in list(self.alert_listeners):
            try:
                listener(alert)
            except Exception:  # noqa: BLE001 - a broken buzzer must not stop the drill
                log.exception("alert listener failed")

    def _after_update(self, state: _AnalysisState, t: float) -> None:
        a = state.active
        for alert in a.drill.take_alerts():
            self._raise_alert(alert)
        for cue in a.drill.take_cues():
            self.deliver("cue", name=cue.name, say=cue.say)
        state.view = drill_view(a.drill)
        if state.sensor_alert is not None and a.drill.phase == "paused":
            state.view = {**state.view, "phase": "alert", "alert": state.sensor_alert.message}
        if a.drill.phase == "done" and not a.finished:
            self._drill_done(state)

    def _drill_done(self, state: _AnalysisState) -> None:
        a = state.active
        a.finished = True
        state.view = drill_view(a.drill)
        self._publish(state, self.clock())
        self.actions.put(_internal("drill_finished", active=a))
        state.active = None

    def _publish(self, state: _AnalysisState, t_frame: float) -> None:
        self._seq += 1
        with_drill = state.active is not None or state.view is not None
        self._latest = LiveSnapshot(
            seq=self._seq, t_frame=t_frame, mat_kpa=state.mat_kpa, mat_geometry=state.mat_geometry,
            cop_mm=state.cop, cop_trail=tuple(self._trail), insole_kpa=dict(state.insole_kpa),
            insole_layout=dict(state.insole_layout), drill=state.view if with_drill else None,
            device_problem=self.device_problem, published_at=self.clock(), calibration=dict(state.calibration),
            raw_counts=dict(state.raw_counts))


class _AnalysisState:
    def __init__(self):
        self.active: ActiveDrill | None = None
        self.view: dict | None = None
        self.mat_kpa = None
        self.mat_geometry = None
        self.cop = None
        self.insole_kpa: dict = {}
        self.insole_t: dict = {}
        self.insole_layout: dict = {}
        self.calibration: dict = {}  # kind -> Pressure.source of the newest frame
        self.raw_counts: dict = {}  # kind -> the newest frame's counts
        self.pending: dict = {}
        self.sensor_alert = None
        self.last_mat_frame_t = None
        self.last_mat_rx: float | None = None  # host time the last mat frame was taken off its queue
        self.armed_at = 0.0  # silence is counted from here at the earliest (activate, resume)


def _internal(kind: str, **data):
    from ui.app import Intent

    return Intent("_" + kind, data)
