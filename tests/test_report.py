"""The DESIGN 4.2 report on synthetic mat recordings with known truth, COP-only
recordings (PDS two-plate data), windows, filters and bad input."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import metrics_synth as ms
import numpy as np
import pytest

from kernels.errors import KernelError
from kernels.gait import arch_index, gait_summary, robinson_si, step_geometry
from kernels.report import METRICS_VERSION, analyze_recording
from kernels.series import MetricsInputError, parse_window
from kernels.sway import SWAY_FIELDS

DESIGN_KEYS = {"metrics_version", "duration_s", "rate_hz", "filter", "sway", "weight", "steps", "gait"}
STEP_KEYS = {"foot", "contact_s", "off_s", "stance_s", "peak_force_n", "heel_mm", "heel_centre_mm", "gait_line_length_mm",
             "cpei_pct"}


def all_nulls_have_reasons(report: dict) -> None:
    """Every null field of the report is named in null_reasons."""
    reasons = report["null_reasons"]

    def walk(value, path):
        if value is None:
            assert path in reasons, f"{path} is null without a reason"
        elif isinstance(value, dict):
            for k, v in value.items():
                if path == "" and k in ("window", "filter", "null_reasons", "notes", "parameters"):
                    continue
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(value, list) and path.startswith("steps"):
            for i, v in enumerate(value):
                walk(v, f"steps[{i}]")

    for key in ("sway", "weight", "gait", "arch_index", "duration_s", "rate_hz"):
        walk(report[key], key)
    for i, step in enumerate(report["steps"]):
        for k, v in step.items():
            if v is None:
                assert f"steps[{i}].{k}" in reasons, f"steps[{i}].{k} is null without a reason"


@pytest.fixture(scope="module")
def walking():
    rec, truth = ms.walk()
    return analyze_recording(rec), truth


def test_walk_report_has_the_design_fields_and_is_json(walking):
    report, _ = walking
    assert DESIGN_KEYS <= set(report)
    assert report["metrics_version"] == METRICS_VERSION == 3
    assert set(report["sway"]) == set(SWAY_FIELDS)
    assert {"left_pct", "right_pct", "left", "right"} <= set(report["weight"])
    assert all(STEP_KEYS <= set(s) for s in report["steps"])
    assert {"step_count", "cadence_steps_min", "step_length_mm", "step_width_mm", "stance_pct"} <= set(report["gait"])
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    all_nulls_have_reasons(report)


def test_walk_steps_match_the_truth(walking):
    report, truth = walking
    steps = report["steps"]
    assert len(steps) == len(truth) == report["gait"]["step_count"]
    frame = 1 / ms.RATE
    for got, want in zip(steps, truth, strict=True):
        assert got["foot"] == want["side"]
        assert abs(got["contact_s"] - want["contact"]) <= frame + 1e-9
        assert abs(got["off_s"] - want["off"]) <= frame + 1e-9
        # the heel point is found within a sensel of where the foot was put
        assert math.dist(got["heel_mm"], want["heel"]) < 1.2 * ms.PITCH[0]
        assert got["foot_length_mm"] == pytest.approx(220.0, abs=2 * ms.PITCH[0])
        assert 0 <= got["strike_index_pct"] < 27  # heel strikers: COP at contact in the rearfoot
        assert got["gait_line_length_mm"] > 100
        assert got["peak_force_n"] > 0 and got["loading_rate_n_s"] > 0


def test_walk_gait_summary_matches_the_truth(walking):
    report, _ = walking
    g = report["gait"]
    assert g["cadence_steps_min"] == pytest.approx(60 / 0.4, rel=0.01)
    assert g["step_length_mm"] == pytest.approx(200.0, abs=ms.PITCH[0])
    # (step width is between heel centres, which these template feet do not place exactly:
    # tests/test_step_width.py checks it on feet whose heel centres are known)
    assert g["stance_pct"] == pytest.approx(100 * 0.6 / 0.8, abs=2.0)
    assert abs(g["symmetry_stance_time_pct"]) < 2.0
    # three left and two right stances of equal load: 60 % on the left
    assert report["weight"]["left_pct"] == pytest.approx(60.0, abs=2.0)
    assert report["arch_index"] == {"left": None, "right": None}
    assert "steps" in report["null_reasons"]["arch_index.left"]


def test_standing_weight_sway_and_arch_index():
    rec, truth = ms.stand(left_share=0.6)
    report = analyze_recording(rec)
    assert report["weight"]["left_pct"] == pytest.approx(100 * truth["share"].mean(), abs=1.0)
    assert report["weight"]["left_pct"] + report["weight"]["right_pct"] == pytest.approx(100.0)
    for side in ("left", "right"):
        shares = report["weight"][side]
        assert sum(shares.values()) == pytest.approx(100.0)
        assert shares["rearfoot_pct"] > 20 and shares["forefoot_pct"] > 40
        # Cavanagh & Rodgers: normal arches 0.21-0.26; the MUN104 mean foot is near the low end
        assert 0.15 < report["arch_index"][side] < 0.3
    s = report["sway"]
    assert all(s[f] is not None for f in SWAY_FIELDS)
    assert s["range_ml_mm"] > 10 * s["range_ap_mm"]  # the weight moves side to side only
    assert report["steps"] == [] and report["gait"]["step_count"] == 0
    assert report["null_reasons"]["gait.cadence_steps_min"] == "no completed step in the analysed part"
    all_nulls_have_reasons(report)


def test_window_and_lowpass_are_applied_and_recorded():
    rec, _ = ms.stand(seconds=4.0)
    full = analyze_recording(rec)
    part = analyze_recording(rec, window=(1.0, 3.0))
    assert part["samples"] == 200 and part["duration_s"] == pytest.approx(2.0)
    assert part["window"] == {"start_s": 1.0, "end_s": 3.0}
    smooth = analyze_recording(rec, lowpass_hz=2.0)
    assert smooth["filter"]["cutoff_hz"] == 2.0 and smooth["filter"]["order"] == 4 and smooth["filter"]["zero_phase"]
    assert smooth["filter"]["chosen_by"] == "--lowpass"
    # a mat's COP is low-passed at 10 Hz unless told otherwise (metrics version 3)
    assert full["filter"]["cutoff_hz"] == 10.0 and full["filter"]["chosen_by"] == "default for the mat's COP"
    raw = analyze_recording(rec, lowpass_hz=None)
    assert raw["filter"] is None
    # the noise is above 2 Hz: filtering shortens the path a lot
    assert smooth["sway"]["path_length_mm"] < 0.5 * raw["sway"]["path_length_mm"]
    assert smooth["sway"]["path_length_mm"] < full["sway"]["path_length_mm"] < raw["sway"]["path_length_mm"]


def test_parse_window():
    assert parse_window("10:40") == (10.0, 40.0)
    assert parse_window("5:") == (5.0, None)
    assert parse_window(":30") == (None, 30.0)
    for bad in ("10", "a:b", "40:10"):
        with pytest.raises(MetricsInputError):
            parse_window(bad)


# -- COP-only recordings: the PDS two-plate trial -------------------------------------------------


def pds_recording(test_data):
    import gzip

    with gzip.open(test_data / "dos-santos-2017" / "PDS13OR1grf_subset.txt.gz", "rt") as f:
        header = f.readline().split()
        d = np.loadtxt(f)
    c = {name: d[:, i] for i, name in enumerate(header)}
    return SimpleNamespace(
        meta="{}", cop_t=c["Time"],
        cop_mm=np.column_stack([c["COPNET_Z"], c["COPNET_X"]]) * 1000.0,
        cop_left_mm=np.column_stack([c["LCOP_Z"], c["LCOP_X"]]) * 1000.0,
        cop_right_mm=np.column_stack([c["RCOP_Z"], c["RCOP_X"]]) * 1000.0,
        force_left_n=c["LGRF_Y"], force_right_n=c["RGRF_Y"],
    )


def test_cop_group_report_matches_published_and_weights(test_data):
    rec = pds_recording(test_data)
    report = analyze_recording(rec)
    # PDS13OR1 published: COParea 3.469047562855427 cm², COPvelo 1.377135007158859 cm/s
    assert report["sway"]["ellipse95_area_mm2"] == pytest.approx(346.9047562855427, rel=1e-9)
    assert report["sway"]["mean_velocity_mm_s"] == pytest.approx(13.77135007158859, rel=1e-9)
    assert report["sway"]["mean_power_frequency_hz"] == pytest.approx(0.1936755219596236, rel=1e-9)
    want_left = 100 * rec.force_left_n.sum() / (rec.force_left_n.sum() + rec.force_right_n.sum())
    assert report["weight"]["left_pct"] == pytest.approx(want_left, rel=1e-12)
    assert report["weight"]["left"]["rearfoot_pct"] is None  # plates have no regions
    assert report["steps"] == []  # quiet standing: both feet stay loaded
    all_nulls_have_reasons(report)


# -- gait summary on hand-made entries -----------------------------------------------------------


def entry(foot, contact, heel, stance=0.6, peak=700.0):
    return {"foot": foot, "contact_s": contact, "off_s": contact + stance, "stance_s": stance,
            "peak_force_n": peak, "heel_centre_mm": list(heel)}


def test_tandem_walking_gives_negative_step_width():
    # Each foot lands 20 mm across the midline on the other foot's side (crossing).
    entries = [entry("left" if i % 2 == 0 else "right", 0.5 * i, (200 + (20 if i % 2 == 0 else -20), 250 * i))
               for i in range(6)]
    g, _ = gait_summary(entries)
    assert g["step_width_mm"] == pytest.approx(-40.0)
    assert g["step_length_mm"] == pytest.approx(250.0)


def test_step_width_follows_a_diagonal_line_of_progression():
    # Walking at 45 degrees: widths and lengths are measured along that line.
    u = np.array([1.0, 1.0]) / math.sqrt(2)
    left_normal = np.array([-u[1], u[0]])
    entries = []
    for i in range(6):
        side = "left" if i % 2 == 0 else "right"
        heel = u * 300 * i + left_normal * (50 if side == "left" else -50)
        entries.append(entry(side, 0.5 * i, heel))
    geometry = step_geometry(entries)
    assert len(geometry) == 5
    for _, length, width in geometry:
        assert length == pytest.approx(300.0) and width == pytest.approx(100.0)


def test_stepping_on_the_spot_uses_straight_ahead():
    entries = [entry("left" if i % 2 == 0 else "right", 0.5 * i, (150 if i % 2 == 0 else 300, 100)) for i in range(6)]
    g, _ = gait_summary(entries)
    assert g["step_width_mm"] == pytest.approx(150.0)
    assert g["step_length_mm"] == pytest.approx(0.0)


def test_robinson_symmetry_index():
    assert robinson_si(1.1, 0.9) == pytest.approx(20.0)
    assert robinson_si(0.9, 1.1) == pytest.approx(-20.0)
    assert robinson_si(1.0, 1.0) == 0.0
    assert robinson_si(None, 1.0) is None and robinson_si(0.0, 0.0) is None


def test_symmetry_and_stance_pct_from_entries():
    entries = [entry("left", 0.0, (100, 0), stance=0.7, peak=800), entry("right", 0.5, (300, 250), stance=0.6, peak=600),
               entry("left", 1.0, (100, 500), stance=0.7, peak=800), entry("right", 1.5, (300, 750), stance=0.6, peak=600)]
    g, reasons = gait_summary(entries)
    assert g["stance_pct"] == pytest.approx((70 + 60) / 2)
    assert g["symmetry_stance_time_pct"] == pytest.approx(robinson_si(0.6, 0.7))
    assert g["symmetry_peak_force_pct"] == pytest.approx(robinson_si(600, 800))
    assert g["cadence_steps_min"] == pytest.approx(120.0)


def test_arch_index_of_drawn_footprints():
    pitch = (5.0, 5.0)
    flat = np.zeros((60, 20), bool)
    flat[0:60, 5:15] = True  # a rectangle: every third holds a third of the area
    assert arch_index(flat, pitch) == pytest.approx(1 / 3, abs=0.02)
    high = flat.copy()
    high[20:40, 5:14] = False  # the middle third reduced to a 1-sensel strip on the lateral border
    assert arch_index(high, pitch) == pytest.approx(20 / (400 + 20), abs=0.02)
    toes = flat.copy()
    toes[:, :] = False
    toes[0:50, 5:15] = True
    toes[53:58, 6:14] = True  # separate toes are left out
    assert arch_index(toes, pitch) == pytest.approx(arch_index(flat[0:50], pitch), abs=1e-9)
    assert arch_index(np.zeros((10, 10), bool), pitch) is None


# -- bad input: clear errors or reasoned nulls, never a crash or an invented number ----------------


def mat_rec(frames, rate=ms.RATE):
    frames = np.asarray(frames)
    return ms.recording(frames, np.arange(len(frames)) / rate)


def test_empty_mat_gives_reasoned_nulls():
    report = analyze_recording(mat_rec(np.zeros((50, 48, 48), np.float32)))
    assert all(report["sway"][f] is None for f in SWAY_FIELDS)
    assert "nobody" in report["null_reasons"]["sway.path_length_mm"]
    assert report["weight"]["left_pct"] is None and report["null_reasons"]["weight.left_pct"]
    assert report["steps"] == []
    all_nulls_have_reasons(report)


def test_one_sensel_lit():
    frames = np.zeros((50, 48, 48), np.float32)
    frames[:, 20, 20] = 500.0  # 500 kPa on 71.7 mm² = 35.9 N
    report = analyze_recording(mat_rec(frames))
    assert report["sway"]["path_length_mm"] == 0.0  # it did not move
    assert report["sway"]["mean_frequency_hz"] is None
    all_nulls_have_reasons(report)


def test_nan_and_negative_pressures_are_counted_not_used():
    rec, _ = ms.stand(seconds=1.0)
    clean = analyze_recording(rec)
    frames = rec.mat_kpa.copy()
    frames[:, 0, 0] = np.nan
    frames[:, 0, 1] = -50.0
    report = analyze_recording(ms.recording(frames, rec.mat_t))
    assert report["quality"]["invalid_sensels"] == len(frames)
    assert report["quality"]["negative_sensels"] == len(frames)
    assert any("NaN" in n for n in report["notes"])
    assert report["sway"]["path_length_mm"] == pytest.approx(clean["sway"]["path_length_mm"])


def test_three_frames_give_nulls_with_reasons():
    rec, _ = ms.stand(seconds=0.03)
    report = analyze_recording(rec)
    assert report["samples"] == 3
    assert all(report["sway"][f] is None for f in SWAY_FIELDS)
    assert "3 COP samples" in report["null_reasons"]["sway.path_length_mm"]
    all_nulls_have_reasons(report)


def test_a_single_frame_has_no_rate():
    rec, _ = ms.stand(seconds=0.01)
    report = analyze_recording(rec)
    assert report["rate_hz"] is None and report["duration_s"] is None
    all_nulls_have_reasons(report)


@pytest.mark.parametrize("frames", [np.zeros((10, 48), np.float32), np.zeros((10, 48, 48, 2), np.float32)])
def test_frames_of_the_wrong_shape_are_refused(frames):
    with pytest.raises(KernelError, match="mat_kpa"):
        analyze_recording(ms.recording(frames, np.arange(len(frames)) / 100))


def test_frames_of_the_wrong_dtype_are_refused():
    with pytest.raises(MetricsInputError, match="float32"):
        analyze_recording(ms.recording(np.zeros((10, 48, 48), np.float64), np.arange(10) / 100))


def test_time_problems_are_refused():
    frames = np.zeros((10, 48, 48), np.float32)
    t = np.arange(10) / 100.0
    back = t.copy()
    back[5] = 0.01
    with pytest.raises(MetricsInputError, match="not strictly increasing"):
        analyze_recording(ms.recording(frames, back))
    # (a gap is no longer refused: the parts either side are analysed, tests/test_report_gaps.py)
    with pytest.raises(MetricsInputError, match="matching"):
        analyze_recording(ms.recording(frames, t[:5]))


def test_nothing_to_analyse():
    with pytest.raises(MetricsInputError, match="nothing to analyse"):
        analyze_recording(SimpleNamespace(meta="{}"))
    rec, _ = ms.stand(seconds=1.0)
    with pytest.raises(MetricsInputError, match="window holds no samples"):
        analyze_recording(rec, window=(50.0, 60.0))


def test_a_cop_with_a_hole_gives_sway_nulls_with_a_reason():
    rec, _ = ms.stand(seconds=2.0)
    frames = rec.mat_kpa.copy()
    frames[80:90] = 0.0  # the patient stepped off for 0.1 s
    report = analyze_recording(ms.recording(frames, rec.mat_t))
    assert report["sway"]["path_length_mm"] is None
    assert "--window" in report["null_reasons"]["sway.path_length_mm"]
    part = analyze_recording(ms.recording(frames, rec.mat_t), window=(1.0, 2.0))
    assert part["sway"]["path_length_mm"] is not None


# -- the docs stay honest (STYLE 11) -------------------------------------------------------------


def test_every_field_in_docs_metrics_is_in_the_report(walking):
    import re
    from pathlib import Path

    report, _ = walking
    doc = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text()
    assert f"metrics version {METRICS_VERSION}" in doc
    sections = {"sway": report["sway"], "gait": report["gait"], "steps": report["steps"][0]}
    for name, table in (("2. Balance", "sway"), ("5. Steps", "steps"), ("6. Gait summary", "gait")):
        body = doc.split(f"## {name}")[1].split("\n## ")[0]
        fields = set()
        for line in body.splitlines():
            if line.startswith("| `"):
                fields.update(f.split(".")[0] for f in re.findall(r"`([a-z0-9_.]+)`", line.split("|")[1]))
        assert fields, name
        missing = fields - set(sections[table])
        assert not missing, f"docs/metrics.md {name} names fields the report lacks: {missing}"
        undocumented = set(sections[table]) - fields
        assert not undocumented, f"report {table} fields missing from docs/metrics.md: {undocumented}"
