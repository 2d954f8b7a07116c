"""The one-page session report (`gaitkiosk report`, docs/therapist.md "Session report (PDF)").

:func:`page_of` turns a stored session (plain rows, read through the store) into the page's
words and numbers; :func:`render` lays them out on one A4 page with fpdf2 and returns the
PDF's bytes. The COP plot (matplotlib, Agg) is imported only when a trial has an ellipse.

Numbers are the stored report's, never recomputed: the page shows what `sessions show
--json` holds, with units and the sensor each comes from (docs/metrics.md section 1).
"""

from __future__ import annotations

import io
import math

from gaitkiosk import mplcache
from gaitkiosk.pdf_page import latin as _latin

METRICS_DOC = "docs/metrics.md"

# (label, report section, key, unit, format, which `sources` entry names its sensor)
MEASURES = (
    ("sway area (95 % ellipse)", "sway", "ellipse95_area_mm2", "mm²", "{:.0f}", "sway"),
    ("sway speed", "sway", "mean_velocity_mm_s", "mm/s", "{:.1f}", "sway"),
    ("sway path", "sway", "path_length_mm", "mm", "{:.0f}", "sway"),
    ("sway range side to side", "sway", "range_ml_mm", "mm", "{:.1f}", "sway"),
    ("sway range front to back", "sway", "range_ap_mm", "mm", "{:.1f}", "sway"),
    ("weight on the left foot", "weight", "left_pct", "%", "{:.0f}", "weight"),
    ("weight on the right foot", "weight", "right_pct", "%", "{:.0f}", "weight"),
    ("steps", "gait", "step_count", "", "{:.0f}", "gait"),
    ("cadence", "gait", "cadence_steps_min", "steps/min", "{:.0f}", "gait"),
    ("step length", "gait", "step_length_mm", "mm", "{:.0f}", "gait"),
    ("step width", "gait", "step_width_mm", "mm", "{:.0f}", "gait"),
    ("stance", "gait", "stance_pct", "% of the stride", "{:.0f}", "gait"),
)


def drill_title(name: str) -> str:
    from drills import registry

    try:
        return registry.get(name).title or name.replace("_", " ")
    except LookupError:  # a drill this version does not know: its stored name
        return name.replace("_", " ")


def measures_of(report: dict | None) -> list[tuple[str, str, str, str]]:
    """``(label, value, unit, sensor)`` of each key measure the stored report holds (no gait lines
    for a trial without steps, no sway lines without a whole-body COP)."""
    if not report:
        return []
    sources = report.get("sources") or {}
    rows = []
    for label, section, key, unit, fmt, source in MEASURES:
        value = (report.get(section) or {}).get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            continue
        if section == "gait" and key != "step_count" and not (report.get("gait") or {}).get("step_count"):
            continue
        if key == "step_count" and not value:
            continue
        sensor = sources.get(source) or report.get("source") or "?"
        rows.append((label, fmt.format(value), unit, str(sensor)))
    return rows


def page_of(clinic: dict, session, patient_code: str, trials) -> dict:
    """The page's content from the stored session, its patient's code and its trials."""
    from gaitkiosk.commands.sessions import _local, calibration_of, session_calibration_words

    out = []
    versions = set()
    for t in trials:
        results, report = t.results or {}, t.report
        state, _ = calibration_of(results, report)
        score = results.get("score")
        if t.metrics_version:
            versions.add(str(t.metrics_version))
        sway = (report or {}).get("sway") or {}
        out.append({
            "position": t.position + 1, "title": drill_title(t.drill), "status": t.status,
            "reason": t.status_reason or "",
            "score": f"{score:.0f} of 100" if isinstance(score, int | float) else "no score",
            "measures": measures_of(report),
            "calibration": state or "not recorded (stored before calibration states)",
            "no_report": "" if report else (results.get("report_error") or "no analysis report stored"),
            "ellipse": _ellipse(sway),
        })
    return {
        "clinic": clinic.get("name") or "", "logo": clinic.get("logo") or "",
        "session": session.id, "patient": patient_code, "started": _local(session.started_at),
        "status": session.status, "trials": out,
        "uncalibrated": session_calibration_words(trials),
        "metrics_version": ", ".join(sorted(versions)) or "-",
    }


def pdf_for(st, session, clinic: dict) -> bytes:
    """The stored session's report as PDF bytes (the CLI and the staff screens' Save PDF)."""
    code = st.patients.get(session.patient_id).code
    return render(page_of(clinic, session, code, st.trials.for_session(session.id)))


