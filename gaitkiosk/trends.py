"""One patient's numbers over weeks: the series the trends screen plots and the patient page's sparklines.

Every number comes from what the visits stored (docs/metrics.md): a trial's
``results`` (the drill's score and measures, ``DrillResult.to_dict()``) and its
``report`` (the analysis of the recording). :func:`series` reads them for all of
a patient's trials in one SQL pass, pulling only the fields it needs out of the
JSON with SQLite's ``json_extract`` (a walking trial's report holds every step:
parsing it whole in Python for 200 visits would take most of the time budget).

Only complete trials are points: a stopped run's score is for the part done,
and is never compared (``drills.scoring.not_comparable``). Each point carries
the calibration footing its numbers rest on (``calibrated``/``uncalibrated``...):
the plots draw points of another footing hollow, since a sway area through the
factory line reads less than half of the calibrated one (docs/metrics.md
section 10).

Prescription changes are the patient's programs' ``created_at`` (every
``gaitkiosk program set`` and every change on the screen stores a new program).

:func:`compare` puts two sessions side by side: per drill the key numbers of
both, and why they are not like for like when they are not (another level,
another calibration or footing, another definition of the measures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# (series key, label, unit, drill whose trials give it, SQL expression of the value)
MEASURES = (
    ("sway_area_open", "Sway area, eyes open", "mm²", "quiet_standing",
     "json_extract(t.results, '$.measures.conditions.eyes_open.sway.ellipse95_area_mm2')"),
    ("sway_area_closed", "Sway area, eyes closed", "mm²", "quiet_standing",
     "json_extract(t.results, '$.measures.conditions.eyes_closed.sway.ellipse95_area_mm2')"),
    ("sway_speed_open", "Sway speed, eyes open", "mm/s", "quiet_standing",
     "json_extract(t.results, '$.measures.conditions.eyes_open.sway.mean_velocity_mm_s')"),
    ("sway_speed_closed", "Sway speed, eyes closed", "mm/s", "quiet_standing",
     "json_extract(t.results, '$.measures.conditions.eyes_closed.sway.mean_velocity_mm_s')"),
    ("romberg_area", "Romberg ratio (sway area, closed / open)", "", "quiet_standing",
     "json_extract(t.results, '$.measures.romberg.ellipse_area_ratio')"),
    ("standing_left", "Weight on the left foot, quiet standing", "%", "quiet_standing",
     "json_extract(t.report, '$.weight.left_pct')"),
    ("symmetry_left", "Weight on the left foot, weight drill", "%", "weight_symmetry",
     "json_extract(t.results, '$.measures.mean_left_pct')"),
    ("cadence_insoles", "Cadence, walking with insoles", "steps/min", "gait_insoles",
     "json_extract(t.report, '$.gait.cadence_steps_min')"),
    ("cadence_tandem", "Cadence, tandem walk", "steps/min", "tandem_walk",
     "json_extract(t.report, '$.gait.cadence_steps_min')"),
)
SCORE = "score:"  # score series are keyed "score:<drill>"


@dataclass
class Series:
    key: str
    label: str
    unit: str
    points: list[tuple] = field(default_factory=list)  # (session started_at ISO, value, trial id, footing)

    @property
    def values(self) -> list[float]:
        return [p[1] for p in self.points]


@dataclass
class Trends:
    patient_id: str
    series: dict[str, Series]  # key -> Series, in MEASURES order after the scores
    changes: list[tuple[str, str]]  # (created_at ISO, program name): prescription changes
    sessions: int  # sessions of this patient (any status)
    first: str | None  # first and last session's started_at
    last: str | None

    def get(self, key: str) -> Series | None:
        return self.series.get(key)


def _footing(results_cal: str | None, report_cal: str | None) -> str:
    return results_cal or report_cal or "not stated"


def series(store, patient_id: str) -> Trends:
    """Every series of ``patient_id`` from one pass over their trials (oldest first)."""
    from drills import registry

    values = ", ".join(f"{sql} AS {key}" for key, _, _, _, sql in MEASURES)
    rows = store.db.execute(f"""
        SELECT s.started_at, t.id, t.drill, json_extract(t.results, '$.score') AS score,
               json_extract(t.results, '$.calibration.state') AS cal,
               json_extract(t.report, '$.calibration.state') AS report_cal, {values}
        FROM sessions s JOIN trials t ON t.session_id = s.id
        WHERE s.patient_id = ? AND t.status = 'complete'
        ORDER BY s.started_at, t.position""", [patient_id]).fetchall()
    scores: dict[str, Series] = {}
    measures = {key: Series(key, label, unit) for key, label, unit, _, _ in MEASURES}
    drill_of = {key: drill for key, _, _, drill, _ in MEASURES}
    for row in rows:
        at, trial_id, drill, score, cal, report_cal = row[:6]
        footing = _footing(cal, report_cal)
        if isinstance(score, int | float):
            if drill not in scores:
                try:
                    title = registry.get(drill).title
                except LookupError:
                    title = drill
                scores[drill] = Series(SCORE + drill, f"Score, {title}", "points")
            scores[drill].points.append((at, float(score), trial_id, footing))
        for (key, *_), value in zip(MEASURES, row[6:], strict=True):
            if drill == drill_of[key] and isinstance(value, int | float):
                measures[key].points.append((at, float(value), trial_id, footing))
    changes = [(r[0], r[1]) for r in store.db.execute(
        "SELECT created_at, name FROM programs WHERE patient_id = ? ORDER BY created_at", [patient_id])]
    n, first, last = store.db.execute(
        "SELECT count(*), min(started_at), max(started_at) FROM sessions WHERE patient_id = ?", [patient_id]).fetchone()
    out = {s.key: s for s in scores.values()}
    out.update({k: s for k, s in measures.items() if s.points})
    return Trends(patient_id, out, changes, n, first, last)


# -- two sessions side by side ------------------------------------------------------------------------

def _pick(trials, drill):
    """The trial of ``drill`` a session is compared by: its last complete one, else its last."""
    mine = [t for t in trials if t.drill == drill]
    done = [t for t in mine if t.status == "complete"]
    return (done or mine)[-1]


def not_alike(a, b) -> str:
    """Why two trials of one drill are not like for like ("" when they are): the drill's own rule
    (``drills.scoring.not_comparable``: stopped runs, another level or length, another definition of
    the measures), another calibration footing or calibration, another definition of the report."""
    from drills.scoring import not_comparable
    from gaitkiosk.visit import footing

    ra, rb = a.results or {}, b.results or {}
    why = not_comparable(ra, rb)
    if why:
        return why.replace("the earlier run", "one run").replace("this run", "one run")
    if footing(ra) != footing(rb):
        return f"measured {footing(ra)} in one and {footing(rb)} in the other"
    if (a.calibration_ids or {}) != (b.calibration_ids or {}):
        return "measured with different calibrations of the sensors"
    if (a.metrics_version or 0) != (b.metrics_version or 0):
        return "analysed by different versions of the measures"
    return ""


def key_numbers(trial) -> list[tuple[str, float | None, str]]:
    """(label, value or None, unit) of one trial: its score, the drill's headline measures and the
    report's sway, weight and cadence (docs/metrics.md)."""
    from drills import registry
    from drills.scoring import lookup

    results, report = trial.results or {}, trial.report or {}
    score = results.get("score")
    out = [("Score", float(score) if isinstance(score, int | float) else None, "of 100")]
    try:
        headline = registry.get(trial.drill).HEADLINE
    except LookupError:
        headline = ()
    for label, path, unit, _ in headline:
        out.append((label, lookup(results.get("measures") or {}, path), unit))
    romberg = lookup(results.get("measures") or {}, "romberg.ellipse_area_ratio")
    if romberg is not None:
        out.append(("Romberg ratio (area)", romberg, ""))
    for label, path, unit in (("Sway area, whole trial", "sway.ellipse95_area_mm2", "mm²"),
                              ("Sway speed, whole trial", "sway.mean_velocity_mm_s", "mm/s"),
                              ("Weight on the left", "weight.left_pct", "%"),
                              ("Cadence", "gait.cadence_steps_min", "steps/min")):
        value = lookup(report, path)
        if value is not None:
            out.append((label, value, unit))
    return out


