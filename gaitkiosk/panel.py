"""The kiosk's side of the GPIO safety panel (device/panel.py): what the stop button does, what the
light and the buzzer say (docs/technician.md).

* **Stop button**: pauses the running drill at once. It takes the on-screen
  drill buttons' own way into a drill, :meth:`Runtime.command` (applied on the
  analysis thread, the only thread that touches a drill, within one analysis
  step), but it does not queue behind the worker first: the worker may be busy
  committing to the SD card, and a physical stop must not wait for that. The
  worker then writes the press into the audit log (``panel.stop``). A pause,
  not an end: the patient (or the staff member who pressed it) taps Continue or
  Stop on the screen.
* **Light**: from the snapshot the screen draws (``Runtime.latest``): a safety
  stop -> ``alert``, a sensor or storage problem (the start screen's staff line)
  -> ``fault``, a drill on screen -> ``drill``, else ``ready``.
* **Buzzer**: the runtime's ``alert_listeners`` (every safety stop) sound
  ``alert``; its ``staff_listeners`` (storage failed) sound ``staff_needed``.

``start_panel`` returns None when ``[panel] enabled`` is false, and gpiozero is
then never imported.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

PINS = ("stop", "green", "amber", "red", "buzzer")


def pins_of(config: dict) -> dict[str, int]:
    section = config["panel"]
    return {name: int(section[f"{name}_pin"]) for name in PINS}


def light_for(snapshot) -> str:
    """The status light's state for what the screen shows now."""
    drill = snapshot.drill
    phase = drill.get("phase") if drill else None
    if phase == "alert":
        return "alert"
    if snapshot.device_problem:
        return "fault"
    if drill is not None and phase != "done":
        return "drill"
    return "ready"


class PanelDriver:
    """Connects a :class:`device.panel.Panel` to a running :class:`gaitkiosk.runtime.Runtime`."""

    def __init__(self, runtime, panel, clock=time.monotonic):
        self.runtime = runtime
        self.panel = panel
        self.clock = clock
        self.presses: list[float] = []  # runtime-clock time of each stop press (tests, the bench)
        panel.on_stop = self.stop_pressed
        runtime.alert_listeners.append(self.alert)
        runtime.staff_listeners.append(self.staff_needed)
        self._alert_seq: int | None = None  # the snapshot that was current when the last alert came
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- events --------------------------------------------------------------------------------
    def stop_pressed(self) -> None:
        """(gpiozero's thread) The stop button's press edge."""
        from ui.app import Intent

        self.presses.append(self.clock())
        self.runtime.command("pause")
        self.runtime.actions.put(Intent("_panel_stop", {}))
        log.warning("stop button pressed: drill paused")

    def alert(self, alert) -> None:
        # (analysis thread) The alert comes just before the snapshot that shows it: hold the
        # light at "alert" until a newer snapshot speaks, so the flash does not restart.
        self._alert_seq = self.runtime.latest().seq
        self.panel.show("alert")
        self.panel.sound("alert")

    def staff_needed(self, reason: str) -> None:
        self.panel.show("fault")
        self.panel.sound("staff_needed")

    # -- the step ------------------------------------------------------------------------------
    def tick(self) -> None:
        """One pattern step: the light follows the screen, then lamps and buzzer advance."""
        snapshot = self.runtime.latest()
        if self._alert_seq is None or snapshot.seq > self._alert_seq:
            self._alert_seq = None
            self.panel.show(light_for(snapshot))
        self.panel.tick()

    def start(self) -> PanelDriver:
        self._thread = threading.Thread(target=self._run, name="kiosk-panel", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from device.panel import STEP_S

        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a broken lamp must not end the kiosk
                log.exception("panel step failed")
            # A fixed schedule (not sleep-after-work), so patterns keep their length.
            next_t = max(next_t + STEP_S, time.monotonic() - STEP_S)
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        for listeners, fn in ((self.runtime.alert_listeners, self.alert),
                              (self.runtime.staff_listeners, self.staff_needed)):
            if fn in listeners:
                listeners.remove(fn)
        self.panel.close()


def start_panel(runtime, config: dict, factory=None) -> PanelDriver | None:
    """The running panel for ``runtime``, or None when the unit has none (``[panel] enabled = false``).

    ``factory``: a gpiozero pin factory (tests pass a ``MockFactory``); None: the configured one.
    """
    if not config["panel"]["enabled"]:
        return None
    from device.panel import Panel, pin_factory

    if factory is None:
        factory = pin_factory(config["panel"]["pin_factory"])
    panel = Panel(pins_of(config), on_stop=lambda: None, factory=factory)
    return PanelDriver(runtime, panel).start()
