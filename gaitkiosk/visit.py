"""The worker thread of the running kiosk: a patient's visit, from check-in to goodbye.

It owns the database connection (SQLite connections stay on the thread that
opened them) and every slow or blocking step: looking a patient up, opening
sessions and trials, (re)opening sensors, starting and stopping the recording
writer, computing a trial's analysis report. The UI posts intents
(``ui.screens`` lists them); this thread answers with messages. Drill
commands are forwarded to the analysis thread.

The virtual patient (``--simulate``): before each drill the sensors are
reopened as a new simulated person in the scenario that drill needs
(``drills.autopilot.scenario_for``), and the drill's autopilot commands that
person like a cooperative patient (moves to targets, shifts weight).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import time

log = logging.getLogger(__name__)

STATUS_EVERY_S = 0.5
ZERO_RETRY_S = 10.0  # a sensor that was loaded (BUSY) is asked to zero again this much later
STANDING_SCENARIOS = ("weight_shift", "quiet", "rhythmic_shift", "rocking")  # take fall_at
COUNTED_DRILL_FACTOR = 4.0  # --seconds N: drills that end on a count may run up to 4 N
# --seconds N gives a drill at least this much running time: the least in which a cooperative
# patient can do enough of it to be scored fairly. The demo's tandem walk (3 judged steps on a
# 0.8 m mat: the first step of each pass is not judged) needs two passes of the looped walker,
# about 20 s at 40 steps/min; the insole drill needs a baseline of several steps before the
# metronome part (its parts shrink in proportion: 1/3 baseline, 2/3 metronome).
DEMO_MIN_S = {"tandem_walk": 40.0, "gait_insoles": 24.0}
# A drill's sensors (drills' SENSORS) -> the recording streams its numbers come from.
DRILL_STREAMS = {"mat": ("mat",), "insoles": ("insole_left", "insole_right")}


class Visit:
    def __init__(self, runtime):
        self.rt = runtime
        self.store = None
        self.startup_error: BaseException | None = None
        self.patient = None
        self.session = None
        self.items: list[dict] = []
        self.index = -1
        self.prepared = None  # ActiveDrill made by start_drill, started by begin_drill
        self.trial = None
        self.sim_people = 0
        self.saved = True
        self.fall_used = False
        self.next_zero = 0.0
        self.writer = None  # the running trial's recording writer (the analysis thread feeds it)
        self.storage_problem: str | None = None  # one line for staff on the start screen, or None
        self.failure_told = False  # this visit's patient has seen the storage screen
        self.pending_close: tuple | None = None  # (session id, trial, writer, reason) not yet written
        self.next_close_retry = 0.0
        self.staff = None  # gaitkiosk.staff.StaffDesk: who of the staff is logged in (made with the store)

    @property
    def lockout(self):
        """Wrong codes slow the keypad down (gaitkiosk/lockout.py); the runtime holds it across visits."""
        return self.rt.keypad_lockout

    # -- thread body -------------------------------------------------------------------------------
    def run(self, ready) -> None:
        from calibration.storage import install_export_converter
        from gaitkiosk.sensors import config_urls, sim_urls
        from gaitkiosk.staff import StaffDesk
        from store import open_store

        # A trial's report reads its raw counts back through the calibration that was in force.
        install_export_converter()
        try:
            self.rt.startup["worker"] = time.monotonic()
            self.store = open_store(self.rt.data_dir, settings=self.rt.config.get("store"), kiosk=True)
            self.staff = StaffDesk(self.store, self.rt.staff_lockout)
            self.rt.startup["database"] = time.monotonic()
            urls = sim_urls(self.rt.config, patient=self._sim_name()) if self.rt.simulate else config_urls(self.rt.config)
            self.rt.open_sensors(urls)
            self._zero_if_idle()
            self._identify()
            self.rt.startup["sensors"] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - reported to start(), which raises it
            self.startup_error = exc
            if self.store is not None:  # opened before the failure: its kiosk lock must not outlive it
                try:
                    self.store.close()
                except Exception:  # noqa: BLE001 - the start-up error is the one to report
                    log.exception("closing the store after a failed start")
                self.store = None
            ready.set()
            return
        ready.set()
        self.rt.deliver("reset")
        next_status = 0.0
        try:
            while not self.rt._stop.is_set():
                self.rt.beat("worker")
                try:
                    intent = self.rt.actions.get(timeout=0.2)
                except queue.Empty:
                    intent = None
                now = time.monotonic()
                if now >= next_status:
                    self.rt.device_problem = self.rt.sensors.problem() or self.storage_problem
                    next_status = now + STATUS_EVERY_S
                if self.pending_close is not None and now >= self.next_close_retry:
                    self._retry_close()
                if now >= self.next_zero:
                    self._zero_if_idle()
                    self._identify()
                if intent is None:
                    continue
                try:
                    self.handle(intent)
                except STORAGE_ERRORS as exc:
                    # The store cannot take more (full disk, size cap, damage, read-only card):
                    # never a silent hang; the visit is closed with the reason.
                    self._storage_failed(exc)
                except Exception:  # noqa: BLE001 - a failed step is told to the patient, not fatal
                    # The details are for staff (the log); the patient reads what to do.
                    log.exception("handling %s failed", intent.kind)
                    self.rt.deliver("drill_failed", text="Something went wrong. Please tell the staff.")
        finally:
            self._close()

    def _close(self) -> None:
        """The kiosk is closing: no recording writer may outlive it, and the visit is closed.

        A drill still running (or waiting after a safety stop) is stopped by the analysis
        thread as it ends; its writer is stopped here once no frame can reach it any more,
        so every frame it accepted is stored, and the trial is closed with what was recorded.
        """
        from gaitkiosk.runtime import ANALYSIS_STOP_S

        left = None
        writers = []
        try:
            left = self.rt.analysis_stopped(ANALYSIS_STOP_S)
            writers = self._writers(left)
            self._handle_pending()
            # Not the patient's stop: the exercise was cut short, so it is incomplete (docs/store.md).
            self._close_trial("incomplete", "the kiosk was shut down during this exercise", left)
            if self.pending_close is not None:
                self._retry_close()
            if self.session is not None:
                self.store.sessions.finish(self.session.id, status="incomplete",
                                           reason="the kiosk was shut down during this visit")
                self.session = None
            if self.staff is not None:
                self.staff.logout("shutdown")  # the audit log says when a staff login ended, whatever ended it
        except Exception:  # noqa: BLE001
            log.exception("closing the visit")
        finally:
            # Whatever failed above: a writer left running would keep its thread, its own
            # SQLite connection and its queued frames for the life of the process.
            for writer in writers or self._writers(left):
                writer.stop()
            if self.store is not None:
                self.store.close()

    def _writers(self, left) -> list:
        """Every recording writer this visit may still have running (closing)."""
        found = [left.writer if left is not None else None, self.writer,
                 self.pending_close[2] if self.pending_close is not None else None]
        unique = []
        for w in found:
            if w is not None and all(w is not u for u in unique):
                unique.append(w)
        return unique

    def _handle_pending(self) -> None:
        """(closing) What the other threads reported that the loop did not get to.

        A drill that finished just before the kiosk closed (its writer and trial), a safety
        alert (the audit log), a storage failure. The patient's own taps are not acted on.
        """
        while True:
            try:
                intent = self.rt.actions.get_nowait()
            except queue.Empty:
                return
            if intent is None or not intent.kind.startswith("_"):
                continue
            try:
                self.handle(intent)
            except STORAGE_ERRORS as exc:
                self._storage_failed(exc)
            except Exception:  # noqa: BLE001 - the rest of the visit must still be closed
                log.exception("handling %s while closing failed", intent.kind)

    def _close_trial(self, status: str, reason: str, left=None) -> None:
        """Stop the running trial's writer and close the trial (``status``) with what was recorded.

        ``left``: the drill the analysis thread left when it ended (closing only); its own
        outcome is kept in the results. Without it (the visit ended under the drill) the
        analysis thread is told to drop the drill; frames after this are not the trial's.
        """
        if self.trial is None:
            return
        writer = self.writer or (left.writer if left is not None else None)
        self.writer = None
        stats = writer.stop() if writer is not None else None
        recording, lost = stats.outcome() if stats is not None else ("none", "nothing was recorded")
        results = {}
        if left is not None and left.writer is writer:
            try:
                results = left.drill.result().to_dict()
            except Exception:  # noqa: BLE001 - the recording's state is stored all the same
                log.exception("the result of the drill left running at close")
        if stats is not None:
            results["recording"] = recording_counts(stats)
        self.store.trials.finish(self.trial.id, status=status, reason=reason, results=results or None,
                                 recording=recording, recording_reason=lost)
        self.trial = None

    def _sim_name(self) -> str:
        self.sim_people += 1
        return f"kiosk{self.sim_people}"

    def _zero_if_idle(self) -> None:
        """ZERO the sensors not yet zeroed, only on the start screen (no visit, no drill).

        A sensor with someone on it answers BUSY and is asked again ZERO_RETRY_S later;
        frames are never zeroed under a running drill, whose recording stays one kind.
        """
        self.next_zero = time.monotonic() + ZERO_RETRY_S
        devices = self.rt.config["devices"]
        if not devices.get("zero_when_idle", False) or self.session is not None or self.prepared is not None:
            return
        # No sensors lock: only this thread opens or replaces sensors, and a refusal comes at once.
        self.rt.sensors.zero(devices.get("zero_gate", 0))

    def _identify(self) -> None:
        self.rt.sensors.identify(lambda serial: self.store.calibrations.active_for(serial))

    # -- intents -----------------------------------------------------------------------------------
    def handle(self, intent) -> None:
        k = intent.kind
        d = intent.data
        if k in ("start", "checkin"):
            self.staff.logout("checkin")  # a patient at the keypad: staff and a visit never share the kiosk
        if k == "start":
            from gaitkiosk.patient_code import MAX_DIGITS

            self.rt.deliver("checkin", max_len=MAX_DIGITS, wait_s=self.lockout.wait_s())
        elif k == "cancel":
            self._end_session()
            self.rt.deliver("reset")
        elif k == "checkin":
            self._checkin(str(d.get("code", "")))
        elif k == "start_drill":
            self._start_drill(int(d.get("index", self.index + 1)))
        elif k == "begin_drill":
            self._begin_drill()
        elif k == "skip_drill":
            i = int(d.get("index", self.index))
            if 0 <= i < len(self.items):
                self.items[i]["status"] = "skipped"
            self._drop_prepared()
            self._start_drill(i + 1)
        elif k in ("pause_drill", "resume_drill", "stop_drill"):
            self.rt.command(k.split("_")[0])
        elif k == "finish_visit":
            self._finish_visit()
        elif k == "goodbye_done":
            self.rt.deliver("reset")
        elif k == "staff":
            self._staff_open()
        elif k == "staff_login":
            self._staff_login(str(d.get("name", "")), str(d.get("pin", "")))
        elif k == "staff_view":
            self._staff_view(str(d.get("view", "")), {key: v for key, v in d.items() if key != "view"})
        elif k == "staff_do":
            self._staff_do(str(d.get("action", "")), {key: v for key, v in d.items() if key != "action"})
        elif k == "staff_logout":
            self.staff.logout(str(d.get("reason") or "button"))
            if self.session is None:  # one that comes late, after a check-in, leaves the patient's screen be
                self.rt.deliver("reset")
        elif k == "_alert":
            self._alert(d["alert"])
        elif k == "_panel_stop":  # the drill was already paused by the button (gaitkiosk/panel.py)
            self.store.audit.log("panel.stop", subject=self.trial.id if self.trial is not None else "")
        elif k == "_drill_finished":
            self._drill_finished(d["active"])
        elif k == "_storage_failed":
            if d.get("writer") is self.writer:  # a writer of an earlier trial that already ended: no news
                self._storage_failed(d["error"])
        else:
            log.warning("unknown intent %s", k)

    # -- staff login (gaitkiosk/staff.py) -------------------------------------------------------------
    def _staff_open(self) -> None:
        if self.session is not None:  # only the start screen has the Staff button; never during a visit
            log.warning("staff login asked for during a patient's visit: refused")
            return
        self.rt.deliver("staff_login", users=self.staff.choices(), wait_s=self.staff.lockout.wait_s())

    def _staff_login(self, name: str, pin: str) -> None:
        outcome, wait = self.staff.login(name, pin, visit_open=self.session is not None)
        if outcome == "in":
            self._staff_home()
        elif outcome == "wrong":
            self.rt.deliver("staff_refused", name=name, wait_s=wait)
        elif outcome == "wait":
            self.rt.deliver("staff_wait", wait_s=wait)
        # "visit": a patient's screens stay; the refusal is in the audit log

    def _staff_home(self) -> None:
        user = self.staff.user
        self.rt.deliver("staff_home", name=user.name, role=user.role,
                        idle_logout_s=float(self.rt.config["ui"]["staff_idle_logout_s"]),
                        walk_up_n=float(self.rt.config["analysis"]["contact_on_n"]))

    def _staff_desk(self, what: str):
        """The desk for a staff view or action, or None (refused: nobody logged in, or a visit is open)."""
        from gaitkiosk.staff_views import Desk

        if self.staff.user is None or self.session is not None:
            log.warning("staff %s asked for without a staff login (or during a visit): refused", what)
            if self.session is None:
                self.rt.deliver("reset")
            return None
        return Desk(self.store, self.staff.user, self.rt.config, self.rt)

    def _staff_view(self, name: str, params: dict) -> None:
        self._staff_room("view", name, params)

    def _staff_do(self, name: str, params: dict) -> None:
        self._staff_room("action", name, params)

    def _staff_room(self, what: str, name: str, params: dict) -> None:
        """A staff view or action (gaitkiosk/staff_views.py), answered with its message or a refusal in words."""
        from gaitkiosk import staff_views

        desk = self._staff_desk(f"{what} {name!r}")
        if desk is None:
            return
        try:
            kind, data = (staff_views.show if what == "view" else staff_views.do)(desk, name, params)
        except staff_views.Refused as exc:
            self.rt.deliver("staff_refused_action", text=str(exc))
            return
        except STORAGE_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - the details are for the log; the screen says so
            log.exception("staff %s %r failed", what, name)
            self.rt.deliver("staff_refused_action", text="That did not work: the kiosk's log has the details.")
            return
        if kind == "staff_home":
            self._staff_home()
        else:
            self.rt.deliver(kind, **data)

    # -- check-in ------------------------------------------------------------------------------------
    def _checkin(self, code: str) -> None:
        from drills.errors import ProgramError
        from drills.program import plan_for_patient

        wait = self.lockout.wait_s()
        if wait > 0:  # the screen takes no code while it waits; one that comes anyway is not looked up
            self._checkin_failed(code, "sent while the keypad waits after wrong codes", wait)
            self.rt.deliver("checkin_wait", wait_s=wait)
            return
        try:
            patient = self.store.patients.by_code(code)
        except LookupError:
            wait = self.lockout.wrong()
            self._checkin_failed(code, "unknown code", wait)
            self.rt.deliver("patient_unknown", code=code, wait_s=wait)
            return
        if patient.archived:  # deactivated by a therapist: a real code, so no wrong-code wait
            self._checkin_failed(code, "deactivated patient", 0.0, patient_id=patient.id)
            self.rt.deliver("patient_unknown", code=code, text=DEACTIVATED)
            return
        try:
            plan = plan_for_patient(self.store, patient)  # today's drills, with progression
        except ProgramError:
            plan = None
        if plan is None or not plan.items:
            self._checkin_failed(code, "no exercises set up", 0.0, patient_id=patient.id)
            self.rt.deliver("patient_unknown", code=code, text=NO_PROGRAM)
            return
        for drill, why in plan.skipped:
            log.warning("patient %s: prescription %s left out: %s", code, drill, why)
        from drills import registry

        items = [{"drill": p.drill, "planned": p, "title": p.title, "status": "todo",
                  "seconds": self._planned_s(registry.get(p.drill), p.params)} for p in plan.items]
        self._end_session()
        # No visit starts that could not be saved: below store.min_free_mb or at the size cap the
        # patient is told at once (raised to handle(), which tells patient and staff).
        self.store.check_can_record()
        self.storage_problem = None
        self.failure_told = False
        self.patient = patient
        self.items = items
        self.index = -1
        self.saved = True
        self.session = self.store.sessions.start(patient.id, program_id=plan.program_id)
        self.store.audit.log("session.start", subject=self.session.id, details={"patient": patient.code})
        self.rt.deliver("patient", items=self._ui_items(), greeting="Hello!", next_index=0)

    def _checkin_failed(self, code: str, reason: str, wait_s: float, patient_id: str = "") -> None:
        """Audit a check-in that let nobody in: what was typed, why, and the wait it started."""
        self.store.audit.log("checkin.failed", subject=patient_id, details={
            "code": code[:32], "reason": reason, "wrong_codes_last_hour": self.lockout.recent_wrong(),
            "wait_s": round(wait_s, 1)})

    def _planned_s(self, cls, params) -> float | None:
        """What the program screen shows as the exercise's length (None: it ends on a count)."""
        try:
            drill = cls(params, max_running_s=self._max_running_s(cls))
            return drill.running_duration() if drill.planned_duration() else None
        except Exception:  # noqa: BLE001 - only a display hint
            return None

    def _max_running_s(self, cls) -> float | None:
        """The demo/test running time for a drill of class ``cls`` under ``--seconds`` (None: none).

        Drills that end on a count (targets, steps) get ``COUNTED_DRILL_FACTOR`` times as long, and
        no drill gets less than its ``DEMO_MIN_S``, so that a short demo still scores fairly.
        """
        limit = self.rt.drill_seconds
        if limit is None:
            return None
        if not cls(None).planned_duration():
            limit *= COUNTED_DRILL_FACTOR
        return max(limit, DEMO_MIN_S.get(cls.name, 0.0))

    def _ui_items(self) -> list[dict]:
        return [{"title": i["title"], "seconds": i["seconds"], "status": i["status"]} for i in self.items]

    # -- a drill -------------------------------------------------------------------------------------
    def _start_drill(self, index: int) -> None:
        from drills import registry
        from drills.feed import KernelFeed
        from gaitkiosk.runtime import ActiveDrill

        if self.session is None:
            self.rt.deliver("reset")
            return
        if self.trial is not None:  # an exercise runs: replacing its drill would leave its writer and trial open
            log.warning("start of exercise %d asked for while exercise %d runs: ignored", index + 1, self.index + 1)
            return
        self._drop_prepared()
        while index < len(self.items) and self.items[index]["status"] != "todo":
            index += 1
        if index >= len(self.items):
            self._finish_visit()
            return
        self.index = index
        item = self.items[index]
        autopilot = None
        planned = item["planned"]
        if self.rt.simulate:
            autopilot = self._simulated_person(planned.create())
        self._identify()
        mat = self.rt.sensors.by_kind("mat")
        mat_shape = (mat.hello.rows, mat.hello.cols) if mat is not None else None
        # The pitch lets the walking drill tell a foot partly off the mat's ends from a whole one.
        pitch = tuple(float(v) for v in mat.hello.pitch_mm) if mat is not None else None
        extra = {"countdown_s": self.rt.countdown_s} if self.rt.countdown_s is not None else {}
        drill = planned.create(mat_shape=mat_shape, mat_pitch_mm=pitch,
                               max_running_s=self._max_running_s(registry.get(planned.drill)), **extra)
        missing = self._missing_sensor(drill)
        if missing:
            self.rt.deliver("drill_failed", text=missing)
            return
        feed_mat = (mat.hello.rows, mat.hello.cols, tuple(mat.hello.pitch_mm)) if mat is not None and "mat" in drill.SENSORS else None
        insoles = {}
        if "insoles" in drill.SENSORS:
            for side in ("left", "right"):
                r = self.rt.sensors.by_kind(f"insole_{side}")
                insoles[side] = (r.hello.sensors_mm, r.hello.sensor_area_mm2)
        # The foot length an earlier drill measured (insole step detection scales with it); the
        # virtual person's own when simulating; else the detectors' default.
        foot = planned.context.get("foot_length_mm") or (self.rt.config["sim"]["foot_length_mm"] if self.rt.simulate else None)
        feed = KernelFeed(feed_mat, insoles or None, foot_length_mm=foot)
        self.prepared = ActiveDrill(drill=drill, feed=feed, autopilot=autopilot,
                                    pressure=dict(self.rt.sensors.pressure))
        self.rt.deliver("drill_ready", drill=drill_intro(drill, index, len(self.items)))

    def _simulated_person(self, probe):
        """Reopen the virtual sensors as a new person doing what ``probe`` (the drill) needs."""
        from device.handlers.protocol_sim import patient as sim_patient
        from drills.autopilot import Autopilot, scenario_for
        from gaitkiosk.sensors import sim_urls

        scenario, params = scenario_for(probe)
        if self.rt.sim_fall_at is not None and scenario in STANDING_SCENARIOS and not self.fall_used:
            params = {**params, "fall_at": self.rt.sim_fall_at, "fall": "edge", "fall_dir": "forward"}
            self.fall_used = True
        name = self._sim_name()
        rows = 96 if probe.name == "tandem_walk" else None  # 0.8 m of mat: room for tandem steps
        self.rt.open_sensors(sim_urls(self.rt.config, patient=name, scenario=scenario, params=params, mat_rows=rows))
        person = sim_patient(name)
        return Autopilot(person) if person is not None else None

    def _missing_sensor(self, drill) -> str | None:
        need = list(drill.SENSORS)
        if "mat" in need:
            r = self.rt.sensors.by_kind("mat")
            if r is None or not self._usable(r):
                return "The mat is not ready. Please tell the staff."
        if "insoles" in need:
            for side in ("left", "right"):
                r = self.rt.sensors.by_kind(f"insole_{side}")
                if r is None or not self._usable(r):
                    return f"The {side} insole is not ready. Please tell the staff."
        return None

    def _usable(self, reader) -> bool:
        p = self.rt.sensors.pressure.get(reader.hello.serial)
        return p is not None and p.usable

    def _begin_drill(self) -> None:
        from store.devices import device_from_hello

        a = self.prepared
        if a is None or self.session is None or self.trial is not None:
            return
        item = self.items[self.index]
        cal_ids = {s: p.calibration_id for s, p in a.pressure.items() if p.calibration_id}
        for r in self.rt.sensors.readers:
            if r.hello is not None:
                self.store.devices.seen(device_from_hello(r.hello, r.hello.kind.label))
                # what the stored counts are: raw, or baseline-subtracted and gated on the device
                a.device_zero[r.hello.serial] = r.hello.zero_state
        self.trial = self.store.trials.start(self.session.id, item["drill"], item["planned"].trial_params(), cal_ids)
        # A trial that cannot be recorded does not run: a StoreError here (disk below
        # store.min_free_mb, full, damaged) reaches handle(), which closes the visit with the reason.
        writer = self.store.recording_writer(self.session.id, trial_id=self.trial.id, calibration_ids=cal_ids)
        writer.on_error = lambda exc: self.rt.actions.put(_internal("storage_failed", error=exc, writer=writer))
        a.writer = self.writer = writer.start()
        self.prepared = None
        self.rt.command("activate", a)
        self.rt.command("begin")
        self.rt.deliver("drill_live", drill={"index": self.index, "count": len(self.items), "title": a.drill.title})

    def _drop_prepared(self) -> None:
        self.prepared = None

    def _alert(self, alert) -> None:
        subject = self.trial.id if self.trial is not None else ""
        self.store.audit.log("safety.alert", subject=subject, details=alert.to_dict())

    def _drill_finished(self, active) -> None:
        from kernels.calibration_state import withhold_measures

        if self.trial is None:  # the visit already ended (its trial was closed): only close the writer
            if active.writer is not None:
                active.writer.stop()
            return
        result = active.drill.result()
        stats = None
        if active.writer is self.writer:
            self.writer = None
        if active.writer is not None:
            stats = active.writer.stop()
            if stats.error:
                self.saved = False
        # What the trial's raw frames are: all stored, some lost (and why), or none.
        recording, lost = stats.outcome() if stats is not None else ("none", "nothing was recorded")
        sensors = list(active.drill.SENSORS)
        report, report_error = self._report(self.trial, sensors) if recording != "none" else (None, "not recorded")
        results = result.to_dict()
        results["sensors"] = sensors  # which sensors the drill used: the export's meta, so analyze agrees
        results["pressure"] = sorted({p.source for p in active.pressure.values() if p.source})
        # The same calibration state as the report, per sensor; the drill's own newtons from an
        # uncalibrated sensor are withheld like the report's (docs/metrics.md, "Calibration state").
        streams = [s for need in active.drill.SENSORS for s in DRILL_STREAMS.get(need, ())]
        results["calibration"] = self._calibration(self.trial, streams)
        withheld = {}
        for part in ("measures", "stance"):
            if isinstance(results.get(part), dict):
                found = withhold_measures(results[part], results["calibration"], streams)
                withheld.update({f"{part}.{k}": v for k, v in found.items()})
        if withheld:
            results["withheld"] = withheld
        if active.device_zero:
            results["device_zero"] = active.device_zero
        if report_error:
            results["report_error"] = report_error
        if stats is not None:
            results["recording"] = recording_counts(stats)
        from drills.scoring import compare

        previous = self.items[self.index]["planned"].previous
        recalibrated = previous is not None and footing(results) != footing(previous)
        if recalibrated:
            # A sway area reads less than half as large through the factory line as calibrated: a trend
            # across a calibration change would be the conversion's, not the patient's.
            results["comparison_note"] = (f"not compared with last time: measured {footing(results)}, "
                                          f"last time {footing(previous)}")
            previous = None
        comparison = compare(results, previous)
        results["comparison"] = comparison  # the measures against last time, in numbers: for the therapist
        status = "complete" if result.status == "complete" else "stopped"
        self.store.trials.finish(self.trial.id, status=status, results=results, report=report,
                                 reason="" if status == "complete" else "stopped by the patient or a safety stop",
                                 recording=recording, recording_reason=lost)
        if stats is not None and stats.error:
            # The writer stopped on a storage error: the trial is stored as it is; the visit ends.
            self.trial = None
            self.rt.command("drop")
            self._storage_failed(active.writer.error)
            return
        self.items[self.index]["status"] = "done" if status == "complete" else "stopped"
        self.items[self.index]["score"] = result.score
        self.items[self.index]["results"] = results
        self.trial = None
        self.rt.command("drop")
        from gaitkiosk.resultwords import screen_result

        last = all(i["status"] != "todo" for i in self.items[self.index + 1:])
        # The patient sees plain words only (gaitkiosk/resultwords.py); the numbers stay in the results.
        self.rt.deliver("drill_done", result=screen_result(results, previous, index=self.index, count=len(self.items),
                                                           title=active.drill.title, last=last,
                                                           recalibrated=recalibrated))

    def _calibration(self, trial, streams: list[str]) -> dict:
        """The calibration block of a trial's results: each recorded sensor, the drill's own marked used."""
        from kernels.calibration_state import block
        from store.export import calibration_meta

        meta = {"calibration": calibration_meta(self.store, self.store.recordings.for_trial(trial.id))}
        return block(meta, list(meta["calibration"]), streams)

    def _report(self, trial, sensors):
        return trial_report(self.store, trial, sensors)

    # -- storage failure ------------------------------------------------------------------------------
    def _storage_failed(self, exc: BaseException) -> None:
        """The store cannot take this visit any further: stop, close it with the reason, tell people.

        The drill stops at once (its writer has stopped or cannot start). The trial
        and the session are closed ``incomplete`` with the reason, in the room the
        storage reserve keeps for this (store/reserve.py); if even that fails, the
        worker retries until it succeeds and keeps the session's lock meanwhile, so
        no other process mistakes it for a power cut. The patient gets a plain
        "please tell the staff" screen; staff get the reason in the log, the audit
        log and on the start screen until space is back.
        """
        short, reason = storage_problem(exc)
        log.error("storage failed during a visit: %s", exc)
        # One short line that fits the start screen; the full reason is in the log and the audit.
        self.storage_problem = start_screen_line(short)
        self.rt.device_problem = self.rt.sensors.problem() or self.storage_problem
        self.saved = False
        self.rt.command("drop")
        in_visit = self.session is not None
        done = self._practised() if in_visit else 0
        total = len(self.items) if in_visit else 0
        if in_visit or self.trial is not None:
            self.pending_close = (self.session.id if in_visit else None, self.trial, self.writer, reason)
            self._retry_close()
        self.session, self.trial, self.writer, self.patient, self.prepared = None, None, None, None, None
        self.items, self.index = [], -1
        if not self.failure_told:
            self.failure_told = True
            self.rt.staff_needed(reason)
            self.rt.deliver("staff_needed", problem="storage", done=done, total=total, staff=reason)

    def _retry_close(self) -> None:
        """Write the closing rows of a visit stopped by a storage failure (see _storage_failed)."""
        session_id, trial, writer, reason = self.pending_close
        try:
            with self.store.emergency():
                if trial is not None:
                    stats = writer.snapshot() if writer is not None else None
                    recording, lost = stats.outcome() if stats is not None else ("none", "nothing was recorded")
                    results = None if stats is None else {"recording": recording_counts(stats)}
                    self.store.trials.finish(trial.id, status="incomplete", reason=f"storage failed: {reason}",
                                             results=results, recording=recording, recording_reason=lost)
                    self.pending_close = (session_id, None, None, reason)
                if session_id is not None:
                    self.store.sessions.finish(session_id, status="incomplete", reason=f"storage failed: {reason}")
                    self.store.audit.log("store.failed", subject=session_id, details={"reason": reason})
            self.pending_close = None
        except (*STORAGE_ERRORS, OSError) as exc:
            log.error("cannot close session %s yet (%s); trying again in %.0f s", session_id, exc, ZERO_RETRY_S)
            self.next_close_retry = time.monotonic() + ZERO_RETRY_S

    # -- the end -----------------------------------------------------------------------------------
    def _finish_visit(self) -> None:
        total = len(self.items)
        finished = sum(1 for i in self.items if i["status"] == "done")
        practised = self._practised()
        self.rt.command("drop")
        self._end_session()
        self.rt.deliver("visit_done", summary={"practised": practised, "finished": finished, "total": total,
                                               "saved": self.saved})

    def _practised(self) -> int:
        """Exercises done today as the result screen counted them: complete, or stopped after they ran."""
        from gaitkiosk.resultwords import practised

        return practised((i["status"], i.get("results")) for i in self.items)

    def _end_session(self) -> None:
        if self.trial is not None:
            # The visit ends under a running (or safety-paused) drill: the analysis thread drops
            # it, and its writer stops now rather than recording on for a trial that is closed.
            self.rt.command("drop")
            self._close_trial("stopped", "the visit ended during this exercise")
        if self.session is not None:
            self.store.sessions.finish(self.session.id)
            self.store.audit.log("session.finish", subject=self.session.id)
            self.session = None
        self.patient = None


