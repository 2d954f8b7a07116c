"""The demo patient: a code and a program that uses every drill (``gaitkiosk run --simulate``).

Idempotent: an existing patient with the code keeps its history; a new
active program is added only when the patient has none that already
covers every available drill.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Demo parameters per drill (defaults otherwise): short, and showing what each drill can do.
DEMO_PARAMS = {
    "quiet_standing": {"stance": "apart", "eyes": "open"},
}


def demo_prescriptions() -> list:
    from drills import registry
    from store.programs import Prescription

    return [Prescription(drill=name, params=registry.validate(name, DEMO_PARAMS.get(name, {})))
            for name in registry.names()]


def seed_demo(data_dir, config: dict, code: str) -> str:
    """Make sure patient ``code`` exists with a program covering every drill; return the patient id."""
    from store import open_store
    from store.patients import Patient
    from store.programs import Program

    with open_store(data_dir, settings=config.get("store")) as st:
        try:
            patient = st.patients.by_code(code)
        except LookupError:
            patient = st.patients.add(Patient(code=code, notes="demo patient (virtual)"))
            st.audit.log("patient.add", subject=patient.id, details={"code": code, "by": "gaitkiosk run (demo)"})
        wanted = [rx.drill for rx in demo_prescriptions()]
        programs = st.programs.for_patient(patient.id)
        if programs and [rx.drill for rx in programs[-1].prescriptions] == wanted:
            return patient.id
        for p in programs:
            st.programs.set_active(p.id, False)
        st.programs.add(Program(patient_id=patient.id, name="Demo: every drill", prescriptions=demo_prescriptions(),
                                notes="seeded by gaitkiosk run --simulate"))
        return patient.id
