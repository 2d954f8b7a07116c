"""The virtual patient walks a walkway of four virtual tiles, read through real ptys and stitched.

4 x 48 x 48 tiles of 8.47 mm = a 1.63 m walkway of 192 x 48 sensels. Each tile is its own
serial device with its own clock; the kiosk's readers align them and device.tiles stitches
them. The walk and the tandem walk across it give every footfall that lands on the walkway,
and each step's GAITRite heel centre, step length and width (docs/metrics.md section 6),
against the simulator's truth.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from waiting import wait_until

from device.pty import PtyServer
from device.reader import DeviceReader
from device.recording import Recording
from device.sim.patient import MatGeometry, VirtualPatient
from device.tile_sim import walkway_devices
from device.tiles import TiledMat, parse_tiles
from kernels.report import analyze_recording

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")

PITCH = 8.47
HEEL_TOLERANCE_MM = 3.5  # as tests/test_step_width.py: about 0.4 sensel
WIDTH_TOLERANCE_MM = 5.0
ROTATIONS = (0, 180, 0, 180)  # every other tile laid turned round, as its cable demands


def walk_the_walkway(tmp_path, scenario, seconds, **params):
    p = VirtualPatient(scenario, seed=3, mat=MatGeometry(rows=192, cols=48, pitch_mm=(PITCH, PITCH), rate_hz=100),
                       **params)
    devices = walkway_devices(p, 4, rotations=ROTATIONS, insoles=False, jitter_s=0.001, seed=3)
    epoch = devices["mat_1"].source.mat.shared.epoch
    with PtyServer(devices, link_dir=tmp_path) as server:
        links = server.links()
        specs = parse_tiles([{"port": links[f"mat_{i + 1}"], "rotation": r} for i, r in enumerate(ROTATIONS)])
        readers = [DeviceReader(s.port, queue_frames=50000) for s in specs]
        mat = TiledMat(specs, readers=readers, queue_frames=50000).open()
        try:
            mat.wait_ready(30)
            assert wait_until(lambda: len(mat.frames) >= seconds * 100, timeout=seconds * 6 + 60)
            frames = mat.frames.drain()
        finally:
            mat.close()
    assert mat.hello.shape == (192, 48)
    counts = np.stack([f.counts for f in frames])
    kpa = np.nan_to_num(p.mat_sensor.true_kpa(counts)).astype(np.float32)  # dead/hot sensels: NaN -> 0
    t = np.array([f.t_host for f in frames]) - epoch  # the patient's time (plus the link's least latency)
    rec = Recording(meta={"device": "walkway"}, mat_kpa=kpa, mat_t=t, mat_pitch_mm=np.array([PITCH, PITCH]))
    return p, rec, frames


def true_footfalls(p, t0, t1):
    """Every footfall whose whole stance lies in [t0, t1] and wholly on the walkway: (side, contact, off, heel)."""
    events = p.events_until(t1 + 5.0)
    out = []
    for k, (t, side, kind) in enumerate(events):
        if kind != "contact" or t < t0:
            continue
        off = next((e[0] for e in events[k + 1:] if e[1] == side and e[2] == "off"), None)
        if off is None or off > t1:
            continue
        s = p.sample(0.5 * (t + off), insoles=False)
        foot = s.feet[side]
        if foot.on_mat and foot.mat_force_n >= 0.99 * foot.force_n:
            out.append((side, t, off, np.asarray(foot.heel_mm, dtype=float)))
    return out


def gaitrite_step(side, heel_before, heel):
    """Step length along +y and width (positive: the feet apart) from the other foot's heel centre."""
    width = heel_before[0] - heel[0] if side == "left" else heel[0] - heel_before[0]
    return heel[1] - heel_before[1], width


