"""Golden snapshot: the JSON report of one fixed simulated recording.

``tests/data/golden_mat_walk.npz`` is a simulated walk of five steps up a
128 x 48 mat (8.47 mm, 100 Hz) made by ``tests/metrics_synth.walk()`` from the
MUN104 mean feet (heel strike, flat foot, toe-off for each stance);
``golden_mat_walk_report.json`` is its report. Any change to a number of the pipeline
(per-frame analysis, detectors, metrics) shows up here.

Update only on purpose, after checking why the numbers moved, with::

    .venv/bin/python tests/test_report_golden.py --update          # the report
    .venv/bin/python tests/test_report_golden.py --new-recording   # the recording too (rarely)

and say why in the commit message (and bump ``metrics_version`` if a
definition changed, see docs/metrics.md).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "data"
RECORDING = GOLDEN / "golden_mat_walk.npz"
REPORT = GOLDEN / "golden_mat_walk_report.json"


def make_report() -> dict:
    from device.recording import load_recording
    from kernels.report import analyze_recording

    report = analyze_recording(load_recording(RECORDING))
    report["file"] = RECORDING.name
    return report


def compare(got, want, path="report"):
    """Equal structure; floats to 1e-6 relative (compiled vs reference kernels differ in rounding)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            compare(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: length {len(got)} != {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            compare(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), \
            f"{path}: {got!r} != golden {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != golden {want!r}"


def test_report_matches_the_golden_snapshot():
    want = json.loads(REPORT.read_text())
    compare(make_report(), want)


def test_golden_report_is_worth_snapshotting():
    """The snapshot must hold real numbers, not a report of nulls."""
    want = json.loads(REPORT.read_text())
    assert want["metrics_version"] == 3
    assert want["sway"]["path_length_mm"] is not None
    assert want["gait"]["step_count"] >= 4
    assert want["weight"]["left_pct"] is not None


def _new_recording() -> None:
    import metrics_synth

    from device.recording import Recording, save_recording

    synth, _ = metrics_synth.walk()
    rec = Recording(meta={"source": "tests/metrics_synth.walk()", "feet": "MUN104 mean footprints",
                          "steps": 5, "step_mm": 200, "half_width_mm": 60},
                    mat_kpa=synth.mat_kpa, mat_t=synth.mat_t, mat_pitch_mm=synth.mat_pitch_mm)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    save_recording(RECORDING, rec)


if __name__ == "__main__":
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    if "--new-recording" in sys.argv:
        _new_recording()
    if "--update" in sys.argv or "--new-recording" in sys.argv:
        REPORT.write_text(json.dumps(make_report(), indent=2) + "\n")
        print(f"wrote {REPORT}")
    else:
        pytest.main([__file__, "-q"])
