"""Programs: the drills a therapist prescribes to a patient, in order, with parameters.

A program is never edited in place: a change is a new program (new prescription
rows) that replaces the patient's active ones, which stay, inactive, as the
history of the prescription (when what changed, and who changed it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store import rows, upstream
from store.errors import InvalidRecordError

_BOOLS = ("active",)


@dataclass
class Prescription:
    drill: str  # a drill name known to drills/
    params: dict = field(default_factory=dict)
    repetitions: int = 1
    position: int = 0  # set by Programs.add from the list order
    id: str = field(default_factory=rows.new_id)
    program_id: str = ""


@dataclass
class Program:
    patient_id: str
    name: str
    prescriptions: list[Prescription] = field(default_factory=list)
    created_by: str | None = None
    active: bool = True
    notes: str = ""
    id: str = field(default_factory=rows.new_id)
    created_at: str = field(default_factory=rows.utc_now)


class Programs:
    def __init__(self, db):
        self.db = db

    def add(self, program: Program) -> Program:
        """Store a program and its prescriptions in one transaction."""
        if not program.name.strip():
            raise InvalidRecordError("a program needs a name")
        for i, rx in enumerate(program.prescriptions):
            if not rx.drill or rx.repetitions < 1:
                raise InvalidRecordError(f"prescription {i + 1}: needs a drill and at least one repetition")
            rx.position, rx.program_id = i, program.id
        row = rows.to_row(program, bool_fields=_BOOLS)
        del row["prescriptions"]
        with rows.atomic(self.db):
            rows.insert(self.db, "programs", row, f"program {program.name}")
            for rx in program.prescriptions:
                rows.insert(self.db, "prescriptions", rows.to_row(rx, json_fields=("params",)), "prescription")
            upstream.queue(self.db, "program", program.id)
        return program

    def replace(self, program: Program, *, then=None) -> list[Program]:
        """Store ``program`` as its patient's program and deactivate the active ones it replaces, in one
        transaction with ``then(replaced)`` (the audit entry): all of it is stored, or nothing."""
        with rows.atomic(self.db, f"program {program.name}"):
            old = self.for_patient(program.patient_id)
            self.add(program)
            for p in old:
                self.set_active(p.id, False)
                p.active = False
            if then is not None:
                then(old)
        return old

    def get(self, program_id: str) -> Program:
        row = rows.fetch(self.db, "programs", "id", program_id, "program")
        prescriptions = [rows.from_row(Prescription, r, json_fields=("params",)) for r in rows.fetch_all(
            self.db, "SELECT * FROM prescriptions WHERE program_id = ? ORDER BY position", [program_id])]
        program = rows.from_row(Program, {**row, "prescriptions": prescriptions}, bool_fields=_BOOLS)
        return program

    def for_patient(self, patient_id: str, *, active_only: bool = True) -> list[Program]:
        where = "AND active = 1" if active_only else ""
        ids = rows.fetch_all(self.db, f"SELECT id FROM programs WHERE patient_id = ? {where} ORDER BY created_at",
                             [patient_id])
        return [self.get(r["id"]) for r in ids]

    def set_active(self, program_id: str, active: bool) -> None:
        with rows.atomic(self.db):
            cur = self.db.execute("UPDATE programs SET active = ? WHERE id = ?", [int(active), program_id])
        if cur.rowcount == 0:
            raise LookupError(f"no program with id {program_id}")
