"""The demo patient: a code and a program that uses every drill (``gaitkiosk run --simulate``).

Idempotent: an existing patient with the code keeps its history; a new
active program is added only when the patient's latest one is not already
the demo program (every available drill, with :data:`DEMO_PARAMS`).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

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
        wanted = [(rx.drill, rx.params) for rx in demo_prescriptions()]
        programs = st.programs.for_patient(patient.id)
        if programs and [(rx.drill, rx.params) for rx in programs[-1].prescriptions] == wanted:
            return patient.id
        for p in programs:
            st.programs.set_active(p.id, False)
        st.programs.add(Program(patient_id=patient.id, name="Demo: every drill", prescriptions=demo_prescriptions(),
                                notes="seeded by gaitkiosk run --simulate"))
        return patient.id
