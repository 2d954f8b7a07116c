"""Trials: one run of one drill inside a session, with its results and report.

``status`` is what happened to the exercise (running, complete, stopped,
incomplete); ``recording`` says whether its raw frames are all stored
(complete, partial, none; '' for trials from before the column). A trial
cannot be ``complete`` with frames missing: :meth:`Trials.finish` makes it
``incomplete`` and puts the loss first in its reason, so a therapist, the
session list and the upload all see it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from store import rows
from store.errors import InvalidRecordError

log = logging.getLogger(__name__)

_JSON = ("params", "results", "report", "calibration_ids")
STATUSES = ("running", "complete", "stopped", "incomplete")
RECORDING_STATES = ("", "complete", "partial", "none")


@dataclass
class Trial:
    session_id: str
    drill: str
    params: dict = field(default_factory=dict)
    position: int = 0
    status: str = "running"
    status_reason: str = ""
    results: dict = field(default_factory=dict)  # live results shown to the patient
    report: dict | None = None  # analysis report (DESIGN 4.2)
    metrics_version: int | None = None
    calibration_ids: dict = field(default_factory=dict)  # device serial -> calibration id in force
    recording: str = ""  # raw frames: complete, partial, none ('' = not known: older trials)
    ended_at: str | None = None
    synced_at: str | None = None
    id: str = field(default_factory=rows.new_id)
    started_at: str = field(default_factory=rows.utc_now)


def _finite(value, where="report"):
    """JSON has no NaN: a non-finite number becomes null (DESIGN 4.2: not applicable)."""
    if isinstance(value, float) and not math.isfinite(value):
        log.warning("%s: non-finite value stored as null", where)
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


class Trials:
    def __init__(self, db):
        self.db = db

    def add(self, trial: Trial) -> Trial:
        if trial.status not in STATUSES:
            raise InvalidRecordError(f"trial status must be one of {STATUSES}, not {trial.status!r}")
        try:
            row = rows.to_row(trial, _JSON)
        except ValueError as exc:
            raise InvalidRecordError(f"trial {trial.id}: {exc}") from None
        rows.insert(self.db, "trials", row, f"trial of drill {trial.drill}")
        return trial

    def start(self, session_id: str, drill: str, params: dict | None = None,
              calibration_ids: dict | None = None) -> Trial:
        """Open the next trial of a session (durable before the drill begins)."""
        if not drill:
            raise InvalidRecordError("a trial needs a drill name")
        with rows.atomic(self.db):
            position = self.db.execute("SELECT coalesce(max(position) + 1, 0) FROM trials WHERE session_id = ?",
                                       [session_id]).fetchone()[0]
            trial = Trial(session_id=session_id, drill=drill, params=params or {}, position=position,
                          calibration_ids=calibration_ids or {})
            self.add(trial)
        return trial

    def finish(self, trial_id: str, *, status: str = "complete", results: dict | None = None,
               report: dict | None = None, reason: str = "", ended_at: str | None = None,
               recording: str | None = None, recording_reason: str = "") -> Trial:
        """Store the outcome; ``report`` must carry its ``metrics_version``.

        ``recording`` (complete, partial, none) with ``recording_reason`` (what was
        lost and why): a trial whose frames are not all stored finishes
        ``incomplete``, whatever the drill's own outcome (kept in ``results``).
        """
        if status not in ("complete", "stopped", "incomplete"):
            raise InvalidRecordError(f"a trial finishes complete, stopped or incomplete, not {status!r}")
        if recording is not None and recording not in RECORDING_STATES[1:]:
            raise InvalidRecordError(f"a trial's recording is complete, partial or none, not {recording!r}")
        if recording in ("partial", "none"):
            lost = recording_reason or ("nothing was recorded" if recording == "none" else "frames were lost")
            reason = f"{lost}; {reason}" if reason else lost
            if status == "complete":
                status = "incomplete"
        version = None
        if report is not None:
            version = report.get("metrics_version")
            if not isinstance(version, int) or isinstance(version, bool):
                raise InvalidRecordError("an analysis report must carry an integer metrics_version")
        trial = self.get(trial_id)
        trial.status, trial.status_reason = status, reason
        if recording is not None:
            trial.recording = recording
        trial.results = _finite(results if results is not None else trial.results, "results")
        trial.report, trial.metrics_version = _finite(report), version
        trial.ended_at = ended_at or rows.utc_now()
        rows.update(self.db, "trials", "id", rows.to_row(trial, _JSON), "trial")
        return trial

    def get(self, trial_id: str) -> Trial:
        return rows.from_row(Trial, rows.fetch(self.db, "trials", "id", trial_id, "trial"), _JSON)

    def for_session(self, session_id: str) -> list[Trial]:
        return [rows.from_row(Trial, r, _JSON) for r in rows.fetch_all(
            self.db, "SELECT * FROM trials WHERE session_id = ? ORDER BY position", [session_id])]