def column(session, trials) -> dict:
    """A session's heading in the side-by-side view: date, sensors and their calibration state."""
    from gaitkiosk.commands.sessions import calibration_of

    sources, states = [], []
    for t in trials:
        source = (t.report or {}).get("source")
        if source and source not in sources:
            sources.append(source)
        state, _ = calibration_of(t.results or {}, t.report)
        if state and state not in states:
            states.append(state)
    return {"id": session.id, "started_at": session.started_at, "status": session.status,
            "sensors": ", ".join(sources) or "not stated", "calibration": "; ".join(states) or "not stated"}


def compare(store, a_id: str, b_id: str) -> dict:
    """Two sessions side by side: {"a", "b": column(), "drills": [{"drill", "title", "why", "rows":
    [(label, unit, value a, value b)]}]}; a drill only one session has gets None in the other."""
    from drills import registry

    sa, sb = store.sessions.get(a_id), store.sessions.get(b_id)
    if sa.started_at > sb.started_at:
        sa, sb = sb, sa  # the older on the left
    ta, tb = store.trials.for_session(sa.id), store.trials.for_session(sb.id)
    drills = list(dict.fromkeys([t.drill for t in ta] + [t.drill for t in tb]))
    out = []
    for drill in drills:
        a = _pick(ta, drill) if any(t.drill == drill for t in ta) else None
        b = _pick(tb, drill) if any(t.drill == drill for t in tb) else None
        na = dict(((lab, unit), v) for lab, v, unit in key_numbers(a)) if a else {}
        nb = dict(((lab, unit), v) for lab, v, unit in key_numbers(b)) if b else {}
        rows = [(lab, unit, na.get((lab, unit)), nb.get((lab, unit))) for lab, unit in dict.fromkeys([*na, *nb])]
        why = not_alike(a, b) if a and b else "only one of the two sessions has this exercise"
        try:
            title = registry.get(drill).title
        except LookupError:
            title = drill
        out.append({"drill": drill, "title": title, "why": why, "rows": rows})
    return {"a": column(sa, ta), "b": column(sb, tb), "drills": out}
