"""The Patients room's and Trends' gallery states (``gaitkiosk.gallery``): the list, search, adding a
patient on the keyboard, a patient's page, their sessions, trends and two sessions side by side.

The data is what the worker's views send (gaitkiosk/staff_rooms/patients.py), made here without a
store: series of plausible values over twelve weeks (``gaitkiosk.trends.Series``), the longest
names and codes the store and the keypad allow.
"""

from __future__ import annotations

import math


def _patients(n: int = 40) -> list[tuple]:
    from store.users import NAME_MAX

    out = [("p-long", "12345678", "W" * NAME_MAX, False, "2026-01-05")]
    for k in range(n):
        out.append((f"p-{k}", str(402100 + 37 * k), ["Eva Lund", "", "Carla Martínez-Olsen", "Bo"][k % 4], k % 9 == 4,
                    f"2026-{1 + k % 12:02d}-{1 + k % 27:02d}"))
    return sorted(out, key=lambda p: p[1])


def _who(archived: bool = False, name: str = "Eva Lund") -> dict:
    return {"id": "p-1", "code": "40712", "name": name, "birth_year": 1948, "notes": "", "archived": archived,
            "since": "2026-06-01"}


def _trends():
    from gaitkiosk.trends import Series, Trends

    days = [f"2026-{6 + (2 * k) // 30:02d}-{1 + (2 * k) % 30:02d}T09:00:00.000000Z" for k in range(40)]

    def series(key, label, unit, f, every=1, hollow=()):
        pts = [(days[k], f(k), f"t-{key}-{k}", "uncalibrated" if k in hollow else "calibrated")
               for k in range(0, 40, every)]
        return Series(key, label, unit, pts)

    s = [series("score:quiet_standing", "Score, Stand still", "points", lambda k: 55 + 30 * (1 - math.exp(-k / 15))
                + 5 * math.sin(k), hollow=(17,)),
         series("score:weight_symmetry", "Score, Even weight", "points", lambda k: 40 + k + 6 * math.cos(1.3 * k)),
         series("score:gait_insoles", "Score, Walk to the beat", "points", lambda k: 62 + 4 * math.sin(0.7 * k), 2),
         series("sway_area_open", "Sway area, eyes open", "mm²", lambda k: 320 * math.exp(-k / 30) + 60, hollow=(17,)),
         series("sway_area_closed", "Sway area, eyes closed", "mm²", lambda k: 700 * math.exp(-k / 25) + 120,
                hollow=(17,)),
         series("sway_speed_open", "Sway speed, eyes open", "mm/s", lambda k: 14 - k / 6),
         series("sway_speed_closed", "Sway speed, eyes closed", "mm/s", lambda k: 22 - k / 5),
         series("romberg_area", "Romberg ratio (sway area, closed / open)", "",
                lambda k: (700 * math.exp(-k / 25) + 120) / (320 * math.exp(-k / 30) + 60)),
         series("standing_left", "Weight on the left foot, quiet standing", "%", lambda k: 58 - k / 5),
         series("symmetry_left", "Weight on the left foot, weight drill", "%", lambda k: 60 - k / 4),
         series("cadence_insoles", "Cadence, walking with insoles", "steps/min", lambda k: 92 + k / 2, 2)]
    changes = [("2026-06-01T08:00:00.000000Z", "start"), ("2026-07-01T08:00:00.000000Z", "harder stance")]
    return Trends("p-1", {x.key: x for x in s}, changes, 40, days[0], days[-1])


def _page(archived=False, empty=False) -> dict:
    from gaitkiosk.staff_rooms.patients import param_words, sparklines

    if empty:
        return {"patient": _who(archived, ""), "program": None, "last_visit": "No visits yet.", "sparklines": []}
    items = [("Stand still", param_words("quiet_standing", {"stance": "semi_tandem", "eyes": "both"})),
             ("Even weight × 2", param_words("weight_symmetry", {})),
             ("Walk to the beat", param_words("gait_insoles", {})),
             ("Rock heel to toe", param_words("heel_toe_rocking", {}))]
    return {"patient": _who(archived), "program": {"name": "balance, weeks 5-8", "set": "2026-07-01", "items": items},
            "last_visit": "2026-08-18: 3 of 4 exercises done (1 stopped early).", "sparklines": sparklines(_trends())}


def _sessions() -> dict:
    titles = [("quiet_standing", "Stand still"), ("weight_symmetry", "Even weight"), ("gait_insoles", "Walk to the beat")]
    out = []
    for k in range(12):
        trials = [{"id": f"t-{k}-{i}", "drill": d, "title": t, "status": "stopped" if (k, i) == (1, 0) else "complete",
                   "score": None if (k, i) == (1, 0) else 60.0 + 3 * k - 7 * i} for i, (d, t) in enumerate(titles)]
        out.append({"id": f"s-{k}", "started_at": f"2026-08-{18 - k:02d}T09:{10 + k:02d}:00.000000Z",
                    "status": "incomplete" if k == 1 else "complete", "trials": trials})
    return {"patient": _who(), "sessions": out}


