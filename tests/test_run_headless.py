"""``gaitkiosk run --simulate --headless``: the scripted visit, end to end, as a user runs it.

The whole kiosk runs in-process on the virtual patient with real serial
devices, the drills' autopilot, pygame under the dummy driver and a real
SQLite file; the test then reads what landed in the database.
"""

from __future__ import annotations

import json

import pygame

from gaitkiosk import cli
from store import open_store


def test_headless_visit_stores_the_session_with_recordings_and_reports(tmp_path, headless_env, capsys):
    from drills import registry

    drills = registry.names()
    shots = tmp_path / "shots"
    code = cli.main(["run", "--simulate", "--screenshots", str(shots), "--data-dir", str(tmp_path / "data"),
                     "--seconds", "1", "--countdown", "0.3", "--json"])
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert code == 0, out
    summary = json.loads(out)  # --json: stdout is the summary alone; progress went to stderr
    assert summary["completed"]
    # every screen of the visit, with a screenshot of each
    names = [p.split("/")[-1] for p in summary["screenshots"]]
    for screen in ("attract", "checkin", "program", "goodbye"):
        assert any(screen in n for n in names), screen
    assert sum("instruction" in n for n in names) == len(drills)
    assert sum("result" in n for n in names) == len(drills)
    for p in summary["screenshots"]:
        surf = pygame.image.load(p)
        assert surf.get_size() == (800, 480)
    with open_store(tmp_path / "data") as st:
        patient = st.patients.by_code("1234")
        (s,) = st.sessions.list(patient_id=patient.id)
        trials = st.trials.for_session(s.session.id)
        # Not complete says why, per trial: e.g. frames the devices dropped because a starved
        # machine did not read them for over a second (their STATUS frames_dropped).
        assert s.session.status == "complete", (s.session.status_reason,
                                                [(t.drill, t.status, t.status_reason) for t in trials])
        assert [t.drill for t in trials] == drills  # the demo program uses every drill
        for t in trials:
            # "stopped" only if a very busy machine starved the mat long enough for three sensor stops
            assert t.status in ("complete", "stopped") and "score" in t.results  # score may be None after 1 s
            assert t.report is not None and t.report["metrics_version"] >= 1, t.results.get("report_error")
            recs = st.recordings.for_trial(t.id)
            assert recs and all(r.status == "complete" and r.frames > 0 for r in recs)
        assert sum(t.status == "complete" for t in trials) >= len(trials) - 1
    assert summary["session"]["id"] == s.session.id
    # Issue 10 item 13: each exercise as it starts and ends, with the score the result screen showed.
    from drills import registry as reg

    n = len(drills)
    for k, t in enumerate(trials):
        which = f"exercise {k + 1} of {n} ({reg.get(t.drill).title})"
        assert f"{which}: started" in err, err
        score = t.results.get("score")
        words = "no points" if score is None else f"{score:.0f} points"
        ended = [line for line in err.splitlines() if line.startswith(f"{which}: ") and "started" not in line]
        assert len(ended) == 1 and words in ended[0], (ended, words)
    assert err.index("exercise 1 of") < err.index(f"exercise {n} of") < err.index("goodbye:")


def test_run_refuses_bad_options_with_a_clear_line(tmp_path, headless_env, capsys):
    for argv, words, exit_code in ((["--size", "huge"], "WIDTHxHEIGHT", 1),
                                   (["--seconds", "0"], "argument --seconds: must be a number of seconds above 0", 2),
                                   (["--size", "100x100"], "--size width must be a whole number from 320", 1)):
        assert cli.main(["run", "--simulate", "--data-dir", str(tmp_path), *argv]) == exit_code
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1


def test_headless_without_the_virtual_patient_is_refused(tmp_path, headless_env, capsys):
    cfg = tmp_path / "k.toml"
    cfg.write_text('[devices]\nmat = "/dev/gaitkiosk/mat"\ninsoles = []\n')
    assert cli.main(["run", "--headless", "--config", str(cfg), "--data-dir", str(tmp_path / "clinic")]) == 1
    assert "add --simulate" in capsys.readouterr().err
    assert not (tmp_path / "clinic").exists()


def test_a_second_kiosk_on_the_same_database_is_refused(tmp_path, headless_env, capsys):
    from store import open_store

    with open_store(tmp_path, kiosk=True):
        assert cli.main(["run", "--simulate", "--data-dir", str(tmp_path), "--seconds", "1"]) == 1
    err = capsys.readouterr().err
    assert "another kiosk process already runs" in err and err.count("\n") == 1
