"""A therapist's way through the staff screens in a REAL X window (Xvfb), by real mouse clicks
(issue 11, "Tests": login -> patient -> review -> PDF).

The kiosk is the real process (``gaitkiosk run --simulate``) fullscreen on an 800 x 480 X screen,
as on a unit, over a data directory that already holds a real visit of demo patient 1234 (a
short headless visit on the virtual patient) and the staff users. The test clicks with
``xdotool``: Staff, Ann Berg, her PIN, OK, Patients, patient 1234, Sessions, the visit's
exercise, then Save PDF and the configured folder; the PDF must be in the folder with the
patient's code and the stored report's sway area on it.

Every click position comes from the screens' own layout code: each screen is built offscreen
(tests/x_support.py ``Reference``) from the data the worker gives it, got here by calling the
staff room's view function on the store (not ``staff_views.show``: the test writes no audit
entry of its own). After each click the test waits for the kiosk's audit entry of that step
(with Ann's user id) and for the window to show the expected screen pixel for pixel, never for
a fixed time. Screenshots of each step go to the test's tmp_path.

Needs the X tools of tests/x_support.py and ``pdftotext`` (poppler-utils); skipped with the
reason without them, failed in CI (``GAITKIOSK_NEED_X=1``).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _pytest.outcomes import Failed
from staff_support import PINS, add_team, stored_visit
from x_support import (
    SIZE,
    X_TOOLS,
    Reference,
    Screen,
    kiosk_env,
    needs,
    require,
    same_fraction,
    save_png,
    ui_config,
    wait_for,
    window_geometry,
    xvfb,
)

from store import open_store

TOOLS = {**X_TOOLS, "pdftotext": "poppler-utils"}
pytestmark = needs(TOOLS)

CODE = "1234"  # the demo patient
NAME = "Ann Berg"  # a therapist (tests/staff_support.py add_team)
# Static screens (no animation on staff screens) must match their offscreen drawing almost
# exactly; the share is measured on the whole window, so a screen shown with the wrong data
# (another patient's page, "Drawing..." where the plot belongs) stays well below it.
SAME = 0.995
# Distinct colours in the review's plot box: its plot (COP path, ellipse, axes, labels) had 739 in a
# run, the "Drawing..." panel there instead 177 (its words' antialiasing).
PLOT_COLOURS = 400


@pytest.fixture
def xunit(tmp_path):
    """An X server the size of the unit's touchscreen (the kiosk fullscreen on it)."""
    require(TOOLS)
    with xvfb(tmp_path, SIZE) as display:
        yield display


class Flow:
    """The running kiosk seen from outside: its window (pictures, clicks), its audit log, the data."""

    def __init__(self, tmp_path, proc, screen: Screen, data, log, user_id: str):
        self.tmp, self.proc, self.screen, self.data, self.log, self.user_id = tmp_path, proc, screen, data, log, user_id
        self.step = 0
        self.expected: np.ndarray | None = None  # the reference drawing of the screen shown last
        self.seen_audit = self.last_audit_id()

    def wait(self, what: str, check, timeout: float = 60.0):
        # Upper bounds for a loaded 2-core machine (the kiosk's start, matplotlib's first plot); the
        # test goes on as soon as the event is there.
        return wait_for(what, check, self.proc, timeout, log=self.log)

    def shot(self, name: str) -> np.ndarray:
        self.step += 1
        pixels = self.screen.grab()
        save_png(pixels, self.tmp / f"x-{self.step:02d}-{name}.png")
        return pixels

    def shows(self, name: str, expected: np.ndarray, region=None, timeout: float = 60.0) -> np.ndarray:
        """Wait until the window shows ``expected`` (the reference drawing); its screenshot.

        Alike: ``SAME`` of the whole window, and ``SAME`` of the pixels where ``expected`` differs
        from the screen expected before (what this step changed: a name button lit, six dots) and
        of ``region`` (a rect), so that the screen before this step never passes for it."""
        changed = np.any(expected != self.expected, axis=2) if self.expected is not None else None
        if changed is not None and not changed.any():
            changed = None
        last = {}

        def parts(pixels) -> dict:
            alike = np.all(pixels == expected, axis=2)
            out = {"window": float(alike.mean())}
            if changed is not None:
                out["changed"] = float(alike[changed].mean())
            if region is not None:
                out["region"] = float(alike[region.top:region.bottom, region.left:region.right].mean())
            return out

        def alike():
            last["shot"] = self.screen.grab()
            return all(v >= SAME for v in parts(last["shot"]).values())

        try:
            self.wait(f"the window to show {name}", alike, timeout)
        except Failed:
            save_png(expected, self.tmp / f"x-{name}-expected.png")
            if "shot" in last:
                save_png(last["shot"], self.tmp / f"x-{name}-seen.png")
                print(f"{name}: share of the pixels alike: {parts(last['shot'])}")
            raise
        print(f"{name}: share of the pixels alike: {parts(last['shot'])}"
              + (f" ({int(changed.sum())} changed)" if changed is not None else ""))
        self.expected = expected
        return self.shot(name)

    def click(self, pos) -> None:
        self.screen.click(tuple(int(v) for v in pos))

    # -- the audit log, read beside the running kiosk through SQLite (docs/store.md) --------------------------
    def last_audit_id(self) -> int:
        with open_store(self.data, create=False) as st:
            found = st.audit.recent(1)
        return found[0].id if found else 0

    def audited(self, action: str, **details):
        """Wait for the kiosk's next ``action`` entry with Ann's user id (after the ones seen); the entry."""
        def entry():
            with open_store(self.data, create=False) as st:
                new = [e for e in reversed(st.audit.recent(50)) if e.id > self.seen_audit]
            for e in new:
                if e.action == action and e.user_id == self.user_id and \
                        all(e.details.get(k) == v for k, v in details.items()):
                    return e
            return None

        found = self.wait(f"the audit entry {action} {details or ''}", entry)
        self.seen_audit = found.id
        return found


