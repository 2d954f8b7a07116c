"""FHIR R4 export of the stored reports, from `gaitkiosk server` on a real PostgreSQL, checked with fhir.resources (R4).

Rows are uploaded as a kiosk uploads them (PUT /v1/rows/...); a clinic tool's token reads the
Observations of its own clinic only; patients appear by their pseudonymous code, never a name.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from pathlib import Path

import httpx
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_support import gaitkiosk, running_server

from store.patients import Patient
from store.sessions import Session
from store.trials import Trial
from sync.protocol import row_body, row_path
from sync.server import fhir

pytestmark = needs_pg()

REPORT = json.loads((Path(__file__).parent / "data" / "golden_mat_walk_report.json").read_text())


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


def upload(server, kiosk: dict, code: str, name: str, report: dict, score: float = 86.5) -> tuple[Patient, Trial]:
    """A kiosk's patient, session and trial with its report, sent as its worker sends rows."""
    patient = Patient(code=code, name=name, birth_year=1950)
    session = Session(patient_id=patient.id, status="complete")
    trial = Trial(session_id=session.id, drill="gait_insoles", status="complete", results={"score": score},
                  report=report, metrics_version=report["metrics_version"], started_at="2026-11-21T09:12:03.000001Z")
    for seq, (entity, record) in enumerate((("patient", patient), ("session", session), ("trial", trial)), 1):
        answer = httpx.put(server.url + row_path(entity, record.id), content=row_body(seq, dataclasses.asdict(record)),
                           headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=30)
        assert answer.status_code == 201, answer.text
    return patient, trial


