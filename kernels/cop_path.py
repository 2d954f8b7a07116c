"""What the session review draws that the stored report does not keep: the COP path of a whole
mat recording and each step's gait line (docs/metrics.md sections 2 and 5).

The report keeps the sway numbers (the ellipse's axes and angle among them) and each step's
metrics, not the series they were measured on; the review plots them from the trial's raw frames:

- :func:`mat_cop_path`: the whole-body COP of every frame, vectorised over the recording (a 60 s
  trial at 100 Hz in tens of milliseconds, where the per-frame analyser takes about a second). It
  is the per-frame analysis' COP (``kernels/reference.py``: sensels at or above the threshold,
  pressure-weighted, none under ``min_force_n``), so it is the series the report's sway measures
  were computed on, before the report's low-pass.
- :func:`lowpassed`: that series low-passed as the report does for a mat (10 Hz, zero phase),
  over each unbroken run of COP samples.
- :func:`gait_lines`: the COP under the stepping foot during each step's stance (the *gait line*,
  section 5), from the per-frame analysis' foot tracks (``kernels/frame.py``): the foot of the
  step's side nearest to its heel centre.
"""

from __future__ import annotations

import numpy as np

CHUNK_FRAMES = 512  # frames converted and summed at a time: bounded memory for a long trial


def mat_cop_path(frames, pitch_mm, threshold_kpa: float = 10.0, min_force_n: float = 10.0,
                 to_kpa=None) -> tuple[np.ndarray, np.ndarray]:
    """``(cop (N, 2) mm with NaN where there is none, force (N,) N)`` of mat frames (N, rows, cols).

    ``to_kpa`` converts a block of frames to kPa (raw counts and their calibration); None: the
    frames are kPa already. Negative and non-finite values count as 0, as in the analysis.
    """
    frames = np.asarray(frames)
    n, rows, cols = frames.shape
    row_mm, col_mm = float(pitch_mm[0]), float(pitch_mm[1])
    x = (np.arange(cols) + 0.5) * col_mm
    y = (np.arange(rows) + 0.5) * row_mm
    area_n = row_mm * col_mm * 1e-3  # kPa on one sensel -> N
    cop = np.full((n, 2), np.nan)
    force = np.zeros(n)
    for a in range(0, n, CHUNK_FRAMES):
        block = frames[a:a + CHUNK_FRAMES]
        p = np.asarray(to_kpa(block) if to_kpa is not None else block, dtype=np.float32)
        p = np.where(np.isfinite(p) & (p >= threshold_kpa), p, np.float32(0))
        across = p.sum(axis=1, dtype=np.float64)  # (k, cols): load per column
        along = p.sum(axis=2, dtype=np.float64)  # (k, rows): load per row
        total = across.sum(axis=1)
        f = total * area_n
        force[a:a + len(block)] = f
        ok = (f >= min_force_n) & (total > 0)
        cop[a:a + len(block)][ok] = np.column_stack([(across[ok] @ x) / total[ok], (along[ok] @ y) / total[ok]])
    return cop, force


def lowpassed(cop: np.ndarray, rate_hz: float, cutoff_hz: float | None) -> np.ndarray:
    """The COP low-passed run by run (NaN gaps split it), about its mean, as the report's sway set
    filters a mat's COP (``kernels.series.lowpass``, docs/metrics.md section 1); runs too short to
    filter, or no cut-off, stay as they are."""
    from kernels.series import FILTER_ORDER, lowpass

    out = np.array(cop, dtype=np.float64)
    if not cutoff_hz or not rate_hz or cutoff_hz >= rate_hz / 2:
        return out
    present = np.all(np.isfinite(out), axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], present.astype(np.int8), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if end - start > max(15, 3 * FILTER_ORDER):
            seg = out[start:end]
            mean = seg.mean(axis=0)
            out[start:end] = lowpass(seg - mean, rate_hz, cutoff_hz) + mean
    return out