def _compare() -> dict:
    col = {"sensors": "mat, insoles", "status": "complete"}
    return {"patient": _who(),
            "a": {**col, "id": "s-3", "started_at": "2026-08-04T09:12:00.000000Z",
                  "calibration": "calibrated (mat calibration 3f2a9c1e)"},
            "b": {**col, "id": "s-0", "started_at": "2026-08-18T09:10:00.000000Z",
                  "calibration": "uncalibrated (mat not calibrated)"},
            "drills": [
                {"drill": "quiet_standing", "title": "Stand still",
                 "why": "measured calibrated in one and uncalibrated in the other",
                 "rows": [("Score", "of 100", 71.0, 83.0), ("Sway area", "mm²", 212.4, 96.1),
                          ("Sway speed", "mm/s", 9.81, 8.2), ("Romberg ratio (area)", "", 1.84, 2.31),
                          ("Weight on the left", "%", 54.2, 51.0)]},
                {"drill": "weight_symmetry", "title": "Even weight", "why": "",
                 "rows": [("Score", "of 100", 64.0, 78.0), ("Time in the band", "%", 64.3, 78.1),
                          ("Off by", "points", 4.1, 2.6)]},
                {"drill": "gait_insoles", "title": "Walk to the beat", "why": "",
                 "rows": [("Score", "of 100", 66.0, None), ("Cadence", "steps/min", 98.2, None)]}]}


def states():
    from gaitkiosk.gallery import State
    from ui.app import Message
    from ui.plots import plots_of
    from ui.screens.staff_patient import PatientScreen, SessionsScreen
    from ui.screens.staff_patients import NewPatientScreen, PatientsScreen
    from ui.screens.staff_trends import CompareScreen, TrendsScreen

    def patients(**over):
        return lambda app: PatientsScreen(app, {"patients": _patients(), **over})

    def searching(code):
        def setup(s):
            s.searching = True
            s.pad.code = code
            s.refilter()
        return setup

    def typing(field, text):
        def setup(s):
            s.open(field)
            if field == "code":
                s.pad.code = text
            else:
                s.keyboard.text = text
                s.keyboard._build()
        return setup

    def trends(tab, data=None):
        def make(app):
            return TrendsScreen(app, {"patient": _who(), "trends": data or _trends()})

        def setup(s):
            s.tab = tab
            s.plot()
            plots_of(s.app).wait()
        return make, setup

    def symbols(s):
        typing("notes", "left knee op. 2025; uses a stick " * 3)(s)
        s.keyboard.layer = "symbols"
        s.keyboard._build()

    def picked(s):
        s.picked = ["s-0", "s-3"]

    from gaitkiosk.trends import Trends

    empty = Trends("p-1", {}, [], 0, None, None)
    return [
        State("staff_patients", patients(), picture=True),
        State("staff_patients-search", patients(), searching("4021"), picture=True),
        State("staff_patients-nomatch", patients(), searching("99999999")),
        State("staff_patients-deactivated", patients(archived=True)),
        State("staff_patients-empty", lambda app: PatientsScreen(app, {"patients": []})),
        State("staff_patient_new", lambda app: NewPatientScreen(app, {"code": "482913"}), picture=True),
        State("staff_patient_new-keyboard", lambda app: NewPatientScreen(app, {"code": "482913"}),
              typing("name", "Carla Martínez-Olsen"), picture=True),
        State("staff_patient_new-symbols", lambda app: NewPatientScreen(app, {"code": "482913"}),
              symbols),
        State("staff_patient_new-code", lambda app: NewPatientScreen(app, {"code": ""}), typing("code", "12345678")),
        State("staff_patient_new-refused", lambda app: NewPatientScreen(app, {"code": "1234"}),
              lambda s: s.on_message(Message("staff_refused_action", {
                  "text": "A patient with code 1234 already exists."}))),
        State("staff_patient", lambda app: PatientScreen(app, _page()), picture=True),
        State("staff_patient-confirm", lambda app: PatientScreen(app, _page()), lambda s: setattr(s, "confirming", True),
              picture=True),
        State("staff_patient-deactivated", lambda app: PatientScreen(app, _page(archived=True))),
        State("staff_patient-deactivated-confirm", lambda app: PatientScreen(app, _page(archived=True)),
              lambda s: setattr(s, "confirming", True)),
        State("staff_patient-new", lambda app: PatientScreen(app, _page(empty=True))),
        State("staff_sessions", lambda app: SessionsScreen(app, _sessions()), picked, picture=True),
        State("staff_sessions-none", lambda app: SessionsScreen(app, {"patient": _who(), "sessions": []})),
        State("staff_trends", *trends("scores"), picture=True),
        State("staff_trends-balance", *trends("balance"), picture=True),
        State("staff_trends-walking", *trends("walking"), picture=True),
        State("staff_trends-none", *trends("scores", empty)),
        State("staff_compare", lambda app: CompareScreen(app, _compare()), picture=True),
    ]
