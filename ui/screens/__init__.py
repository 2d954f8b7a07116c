"""The patient screens and the router that picks one for each runtime message.

The flow of a visit (each arrow is a runtime :class:`~ui.app.Message`):

    attract --start--> checkin --patient--> program --drill_ready--> instruction
      --drill_live--> drill --drill_done--> result --drill_ready--> instruction ...
      --visit_done--> goodbye --reset--> attract

    any screen --staff_needed--> staff_needed --reset--> attract   (storage failed: the visit is closed)

    attract --staff--> staff_login --staff_home--> staff_home --staff_logout--> attract   (therapists, technicians)
    staff_home --staff_view--> staff_<view> --staff_view/staff_do--> ...   (ui/screens/staff.py)

Only the start screen has a Staff button; the worker opens the staff home only
after it checked a PIN, never during a visit, and the router refuses a
``staff_home`` without a user. No patient screen posts a staff intent.

Screens post intents (``start``, ``checkin``, ``start_drill``, ``begin_drill``,
``skip_drill``, ``pause_drill``, ``resume_drill``, ``stop_drill``,
``finish_visit``, ``goodbye_done``, ``cancel``; staff: ``staff``, ``staff_login``,
``staff_logout``, ``staff_view``, ``staff_do``); the runtime decides and
answers with the messages above.
"""

from __future__ import annotations

from ui.screens.attract import AttractScreen
from ui.screens.checkin import CheckInScreen
from ui.screens.drill import LiveDrillScreen
from ui.screens.goodbye import GoodbyeScreen
from ui.screens.instruction import InstructionScreen
from ui.screens.program import ProgramScreen
from ui.screens.result import ResultScreen
from ui.screens.staff import STAFF_SCREENS
from ui.screens.staff_calibration import CalibrationHistoryScreen, CalibrationScreen
from ui.screens.staff_calibration_run import CalibrationResultScreen, CalibrationRunScreen
from ui.screens.staff_diagnostics import DiagnosticsScreen, SensorDiagnosticsScreen
from ui.screens.staff_home import StaffHomeScreen
from ui.screens.staff_login import StaffLoginScreen
from ui.screens.staff_needed import StaffNeededScreen
from ui.screens.staff_patient import PatientScreen, SessionsScreen
from ui.screens.staff_patients import NewPatientScreen, PatientsScreen
from ui.screens.staff_program import ProgramEditScreen
from ui.screens.staff_review import ReviewScreen
from ui.screens.staff_save import SaveScreen
from ui.screens.staff_trends import CompareScreen, TrendsScreen

__all__ = ["AttractScreen", "CheckInScreen", "ProgramScreen", "InstructionScreen", "LiveDrillScreen",
           "ResultScreen", "GoodbyeScreen", "StaffNeededScreen", "StaffLoginScreen", "StaffHomeScreen", "route",
           "SaveScreen", "ProgramEditScreen", "ReviewScreen",
           # the Patients room (issue 11 items 2 and 5)
           "PatientsScreen", "NewPatientScreen", "PatientScreen", "SessionsScreen", "TrendsScreen", "CompareScreen",
           "CalibrationScreen", "CalibrationRunScreen", "CalibrationResultScreen", "CalibrationHistoryScreen",
           # the diagnostics room (issue 14 item 5)
           "DiagnosticsScreen", "SensorDiagnosticsScreen"]


def route(app, msg) -> bool:
    """Show the screen a runtime message calls for; False leaves it to the top screen."""
    k = msg.kind
    if k in STAFF_SCREENS:  # a staff room's screen: only while a staff user is logged in
        app.reset(STAFF_SCREENS[k](app, msg.data) if getattr(app, "staff", None) else AttractScreen(app))
        return True
    if k == "reset":
        app.reset(AttractScreen(app, **({"clinic": msg["clinic"]} if msg.get("clinic") else {})))
    elif k == "checkin":
        app.reset(CheckInScreen(app, **{key: msg[key] for key in ("max_len", "wait_s") if msg.get(key) is not None}))
    elif k == "patient":
        app.reset(ProgramScreen(app, msg["items"], msg.get("greeting", "Hello!"), msg.get("next_index", 0)))
    elif k == "drill_ready":
        app.reset(InstructionScreen(app, msg["drill"]))
    elif k == "drill_live":
        app.reset(LiveDrillScreen(app, msg["drill"]))
    elif k == "drill_done":
        app.reset(ResultScreen(app, msg["result"]))
    elif k == "visit_done":
        app.reset(GoodbyeScreen(app, msg["summary"]))
    elif k == "staff_needed":
        app.reset(StaffNeededScreen(app, msg.get("done", 0), msg.get("total", 0), msg.get("staff", "")))
    elif k == "staff_login":
        app.reset(StaffLoginScreen(app, msg.get("users") or [], msg.get("wait_s") or 0.0))
    elif k == "staff_home":
        if not (msg.get("name") and msg.get("role")):  # no staff screen without a logged-in user
            app.reset(AttractScreen(app))
            return True
        app.reset(StaffHomeScreen(app, msg["name"], msg["role"],
                                  **{key: msg[key] for key in ("idle_logout_s", "walk_up_n") if msg.get(key) is not None}))
    else:
        return False
    if k != "staff_home":
        app.staff = None  # any other screen: the staff user is gone (logged out, a patient came)
    return True
