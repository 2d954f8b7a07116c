"""Save a PDF from a staff screen: the session report or the patient's home-exercise sheet.

``view("save", what="session"|"sheet", id=..., back=[view, params])`` answers where a PDF may
go now (gaitkiosk/handout.py: a configured folder, mounted USB sticks; each refused place with
its reason); ``do("save_pdf", what=..., id=..., path=...)`` draws the PDF here on the worker
(the store is here; a page takes a fraction of a second) and writes it whole, never over an
existing file, and audits ``report.saved`` with the staff user. The path must be one of the
places offered at that moment: a stick pulled between the two taps is refused in words.
"""

from __future__ import annotations

import datetime as dt

from gaitkiosk.staff_views import Refused, action, view

KINDS = {"session": "session report", "sheet": "home-exercise sheet"}


def _subject(desk, what: str, ident: str):
    """(patient, session or None) for a save request, or Refused."""
    if what == "session":
        try:
            session = desk.store.sessions.find(ident)
        except LookupError:
            raise Refused("That session is no longer stored.") from None
        return desk.store.patients.get(session.patient_id), session
    if what == "sheet":
        try:
            return desk.store.patients.get(ident), None
        except LookupError:
            raise Refused("That patient is no longer stored.") from None
    raise Refused(f"The kiosk cannot save a {what!r}.")


@view("save", roles=("therapist",))
def places_view(desk, what: str = "session", id: str = "", back=None) -> dict:
    from gaitkiosk import handout

    patient, session = _subject(desk, what, id)
    places = handout.places(desk.config)
    return {"what": what, "id": id, "kind": KINDS[what], "patient": patient.code,
            "places": [{"label": d.label, "path": str(d.path)} for d in places.destinations],
            "refused": list(places.refused), "back": list(back) if back else None}


@action("save_pdf", roles=("therapist",))
def save_pdf(desk, what: str = "session", id: str = "", path: str = "") -> tuple[str, dict]:
    from drills.errors import ProgramError
    from gaitkiosk import handout, home_sheet, pdf_page, session_pdf
    from gaitkiosk.errors import KioskError

    patient, session = _subject(desk, what, id)
    offered = {str(d.path): d for d in handout.places(desk.config).destinations}
    if path not in offered:
        raise Refused("That place cannot take a PDF now (was the USB stick pulled out?). Choose again.")
    clinic = pdf_page.clinic_of(desk.config)
    try:
        clinic["logo"] = pdf_page.checked_logo(clinic.get("logo") or "")
        if what == "session":
            pdf = session_pdf.pdf_for(desk.store, session, clinic)
        else:
            sheet, _ = home_sheet.sheet_for(desk.store, patient, clinic, dt.date.today())
            pdf = home_sheet.render(sheet)
        saved = handout.save(pdf, handout.file_name(patient.code, dt.date.today(),
                                                    "session" if what == "session" else "exercises"), offered[path])
    except (KioskError, ProgramError) as exc:
        raise Refused(str(exc)) from None
    handout.audit_saved(desk.store.audit, user_id=desk.user.id, kind=what, path=saved, patient=patient.code,
                        subject=session.id if session else patient.id)
    return "staff_saved", {"file": str(saved), "name": saved.name, "label": offered[path].label}
