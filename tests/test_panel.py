"""The GPIO safety panel (device/panel.py, gaitkiosk/panel.py) on gpiozero's MockFactory.

The light's and the buzzer's sequences are asserted step by step (the panel's own unit of
time), never by wall-clock durations; the stop button is pressed on a real kiosk (sim://
sensors, reader and analysis threads, the worker and its SQLite store) and the test waits
for the drill to show paused.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import ui_support
from gpiozero.pins.mock import MockFactory
from ui_support import make_app, pump

from device.panel import LIGHTS, SOUNDS, Panel
from gaitkiosk.config import default_config
from gaitkiosk.demo_seed import seed_demo
from gaitkiosk.panel import PanelDriver, light_for
from gaitkiosk.runtime import LiveSnapshot, Runtime
from store import open_store
from ui import screens
from ui.app import Intent

dummy_video = ui_support.dummy_video

PI4, PI5 = "c03114", "d04170"  # board revision codes: a Pi 4 B 4 GB, a Pi 5 8 GB
PINS = {"stop": 17, "green": 22, "amber": 23, "red": 24, "buzzer": 27}


@pytest.fixture(params=[PI4, PI5], ids=["pi4", "pi5"])
def factory(request):
    f = MockFactory(revision=request.param)
    yield f
    f.reset()


def panel_on(factory, on_stop=lambda: None) -> Panel:
    return Panel(PINS, on_stop=on_stop, factory=factory)


def run(panel: Panel, factory, n: int) -> dict[str, list[bool]]:
    """Tick ``n`` steps; each output pin's state after each step."""
    seen: dict[str, list[bool]] = {name: [] for name in ("green", "amber", "red", "buzzer")}
    for _ in range(n):
        panel.tick()
        for name in seen:
            seen[name].append(bool(factory.pin(PINS[name]).state))
    return seen


def runs(states: list[bool]) -> list[tuple[bool, int]]:
    """[True, True, False] -> [(True, 2), (False, 1)]: a sequence as states with durations in steps."""
    out: list[list] = []
    for s in states:
        if out and out[-1][0] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    return [tuple(r) for r in out]


def changes(factory, name: str) -> list[bool]:
    """The order of the pin's state changes as gpiozero's mock pin recorded them."""
    return [bool(s.state) for s in factory.pin(PINS[name]).states]


def test_ready_lights_green_alone_from_the_start(factory):
    panel = panel_on(factory)
    seen = run(panel, factory, 20)
    assert runs(seen["green"]) == [(True, 20)]
    assert runs(seen["amber"]) == runs(seen["red"]) == runs(seen["buzzer"]) == [(False, 20)]
    assert changes(factory, "green") == [False, True]  # switched on once, never flickered
    panel.close()


def test_a_safety_alert_flashes_red_and_beeps_three_times(factory):
    panel = panel_on(factory)
    run(panel, factory, 3)
    panel.show("drill")
    seen = run(panel, factory, 4)
    assert seen["amber"] == [True] * 4 and seen["green"] == [False] * 4
    panel.show("alert")
    panel.sound("alert")
    seen = run(panel, factory, 30)
    assert runs(seen["red"]) == [(True, 5), (False, 5)] * 3  # 1 Hz flash, 250 ms... in 50 ms steps
    assert runs(seen["amber"]) == runs(seen["green"]) == [(False, 30)]
    assert runs(seen["buzzer"]) == [(True, 4), (False, 2), (True, 4), (False, 2), (True, 4), (False, 14)]
    assert changes(factory, "buzzer") == [False, True, False, True, False, True, False]
    assert changes(factory, "amber") == [False, True, False]
    panel.close()


def test_staff_needed_sounds_two_long_beeps_with_the_fault_light(factory):
    panel = panel_on(factory)
    panel.show("fault")
    panel.sound("staff_needed")
    seen = run(panel, factory, 40)
    assert runs(seen["buzzer"]) == [(True, 12), (False, 6), (True, 12), (False, 10)]
    assert seen["amber"] == [True] * 40 and seen["red"] == [True] * 40 and seen["green"] == [False] * 40
    panel.close()


