"""Session review (issue 11 item 4) through the real runtime: a stored trial of the virtual patient
(gaitkiosk.demo_trials: the kiosk's own recording chunks and trial report), opened with
``view("review", trial=ID)`` after a therapist logged in by taps.

The numbers on the screen are the stored report's, the ellipse is drawn from its stored axes,
the pressure legend is in kPa, a tapped number opens its docs/metrics.md definition, replay
advances on app time, and a trial whose frames are missing or damaged shows a message.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import staff_support
import ui_support
from staff_support import log_in, staff_entries
from ui_support import make_app, pump, tap, tap_button

from gaitkiosk import metric_defs, review_words
from gaitkiosk.demo_trials import store_virtual_trial
from store import open_store
from ui import screens
from ui.app import Message
from ui.plots import plots_of
from ui.screens.staff import view
from ui.text import TextLog

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk


def stored_trial(data, drill="quiet_standing", seconds=6.0):
    with open_store(data) as st:
        patient = st.patients.by_code("1234")
        return store_virtual_trial(st, patient.id, drill, seconds), patient.id


def open_review(app, trial_id):
    app.post(view("review", trial=trial_id))
    pump(app, lambda: app.top.name == "staff_review", what="the review screen")
    return app.top


def shown(app) -> list[str]:
    """The strings one frame draws."""
    with TextLog() as log:
        app.step(0.01, [])
    return log.texts()


def every_page(app, screen) -> list[dict]:
    """The rows of the visible tab, page after page (by tapping More)."""
    seen = []
    for _ in range(10):
        seen += [r for _, r in screen.row_rects() if r not in seen]
        page = screen.page_rect()
        if page is None:
            break
        tap(app, page.center)
        if screen.row_rects() and screen.row_rects()[0][1] is seen[0]:
            break  # back at the first page
    return seen


def test_the_review_shows_the_stored_reports_numbers_with_units_sensor_and_calibration(kiosk):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data)
    log_in(app)
    screen = open_review(app, trial.id)
    report = trial.report
    assert screen.tab == "sway"
    rows = every_page(app, screen)
    assert [r["key"] for r in rows] == [spec[0] for spec in review_words.SWAY]
    for r, (key, _label, unit, fmt) in zip(rows, review_words.SWAY, strict=True):
        stored = review_words.lookup(report, key)
        assert r["value"] == stored and r["text"] == review_words.text_of(stored, fmt) and r["unit"] == unit
        assert r["sensor"] == "mat" and r["calibration"] == report["calibration"]["sensors"]["mat"]["state"]
    # what the screen draws: each visible row's value with its unit, and the sensor's calibration
    screen.pages["sway"] = 0
    texts = shown(app)
    for _, r in screen.row_rects():
        assert f"{r['text']} {r['unit']}" in texts
    assert "mat: device-reported kPa" in " ".join(texts)  # the sensor and its calibration state
    seen = staff_entries(data, "staff.view.review")
    assert [(e.user_id, e.subject) for e in seen] == [(ann, trial.id)]


def test_the_ellipse_is_drawn_from_the_stored_axes_and_angle(kiosk, monkeypatch):
    from matplotlib.patches import Ellipse

    from ui import review_plots

    drawn = []
    real = review_plots.cop_plot

    def spy(fig, *args):
        real(fig, *args)
        drawn.append([p for ax in fig.axes for p in ax.patches if isinstance(p, Ellipse)])

    monkeypatch.setattr(review_plots, "cop_plot", spy)
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data)
    log_in(app)
    screen = open_review(app, trial.id)
    pump(app, lambda: screen.plot is not None, what="the COP plot")
    (ellipse,) = drawn[0]
    a, b = trial.report["sway"]["ellipse95_axes_mm"]
    assert ellipse.width / 2 == pytest.approx(a, abs=1e-9) and ellipse.height / 2 == pytest.approx(b, abs=1e-9)
    assert ellipse.angle == pytest.approx(trial.report["sway"]["ellipse95_angle_deg"], abs=1e-9)
    path = screen.mat["cop_lowpassed"]
    assert ellipse.center == pytest.approx(tuple(np.nanmean(path, axis=0)), abs=1e-6)
    assert screen.first_plot_s is not None


def test_the_pressure_images_are_smooth_with_a_kpa_legend_and_the_regions_are_the_reports(kiosk, monkeypatch):
    from ui import review_plots

    legends = []
    real = review_plots.mat_pressure_plot

    def spy(fig, *args):
        real(fig, *args)
        image = fig.axes[0].images[0]
        legends.append((image.get_interpolation(), [t.get_text() for t in fig.axes[-1].get_yticklabels()]))

    monkeypatch.setattr(review_plots, "mat_pressure_plot", spy)
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data, "tandem_walk", 12.0)
    log_in(app)
    screen = open_review(app, trial.id)
    tap_button(app, screen.tabs.get("pressure"))
    pump(app, lambda: screen.plot is not None, what="the pressure image")
    interpolation, labels = legends[0]
    assert interpolation == "bicubic"
    assert labels and all(label.endswith(" kPa") for label in labels) and labels[0] == "10 kPa"
    rows = every_page(app, screen)
    assert {r["key"]: r["value"] for r in rows} == {
        key: review_words.lookup(trial.report, key) for key, *_ in review_words.WEIGHT}
    tap_button(app, screen.side_buttons.get("mode"))
    assert screen.pressure_mode == "mean"
    pump(app, lambda: screen.plot is not None, what="the mean pressure image")
    assert len(legends) == 2


def test_a_tapped_number_opens_its_definition_from_docs_metrics_md(kiosk):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data)
    log_in(app)
    screen = open_review(app, trial.id)
    rect, row = screen.row_rects()[0]
    assert row["key"] == "sway.ellipse95_area_mm2"
    tap(app, rect.center)
    assert screen.defining is row
    words = " ".join(shown(app))
    doc = metric_defs.parse(metric_defs.DOC.read_text(encoding="utf-8"))["sway.ellipse95_area_mm2"]
    assert doc["definition"].replace(" (below)", "") in words
    assert doc["meaning"] in words and "device-reported kPa" in words and "from the mat" in words
    tap(app, rect.center)  # any tap closes it
    assert screen.defining is None


def test_every_number_the_review_shows_has_a_definition(dummy_video):
    from gaitkiosk.gallery import review_data

    for drill, data in review_data().items():
        rows = review_words.every_row(data)
        assert rows, drill
        for r in rows:
            d = r["definition"]
            assert d and d["definition"] and d["section"].startswith("docs/metrics.md section"), (drill, r["key"])


def test_the_shipped_definitions_are_docs_metrics_md_as_it_is():
    table = json.loads((metric_defs.DOC.parent.parent / "gaitkiosk" / metric_defs.TABLE).read_text(encoding="utf-8"))
    assert table == metric_defs.parse(metric_defs.DOC.read_text(encoding="utf-8")), \
        "run python -m gaitkiosk.metric_defs --write after editing docs/metrics.md"
    for key, *_ in review_words.SWAY + review_words.WEIGHT + review_words.STEP_COLUMNS:
        assert metric_defs.definition_of(key)["definition"], key


def test_the_walking_drill_has_a_step_table_whose_lengths_average_to_the_stored_mean(kiosk):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data, "tandem_walk", 20.0)
    log_in(app)
    screen = open_review(app, trial.id)
    tap_button(app, screen.tabs.get("steps"))
    tap_button(app, screen.steps_buttons.get("per_step"))
    steps = trial.report["steps"]
    table = screen.data["steps"]
    assert len(table) == len(steps) >= 3
    for entry, step in zip(table, steps, strict=True):
        cells = {c["key"].split("#")[0]: c for c in entry["cells"]}
        for field in ("stance_s", "cpei_pct", "strike_index_pct", "loading_rate_n_s"):
            assert cells[f"steps.{field}"]["value"] == step[field]
    lengths = [e["cells"][4]["value"] for e in table if e["cells"][4]["value"] is not None]
    widths = [e["cells"][5]["value"] for e in table if e["cells"][5]["value"] is not None]
    assert np.mean(lengths) == pytest.approx(trial.report["gait"]["step_length_mm"], rel=1e-12)
    assert np.mean(widths) == pytest.approx(trial.report["gait"]["step_width_mm"], rel=1e-12, abs=1e-9)
    texts = shown(app)
    for _, cell in screen.step_cells():
        assert cell["text"] in texts


def test_the_insole_drill_shows_cadence_contact_time_and_symmetry(kiosk):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data, "gait_insoles", 8.0)
    log_in(app)
    screen = open_review(app, trial.id)
    assert screen.tab == "steps"  # no whole-body COP: the first tab is the insoles' numbers
    rows = every_page(app, screen)
    gait = trial.report["gait"]
    values = {r["key"]: r["value"] for r in rows}
    assert values["gait.cadence_steps_min"] == gait["cadence_steps_min"]
    assert values["gait.stance_s.left"] == gait["stance_s"]["left"]
    assert values["gait.symmetry_stance_time_pct"] == gait["symmetry_stance_time_pct"]
    assert all(r["sensor"] == "insoles" for r in rows)


def test_replay_runs_the_recorded_frames_at_1x_and_4x_on_app_time(kiosk):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data)
    log_in(app)
    screen = open_review(app, trial.id)
    tap_button(app, screen.tabs.get("replay"))
    t = screen.mat["t"]
    assert screen.replay_index == 0 and screen.view is not None
    tap_button(app, screen.replay_buttons.get("play"))
    assert screen.playing
    start = screen.play_t
    app.step(1.0, [])
    assert screen.play_t == pytest.approx(start + 1.0)
    assert screen.replay_index == int(np.searchsorted(t, t[0] + screen.play_t, side="right") - 1)
    tap_button(app, screen.replay_buttons.get("speed"))
    assert screen.speed == 4
    before = screen.play_t
    app.step(0.5, [])
    assert screen.play_t == pytest.approx(before + 2.0)
    assert screen.replay_index == int(np.searchsorted(t, t[0] + screen.play_t, side="right") - 1)
    assert "Speed 4x" in shown(app)
    tap_button(app, screen.replay_buttons.get("play"))  # pause
    paused = screen.play_t
    app.step(1.0, [])
    assert screen.play_t == paused and not screen.playing
    tap(app, (screen.position_bar.left + screen.position_bar.width // 2, screen.position_bar.centery))
    assert screen.play_t == pytest.approx(screen.duration_s() / 2, rel=0.02)


def _damage(data, trial_id, how: str) -> None:
    with open_store(data) as st:
        rec = st.recordings.for_trial(trial_id)[0]
        if how == "corrupt":
            st.db.execute("UPDATE recording_chunks SET data = ? WHERE recording_id = ? AND idx = 2",
                          [b"GKC1 not a chunk", rec.id])
        else:
            st.db.execute("DELETE FROM recording_chunks WHERE recording_id = ?", [rec.id])
            st.db.execute("DELETE FROM recordings WHERE id = ?", [rec.id])
        st.db.commit()


@pytest.mark.parametrize("how, words", [("corrupt", "cannot be shown"), ("missing", "No frames of this trial")])
def test_a_trial_whose_frames_are_damaged_or_missing_shows_a_message_and_its_numbers(kiosk, how, words):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data)
    _damage(data, trial.id, how)
    log_in(app)
    screen = open_review(app, trial.id)
    assert words in screen.data["frames_problem"] and screen.mat is None
    texts = " ".join(shown(app))
    assert words in texts  # where the plot would be
    assert f"{screen.data['sway'][0]['text']} mm²" in texts  # the stored numbers are still there
    for tab in ("pressure", "steps", "replay"):
        tap_button(app, screen.tabs.get(tab))
        assert screen.tab == tab
    assert words in " ".join(shown(app))


def test_an_unknown_trial_is_refused_in_words(kiosk):
    app, rt, data, clock, ann = kiosk
    log_in(app)
    app.post(view("review", trial="no-such-trial"))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "That trial is not in this kiosk's records." and app.top.name == "staff_home"


def test_a_technician_cannot_review_a_trial(kiosk):
    app, rt, data, clock, ann = kiosk
    trial, _ = stored_trial(data, seconds=3.0)
    log_in(app, "Bo L.")
    app.post(view("review", trial=trial.id))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "A technician cannot open this screen." and app.top.name == "staff_home"
    assert staff_entries(data, "staff.view.") == []


def test_back_asks_for_the_patients_page(dummy_video):
    from gaitkiosk.gallery import review_data

    data = review_data()["quiet_standing"]
    app = make_app(router=screens.route)
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist"}))
    app.deliver(Message("staff_review", data))
    app.step(0.01, [])
    app.take_intents()
    screen = app.top
    screen.defining = data["sway"][0]  # Back stays within reach over a definition
    tap_button(app, app.top.bar.get("back"))
    assert [(i.kind, i.data) for i in app.take_intents()] == [
        ("staff_view", {"view": "patient", "patient": data["patient"]["id"]})]
    plots_of(app).wait()


def test_the_staff_home_warms_the_plot_renderer(kiosk):
    import sys

    app, rt, data, clock, ann = kiosk
    log_in(app)
    plots = plots_of(app)
    assert plots.wait(timeout=120.0)
    assert "matplotlib.backends.backend_agg" in sys.modules and plots._warmed


def test_the_extended_sets_tables_do_not_replace_the_reports_definitions():
    # docs/metrics.md section 2b (analyze --extended) names sway fields too; the review's numbers are
    # section 2's, so a "## 2b." table must not overwrite them (it once did, silently).
    table = metric_defs.parse(metric_defs.DOC.read_text(encoding="utf-8"))
    assert table["sway.mean_distance_mm"]["definition"].startswith("mean of r")
    assert all(d["section"].startswith(("docs/metrics.md section 2,", "docs/metrics.md section 3,",
                                        "docs/metrics.md section 5,", "docs/metrics.md section 6,",
                                        "docs/metrics.md section 10,")) for d in table.values())
    assert "sway.centroid_frequency_ap_hz" not in table
