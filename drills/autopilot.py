"""A cooperative virtual patient for any drill: what the headless demo and the tests use.

    from drills.autopilot import patient_for, run_drill
    drill = registry.create("limits_of_stability", {...})
    patient = patient_for(drill, seed=3)           # a VirtualPatient in the scenario the drill needs
    outcome = run_drill(drill, patient)            # 100 Hz, simulated time, no waiting
    outcome.result.score, outcome.alerts, outcome.alert_times

:class:`Autopilot` looks at the drill's state after every frame and commands
the virtual patient as a cooperative person would: moves the COP to the
active target (``set_target``), puts the asked share of weight on the left
foot (``set_weight_share``), closes the eyes when told to. Walking drills need
no commands (the scenario walks). The virtual patient is the product's own
simulator (``device.sim``), so this module is for demos and tests; the drill
logic never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drills.feed import KernelFeed

RATE_HZ = 100.0


class Autopilot:
    """Commands a :class:`device.sim.VirtualPatient` from a drill's view (call :meth:`act` per frame)."""

    def __init__(self, patient):
        self.patient = patient
        self._target = None
        self._share = None
        self._eyes = None

    def act(self, t: float, drill) -> None:
        view = drill.view()
        live = view.live
        if view.phase in ("instruction", "done"):
            return
        eyes = getattr(drill, "condition", {}).get("eyes")
        if eyes is not None and eyes != self._eyes:
            self._set_eyes(eyes)
        if view.phase not in ("countdown", "running"):
            return
        if live.target_left_pct is not None:
            if live.target_left_pct != self._share:
                self._share = live.target_left_pct
                self.patient.set_weight_share(self._share)
            return
        goal = None
        if live.active_target is not None and live.targets:
            tg = live.targets[live.active_target]
            goal = (tg.x_mm, tg.y_mm)
        elif live.zone is not None:
            goal = (live.zone.x_mm, live.zone.y_mm)
        if goal is not None and goal != self._target:
            self._target = goal
            self.patient.set_target(*goal)

    def _set_eyes(self, eyes: str) -> None:
        # A cooperative patient closes the eyes when told; the simulator's sway grows to
        # its eyes-closed amplitude (device.sim.patient.VirtualPatient.set_eyes).
        self._eyes = eyes
        self.patient.set_eyes(eyes)


def scenario_for(drill) -> tuple[str, dict]:
    """The virtual patient's scenario and parameters that let it perform ``drill``."""
    name, p = drill.name, drill.params
    if name == "quiet_standing":
        if p["stance"].startswith("single"):
            side = p["stance"].split("_")[1]
            return "single_leg", {"side": side, "lift_at": 0.5, "hold_s": 3600.0}
        widths = {"apart": 170.0, "together": 100.0, "semi_tandem": 100.0, "tandem": 100.0}
        return "weight_shift", {"stance_width_mm": widths[p["stance"]]}
    if name == "tandem_walk":
        return "tandem", {}
    if name == "gait_insoles":
        return "walk", {}
    if name == "weight_symmetry" and p.get("posture") == "sit_to_stand":
        return "sit_to_stand", {}
    return "weight_shift", {}


def patient_for(drill, seed: int = 1, *, mat=None, **extra):
    """A VirtualPatient set up for ``drill`` (``extra``: scenario/body parameters such as a fall)."""
    from device.sim import MatGeometry, VirtualPatient

    scenario, params = scenario_for(drill)
    if mat is None and drill.name == "tandem_walk":
        mat = MatGeometry(rows=96, cols=48)  # 0.8 m: three tandem steps per pass
    return VirtualPatient(scenario, seed=seed, mat=mat, **{**params, **extra})


@dataclass
class Outcome:
    """What :func:`run_drill` saw: the result, every alert with its time, the cues, the frames fed."""

    result: object
    alerts: list = field(default_factory=list)
    cues: list = field(default_factory=list)
    frames: int = 0
    end_t: float = 0.0


def feed_for(drill, patient) -> KernelFeed:
    """Kernels wired to the virtual patient's mat and/or insoles, as the drill needs them."""
    mat = None
    insoles = None
    if "mat" in drill.SENSORS:
        mat = (patient.mat.rows, patient.mat.cols, patient.mat.pitch_mm)
    if "insoles" in drill.SENSORS:
        area = patient.insoles.sensor_area_mm2
        insoles = {s: (patient.insoles.positions(s), area) for s in ("left", "right")}
    heel_edge = patient.feet_templates["left"].rear_edge_mm  # insole frame: origin at the heel centre
    return KernelFeed(mat, insoles, foot_length_mm=patient.insoles.foot_length_mm, heel_edge_y_mm=heel_edge)


def run_drill(drill, patient, *, max_s: float = 300.0, rate_hz: float = RATE_HZ, start_t: float = 0.0,
              resume_after_s: float | None = None, on_frame=None, feed: KernelFeed | None = None) -> Outcome:
    """Run ``drill`` with ``patient`` on the autopilot until it is done (or ``max_s`` of simulated time).

    A safety stop ends the run (the drill is stopped) unless ``resume_after_s`` is given: then the
    patient "taps Continue" that long after the alert. ``on_frame(t, drill)`` is called after each
    update (tests use it to pause, resume or stop).
    """
    feed = feed or feed_for(drill, patient)
    pilot = Autopilot(patient)
    outcome = Outcome(result=None)
    use_mat, use_insoles = "mat" in drill.SENSORS, "insoles" in drill.SENSORS
    drill.begin(start_t)
    dt = 1.0 / rate_hz
    k = 0
    resume_at = None
    t = start_t
    while drill.phase != "done":
        t = start_t + k * dt
        if t - start_t > max_s:
            drill.stop(t)
            break
        s = patient.sample(t, mat=use_mat, insoles=use_insoles)
        frame, events, insoles = None, [], None
        if use_mat:
            frame, events = feed.mat_frame(t, s.mat_kpa)
        if use_insoles:
            insoles, ev = feed.insole_frames(t, s.insole_kpa)
            events = events + ev
        drill.update(t, frame, events, insoles)
        for a in drill.take_alerts():
            outcome.alerts.append(a)
            if resume_after_s is None:
                drill.stop(t)
            else:
                resume_at = t + resume_after_s
        if resume_at is not None and t >= resume_at and drill.phase == "paused_safety":
            resume_at = None
            drill.resume(t)
        outcome.cues.extend(drill.take_cues())
        pilot.act(t, drill)
        if on_frame is not None:
            on_frame(t, drill)
        k += 1
    outcome.frames = k
    outcome.end_t = t
    outcome.result = drill.result()
    return outcome
