"""Synthetic mat recordings with known truth for the report tests (METRICS).

Feet are FRAME's MUN104 template feet (``tests/frame_synth.py``) placed on
the mat: a walk (heel strike -> flat foot -> toe-off per stance, alternating
feet) or quiet standing whose weight moves between the feet. Each returns a
recording-like namespace with the DESIGN 4.1 mat arrays and the truth.
"""

from __future__ import annotations

from types import SimpleNamespace

import frame_synth as fs
import numpy as np

PITCH = (8.47, 8.47)
RATE = 100.0


def recording(frames, t, pitch=PITCH, meta="{}"):
    return SimpleNamespace(format="gaitkiosk-recording/1", meta=meta, mat_kpa=frames, mat_t=t,
                           mat_pitch_mm=np.asarray(pitch, dtype=np.float64))


def walk(n_steps=5, step_mm=200.0, half_width_mm=60.0, stance_s=0.6, step_s=0.4, length_mm=220.0,
         rows=128, cols=48, peak_kpa=250.0, t0=0.0):
    """Alternating steps straight up the mat (+y), left first. Truth per step:
    side, heel (mm), first and last frame time of the stance."""
    mid = cols * PITCH[1] / 2
    n = int(round((step_s * (n_steps - 1) + stance_s + 0.3) * RATE))
    t = t0 + np.arange(n) / RATE
    frames = np.zeros((n, rows, cols), np.float32)
    truth = []
    for i in range(n_steps):
        side = "left" if i % 2 == 0 else "right"
        heel = (mid + (-half_width_mm if side == "left" else half_width_mm), 40.0 + step_mm * i)
        k0 = int(round((0.1 + i * step_s) * RATE))
        k1 = k0 + int(round(stance_s * RATE))
        for k in range(k0, k1):
            phase = (k - k0) / (k1 - k0)
            keep = (0.0, 0.3) if phase < 0.1 else ((0.0, 1.0) if phase < 0.7 else (0.55, 1.0))
            foot = fs.foot(rows, cols, PITCH, side, heel, 90.0, length_mm=length_mm, peak_kpa=peak_kpa, keep=keep)
            frames[k] = np.maximum(frames[k], foot)
        truth.append({"side": side, "heel": heel, "contact": t[k0], "off": t[k1 - 1]})
    return recording(frames, t), truth


def stand(seconds=4.0, left_share=0.6, rows=48, cols=48, sway_mm=3.0, seed=0):
    """Quiet stance; each foot's pressure scaled so the left foot carries ``left_share``
    of the weight on average, and the share wobbles slowly (a lateral sway)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    mid = cols * PITCH[1] / 2
    left = fs.foot(rows, cols, PITCH, "left", (mid - 90.0, 60.0), 98.0, length_mm=240.0)
    right = fs.foot(rows, cols, PITCH, "right", (mid + 90.0, 60.0), 82.0, length_mm=240.0)
    fl, fr = float(left.sum()), float(right.sum())
    wobble = 0.03 * np.sin(2 * np.pi * 0.3 * t) + 0.005 * rng.standard_normal(n)
    share = np.clip(left_share + wobble * sway_mm / 3.0, 0.05, 0.95)
    frames = np.empty((n, rows, cols), np.float32)
    for k in range(n):
        # Same total force every frame: left carries share[k] of it.
        frames[k] = (left * (share[k] / fl) + right * ((1 - share[k]) / fr)) * ((fl + fr) / 2)
    return recording(frames, t), {"share": share, "left": left, "right": right}


def heel_walk(step_width_mm=110.0, step_length_mm=500.0, n_steps=4, toe_out_deg=8.0, foot_length_mm=250.0,
              step_s=0.55, stance_s=0.65, cols=48, weight_n=700.0, first_heel_y_mm=120.0):
    """Alternating footfalls, left first, straight up the mat (+y), with KNOWN heel centres.

    The feet are the virtual patient's anatomical feet (``device.sim.footprint``: the foot
    frame's origin is the centre of the heel pad), rendered as the mat sees them, so the
    truth does not come from the definition under test. Heel centres lie ``step_width_mm``
    apart across the line of walking (negative: the feet cross, as in tandem walking) and
    ``step_length_mm`` apart along it. Each stance loads from the heel and rolls to the
    forefoot under a single-hump force. Returns (recording, truth): truth has per step
    ``side``, ``heel`` (heel centre, mm), ``contact`` and ``off`` (s).
    """
    from device.sim.footprint import FootTemplate
    from device.sim.mat import MatGeometry, MatRenderer

    rows = int(np.ceil((first_heel_y_mm + step_length_mm * (n_steps - 1) + foot_length_mm + 60.0) / PITCH[0]))
    mat = MatGeometry(rows=rows, cols=cols, pitch_mm=PITCH, rate_hz=RATE)
    renderer = MatRenderer(mat)
    feet = {side: FootTemplate(foot_length_mm, side) for side in ("left", "right")}
    mid = cols * PITCH[1] / 2
    n = int(round((0.1 + step_s * (n_steps - 1) + stance_s + 0.3) * RATE))
    t = np.arange(n) / RATE
    frames = np.zeros((n, rows, cols), np.float32)
    truth = []
    for i in range(n_steps):
        side = "left" if i % 2 == 0 else "right"
        heel = (mid + (-0.5 if side == "left" else 0.5) * step_width_mm, first_heel_y_mm + step_length_mm * i)
        angle = -toe_out_deg if side == "left" else toe_out_deg  # toes turned out, away from the midline
        foot = feet[side]
        stamp = renderer.stamp(foot, heel, angle)
        k0 = int(round((0.1 + i * step_s) * RATE))
        k1 = k0 + int(round(stance_s * RATE))
        for k in range(k0, k1):
            tau = (k - k0 + 0.5) / (k1 - k0)
            force = weight_n * np.sin(np.pi * tau)
            # COP from the heel centre to the metatarsal heads (foot frame, y toward the toes)
            cop = np.array([0.0, (0.6 * tau) * foot_length_mm])
            loads = force * foot.weights_for_cop(cop)
            frames[k, stamp.rows, stamp.cols] += np.tensordot(loads.astype(np.float32), stamp.shapes, axes=1)
        truth.append({"side": side, "heel": heel, "contact": t[k0], "off": t[k1 - 1]})
    return recording(frames, t), truth