def check_against_truth(p, rec, report, min_steps, within_s=0.05, heel_mm=HEEL_TOLERANCE_MM):
    steps = report["steps"]
    t0, t1 = float(rec.mat_t[0]), float(rec.mat_t[-1])
    truth = true_footfalls(p, t0 + 0.3, t1 - 0.3)  # whole stances, with room for the detector's traces
    assert len(truth) >= min_steps
    # every true footfall on the walkway is found once, on its side, at its time, heel centre where it was
    measured = []
    for side, contact, off, heel in truth:
        found = [s for s in steps if s["foot"] == side and abs(s["contact_s"] - contact) < within_s]
        assert len(found) == 1, (side, contact, [(s["foot"], s["contact_s"]) for s in steps])
        assert abs(found[0]["off_s"] - off) < within_s
        assert math.dist(found[0]["heel_centre_mm"], heel) <= heel_mm
        measured.append(np.asarray(found[0]["heel_centre_mm"], dtype=float))
    # GAITRite step length and width of each step between consecutive footfalls of one pass (progression
    # along +y; the walkway loops, and the first footfall of the next pass lies behind the last)
    pairs = [k for k in range(1, len(truth)) if truth[k][0] != truth[k - 1][0] and truth[k][3][1] > truth[k - 1][3][1]]
    assert pairs
    for k in pairs:
        side = truth[k][0]
        true_length, true_width = gaitrite_step(side, truth[k - 1][3], truth[k][3])
        length, width = gaitrite_step(side, measured[k - 1], measured[k])
        assert length == pytest.approx(true_length, abs=WIDTH_TOLERANCE_MM)
        assert width == pytest.approx(true_width, abs=WIDTH_TOLERANCE_MM)
    return truth


def test_a_normal_walk_across_four_tiles_gives_every_step(tmp_path):
    width = 110.0
    # The default 650 mm steps: each pass's first heel lands 61 mm from the rear edge (the case of the
    # ghost step, test_a_heel_strike_near_the_rear_edge_is_one_foot_not_a_ghost_step).
    p, rec, frames = walk_the_walkway(tmp_path, "walk", 16.0, step_width_mm=width)
    report = analyze_recording(rec)
    check_against_truth(p, rec, report, min_steps=4)
    gait = report["gait"]
    assert gait["step_width_mm"] == pytest.approx(width, abs=WIDTH_TOLERANCE_MM)
    assert gait["step_length_mm"] == pytest.approx(650.0, abs=WIDTH_TOLERANCE_MM)


def test_a_tandem_walk_across_four_tiles_gives_every_step(tmp_path):
    p, rec, frames = walk_the_walkway(tmp_path, "tandem", 20.0)
    report = analyze_recording(rec)
    # A tandem foot is loaded slowly during the long double support: its first newtons are
    # under the detector's 30 N for a few frames more than in a normal walk.
    # The heel centre of a tandem footprint (the other foot's toes just behind it) is found 3.5-4.8 mm
    # forward of the truth, depending on the sample instants: the per-frame kernel's own accuracy
    # there, the same on one 192 x 48 mat (2.0-4.4 mm). Its steps' lengths and widths, differences of
    # two such heels, stay within 5 mm.
    truth = check_against_truth(p, rec, report, min_steps=4, within_s=0.1, heel_mm=5.5)
    assert report["gait"]["step_count"] >= len(truth)


def test_a_heel_strike_near_the_rear_edge_is_one_foot_not_a_ghost_step():
    """Issue 16: on one 192 x 48 mat a 650 mm step became two feet 50 ms apart. The right heel lands
    61 mm from the rear edge; 40 ms later its lateral midfoot band comes down 38 mm beside the narrow
    heel-and-forefoot outline, which step 5 took for a foot landing beside a whole footprint: a ghost
    `left` at 12.691 s, and the true left heel at 13.19 s then merged into the right's track."""
    p = VirtualPatient("walk", seed=3, step_width_mm=110, mat=MatGeometry(192, 48, (PITCH, PITCH), 100))
    t = 3.0214877 + np.arange(848, 1160) * 0.01  # 11.50 .. 14.61 s: one pass over the mat
    kpa = np.stack([np.nan_to_num(p.mat_sensor.true_kpa(p.mat_counts(p.sample(ti, insoles=False))))
                    for ti in t]).astype(np.float32)
    rec = Recording(meta={"device": "mat"}, mat_kpa=kpa, mat_t=t, mat_pitch_mm=np.array([PITCH, PITCH]))
    steps = [(s["foot"], s["contact_s"]) for s in analyze_recording(rec)["steps"]]
    truth = [(side, contact) for side, contact, _, _ in true_footfalls(p, t[0], t[-1])]
    assert [side for side, _ in truth] == ["right", "left", "right"]
    assert [side for side, _ in steps] == [side for side, _ in truth]
    assert all(abs(found - contact) < 0.05 for (_, found), (_, contact) in zip(steps, truth, strict=True))
