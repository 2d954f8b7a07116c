"""A board for the MicroPython unix port that boots like a real one: ``machine`` is simulated,
then the ``main.py`` in the current directory (the board's flash) runs, then the REPL.

    cd BOARD_DIR && micropython -i /path/to/firmware/unix_board.py SIM.json

The firmware that runs is the one in BOARD_DIR (what `gaitkiosk firmware flash` copied there
with the real mpremote), not the repository's: this file takes only firmware/simboard.py
from beside it, read as a file. SIM.json as for firmware/unix_main.py (``unloaded``,
``loaded``, ``go``). ``machine.reset()`` ends the process; whoever started it starts it again
(tests/firmware_support.py UnixBoard), as a board's power-on does.
"""

import json
import sys
import time


def _here():
    parts = __file__.replace("\\", "/").split("/")
    return "/".join(parts[:-1]) or "."


_sim = {}
exec(open(_here() + "/simboard.py").read(), _sim)  # noqa: S102 - our own file, without the package
sys.path[0] = ""  # the board's flash (the current directory) first, not the repository
with open(sys.argv[1]) as f:
    SIM = json.load(f)
with open("config.json") as f:
    CONFIG = json.load(f)
_pins = {}
_played = []


class Pin:
    OUT, IN = 1, 0

    def __init__(self, pin_id, mode=None):
        self.id = pin_id
        self.level = 0
        _pins[pin_id] = self

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        return None


class ADC:
    def __init__(self, source):
        self.played = None
        if isinstance(source, Pin) and source.id == CONFIG["pins"]["adc"]:
            c = CONFIG
            self.played = _sim["PlayedAdc"](
                None, _sim["read_counts"](SIM["unloaded"]), _sim["read_counts"](SIM["loaded"]),
                sensors=c.get("sensors", 16), oversample=c.get("oversample", 4), bits=c.get("bits", 12),
                stepped_on=lambda: _exists(SIM["go"]))

    def read_u16(self):
        if self.played is None:
            return 14000  # another channel (temperature: about 27 degC on an RP2040)
        if self.played.pins is None:  # the mux pins exist once the firmware made them
            self.played.pins = [_pins[i] for i in CONFIG["pins"]["mux"]]
        return self.played.read_u16()


class WDT:
    def __init__(self, timeout=5000):
        self.wdt = _sim["SimWdt"](time, timeout)

    def feed(self):
        self.wdt.feed()


class Timer:
    def __init__(self, timer_id=-1, period=0, callback=None):
        self.callback = callback  # a PC needs no watchdog feeding while in the REPL


def _exists(path):
    import os

    try:
        os.stat(path)
    except OSError:
        return False
    return True


def reset():
    sys.exit(0)  # the process ends; its supervisor powers the board up again


class _Machine:
    Pin, ADC, WDT, Timer = Pin, ADC, WDT, Timer
    reset = staticmethod(reset)


sys.modules["machine"] = _Machine  # type: ignore[assignment]  # a stand-in with the module's API
if _exists("main.py"):
    exec(open("main.py").read(), {"__name__": "__main__"})  # noqa: S102 - the board's main.py, as at boot
