"""FHIR R4 export of the stored reports (docs/fhir.md): one Observation per measure of a trial's report.

Built from what the kiosks uploaded (``sync_rows``): a ``trial`` row carries its analysis report
(``report``, docs/metrics.md) and live results (``results.score``); its ``session`` row names the
patient; the patient is referred to by its pseudonymous code only (a logical reference by
identifier), never a name. Each measure is coded in the local code system :data:`LOCAL_SYSTEM`
and also in LOINC where :data:`CODES` names a LOINC term for it; values are UCUM quantities.
A measure that is ``null`` in the report (not applicable, docs/metrics.md) is left out.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

LOCAL_SYSTEM = "urn:gaitkiosk:metric"  # the local code system: the report's dotted field names
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PATIENT_SYSTEM = "urn:gaitkiosk:clinic:{clinic}:patient-code"
TRIAL_SYSTEM = "urn:gaitkiosk:trial-measure"
_IDS = uuid.UUID("2f0b5e1a-8c1d-4f4e-9a43-6b7d0c2e9f31")  # names Observation ids: the same on every export


@dataclass(frozen=True)
class Code:
    path: str  # where in the stored trial: "report.sway.mean_velocity_mm_s", "results.score"
    display: str
    unit: str  # what a person reads
    ucum: str  # the UCUM code
    loinc: str | None = None  # a LOINC term that means exactly this measure, where one exists


def _r(path: str, display: str, unit: str, ucum: str | None = None) -> Code:
    return Code("report." + path, display, unit, ucum or unit)


# No LOINC term was found that means one of these trial-level measures exactly (LOINC's step and
# walking-speed terms are pedometer counts or 24-hour aggregates), so every measure is local;
# a LOINC code set here is sent beside the local one.
CODES: tuple[Code, ...] = (
    Code("results.score", "Drill score (0-100)", "score", "{score}"),
    _r("duration_s", "Analysed duration", "s"),
    _r("sway.mean_distance_mm", "COP mean distance", "mm"),
    _r("sway.rms_distance_mm", "COP RMS distance", "mm"),
    _r("sway.path_length_mm", "COP path length", "mm"),
    _r("sway.mean_velocity_mm_s", "COP mean velocity", "mm/s"),
    _r("sway.mean_velocity_ml_mm_s", "COP mean velocity, medio-lateral", "mm/s"),
    _r("sway.mean_velocity_ap_mm_s", "COP mean velocity, antero-posterior", "mm/s"),
    _r("sway.range_ml_mm", "COP range, medio-lateral", "mm"),
    _r("sway.range_ap_mm", "COP range, antero-posterior", "mm"),
    _r("sway.ellipse95_area_mm2", "COP 95 % prediction ellipse area", "mm²", "mm2"),
    _r("sway.mean_frequency_hz", "COP mean frequency", "Hz"),
    _r("sway.mean_power_frequency_hz", "COP mean power frequency", "Hz"),
    _r("weight.left_pct", "Weight on the left foot", "%"),
    _r("weight.right_pct", "Weight on the right foot", "%"),
    _r("gait.step_count", "Steps", "steps", "{steps}"),
    _r("gait.cadence_steps_min", "Cadence", "steps/min", "{steps}/min"),
    _r("gait.step_length_mm", "Step length", "mm"),
    _r("gait.step_width_mm", "Step width", "mm"),
    _r("gait.stance_pct", "Stance, % of stride", "%"),
    _r("gait.symmetry_stance_time_pct", "Stance time symmetry index (Robinson)", "%"),
    _r("gait.symmetry_peak_force_pct", "Peak force symmetry index (Robinson)", "%"),
    _r("arch_index.left", "Arch index, left (Cavanagh & Rodgers)", "1"),
    _r("arch_index.right", "Arch index, right (Cavanagh & Rodgers)", "1"),
)


def _at(doc, path: str):
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value \
        and value not in (float("inf"), float("-inf"))


def trial_view(entity: str, row_id: str, data: dict) -> dict | None:
    """What an uploaded ``trial`` (or ``report``) row holds for FHIR, or None when it has no report."""
    report = data.get("report") if isinstance(data.get("report"), dict) else (data if "metrics_version" in data else None)
    if report is None:
        return None
    return {"id": str(data.get("trial_id") or row_id) if entity == "report" else row_id,
            "session_id": data.get("session_id"), "patient_id": data.get("patient_id"),
            "drill": data.get("drill") or report.get("drill"), "status": data.get("status"),
            "started_at": data.get("started_at") or data.get("ended_at"),
            "results": data.get("results") if isinstance(data.get("results"), dict) else {}, "report": report}


def observations(clinic: str, trial: dict, patient_code: str, received_at: str) -> list[dict]:
    """The Observations of one trial (``trial_view``) of the patient with ``patient_code``."""
    doc = {"report": trial["report"], "results": trial["results"]}
    version = trial["report"].get("metrics_version")
    method = f"gaitkiosk metrics version {version}" + (f", drill {trial['drill']}" if trial["drill"] else "")
    out = []
    for code in CODES:
        value = _at(doc, code.path)
        if not _number(value):
            continue
        coding = ([{"system": LOINC, "code": code.loinc}] if code.loinc else []) + \
            [{"system": LOCAL_SYSTEM, "code": code.path.removeprefix("report."), "display": code.display}]
        obs = {
            "resourceType": "Observation",
            "id": str(uuid.uuid5(_IDS, f"{trial['id']}/{code.path}")),
            "identifier": [{"system": TRIAL_SYSTEM, "value": f"{trial['id']}/{code.path}"}],
            "status": "final",
            "category": [{"coding": [{"system": CATEGORY, "code": "exam", "display": "Exam"}]}],
            "code": {"coding": coding, "text": code.display},
            "subject": {"identifier": {"system": PATIENT_SYSTEM.format(clinic=clinic), "value": patient_code}},
            "issued": received_at,  # the server's clock: when the kiosk's row arrived
            "method": {"text": method},
            "valueQuantity": {"value": value, "unit": code.unit, "system": UCUM, "code": code.ucum},
        }
        if trial["started_at"]:
            obs["effectiveDateTime"] = trial["started_at"]  # the kiosk's clock, as recorded
        if trial["status"] not in (None, "complete"):
            obs["note"] = [{"text": f"the exercise ended {trial['status']}"}]
        out.append(obs)
    return out


def bundle(entries: list[dict], kind: str = "collection") -> dict:
    doc = {"resourceType": "Bundle", "type": kind,
           "entry": [{"fullUrl": f"urn:uuid:{o['id']}", "resource": o} for o in entries]}
    if kind == "searchset":
        doc["total"] = len(entries)
        for e in doc["entry"]:
            e["search"] = {"mode": "match"}
    return doc


def validate(doc: dict) -> None:
    """Check a Bundle against the FHIR R4 (4.0.1) model of ``fhir.resources`` (ValueError says where)."""
    from fhir.resources.bundle import Bundle

    Bundle.parse_obj(doc)


async def clinic_observations(conn, clinic: str, patient_code: str | None = None) -> list[dict]:
    """Every Observation of ``clinic`` (or of one patient code) from the rows its kiosks uploaded."""
    codes = {}
    for pid, code in await (await conn.execute(
            "SELECT id::text, body::jsonb->>'code' FROM sync_rows WHERE clinic_id = %s AND entity = 'patient' "
            "UNION ALL SELECT id::text, body->>'code' FROM clinic_rows WHERE clinic_id = %s AND entity = 'patient'",
            [clinic, clinic])).fetchall():
        codes[pid] = code  # clinic_rows last: a code changed on the server wins
    wanted = None if patient_code is None else {pid for pid, code in codes.items() if code == patient_code}
    if wanted == set():
        return []
    sessions = dict(await (await conn.execute(
        "SELECT id::text, body::jsonb->>'patient_id' FROM sync_rows WHERE clinic_id = %s AND entity = 'session'",
        [clinic])).fetchall())
    out: dict[str, dict] = {}  # by Observation id: a trial sent as "trial" and as "report" counts once
    for entity, row_id, body, received in await (await conn.execute(
            "SELECT entity, id::text, body, received_at FROM sync_rows WHERE clinic_id = %s "
            "AND entity IN ('trial', 'report') ORDER BY received_at, id", [clinic])).fetchall():
        trial = trial_view(entity, row_id, json.loads(body))
        if trial is None:
            continue
        pid = trial["patient_id"] or sessions.get(str(trial["session_id"]))
        if pid not in codes or (wanted is not None and pid not in wanted):
            continue
        out.update((o["id"], o) for o in observations(clinic, trial, codes[pid], received.isoformat()))
    return list(out.values())