def clinic_token(server, clinic: str) -> dict:
    done = gaitkiosk("server", "clinic-token", "--clinic", clinic, "--name", "records", "--dsn", server.dsn, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def search(server, token: str, **params) -> httpx.Response:
    return httpx.get(f"{server.url}/fhir/Observation", params=params, headers={"Authorization": f"Bearer {token}"},
                     timeout=30)


def expected_measures(report: dict, score: float) -> dict[str, float]:
    doc = {"report": report, "results": {"score": score}}
    out = {}
    for code in fhir.CODES:
        value = doc
        for part in code.path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            out[code.path.removeprefix("report.")] = value
    return out


def test_a_clinic_tool_gets_valid_r4_observations_of_a_pseudonymous_patient(server):
    from fhir.resources.bundle import Bundle
    from fhir.resources.observation import Observation

    kiosk = server.enrol("fhir-a")
    patient, trial = upload(server, kiosk, "P-FHIR", "Jane Secretname", REPORT)
    upload(server, kiosk, "P-OTHER", "Someone Else", REPORT, score=40.0)
    token = clinic_token(server, "fhir-a")["token"]
    answer = search(server, token, patient="P-FHIR")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+json")
    doc = answer.json()
    parsed = Bundle.parse_obj(doc)  # the R4 (4.0.1) model: types, required elements, no unknown fields
    assert parsed.type == "searchset" and doc["total"] == len(doc["entry"])
    assert "Secretname" not in answer.text and "1950" not in answer.text
    want = expected_measures(REPORT, 86.5)
    got = {}
    for entry in doc["entry"]:
        obs = entry["resource"]
        Observation.parse_obj(obs)
        assert obs["subject"]["identifier"]["value"] == "P-FHIR"
        local = [c for c in obs["code"]["coding"] if c["system"] == fhir.LOCAL_SYSTEM]
        assert len(local) == 1
        q = obs["valueQuantity"]
        assert q["system"] == "http://unitsofmeasure.org"
        assert q["code"] == next(c.ucum for c in fhir.CODES if c.path.removeprefix("report.") == local[0]["code"])
        assert obs["effectiveDateTime"] == trial.started_at and obs["issued"]
        got[local[0]["code"]] = q["value"]
    assert got == want and len(want) >= 20  # every number of the report, exactly, and nothing else
    assert got["results.score"] == 86.5 and got["gait.cadence_steps_min"] == 150.0
    assert "arch_index.left" not in got  # null in the report: not applicable, left out

    everyone = search(server, token).json()
    assert len(everyone["entry"]) == 2 * len(want)
    assert search(server, token, patient="P-NOBODY").json()["entry"] == []


def test_only_a_clinic_tools_token_of_that_clinic_reads(server):
    kiosk_a, kiosk_b = server.enrol("fhir-b1"), server.enrol("fhir-b2")
    upload(server, kiosk_a, "P-B1", "A Person", REPORT)
    assert search(server, kiosk_a["token"], patient="P-B1").status_code == 401  # a kiosk is not a clinic tool
    assert search(server, "gkc1_guess").status_code == 401
    assert httpx.get(f"{server.url}/fhir/Observation", timeout=30).status_code == 401
    other = clinic_token(server, "fhir-b2")
    assert search(server, other["token"], patient="P-B1").json()["entry"] == []  # clinic B sees nothing of A
    assert "P-B1" not in search(server, other["token"]).text
    assert search(server, other["token"], name="x").status_code == 400
    done = gaitkiosk("server", "revoke", other["id"], "--dsn", server.dsn)
    assert done.returncode == 0, done.stderr
    revoked = search(server, other["token"])
    assert revoked.status_code == 401 and revoked.json()["error"] == "revoked"
    assert kiosk_b  # its kiosk is untouched by the tool's revocation
    assert httpx.get(f"{server.url}/v1/changes", headers={"Authorization": f"Bearer {kiosk_b['token']}"},
                     timeout=30).status_code == 200


def test_fhir_export_writes_a_valid_bundle_of_one_patient(server, tmp_path):
    from fhir.resources.bundle import Bundle

    kiosk = server.enrol("fhir-x")
    upload(server, kiosk, "P-X1", "Hidden Name", REPORT)
    insoles = copy.deepcopy(REPORT)
    insoles["sway"] = dict.fromkeys(insoles["sway"])  # an insole recording: no whole-body sway
    upload(server, kiosk, "P-X2", "Other Hidden", insoles)
    out = tmp_path / "bundle.json"
    done = gaitkiosk("server", "fhir-export", "--clinic", "fhir-x", "--patient", "P-X2", "--out", str(out),
                     "--dsn", server.dsn)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    Bundle.parse_obj(doc)
    assert doc["type"] == "collection" and "Hidden" not in out.read_text()
    codes = {c["code"] for e in doc["entry"] for c in e["resource"]["code"]["coding"]}
    assert not any(code.startswith("sway.") for code in codes) and "gait.step_count" in codes
    assert {e["resource"]["subject"]["identifier"]["value"] for e in doc["entry"]} == {"P-X2"}
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    again = gaitkiosk("server", "fhir-export", "--clinic", "fhir-x", "--out", str(tmp_path / "no" / "b.json"),
                      "--dsn", server.dsn)
    assert again.returncode == 1 and "does not exist" in again.stderr and len(again.stderr.splitlines()) == 1


def test_the_r4_model_refuses_what_is_not_r4():
    """The check the export relies on can fail: a text value, an unknown field, a missing code."""
    obs = fhir.observations("c", {"id": str(uuid.uuid4()), "report": REPORT, "results": {"score": 50.0},
                                  "drill": "gait_insoles", "status": "complete", "started_at": None},
                            "P-1", "2026-12-04T10:00:00+00:00")
    fhir.validate(fhir.bundle(obs))
    for broken in ({"valueQuantity": {"value": "many"}}, {"shoe": 44}, {"code": None}):
        bad = copy.deepcopy(obs)
        bad[0].update(broken)
        with pytest.raises(ValueError):
            fhir.validate(fhir.bundle(bad))


def test_every_code_is_in_docs_fhir_md_with_its_ucum_unit():
    text = (Path(__file__).parent.parent / "docs" / "fhir.md").read_text()
    for code in fhir.CODES:
        row = next((line for line in text.splitlines() if f"`{code.path.removeprefix('report.')}`" in line), "")
        assert f"`{code.ucum}`" in row, code.path