def footing(results: dict) -> str:
    """Whether a trial's numbers rest on calibrated sensors: calibrated, uncalibrated, mixed or unknown.

    Trials before the calibration block are read from their ``pressure`` list.
    """
    from device import calibration_state as cs

    cal = results.get("calibration")
    if isinstance(cal, dict) and cal.get("state") in ("calibrated", "uncalibrated"):
        return cal["state"]
    if isinstance(cal, dict):
        return "mixed" if cal.get("state") == "partly calibrated" else "unknown"
    sources = set(results.get("pressure") or ())
    if sources and sources <= cs.UNCALIBRATED:
        return "uncalibrated"
    if sources and sources <= {cs.CALIBRATED, cs.DEVICE, "device-calibrated"}:
        return "calibrated"
    return "unknown"


NO_PROGRAM = "There are no exercises set up for you yet. Please ask your therapist."
DEACTIVATED = "This code is not in use any more. Please ask your therapist."


def drill_intro(drill, index: int, count: int) -> dict:
    """What the instruction screen gets for a drill (``ui.screens.instruction``)."""
    from gaitkiosk.liveview import picture_for, picture_layout

    return {"index": index, "count": count, "title": drill.title, "instruction": drill.instruction,
            "picture": picture_for(drill), "layout": picture_layout(drill),
            "safety": "Hold on to the rail if you feel unsteady." if "mat" in drill.SENSORS else "Stop if you feel unsteady."}


