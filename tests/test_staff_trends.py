"""A patient's trends (issue 11 item 5): the series against the stored trials' results and reports, the
plot drawn from those series with the prescription changes, and two sessions side by side with the
numbers that are not like for like flagged. The screens are driven by taps through the real runtime."""

from __future__ import annotations

import patients_support
import staff_support
import ui_support
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from staff_support import log_in
from test_staff_patients import row_center, top_is
from ui_support import pump, tap, tap_button

from gaitkiosk import trends
from store import open_store, rows
from ui.plots import plots_of
from ui.screens.staff import view
from ui.screens.staff_trends import draw_trends, panels, plot_style

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk


def stored(st, patient_id):
    """(session started_at, trial) of the patient's complete trials, oldest first, read back whole."""
    out = []
    for s in reversed(st.sessions.list(patient_id=patient_id, limit=1000)):
        out += [(s.session.started_at, t) for t in st.trials.for_session(s.session.id) if t.status == "complete"]
    return out


def st_trials(data, session_id):
    with open_store(data) as st:
        return st.trials.for_session(session_id)


def expected(trials, drill, get):
    return [(at, get(t), t.id) for at, t in trials if t.drill == drill]


def test_the_series_are_the_stored_results_and_reports(tmp_path):
    with open_store(tmp_path) as st:
        p = patients_support.add_patient_with_visits(st, "40712", 30, uncalibrated_at={4}, stopped_at={6, 7},
                                                     programs_at=(0, 11, 20))
        got = trends.series(st, p.id)
        trials = stored(st, p.id)
        programs = [pr.created_at for pr in st.programs.for_patient(p.id, active_only=False)]
    want = {
        "score:quiet_standing": expected(trials, "quiet_standing", lambda t: t.results["score"]),
        "score:gait_insoles": expected(trials, "gait_insoles", lambda t: t.results["score"]),
        "sway_area_open": expected(trials, "quiet_standing",
                                   lambda t: t.results["measures"]["conditions"]["eyes_open"]["sway"]["ellipse95_area_mm2"]),
        "sway_speed_closed": expected(trials, "quiet_standing",
                                      lambda t: t.results["measures"]["conditions"]["eyes_closed"]["sway"]["mean_velocity_mm_s"]),
        "romberg_area": expected(trials, "quiet_standing", lambda t: t.results["measures"]["romberg"]["ellipse_area_ratio"]),
        "standing_left": expected(trials, "quiet_standing", lambda t: t.report["weight"]["left_pct"]),
        "symmetry_left": expected(trials, "weight_symmetry", lambda t: t.results["measures"]["mean_left_pct"]),
        "cadence_insoles": expected(trials, "gait_insoles", lambda t: t.report["gait"]["cadence_steps_min"]),
    }
    for key, points in want.items():
        assert [(at, v, tid) for at, v, tid, _ in got.get(key).points] == points, key
    assert len(want["sway_area_open"]) == 28  # the two stopped runs are not points
    footings = {tid: f for _, _, tid, f in got.get("sway_area_open").points}
    assert sorted(set(footings.values())) == ["calibrated", "uncalibrated"]
    assert [at for at, _ in got.changes] == programs and len(programs) == 3
    assert got.sessions == 30 and "cadence_tandem" not in got.series  # no tandem walks: no such series


def test_trends_open_by_taps_and_the_plot_is_drawn_from_the_series(kiosk):
    app, rt, data, clock, ann = kiosk
    with open_store(data) as st:
        p = patients_support.add_patient_with_visits(st, "40712", 12, programs_at=(0, 5))
        truth = trends.series(st, p.id)
    log_in(app)
    app.post(view("patient", patient=p.id))
    tap_button(app, top_is(app, "staff_patient").actions.get("trends"))
    screen = top_is(app, "staff_trends")
    assert screen.trends.series.keys() == truth.series.keys()
    tap_button(app, screen.tabs.get("tab:balance"))
    data_of = panels(screen.trends, "balance")
    assert [p["title"] for p in data_of][:2] == ["Sway area (95 % ellipse)", "Sway speed"]
    assert data_of[0]["lines"][0]["values"] == truth.get("sway_area_open").values
    pump(app, lambda: screen.plot() is not None, what="the balance plot")
    assert screen.plot().get_size() == screen.plot_rect.size
    # the figure the renderer drew: its lines are the series, a dashed line at each program change
    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    draw_trends(fig, data_of, [c[0] for c in screen.trends.changes], plot_style(app))
    area = fig.axes[0]
    drawn = [list(line.get_ydata()) for line in area.lines if line.get_linestyle() == "-"]
    assert drawn[:2] == [truth.get("sway_area_open").values, truth.get("sway_area_closed").values]
    assert len([line for line in area.lines if line.get_linestyle() == "--"]) == 2
    tap_button(app, screen.tabs.get("tab:walking"))
    pump(app, lambda: screen.plot() is not None, what="the walking plot")
    assert plots_of(app).failed(screen.plot_key(), screen.plot_rect.size) is None


def test_side_by_side_flags_numbers_that_are_not_like_for_like(kiosk):
    app, rt, data, clock, ann = kiosk
    with open_store(data) as st:
        p = patients_support.add_patient_with_visits(st, "40712", 4, uncalibrated_at={3})
        visits = [s.session for s in st.sessions.list(patient_id=p.id, limit=9)]  # newest first
        # the weight drill of the second visit was measured by a newer definition of its measures
        weight = next(t for t in st.trials.for_session(visits[1].id) if t.drill == "weight_symmetry")
        with rows.atomic(st.db):
            st.db.execute("UPDATE trials SET results = json_set(results, '$.measures_version', 2) WHERE id = ?",
                          [weight.id])
        newest = {t.drill: t for t in st.trials.for_session(visits[0].id)}
    log_in(app)
    app.post(view("sessions", patient=p.id))
    sessions = top_is(app, "staff_sessions")
    starts = [i for i, (kind, _) in enumerate(sessions.items) if kind == "session"]
    tap(app, row_center(sessions, starts[0]))
    while (starts[1] + 1) * sessions.list.row_h - sessions.list.offset > sessions.list.rect.height:
        tap_button(app, sessions.side.get("down"))  # the page down to the second visit
    tap(app, row_center(sessions, starts[1]))
    assert sessions.picked == [visits[0].id, visits[1].id]
    tap_button(app, sessions.side.get("compare"))
    screen = top_is(app, "staff_compare")
    a, b = screen.data["a"], screen.data["b"]
    assert (a["id"], b["id"]) == (visits[1].id, visits[0].id)  # the older on the left
    assert a["calibration"].startswith("calibrated") and b["calibration"].startswith("uncalibrated")
    assert a["sensors"] == b["sensors"] == "mat, insoles"
    why = {d["drill"]: d["why"] for d in screen.data["drills"]}
    assert why["quiet_standing"] == why["gait_insoles"] == "measured calibrated in one and uncalibrated in the other"
    assert why["weight_symmetry"] == "one run was measured by an older definition of the measures (a kiosk update)"
    older = {t.drill: t for t in st_trials(data, visits[1].id)}
    for drill, trial in newest.items():
        label, unit, left, right = next(d for d in screen.data["drills"] if d["drill"] == drill)["rows"][0]
        assert (label, unit, left, right) == ("Score", "of 100", older[drill].results["score"], trial.results["score"])
    # two visits alike: nothing flagged
    app.post(view("compare", patient=p.id, a=visits[2].id, b=visits[3].id))
    pump(app, lambda: app.top is not screen and app.top.name == "staff_compare", what="the second comparison")
    assert {d["why"] for d in app.top.data["drills"]} == {""}