def gait_lines(frames, t, pitch_mm, steps: list[dict], threshold_kpa: float = 10.0,
               to_kpa=None, on_n: float = 30.0, off_n: float = 20.0) -> list[np.ndarray]:
    """For each step of the report (``contact_s``, ``off_s``, ``foot``, ``heel_centre_mm``), the
    (k, 2) COP path in mm of its foot during its stance ((0, 2) where the foot was not found):
    from the frame its force confirmed the contact (``on_n``) until it fell through ``off_n``, the
    samples the report's ``gait_line_length_mm`` is measured on (docs/metrics.md section 4)."""
    from kernels.frame import FrameAnalyzer

    frames = np.asarray(frames)
    t = np.asarray(t, dtype=np.float64)
    n, rows, cols = frames.shape
    out: list[list] = [[] for _ in steps]
    spans = []
    for i, s in enumerate(steps):
        a, b = s.get("contact_s"), s.get("off_s")
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > a:
            spans.append((i, int(np.searchsorted(t, a)), int(np.searchsorted(t, b, side="right"))))
    if not spans:
        return [np.zeros((0, 2)) for _ in steps]
    analyzer = FrameAnalyzer(rows, cols, pitch_mm=(float(pitch_mm[0]), float(pitch_mm[1])), threshold_kpa=threshold_kpa)
    # Foot tracks need the frames before a contact: run from the first stance's start to the last's end.
    first, last = min(a for _, a, _ in spans), max(b for _, _, b in spans)
    for k in range(max(0, first - 1), min(n, last)):
        frame = frames[k:k + 1]
        kpa = np.ascontiguousarray((to_kpa(frame) if to_kpa is not None else frame)[0], dtype=np.float32)
        feet = analyzer.analyze(kpa).feet
        for i, a, b in spans:
            if not (a <= k < b) or not feet:
                continue
            s = steps[i]
            heel = s.get("heel_centre_mm") or s.get("heel_mm")
            # its side's foot; a foot whose side is not known yet may be it, the other side's never is
            mine = [f for f in feet if f.side == s.get("foot")] or [f for f in feet if f.side is None]
            if not mine:
                continue
            if heel is not None:
                foot = min(mine, key=lambda f: (f.cop_mm[0] - heel[0]) ** 2 + (f.cop_mm[1] - heel[1]) ** 2)
            else:
                foot = mine[0]
            out[i].append((*foot.cop_mm, foot.force_n))
    return [_stance(np.asarray(p, dtype=np.float64).reshape(-1, 3), on_n, off_n) for p in out]


def _stance(samples: np.ndarray, on_n: float, off_n: float) -> np.ndarray:
    """The (x, y) of the samples from the first at or above ``on_n`` to the last before the force
    then falls below ``off_n``."""
    force = samples[:, 2]
    on = np.flatnonzero(force >= on_n)
    if not len(on):
        return np.zeros((0, 2))
    a = int(on[0])
    below = np.flatnonzero(force[a:] < off_n)
    b = a + int(below[0]) if len(below) else len(force)
    return samples[a:b, :2]


def path_length(path: np.ndarray) -> float:
    """Length of a (k, 2) path in mm."""
    path = np.asarray(path, dtype=np.float64)
    return float(np.sqrt((np.diff(path, axis=0) ** 2).sum(axis=1)).sum()) if len(path) > 1 else 0.0


def peak_and_mean(frames, to_kpa=None, threshold_kpa: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Per sensel: the peak pressure over the recording, and the mean pressure while loaded (the
    frames at or above ``threshold_kpa``; 0 where never loaded), in kPa, float32."""
    frames = np.asarray(frames)
    shape = frames.shape[1:]
    peak = np.zeros(shape, np.float32)
    total = np.zeros(shape, np.float64)
    loaded = np.zeros(shape, np.int64)
    for a in range(0, len(frames), CHUNK_FRAMES):
        block = frames[a:a + CHUNK_FRAMES]
        p = np.asarray(to_kpa(block) if to_kpa is not None else block, dtype=np.float32)
        p = np.where(np.isfinite(p) & (p >= threshold_kpa), p, np.float32(0))
        np.maximum(peak, p.max(axis=0), out=peak)
        total += p.sum(axis=0, dtype=np.float64)
        loaded += (p > 0).sum(axis=0)
    mean = np.where(loaded > 0, total / np.maximum(loaded, 1), 0.0).astype(np.float32)
    return peak, mean


def insole_gait_lines(kpa, t, sensors_mm, steps: list[dict], side: str, area_mm2=None) -> list[np.ndarray]:
    """Each step of ``side``'s insole: its COP path in the insole's frame during the stance
    (sensor positions weighted by pressure times area, as ``kernels/insole.py``)."""
    kpa = np.asarray(kpa, np.float64) * (1.0 if area_mm2 is None else np.asarray(area_mm2, np.float64))
    pos = np.asarray(sensors_mm, np.float64)
    t = np.asarray(t, np.float64)
    out = []
    for s in steps:
        if s.get("foot") != side or s.get("contact_s") is None or s.get("off_s") is None:
            continue
        a, b = np.searchsorted(t, s["contact_s"]), np.searchsorted(t, s["off_s"], side="right")
        p = np.clip(np.nan_to_num(kpa[a:b]), 0, None)
        total = p.sum(axis=1)
        ok = total > 0
        out.append(np.column_stack([(p[ok] @ pos[:, 0]) / total[ok], (p[ok] @ pos[:, 1]) / total[ok]]))
    return out
