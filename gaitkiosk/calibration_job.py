"""A calibration procedure running on the kiosk, for the calibration wizard (gaitkiosk/staff_rooms/calibration.py).

The procedure objects and their runner are the CLI's (``calibration.steps.run``
over procedures from gaitkiosk/calibrating.py). What differs is where the
frames come from and who says "ready":

* frames: ``Runtime.tap(serial)``, every raw frame of the device as the
  analysis thread takes it off the kiosk's own reader; the port is never
  opened a second time;
* ready: each step's instruction is shown on the screen, and the run waits
  until the staff user taps Ready (``ready(step)``); with ``--simulate`` the
  virtual technician (``device.sim.loads.CalibrationRig.perform``) then puts
  the load on, as it does for ``gaitkiosk calibrate sim://...``;
* progress: sent to the screen as ``calibration_progress`` messages, each
  with the newest frame in counts above the starting model's zero, about
  ten a second (the screen's live sensel map).

The run has a thread of its own: the worker thread stays free for the screen's
Ready and Cancel. It never touches the store: when it ends it posts the
``calibration_finish`` staff action, and the worker stores the result (the
CLI's code path, gaitkiosk/calibrating.py) with the logged-in user. Cancel --
or the staff user leaving (logout, idle, a patient's check-in) -- ends it
without storing anything: the old calibration stays in force.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading

import numpy as np

log = logging.getLogger(__name__)

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
SHOW_EVERY_S = 0.1  # progress and the live map go to the screen at most this often (frame clock)
WAIT_POLL_S = 0.05  # how often a waiting step looks for Ready, Cancel and new frames
_ids = itertools.count(1)


class Cancelled(Exception):
    """The run was cancelled (the Cancel button, or the staff user left)."""


class CalibrationJob:
    """One run of ``procedures`` on device ``serial`` (module docstring); ``start()`` runs it."""

    def __init__(self, runtime, *, serial: str, kind: str, action: str, procedures: list, model,
                 rel_tol: float, user_id: str, rig=None, silence_s: float = 3.0, port: str = ""):
        self.id = next(_ids)
        self.rt = runtime
        self.serial, self.kind, self.action = serial, kind, action
        self.procedures, self.model = procedures, model
        self.rel_tol = rel_tol
        self.user_id = user_id
        self.rig = rig  # the virtual technician (--simulate), or None: a person puts the loads on
        self.silence_s = silence_s
        self.port = port  # the reader's URL, kept in the record as the CLI keeps its port
        self.state = RUNNING
        self.result = None  # calibration.steps.RunResult once DONE
        self.error: str | None = None  # why it FAILED, in words
        self.last = None  # the newest calibration.steps.Progress
        self._ready_for = 0  # the step number (1-based, over the whole run) Ready was tapped for
        self._waiting = 0  # the step number the run waits at (0: none)
        self._steps_done = 0
        self._wake = threading.Event()
        self._cancel = threading.Event()
        self._shown_t = -1e9
        self._frame = None
        self._thread: threading.Thread | None = None
        # counts above the starting zero, for the live map
        self._offset = np.asarray(model.offset, dtype=np.float32)

    # -- the worker's side ---------------------------------------------------------------------------------
    def start(self) -> CalibrationJob:
        self._queue = self.rt.tap(self.serial)
        self._thread = threading.Thread(target=self._run, name=f"calibration-{self.id}", daemon=True)
        self._thread.start()
        return self

    def ready(self, step: int) -> bool:
        """The staff user tapped Ready for ``step``; False if the run does not wait there."""
        if step != self._waiting or self.state != RUNNING:
            return False
        self._ready_for = step
        self._wake.set()
        return True

    def cancel(self, timeout_s: float = 5.0) -> None:
        self._cancel.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def finished(self) -> bool:
        return self.state != RUNNING

    def steps_total(self) -> int:
        return sum(len(p.steps(self.model)) for p in self.procedures)

    # -- the run's thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        from calibration import steps
        from gaitkiosk.errors import KioskError

        try:
            self.result = steps.run(self.procedures, self.model, self._feed(), operator=self._operator,
                                    on_progress=self._progress, rel_tol=self.rel_tol)
            self.state = DONE
        except Cancelled:
            self.state = CANCELLED
        except KioskError as exc:  # a refused load, a load that never settled: in the procedure's words
            self.state, self.error = (CANCELLED, None) if self._cancel.is_set() else (FAILED, str(exc))
        except Exception as exc:  # noqa: BLE001 - told on the screen; the details are in the log
            log.exception("calibration %s of %s failed", self.action, self.serial)
            self.state, self.error = FAILED, f"the procedure stopped with an error ({type(exc).__name__}: {exc})"
        finally:
            self.rt.untap(self.serial)
            if self.rig is not None:
                self.rig.perform({"load": "empty"})  # the technician takes the weights off
            self._send()
        if self.state != CANCELLED:
            from ui.app import Intent

            self.rt.actions.put(Intent("staff_do", {"action": "calibration_finish", "job": self.id}))

    def _wanted(self) -> bool:
        """Still the same staff user logged in, and not cancelled."""
        visit = getattr(self.rt, "visit", None)
        user = getattr(getattr(visit, "staff", None), "user", None)
        return not self._cancel.is_set() and user is not None and user.id == self.user_id

    def _next(self, timeout: float):
        """The next (t, counts) from the tap, or None after ``timeout``; Cancelled when no longer wanted."""
        if not self._wanted():
            raise Cancelled()
        try:
            t, counts = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        self._frame = counts
        if t - self._shown_t >= SHOW_EVERY_S:
            self._shown_t = t
            self._send()
        return t, counts

    def _feed(self):
        from calibration.errors import CalibrationError

        while True:
            item = self._next(self.silence_s)
            if item is None:
                if not self._wanted():
                    raise Cancelled()
                raise CalibrationError(f"the sensor {self.serial} sent no frames for {self.silence_s:g} s; "
                                       "check its cable and run the procedure again")
            yield item

    def _operator(self, step) -> None:
        """Wait for Ready on this step (frames keep the live map moving), then the load goes on."""
        self._steps_done += 1
        self._waiting = self._steps_done
        self._send()
        while self._ready_for < self._waiting:
            self._wake.clear()
            if self._next(WAIT_POLL_S) is None and not self._wanted():
                raise Cancelled()
        self._waiting = 0
        if self.rig is not None and hasattr(self.rig, "perform"):
            self.rig.perform(step.request)
        while True:  # frames read before the user was ready are not this step's load
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def _progress(self, p) -> None:
        changed = self.last is None or (p.state, p.step, p.procedure) != (self.last.state, self.last.step, self.last.procedure)
        self.last = p
        if changed:
            self._send()

    def _send(self) -> None:
        p = self.last
        frame = None
        if self._frame is not None:
            frame = np.clip(self._frame.astype(np.float32) - self._offset, 0.0, None)
        data = {"job": self.id, "state": self.state, "waiting": self._waiting, "step_no": self._steps_done,
                "frame": frame, "progress": None if p is None else p.to_json()}
        self.rt.deliver("calibration_progress", **data)
