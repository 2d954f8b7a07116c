"""The demo patient: a code and a program that uses every drill (``gaitkiosk run --simulate``).

A demo never touches a real patient. Demos keep their own data directory
(``gaitkiosk.config.demo_data_dir``: ``~/.local/share/gaitkiosk-demo``) unless
``--data-dir`` names another, and even there a demo patient is told apart from a
real one by how it was made: its ``patient.add`` entry in the audit log (which is
append-only, so the mark cannot be edited away) says ``"demo": true``. Older
versions wrote ``"by": "gaitkiosk run (demo)"``, which counts too. A patient without
that mark is real: the demo neither changes their program nor checks in as them.
For people reading lists the demo patient is also named "Demo (virtual patient)".

Idempotent: an existing demo patient keeps its history; a new active program is
added only when its latest one is not already the demo program (every available
drill, with :data:`DEMO_PARAMS`).
"""

from __future__ import annotations

import logging

from gaitkiosk.errors import UsageError

log = logging.getLogger(__name__)

DEMO_CODE = "1234"
DEMO_NAME = "Demo (virtual patient)"
_LEGACY_BY = "gaitkiosk run (demo)"  # how versions before the "demo" mark recorded a demo patient

# Demo parameters per drill (defaults otherwise): short, and showing what each drill can do.
DEMO_PARAMS = {
    "quiet_standing": {"stance": "apart", "eyes": "open"},
    # Three judged steps: two passes of the virtual walker over the 0.8 m mat (about 20 s).
    "tandem_walk": {"steps": 3},
    # The virtual walker keeps its own cadence (device.sim cannot speed up on a beat), so the demo
    # sets the metronome at the patient's own pace (uplift 0 %): what a cooperative patient can
    # follow. A real prescription raises it 5-10 % (docs/drills.md).
    "gait_insoles": {"uplift_pct": 0},
}


def demo_prescriptions() -> list:
    from drills import registry
    from store.programs import Prescription

    return [Prescription(drill=name, params=registry.validate(name, DEMO_PARAMS.get(name, {})))
            for name in registry.names()]


def is_demo_patient(st, patient) -> bool:
    """True when ``patient`` was made by a demo (its audit entry says so); unknown means real."""
    for entry in st.audit.recent(1000, subject=patient.id):
        if entry.action == "patient.add":
            return entry.details.get("demo") is True or entry.details.get("by") == _LEGACY_BY
    return False


def refuse_real_patient(st, code: str) -> None:
    """A one-line :class:`UsageError` when ``code`` belongs to a real patient in this store."""
    try:
        patient = st.patients.by_code(code)
    except LookupError:
        return
    if not is_demo_patient(st, patient):
        raise UsageError(f"patient {code} in {st.path} is a real patient, not a demo one: a demo leaves their "
                         "program and sessions alone; give the demo another --code, or leave out --data-dir "
                         "(demos keep their own folder)")


def seed_demo(data_dir, config: dict, code: str) -> str:
    """Make sure demo patient ``code`` exists with a program covering every drill; return the patient id.

    Refuses (:class:`UsageError`) when ``code`` belongs to a real patient.
    """
    from store import open_store
    from store.patients import Patient
    from store.programs import Program

    with open_store(data_dir, settings=config.get("store")) as st:
        refuse_real_patient(st, code)
        try:
            patient = st.patients.by_code(code)
        except LookupError:
            patient = st.patients.add(Patient(code=code, name=DEMO_NAME, notes="demo patient (virtual)"))
            st.audit.log("patient.add", subject=patient.id,
                         details={"code": code, "by": "gaitkiosk run --simulate", "demo": True})
        wanted = [(rx.drill, rx.params) for rx in demo_prescriptions()]
        programs = st.programs.for_patient(patient.id)
        if programs and [(rx.drill, rx.params) for rx in programs[-1].prescriptions] == wanted:
            return patient.id
        for p in programs:
            st.programs.set_active(p.id, False)
        st.programs.add(Program(patient_id=patient.id, name="Demo: every drill", prescriptions=demo_prescriptions(),
                                notes="seeded by gaitkiosk run --simulate"))
        return patient.id
