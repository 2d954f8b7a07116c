"""The GPIO safety panel: a stop button, a status light and a buzzer (docs/technician.md).

The hardware side only: pins through gpiozero (on a unit its RPi.GPIO pin
factory, which rpi-lgpio provides on a Pi 5, or its lgpio factory; in tests
gpiozero's ``MockFactory``). What the lights and the buzzer mean, and what the
stop button does, is decided by the kiosk (``gaitkiosk/panel.py``).

Patterns run in **steps** of :data:`STEP_S`, advanced by :meth:`Panel.tick`, so
that what a lamp or the buzzer does is a sequence of states with durations in
steps, the same on a busy machine as on an idle one (tests tick by hand; the
kiosk ticks from one thread on a fixed schedule).

gpiozero is imported only when a panel is built: a unit without one never
loads it.
"""

from __future__ import annotations

import threading

STEP_S = 0.05  # one pattern step: 50 ms

LAMPS = ("green", "amber", "red")  # a three-lamp stack light, top to bottom: red, amber, green


def steps(*parts: tuple[bool, int]) -> tuple[bool, ...]:
    """``steps((True, 2), (False, 3))`` -> on for two steps, then off for three."""
    return tuple(on for on, n in parts for _ in range(n))


ON, OFF = steps((True, 1)), steps((False, 1))
FLASH = steps((True, 5), (False, 5))  # 1 Hz, half on: "look here now"

# Status light: per state, what each lamp does (repeated for as long as the state lasts).
LIGHTS: dict[str, dict[str, tuple[bool, ...]]] = {
    "ready": {"green": ON, "amber": OFF, "red": OFF},  # the kiosk waits for a patient or staff
    "drill": {"green": OFF, "amber": ON, "red": OFF},  # an exercise is under way: stay near
    "alert": {"green": OFF, "amber": OFF, "red": FLASH},  # a safety stop: go to the patient
    "fault": {"green": OFF, "amber": ON, "red": ON},  # the kiosk needs a technician (sensor, storage)
}

# Buzzer: played once, then silent. Three short beeps for a safety stop; two long ones for "staff needed".
SOUNDS: dict[str, tuple[bool, ...]] = {
    "alert": steps((True, 4), (False, 2), (True, 4), (False, 2), (True, 4), (False, 1)),
    "staff_needed": steps((True, 12), (False, 6), (True, 12), (False, 1)),
}


def pin_factory(name: str):
    """gpiozero's pin factory called ``name`` ("rpigpio" or "lgpio"): the unit's GPIO library."""
    if name == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    if name == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    raise ValueError(f"unknown pin factory {name!r}: rpigpio or lgpio")


class Panel:
    """The panel's pins: ``pins`` maps stop, green, amber, red, buzzer to BCM numbers.

    ``on_stop()`` is called on gpiozero's thread at the stop button's press edge
    (the button closes to ground; the pin has the Pi's pull-up). It must only
    queue work: it returns to gpiozero at once.
    """

    def __init__(self, pins: dict[str, int], on_stop, factory=None):
        from gpiozero import LED, Button, Buzzer

        self._lock = threading.Lock()
        self._made: list = []
        try:
            self.lamps = {name: self._make(LED, pins[name], factory) for name in LAMPS}
            self.buzzer = self._make(Buzzer, pins["buzzer"], factory)
            # No software debounce: a bounce only repeats "pause", which a paused drill ignores,
            # and gpiozero's bounce filter would delay nothing we need but costs a timer thread.
            self.button = self._make(Button, pins["stop"], factory, pull_up=True, bounce_time=None)
        except Exception:
            self.close()
            raise
        self.on_stop = on_stop
        self.button.when_pressed = self._pressed
        self.light = "ready"
        self._light_step = 0
        self._sound: tuple[bool, ...] = ()
        self._sound_step = 0
        self.tick()  # the lamps show "ready" from the first moment

    def _make(self, cls, pin: int, factory, **options):
        device = cls(pin, pin_factory=factory, **options)
        self._made.append(device)
        return device

    def _pressed(self) -> None:
        self.on_stop()

    def show(self, state: str) -> None:
        """Set the status light (a key of :data:`LIGHTS`); the same state again changes nothing."""
        if state not in LIGHTS:
            raise ValueError(f"unknown light state {state!r}")
        with self._lock:
            if state != self.light:
                self.light = state
                self._light_step = 0

    def sound(self, name: str) -> None:
        """Play buzzer pattern ``name`` (a key of :data:`SOUNDS`) from its start."""
        with self._lock:
            self._sound = SOUNDS[name]
            self._sound_step = 0

    @property
    def sounding(self) -> bool:
        return self._sound_step < len(self._sound)

    def tick(self) -> None:
        """Advance one step: each lamp and the buzzer take their state for this step."""
        with self._lock:
            pattern = LIGHTS[self.light]
            for name, lamp in self.lamps.items():
                seq = pattern[name]
                _put(lamp, seq[self._light_step % len(seq)])
            self._light_step += 1
            on = self._sound[self._sound_step] if self._sound_step < len(self._sound) else False
            _put(self.buzzer, on)
            if self._sound_step < len(self._sound):
                self._sound_step += 1

    def close(self) -> None:
        """Lamps and buzzer off, pins released."""
        for device in reversed(self._made):
            try:
                if hasattr(device, "off"):
                    device.off()
                device.close()
            except Exception:  # noqa: BLE001 - closing the others matters more
                pass
        self._made = []


def _put(device, on: bool) -> None:
    if bool(device.value) != on:  # write only changes: a pin's history is its pattern
        device.on() if on else device.off()
