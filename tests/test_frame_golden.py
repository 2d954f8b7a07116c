"""Golden snapshot of the per-frame analysis on a fixed sequence of template feet.

The frames are made at test time from the MUN104 templates (``frame_synth``,
deterministic): standing, toes apart, feet touching, one foot lifted and put
down, a heel-to-toe roll-over, tandem stance. ``tests/data/golden_frames.json``
holds every result field of every frame. Any change of a per-frame number
shows up here, whichever implementation runs.

Update only on purpose, after checking why the numbers moved, with::

    .venv/bin/python tests/test_frame_golden.py --update

and say why in the commit message.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script for --update
    sys.path.insert(0, str(HERE))

import frame_synth as fs  # noqa: E402

GOLDEN = HERE / "data" / "golden_frames.json"
P = (8.47, 8.47)


def frames():
    """(name, rows, cols, frame) in analysis order; one analyzer per (rows, cols) block."""
    out = []
    left = fs.foot(64, 64, P, "left", (170.0, 60.0), 96.0, peak_kpa=220.0)
    right = fs.foot(64, 64, P, "right", (370.0, 60.0), 84.0, peak_kpa=260.0)
    out.append(("standing", 64, 64, np.maximum(left, right)))
    toes = np.maximum(fs.foot(64, 64, P, "left", (170.0, 60.0), 92.0, separate_toes=True),
                      fs.foot(64, 64, P, "right", (370.0, 60.0), 88.0, separate_toes=True))
    out.append(("toes apart", 64, 64, toes))
    out.append(("right lifted", 64, 64, left.copy()))
    out.append(("right down again", 64, 64, np.maximum(left, right)))
    for keep in [(0.0, 0.25), (0.0, 0.5), (0.0, 1.0), (0.35, 1.0), (0.6, 1.0)]:
        roll = fs.foot(64, 64, P, "right", (370.0, 60.0), 84.0, keep=keep)
        out.append((f"roll-over {keep}", 64, 64, np.maximum(left, roll)))
    touching = np.maximum(fs.foot(64, 64, P, "left", (237.5, 60.0), 90.0),
                          fs.foot(64, 64, P, "right", (312.5, 60.0), 90.0))
    out.append(("feet touching", 64, 64, touching))
    back = fs.foot(96, 48, P, "right", (210.0, 30.0), 90.0)
    out.append(("tandem: both apart", 96, 48, np.maximum(fs.foot(96, 48, P, "left", (110.0, 30.0)), back)))
    out.append(("tandem: left lifted", 96, 48, back))
    out.append(("tandem: heel to toe", 96, 48,
                np.maximum(back, fs.foot(96, 48, P, "left", (195.0, 285.0), 90.0))))
    bad = np.maximum(left, right)
    bad[0, :3] = [np.nan, -4.0, np.inf]
    out.append(("bad values", 64, 64, bad))
    return out


def run(implementation=None) -> list[dict]:
    from kernels import FrameAnalyzer

    analyzers = {}
    results = []
    for name, rows, cols, frame in frames():
        if (rows, cols) not in analyzers:
            analyzers[rows, cols] = FrameAnalyzer(rows, cols, P, 10.0, implementation=implementation)
        result = analyzers[rows, cols].analyze(np.ascontiguousarray(frame, dtype=np.float32))
        results.append({"frame": name, **result.as_dict()})
    return json.loads(json.dumps(results, default=list))  # tuples -> lists, as stored


def close(got, want, where):
    if isinstance(want, dict):
        assert set(got) == set(want), where
        for key in want:
            close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got} != {want}"
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            close(g, w, f"{where}[{k}]")
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-9), f"{where}: {got} != {want}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


@pytest.mark.parametrize("implementation", [None, "reference"])
def test_per_frame_results_match_the_golden_snapshot(implementation):
    want = json.loads(GOLDEN.read_text())
    got = run(implementation)
    assert [g["frame"] for g in got] == [w["frame"] for w in want]
    for g, w in zip(got, want, strict=True):
        close(g, w, w["frame"])


def test_the_snapshot_says_what_a_therapist_would_check():
    """Not only 'unchanged': the stored numbers themselves make sense."""
    want = {w["frame"]: w for w in json.loads(GOLDEN.read_text())}
    assert [f["side"] for f in want["standing"]["feet"]] == ["left", "right"]
    assert [f["side"] for f in want["right lifted"]["feet"]] == ["left"]
    down = want["right down again"]["feet"]
    assert [f["side"] for f in down] == ["left", "right"] and down[1]["frames"] == 1
    heel = want["roll-over (0.0, 0.25)"]["feet"][1]["regions_n"]
    toe = want["roll-over (0.6, 1.0)"]["feet"][1]["regions_n"]
    assert heel[0] > 0.95 * sum(heel) and toe[2] > 0.95 * sum(toe)
    assert [f["side"] for f in want["tandem: heel to toe"]["feet"]] == ["left", "right"]
    assert want["bad values"]["invalid_sensels"] == 2 and want["bad values"]["negative_sensels"] == 1


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_frame_golden.py --update")
    GOLDEN.write_text(json.dumps(run("reference"), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