def test_a_new_alert_restarts_its_pattern_and_the_same_light_state_does_not(factory):
    panel = panel_on(factory)
    panel.show("alert")
    panel.sound("alert")
    first = run(panel, factory, 3)
    panel.show("alert")  # the same state again: the flash goes on where it was
    panel.sound("alert")  # a second safety stop: three beeps again from the first
    then = run(panel, factory, 18)
    assert runs(first["red"] + then["red"]) == [(True, 5), (False, 5), (True, 5), (False, 5), (True, 1)]
    assert runs(first["buzzer"] + then["buzzer"]) == [(True, 7), (False, 2), (True, 4), (False, 2), (True, 4), (False, 2)]
    panel.close()


def test_the_patterns_are_what_docs_technician_md_describes():
    # The document's table and the code's patterns are the same facts.
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "technician.md").read_text()
    assert "| ready | green on |" in doc and "| alert | red flashing 250 ms on, 250 ms off |" in doc
    assert "three 200 ms beeps, 100 ms apart" in doc and "two 600 ms beeps, 300 ms apart" in doc
    assert LIGHTS["alert"]["red"] == (True,) * 5 + (False,) * 5
    assert SOUNDS["staff_needed"][:30] == (True,) * 12 + (False,) * 6 + (True,) * 12


def test_the_light_follows_what_the_screen_shows():
    assert light_for(LiveSnapshot(seq=1)) == "ready"
    assert light_for(LiveSnapshot(seq=1, drill={"phase": "running"})) == "drill"
    assert light_for(LiveSnapshot(seq=1, drill={"phase": "paused"})) == "drill"
    assert light_for(LiveSnapshot(seq=1, drill={"phase": "alert"})) == "alert"
    assert light_for(LiveSnapshot(seq=1, drill={"phase": "done"})) == "ready"
    assert light_for(LiveSnapshot(seq=1, device_problem="The mat is not answering.")) == "fault"
    assert light_for(LiveSnapshot(seq=1, drill={"phase": "alert"}, device_problem="x")) == "alert"


def test_a_unit_without_the_panel_never_imports_gpiozero(tmp_path):
    # Run in a fresh interpreter: this test process has gpiozero loaded already.
    code = ("import sys; from gaitkiosk.config import default_config; from gaitkiosk.panel import start_panel; "
            "assert start_panel(object(), default_config()) is None; "
            "import gaitkiosk.runtime, device.panel; print('gpiozero' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def kiosk_with_panel(tmp_path, dummy_video, factory):
    config = default_config()
    config["panel"]["enabled"] = True
    seed_demo(tmp_path, config, "1234")
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, tmp_path, simulate=True, countdown_s=0.3, panel_factory=factory).start(app)
    yield app, rt, tmp_path
    rt.close()


def run_first_drill(app):
    app.post(Intent("start"))
    pump(app, lambda: app.top.name == "checkin")
    app.post(Intent("checkin", {"code": "1234"}))
    pump(app, lambda: app.top.name == "program", what="program")
    app.post(Intent("start_drill", {"index": 0}))
    pump(app, lambda: app.top.name == "instruction", what="instruction")
    app.post(Intent("begin_drill", {"index": 0}))
    pump(app, lambda: app.top.name == "drill" and app.top.view.get("phase") == "running", what="running")


