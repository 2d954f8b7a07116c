"""Helpers for the staff screens' tests: a real kiosk (worker thread, SQLite store, sim:// sensors)
with staff users, and logging in through the real screens with taps."""

from __future__ import annotations

import pytest
from ui_support import make_app, pump, tap_button

from gaitkiosk.config import default_config
from gaitkiosk.demo_seed import seed_demo
from gaitkiosk.lockout import KeypadLockout
from gaitkiosk.runtime import Runtime
from store import open_store
from ui import screens

TEAM = [{"name": "Ann Berg", "role": "therapist"}, {"name": "Bo L.", "role": "technician"}]
PINS = {"Ann Berg": "482913", "Bo L.": "1111", "Cy": "2222"}


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


def add_team(data) -> str:
    """Ann Berg (therapist), Bo L. (technician) and Cy (a deactivated therapist); Ann's user id."""
    with open_store(data) as st:
        ann = st.users.add("Ann Berg", "therapist", PINS["Ann Berg"])
        st.users.add("Bo L.", "technician", PINS["Bo L."])
        gone = st.users.add("Cy", "therapist", PINS["Cy"])
        st.users.set_active(gone.id, False)
    return ann.id


@pytest.fixture
def kiosk(tmp_path, dummy_video, kiosk_config):
    """(app, runtime, data dir, lockout clock, Ann's user id): the demo patient 1234 and the team."""
    config = kiosk_config
    seed_demo(tmp_path, config, "1234")
    ann = add_team(tmp_path)
    clock = FakeClock()
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, tmp_path, simulate=True, staff_lockout=KeypadLockout(clock)).start(app)
    yield app, rt, tmp_path, clock, ann
    rt.close()


def stored_visit(data, code: str = "1234", drills=("quiet_standing",), seconds: float = 3.0):
    """A real headless visit of demo patient ``code`` doing ``drills`` on the virtual patient, stored in
    ``data`` (seeded first); the stored session."""
    from gaitkiosk import cli

    seed_demo(data, default_config(), code)
    assert cli.main(["program", "set", code, *drills, "--data-dir", str(data)]) == 0
    assert cli.main(["run", "--simulate", "--headless", "--no-seed", "--code", code, "--seconds", str(seconds),
                     "--countdown", "0.3", "--timeout", "300", "--data-dir", str(data), "--json"]) == 0
    with open_store(data, create=False) as st:
        return st.sessions.list(limit=1)[0].session


def type_pin(app, screen, pin: str) -> None:
    for key in pin:
        tap_button(app, screen.keypad.buttons.get(f"key:{key}"))
    tap_button(app, screen.keypad.buttons.get("key:ok"))


def log_in(app, name: str = "Ann Berg", pin: str | None = None) -> None:
    """From the start screen to the staff home, by taps."""
    pump(app, lambda: app.top.name == "attract", what="start screen")
    tap_button(app, app.top.buttons.get("staff"))
    pump(app, lambda: app.top.name == "staff_login", what="staff login")
    tap_button(app, app.top.names.get(f"user:{name}"))
    type_pin(app, app.top, pin or PINS[name])
    pump(app, lambda: app.top.name == "staff_home", what="staff home")


def staff_entries(data, prefix: str = "staff."):
    with open_store(data) as st:
        return [e for e in reversed(st.audit.recent(500)) if e.action.startswith(prefix)]