def _ellipse(sway: dict) -> dict | None:
    axes = sway.get("ellipse95_axes_mm")
    if not (isinstance(axes, list) and len(axes) == 2 and all(isinstance(a, int | float) for a in axes)):
        return None
    return {"major": float(axes[0]), "minor": float(axes[1]), "angle": sway.get("ellipse95_angle_deg"),
            "area": sway.get("ellipse95_area_mm2")}


def ellipse_png(e: dict) -> bytes:
    """The 95 % ellipse drawn from the stored semi-axes and angle, centred on the mean COP."""
    mplcache.configure()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse

    fig = Figure(figsize=(2.4, 2.4), dpi=150)
    ax = fig.add_subplot()
    angle = e["angle"] if isinstance(e["angle"], int | float) else 0.0
    ax.add_patch(Ellipse((0, 0), 2 * e["major"], 2 * e["minor"], angle=angle, fill=False, lw=1.5, color="#0072B2"))
    a = math.radians(angle)
    for length, turn, style in ((e["major"], 0.0, "-"), (e["minor"], 90.0, "--")):
        dx, dy = length * math.cos(a + math.radians(turn)), length * math.sin(a + math.radians(turn))
        ax.plot([-dx, dx], [-dy, dy], style, color="#555555", lw=0.8)
    lim = 1.15 * max(e["major"], 1e-3)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("side to side (mm)", fontsize=7)
    ax.set_ylabel("front to back (mm)", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def render(page: dict) -> bytes:
    """The page as PDF bytes: one A4 page, whatever the number of trials (the rest is named)."""
    from gaitkiosk import pdf_page

    pdf = pdf_page.new_pdf()
    width = pdf_page.text_width(pdf)
    bottom = pdf.h - 25  # room for the footer

    def line(text, size=9, style="", h=4.6):
        pdf_page.line(pdf, text, size, style, h)

    pdf_page.letterhead(pdf, page["clinic"], page["logo"], "Session report",
                        f"Patient {page['patient']}    session {page['session'][:8]}    {page['started']}    "
                        f"{page['status']}")
    pdf.ln(2)
    plotted = None
    for i, t in enumerate(page["trials"]):
        if pdf.get_y() > bottom - 20:
            left = len(page["trials"]) - i
            line(f"{left} more trial{'s' if left != 1 else ''} not shown: `gaitkiosk sessions show "
                 f"{page['session'][:8]}` lists every one", 8, "I")
            break
        head = f"{t['position']}. {t['title']} - {t['status']}" + (f" ({t['reason']})" if t["reason"] else "")
        line(f"{head} - score {t['score']}", 10, "B", 5.5)
        if t["measures"]:
            _table(pdf, t["measures"], width)
        else:
            line(f"no measures: {t['no_report']}" if t["no_report"] else "no measures in the stored report", 8)
        line(f"calibration: {t['calibration']}", 8)
        if plotted is None and t["ellipse"]:
            plotted = t
        pdf.ln(1.5)
    if plotted and pdf.get_y() < bottom - 62:
        y = pdf.get_y()
        pdf.image(io.BytesIO(ellipse_png(plotted["ellipse"])), x=15, y=y, w=58)
        e = plotted["ellipse"]
        pdf.set_xy(78, y + 8)
        pdf.set_font("Helvetica", "", 8)
        area = f"{e['area']:.0f} mm²" if isinstance(e["area"], int | float) else "-"
        angle = f"{e['angle']:.0f}°" if isinstance(e["angle"], int | float) else "none (a circle)"
        pdf.multi_cell(width - 63, 4.2, _latin(
            f"Centre of pressure, trial {plotted['position']} ({plotted['title']}): the 95 % prediction ellipse "
            f"from the stored report, centred on the mean position. Semi-axes {e['major']:.1f} mm (solid) and "
            f"{e['minor']:.1f} mm (dashed), major axis at {angle} from side to side, area {area}."),
            new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(y + 60)
    if page["uncalibrated"] and pdf.get_y() < bottom - 8:
        line("Note: " + page["uncalibrated"], 8, "I", 4)
    pdf.set_y(bottom + 3)
    line(f"Metrics version {page['metrics_version']}. Every measure is defined in {METRICS_DOC} "
         "(sway set section 2, weight section 3, gait sections 5-6, calibration state section 10).", 7, "", 3.6)
    return bytes(pdf.output())


def _table(pdf, rows, width) -> None:
    cols = (0.42, 0.18, 0.2, 0.2)
    pdf.set_font("Helvetica", "B", 8)
    for text, share in zip(("measure", "value", "unit", "sensor"), cols, strict=True):
        pdf.cell(width * share, 4.2, text)
    pdf.ln(4.2)
    pdf.set_font("Helvetica", "", 8)
    for row in rows:
        for text, share in zip(row, cols, strict=True):
            pdf.cell(width * share, 4.0, _latin(text))
        pdf.ln(4.0)