def test_the_stop_button_pauses_a_running_drill_through_the_runtime(kiosk_with_panel, factory):
    app, rt, data = kiosk_with_panel
    assert isinstance(rt.panel, PanelDriver)
    run_first_drill(app)
    pump(app, lambda: rt.panel.panel.light == "drill", what="the light says drill")
    latencies = []
    for _ in range(5):
        factory.pin(PINS["stop"]).drive_low()  # the button closes to ground: the press edge
        pressed_at = rt.panel.presses[-1]

        def applied(since=pressed_at):
            return rt.last_command is not None and rt.last_command[1] >= since

        pump(app, applied, what="paused by the button")
        assert rt.last_command[0] == "pause"
        latencies.append(rt.last_command[1] - pressed_at)
        factory.pin(PINS["stop"]).drive_high()
        pump(app, lambda: app.top.view.get("phase") == "paused", what="the screen shows paused")
        assert app.top.name == "drill"
        # A pause, not an end: Continue runs the same drill on.
        app.post(Intent("resume_drill"))
        pump(app, lambda: app.top.view.get("phase") == "running", what="running again")
    ms = sorted(x * 1000 for x in latencies)
    print(f"stop button edge -> drill paused on the analysis thread: median {ms[2]:.1f} ms, max {ms[-1]:.1f} ms")
    assert rt.alerts == []  # a pressed button is not a loss of balance
    pump(app, lambda: sum(e.action == "panel.stop" for e in _audit(data)) == 5, what="the presses in the audit log")
    trial_ids = {e.subject for e in _audit(data) if e.action == "panel.stop"}
    assert len(trial_ids) == 1 and "" not in trial_ids  # the trial it paused


def _audit(data):
    with open_store(data) as st:
        return st.audit.recent(100)


def test_a_safety_stop_drives_the_light_and_the_buzzer(kiosk_with_panel, factory):
    from device.handlers.virtual_port import plug, unplug

    app, rt, _ = kiosk_with_panel
    run_first_drill(app)
    serial = rt.sensors.by_kind("mat").hello.serial
    unplug(serial)
    try:
        pump(app, lambda: app.top.view.get("phase") == "alert", what="safety stop")
        pump(app, lambda: rt.panel.panel.light == "alert", what="the light says alert")
    finally:
        plug(serial)
    # The buzzer played the alert pattern: three beeps (the mock pin keeps every change in order).
    pump(app, lambda: changes(factory, "buzzer").count(True) >= 3 and not rt.panel.panel.sounding, what="three beeps")
    assert changes(factory, "buzzer")[-6:] == [True, False, True, False, True, False]
    app.post(Intent("stop_drill"))
    pump(app, lambda: app.top.name == "result", what="result")
    pump(app, lambda: rt.panel.panel.light == "ready", what="ready again")


def test_staff_needed_sounds_the_staff_pattern(kiosk_with_panel, factory):
    app, rt, _ = kiosk_with_panel
    rt.staff_needed("the SD card is full")
    pump(app, lambda: changes(factory, "buzzer").count(True) == 2 and not rt.panel.panel.sounding,
         what="two long beeps")


def test_a_panel_that_cannot_be_opened_stops_the_start_with_one_line(tmp_path, dummy_video):
    from gaitkiosk.errors import KioskError

    config = default_config()
    config["panel"]["enabled"] = True
    seed_demo(tmp_path, config, "1234")
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    taken = MockFactory(revision=PI4)
    taken.pin(PINS["red"])
    # a pin already in use elsewhere, the way a second program on the unit would hold it
    holder = Panel(PINS, on_stop=lambda: None, factory=taken)
    try:
        with pytest.raises(KioskError, match=r"GPIO safety panel cannot be opened .*\[panel\] enabled = false"):
            Runtime(config, tmp_path, simulate=True, panel_factory=taken).start(app)
    finally:
        holder.close()
        taken.reset()
    with open_store(tmp_path) as st:  # the failed start let go of the database
        assert st.patients.by_code("1234") is not None


def test_the_config_refuses_two_panel_parts_on_one_pin(tmp_path):
    from gaitkiosk.config import load_config
    from gaitkiosk.errors import ConfigError

    f = tmp_path / "c.toml"
    f.write_text("[panel]\nenabled = true\nbuzzer_pin = 17\n")
    with pytest.raises(ConfigError, match="five different GPIO numbers"):
        load_config(f)
    f.write_text("[panel]\nenabled = true\nstop_pin = 28\n")
    with pytest.raises(ConfigError, match="panel.stop_pin"):
        load_config(f)