def start_screen_line(short: str) -> str:
    """The start screen's line for staff while visits cannot be saved (``short`` from :func:`storage_problem`)."""
    return f"Staff: {short}; visits cannot be saved (gaitkiosk db check)"


def _store_errors() -> tuple:
    from store.errors import StoreError

    return (StoreError, sqlite3.Error)


STORAGE_ERRORS = _store_errors()


def recording_counts(stats) -> dict:
    """A trial's frame accounting as stored in its results (what the fault drill adds up)."""
    return {"frames": stats.committed_frames, "dropped": stats.dropped, "seq_gaps": stats.seq_gaps,
            "lost_on_stop": stats.lost_on_stop, "error": stats.error}


def storage_problem(exc: BaseException) -> tuple[str, str]:
    """(a few words for the start screen, one line for staff) saying what is wrong with storage.

    The full text of ``exc`` goes to the log; these say which of the remedies in
    docs/store.md applies.
    """
    from store.db import damaged, full_error
    from store.errors import CorruptDatabaseError, DiskFullError, LowDiskError, ReadOnlyStoreError

    if isinstance(exc, LowDiskError):
        return "disk space low", "too little free disk space (store.min_free_mb and the closing reserve)"
    if isinstance(exc, DiskFullError) or full_error(exc):
        return "storage full", "the disk or the database size limit (store.max_db_mb) is full"
    if isinstance(exc, CorruptDatabaseError) or damaged(exc):
        return "database damaged", "the database is damaged (restore a backup: docs/store.md)"
    if isinstance(exc, ReadOnlyStoreError):
        return "data disk read-only", "the data disk has become read-only"
    # The whole text is in the log; the screen line stays short enough for the patient's screen.
    return "database error", f"database error: {' '.join(str(exc).split())[:100]}"


