"""Save PDF from the staff screens (issue 11, item 7): the session report and the home-exercise
sheet, to a configured folder or a mounted USB stick, never over a file, refused in words when
there is nowhere to save or the stick went away; every save audited with the staff user.

The kiosk is the real runtime (worker thread, SQLite store) over a real stored visit; the "USB
stick" is a real small file system mounted below ``usb_root`` (conftest ``tmpfs``: CI runs as
root), so the kiosk reads the real /proc/mounts.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
import staff_support
import ui_support
from conftest import tmpfs
from staff_support import log_in, stored_visit
from ui_support import make_app, pump, tap_button

from gaitkiosk.config import default_config
from store import open_store
from ui import screens
from ui.app import Message
from ui.screens.staff import view

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk


@pytest.fixture
def places(tmp_path):
    share, media = tmp_path / "share", tmp_path / "media"
    share.mkdir()
    (media / "KINGSTON").mkdir(parents=True)
    return share, media


@pytest.fixture
def kiosk_config(places):
    config = default_config()
    config["reports"] = {"folder": str(places[0]), "usb_root": str(places[1])}
    return config


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed; .ci/run installs it")
def test_save_the_session_report_to_a_stick_then_the_sheet_to_the_folder(tmp_path, places, dummy_video, kiosk_config):
    from staff_support import add_team

    from gaitkiosk.runtime import Runtime

    share, media = places
    data = tmp_path / "data"
    session = stored_visit(data)
    ann = add_team(data)
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    with tmpfs(media / "KINGSTON", "4m"):
        rt = Runtime(kiosk_config, data, simulate=True).start(app)
        try:
            log_in(app)
            with open_store(data, create=False) as st:
                trial = st.trials.for_session(session.id)[0]
            app.post(view("review", trial=trial.id))
            pump(app, lambda: app.top.name == "staff_review", what="the trial's review")
            tap_button(app, app.top.bar.get("pdf"))  # Save PDF: the session's report
            pump(app, lambda: app.top.name == "staff_save", what="the save screen")
            s = app.top
            assert s.back == ("review", {"trial": trial.id})
            assert [p["label"] for p in s.data["places"]] == [f"folder {share}", "USB stick KINGSTON"]
            assert s.data["patient"] == "1234" and s.data["kind"] == "session report"
            for n in (1, 2):
                tap_button(app, s.places.get("place:1"))
                pump(app, lambda: s.saved and not s.busy, what=f"save {n}")
            names = sorted(p.name for p in (media / "KINGSTON").iterdir())
            stem = f"P1234-{datetime.date.today().isoformat()}-session"
            assert names == [f"{stem}-2.pdf", f"{stem}.pdf"]  # never over a file
            assert s.saved == f"Saved {stem}-2.pdf to USB stick KINGSTON."
            text = pdf_text(media / "KINGSTON" / f"{stem}.pdf")
            assert "1234" in text and session.id[:8] in text
            area = trial.report["sway"]["ellipse95_area_mm2"]
            assert f"{area:.0f}" in text  # the stored report's number on the page
        except BaseException:
            rt.close()
            raise
    # The stick is pulled out (unmounted) between the two taps: refused in words, nothing written.
    s.saved = None
    try:
        tap_button(app, s.places.get("place:1"))
        pump(app, lambda: not s.busy, what="the refusal")
        assert s.message == "That place cannot take a PDF now (was the USB stick pulled out?). Choose again."
        assert not s.saved and list((media / "KINGSTON").iterdir()) == []  # the empty mount point: nothing written
        with open_store(data, create=False) as st:
            patient = st.patients.by_code("1234")
        tap_button(app, s.bar.get("back"))
        pump(app, lambda: app.top.name == "staff_review", what="back to the review")
        app.post(view("patient", patient=patient.id))
        pump(app, lambda: app.top.name == "staff_patient", what="the patient's page")
        tap_button(app, app.top.sheet.get("sheet"))
        pump(app, lambda: app.top.name == "staff_save", what="the sheet's save screen")
        s = app.top
        assert s.back == ("patient", {"patient": patient.id})
        assert [p["label"] for p in s.data["places"]] == [f"folder {share}"]
        assert "No USB stick is plugged in" in " ".join(s.data["refused"])
        tap_button(app, s.places.get("place:0"))
        pump(app, lambda: s.saved and not s.busy, what="the sheet saved")
        [sheet] = list(share.iterdir())
        assert sheet.name.endswith("-exercises.pdf") and "1234" in pdf_text(sheet)
    finally:
        rt.close()
    with open_store(data, create=False) as st:
        saved = [e for e in reversed(st.audit.recent(200)) if e.action == "report.saved"]
    assert [(e.user_id, e.details["kind"], e.details["patient"]) for e in saved] == [
        (ann, "session", "1234"), (ann, "session", "1234"), (ann, "sheet", "1234")]


def test_with_nowhere_to_save_the_screen_says_why_and_offers_nothing(dummy_video):
    app = make_app(router=screens.route)
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist"}))
    app.deliver(Message("staff_save", {"what": "sheet", "id": "x", "kind": "home-exercise sheet", "patient": "1234",
                                       "places": [], "refused": [
                                           "No USB stick is plugged in (none is mounted under /media).",
                                           "No folder is set up for reports ([reports] folder in the config)."]}))
    app.step(0.01, [])
    assert app.top.name == "staff_save" and app.top.places.buttons == []
    assert app.take_intents() == []
