"""Patients: a pseudonymous code is all the kiosk needs; name and birth year are optional."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import rows, upstream
from store.errors import InvalidRecordError

_BOOLS = ("archived",)


@dataclass
class Patient:
    code: str  # pseudonymous, what lists and exports show
    name: str | None = None
    birth_year: int | None = None
    notes: str = ""
    archived: bool = False
    id: str = field(default_factory=rows.new_id)
    created_at: str = field(default_factory=rows.utc_now)


def check_patient(p: Patient) -> None:
    if not p.code or not p.code.strip() or p.code != p.code.strip():
        raise InvalidRecordError(f"patient code {p.code!r} must be non-empty without surrounding spaces")
    if p.birth_year is not None and not 1900 <= p.birth_year <= 2100:
        raise InvalidRecordError(f"birth year {p.birth_year} is not plausible (1900-2100)")


class Patients:
    def __init__(self, db):
        self.db = db

    def add(self, patient: Patient) -> Patient:
        check_patient(patient)
        with rows.atomic(self.db, f"patient {patient.code}"):
            rows.insert(self.db, "patients", rows.to_row(patient, bool_fields=_BOOLS), f"patient {patient.code}")
            upstream.queue(self.db, "patient", patient.id)
        return patient

    def update(self, patient: Patient) -> Patient:
        check_patient(patient)
        with rows.atomic(self.db, "patient"):
            rows.update(self.db, "patients", "id", rows.to_row(patient, bool_fields=_BOOLS), "patient")
            upstream.refresh_pending(self.db, "patient", patient.id)  # only while not yet sent: store/upstream.py
        return patient

    def get(self, patient_id: str) -> Patient:
        return rows.from_row(Patient, rows.fetch(self.db, "patients", "id", patient_id, "patient"), bool_fields=_BOOLS)

    def by_code(self, code: str) -> Patient:
        return rows.from_row(Patient, rows.fetch(self.db, "patients", "code", code, "patient"), bool_fields=_BOOLS)

    def list(self, *, include_archived: bool = False) -> list[Patient]:
        where = "" if include_archived else "WHERE archived = 0"
        return [rows.from_row(Patient, r, bool_fields=_BOOLS)
                for r in rows.fetch_all(self.db, f"SELECT * FROM patients {where} ORDER BY code")]
