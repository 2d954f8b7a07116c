"""The "Export logs and diagnostics" archive (docs/technician.md): one ZIP file, made in memory.

Members:

* ``diagnostics.json``: what the diagnostics screen shows (sensors, counters, clocks, firmware,
  CPU, disk, database, sync queue, calibration due dates, versions, panel);
* ``sensels.json``: each sensor's newest raw counts and its dead/hot mask (from the active
  calibration), as nested lists;
* ``log.txt``: the kiosk's recent log lines (gaitkiosk/logbuffer.py), and ``journal.txt``: the
  service's journal when the kiosk runs under systemd and ``journalctl`` answers;
* ``audit.csv``: the newest audit entries (time, action, staff user);
* ``config.json``: the configuration in force;
* ``README.txt``: what the archive is and whether it holds patient data.

Without ``patient_data`` there is no patient's code or name in it: the audit keeps only time,
action and staff user (subjects and details can name a patient), and each patient code and name
the store knows is replaced by ``[patient]`` in the log and journal text (whole words: a code is
digits). With it, the audit keeps subjects and details, the text is left as it is, and
``patients.csv`` lists the patients (code, name, birth year, archived).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import zipfile

AUDIT_ROWS = 2000
JOURNAL_LINES = 5000
JOURNAL_TIMEOUT_S = 5.0
REDACTED = "[patient]"


def file_name(on_date) -> str:
    return f"gaitkiosk-diagnostics-{on_date.isoformat()}.zip"


def scrubber(store):
    """A function that replaces every patient code and name the store knows with ``[patient]``."""
    words = set()
    for p in store.patients.list(include_archived=True):
        words.add(p.code)
        if p.name:
            words.add(p.name)
            words.update(part for part in p.name.split() if len(part) > 2)
    if not words:
        return lambda text: text
    # Longest first, so a full name goes before its parts; whole words only ("1234" not in "12345").
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")
    return lambda text: pattern.sub(REDACTED, text)


def _journal() -> str | None:
    """This process's journal lines when it runs as a systemd service, else None."""
    if not os.environ.get("INVOCATION_ID") or shutil.which("journalctl") is None:
        return None
    try:
        done = subprocess.run(["journalctl", f"_PID={os.getpid()}", "-o", "short-iso", "-n", str(JOURNAL_LINES),
                               "--no-pager"], capture_output=True, text=True, timeout=JOURNAL_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"journalctl could not be read: {exc}\n"
    return done.stdout if done.returncode == 0 else f"journalctl failed: {done.stderr.strip()}\n"


def _audit_csv(store, users: dict, patient_data: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["at", "action", "user"] + (["subject", "details"] if patient_data else []))
    for e in store.audit.recent(AUDIT_ROWS):
        row = [e.at, e.action, users.get(e.user_id, e.user_id or "")]
        if patient_data:
            row += [e.subject, json.dumps(e.details, sort_keys=True)]
        w.writerow(row)
    return out.getvalue()


def _patients_csv(store) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["code", "name", "birth_year", "archived"])
    for p in store.patients.list(include_archived=True):
        w.writerow([p.code, p.name or "", p.birth_year or "", int(p.archived)])
    return out.getvalue()


def _sensels(desk) -> dict:
    from calibration.storage import active_model

    snap = desk.runtime.latest()
    raw = getattr(snap, "raw_counts", None) or {}
    out = {}
    for r in list(desk.runtime.sensors.readers):
        h = r.hello
        if h is None:
            continue
        counts = raw.get(h.kind.label)
        found = active_model(desk.store, h.serial)
        out[h.serial] = {"kind": h.kind.label,
                         "raw_counts": None if counts is None else counts.tolist(),
                         "mask": None if found is None else found[1].mask.tolist(),
                         "mask_codes": {"0": "ok", "1": "dead", "2": "hot"}}
    return out


def archive(desk, diagnostics: dict, *, patient_data: bool) -> bytes:
    """The archive's bytes (see the module docstring)."""
    from gaitkiosk import logbuffer

    store = desk.store
    scrub = (lambda text: text) if patient_data else scrubber(store)
    users = {u.id: u.name for u in store.users.list()}
    members = {
        "README.txt": ("gaitkiosk diagnostics archive\n"
                       f"made {diagnostics.get('taken_at')} by {desk.user.name} ({desk.user.role})\n"
                       + ("It HOLDS PATIENT DATA (patients.csv, audit subjects, unredacted log): handle it as a "
                          "clinical record.\n" if patient_data else
                          "It holds no patient data: audit subjects and details left out, patient codes and "
                          f"names in the log replaced by {REDACTED}.\n")),
        "diagnostics.json": json.dumps(diagnostics, indent=1, sort_keys=True, default=str),
        "sensels.json": json.dumps(_sensels(desk)),
        "log.txt": scrub("\n".join(logbuffer.lines()) + "\n"),
        "audit.csv": _audit_csv(store, users, patient_data),
        "config.json": json.dumps(desk.config, indent=1, sort_keys=True),
    }
    journal = _journal()
    if journal is not None:
        members["journal.txt"] = scrub(journal)
    if patient_data:
        members["patients.csv"] = _patients_csv(store)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()