def _internal(kind: str, **data):
    from ui.app import Intent

    return Intent("_" + kind, data)


def trial_report(store, trial, sensors=None):
    """``(report, error)``: the DESIGN 4.2 report from the trial's stored raw frames, as
    ``gaitkiosk analyze`` gives it for the trial's export (``store.export.export_session``
    builds the same arrays, in the same order, with the same ``sensors`` in its meta).

    ``sensors`` are the drill's (``Drill.SENSORS``): the report is of those sensors
    (docs/metrics.md section 1). A trial that lost frames gets the report of what it has,
    its gaps named; one that cannot be analysed at all gets None and the reason.
    """
    from device.recording import Recording, check_recording
    from kernels.report import analyze_recording
    from store.export import recording_arrays

    try:
        recs = store.recordings.for_trial(trial.id)
        if not recs:
            return None, "no frames were recorded"
        meta = {"session": trial.session_id, "trial": trial.id, "drill": trial.drill}
        if sensors:
            meta["sensors"] = list(sensors)
        arrays = recording_arrays(store, sorted(recs, key=lambda r: r.kind), meta)  # the export's order
        rec = check_recording(Recording(meta=meta, **arrays), source=f"trial {trial.id}")
        return analyze_recording(rec), None
    except Exception as exc:  # noqa: BLE001 - the trial and its raw frames are kept without a report
        log.warning("no report for trial %s: %s", trial.id, exc)
        return None, str(exc)