def view_data(data, user_id: str, config: dict, name: str, **params) -> dict:
    """What the worker's view ``name`` gives its screen: the room's function called on a store opened here."""
    from gaitkiosk import staff_views

    staff_views.load_rooms()
    fn = staff_views.VIEWS[name][0]
    with open_store(data, create=False) as st:
        return fn(staff_views.Desk(st, st.users.get(user_id), config), **params)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def row_center(lst, index: int) -> tuple[int, int]:
    """The middle of row ``index`` of a ScrollList at its first page (ui/scroll.py)."""
    assert 0 <= index < len(lst.visible()), f"row {index} is not in view"
    return lst.rect.centerx, lst.rect.top + index * lst.row_h + lst.row_h // 2


def test_login_patient_review_and_pdf_by_mouse_clicks(tmp_path, xunit):
    from gaitkiosk.config import load_config
    from ui.app import Message
    from ui.plots import plots_of
    from ui.screens import AttractScreen
    from ui.screens.staff_home import StaffHomeScreen
    from ui.screens.staff_login import StaffLoginScreen
    from ui.screens.staff_patient import PatientScreen, SessionsScreen
    from ui.screens.staff_patients import PatientsScreen
    from ui.screens.staff_review import ReviewScreen
    from ui.screens.staff_save import SaveScreen

    data, share = tmp_path / "data", tmp_path / "share"
    share.mkdir()
    session = stored_visit(data, CODE)  # a real visit of the demo patient: one quiet-standing trial
    ann = add_team(data)
    with open_store(data, create=False) as st:
        patient = st.patients.by_code(CODE)
        [trial] = st.trials.for_session(session.id)
        users = [{"name": u.name, "role": u.role} for u in st.users.list() if u.active]
    area = trial.report["sway"]["ellipse95_area_mm2"]
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(ui_config(*SIZE, True) + f'\n[reports]\nfolder = "{share}"\n')
    config = load_config(cfg)

    ref = Reference(config)
    log = tmp_path / "kiosk.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--config", str(cfg),
                                 "--data-dir", str(data)], env=kiosk_env(xunit), stdout=out, stderr=subprocess.STDOUT)
    try:
        geometry = wait_for("the kiosk's X window", lambda: window_geometry(xunit, "gaitkiosk"), proc, 60, log=log)
        assert geometry == (0, 0, *SIZE)  # fullscreen on the unit's screen
        flow = Flow(tmp_path, proc, Screen(xunit, (0, 0)), data, log, ann)

        # The start screen (its picture and button pulse: 0.95 as in test_run_xwindow), then Staff.
        attract = ref.screen(AttractScreen)
        attract_px = ref.draw(attract)
        flow.wait("the start screen", lambda: same_fraction(flow.screen.grab(), attract_px) > 0.95)
        flow.shot("attract")
        flow.expected = attract_px
        flow.click(attract.buttons.get("staff").rect.center)

        # Staff login: the name, the PIN's keys, OK.
        login = ref.screen(StaffLoginScreen, users)
        flow.shows("staff-login", ref.draw(login))
        flow.click(login.names.get(f"user:{NAME}").rect.center)
        login.selected = NAME
        login.layout(SIZE)  # its name buttons again: Ann's lit
        flow.shows("staff-login-ann", ref.draw(login))
        for key in PINS[NAME]:
            flow.click(login.keypad.buttons.get(f"key:{key}").rect.center)
        login.keypad.code = PINS[NAME]
        flow.shows("staff-login-pin", ref.draw(login))  # six dots: every key arrived
        flow.click(login.keypad.buttons.get("key:ok").rect.center)
        flow.audited("staff.login")

        home = ref.screen(StaffHomeScreen, NAME, "therapist", float(config["ui"]["staff_idle_logout_s"]),
                          float(config["analysis"]["contact_on_n"]))
        flow.shows("staff-home", ref.draw(home))
        flow.click(home.rooms_buttons.get("patients").rect.center)

        # Patients: the row of 1234.
        patients = ref.screen(PatientsScreen, view_data(data, ann, config, "patients"))
        flow.shows("patients", ref.draw(patients))
        row = [p[1] for p in patients.rows].index(CODE)
        flow.click(row_center(patients.list, row))
        flow.audited("staff.view.patient", patient=patient.id)

        page = ref.screen(PatientScreen, view_data(data, ann, config, "patient", patient=patient.id))
        flow.shows("patient", ref.draw(page))
        flow.click(page.actions.get("sessions").rect.center)
        flow.audited("staff.view.sessions", patient=patient.id)

        # Sessions: the visit's exercise (the row under the visit's).
        sessions = ref.screen(SessionsScreen, view_data(data, ann, config, "sessions", patient=patient.id))
        flow.shows("sessions", ref.draw(sessions))
        row = [item["id"] for _, item in sessions.items].index(trial.id)
        assert sessions.items[row][0] == "trial"
        flow.click(row_center(sessions.list, row))
        flow.audited("staff.view.review", trial=trial.id)

        # The review, Sway tab: its plot drawn here too (matplotlib, the same draw function) to compare.
        review = ref.screen(ReviewScreen, view_data(data, ann, config, "review", trial=trial.id))
        assert review.tab == "sway"
        review.update(0.0)  # asks for the plot
        assert plots_of(ref.app).wait(120), "the reference plot was not drawn"
        review.update(0.0)
        assert review.plot is not None, review.plot_problem
        box = review.plot_box
        seen = flow.shows("review", ref.draw(review), region=box, timeout=120)  # the kiosk's matplotlib too
        colours = np.unique(seen[box.top:box.bottom, box.left:box.right].reshape(-1, 3), axis=0)
        assert len(colours) >= PLOT_COLOURS, f"the plot area has {len(colours)} colours: no plot drawn"
        flow.click(review.bar.get("pdf").rect.center)  # Save PDF, in the title bar

        # Save PDF: the folder's button.
        save = ref.screen(SaveScreen, view_data(data, ann, config, "save", what="session", id=session.id,
                                                back=["review", {"trial": trial.id}]))
        flow.shows("save", ref.draw(save))
        [place] = [i for i, p in enumerate(save.data["places"]) if p["path"] == str(share)]
        flow.click(save.places.get(f"place:{place}").rect.center)
        saved = flow.audited("report.saved", kind="session", patient=CODE)
        files = sorted(share.iterdir())
        assert files == [Path(saved.details["file"])] and files[0].suffix == ".pdf", (files, saved.details)
        save.on_message(Message("staff_saved", {"name": files[0].name, "label": save.data["places"][place]["label"]}))
        flow.shows("saved", ref.draw(save))  # "Saved P1234-...pdf to folder ..." on the screen

        text = pdf_text(files[0])
        assert CODE in text and session.id[:8] in text
        # The stored report's sway area, as the PDF writes it (gaitkiosk/session_pdf.py: "{:.0f}" mm²).
        [line] = [ln for ln in text.splitlines() if "sway area (95 % ellipse)" in ln]
        assert re.search(rf"\s{area:.0f}\s+mm²", line), (area, line)

        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)  # what systemd sends
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text(errors="replace")[-4000:]
    assert window_geometry(xunit, "gaitkiosk") is None
    with open_store(data, kiosk=True, create=False) as st:  # the kiosk lock was released
        actions = [e.action for e in reversed(st.audit.recent(50)) if e.user_id == ann]
    assert actions == ["staff.login", "staff.view.patient", "staff.view.sessions", "staff.view.review",
                       "report.saved", "staff.logout"], actions  # the shutdown logged Ann out
