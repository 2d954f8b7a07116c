"""Gait summary over the steps of a recording, symmetry, and the arch index.

Definitions (``docs/metrics.md``, metrics version 1):

* step count: completed stances of either foot;
* cadence: (number of contacts - 1) / (last contact - first contact) x 60, steps/min;
* step length and width (the GAITRite convention): for a heel contact of one
  foot, the line of progression is the line through the other foot's heel
  contacts just before and just after it. Step length is the distance from the
  earlier contralateral heel to this heel along that line; step width is this
  heel's perpendicular distance from the line, positive on the foot's own side
  (a left foot left of the right foot's line) and negative when the feet cross,
  as in tandem walking. When the other foot's two heels are less than
  ``MIN_STRIDE_MM`` apart (stepping on the spot), the line runs straight
  forward (+y, toward the screen) through the earlier heel;
* stance %: stance time / stride time (contact to the same foot's next contact) x 100;
* Robinson symmetry index (Robinson et al. 1987): SI = (R - L) / ((R + L) / 2) x 100,
  0 is symmetric, positive means the right side's value is larger;
* arch index (Cavanagh & Rodgers 1987): on a static footprint without toes,
  the length from heel to the front of the forefoot is divided in three
  equal parts across the foot axis; AI = middle-third area / total area.
"""

from __future__ import annotations

import math

import numpy as np

MIN_STRIDE_MM = 100.0


def robinson_si(right: float | None, left: float | None) -> float | None:
    """(R - L) / (0.5 (R + L)) x 100, or None when undefined."""
    if right is None or left is None or not (right + left) > 0:
        return None
    return 100.0 * (right - left) / (0.5 * (right + left))


def _heel(entry) -> np.ndarray | None:
    h = entry.get("heel_mm")
    return None if h is None else np.asarray(h, dtype=np.float64)


def step_geometry(entries: list[dict]) -> list[tuple[int, float, float]]:
    """(index, step length mm, step width mm) for every step that has a bracketing
    contralateral stride with heel positions (see the module docstring)."""
    out = []
    order = sorted(range(len(entries)), key=lambda i: entries[i]["contact_s"])
    for i in order:
        e = entries[i]
        heel = _heel(e)
        if heel is None or e["foot"] not in ("left", "right"):
            continue
        other = [j for j in order if entries[j]["foot"] not in (e["foot"], None) and _heel(entries[j]) is not None]
        before = [j for j in other if entries[j]["contact_s"] < e["contact_s"]]
        after = [j for j in other if entries[j]["contact_s"] > e["contact_s"]]
        if not before:
            continue
        a = _heel(entries[before[-1]])
        b = _heel(entries[after[0]]) if after else None
        direction = None if b is None else b - a
        if direction is None or np.hypot(*direction) < MIN_STRIDE_MM:
            if b is None and len(before) >= 2:
                # After the last contralateral contact: use the stride that led to it.
                direction = a - _heel(entries[before[-2]])
            if direction is None or np.hypot(*direction) < MIN_STRIDE_MM:
                direction = np.array([0.0, 1.0])
        u = direction / np.hypot(*direction)
        left_normal = np.array([-u[1], u[0]])
        d = heel - a
        length = float(d @ u)
        width = float(d @ left_normal) * (1.0 if e["foot"] == "left" else -1.0)
        out.append((i, length, width))
    return out


def gait_summary(entries: list[dict]) -> tuple[dict, dict]:
    """``(gait, reasons)`` from the report's per-step entries."""
    gait: dict = {
        "step_count": len(entries),
        "cadence_steps_min": None,
        "step_length_mm": None,
        "step_width_mm": None,
        "stance_pct": None,
        "stance_s": {"left": None, "right": None},
        "peak_force_n": {"left": None, "right": None},
        "symmetry_stance_time_pct": None,
        "symmetry_peak_force_pct": None,
    }
    reasons: dict = {}
    if not entries:
        why = "no completed step in the analysed part"
        for key, value in gait.items():
            if value is None:
                reasons[key] = why
        for key in ("stance_s", "peak_force_n"):
            for side in ("left", "right"):
                reasons[f"{key}.{side}"] = why
        return gait, reasons
    contacts = sorted(e["contact_s"] for e in entries)
    if len(contacts) >= 2 and contacts[-1] > contacts[0]:
        gait["cadence_steps_min"] = 60.0 * (len(contacts) - 1) / (contacts[-1] - contacts[0])
    else:
        reasons["cadence_steps_min"] = "needs at least two steps"

    geometry = step_geometry(entries)
    if geometry:
        gait["step_length_mm"] = float(np.mean([g[1] for g in geometry]))
        gait["step_width_mm"] = float(np.mean([g[2] for g in geometry]))
    else:
        why = ("needs heel positions (a mat recording)" if not any(_heel(e) is not None for e in entries)
               else "needs a step of each foot in turn with known sides")
        reasons["step_length_mm"] = reasons["step_width_mm"] = why

    stance_pct = []
    for side in ("left", "right"):
        own = sorted((e for e in entries if e["foot"] == side), key=lambda e: e["contact_s"])
        for a, b in zip(own, own[1:], strict=False):
            stride = b["contact_s"] - a["contact_s"]
            if stride > 0 and a["stance_s"] is not None and a["stance_s"] < stride:
                stance_pct.append(100.0 * a["stance_s"] / stride)
        if own:
            gait["stance_s"][side] = float(np.mean([e["stance_s"] for e in own]))
            gait["peak_force_n"][side] = float(np.mean([e["peak_force_n"] for e in own]))
    for side in ("left", "right"):
        if gait["stance_s"][side] is None:
            reasons[f"stance_s.{side}"] = reasons[f"peak_force_n.{side}"] = f"no completed step of the {side} foot"
    if stance_pct:
        gait["stance_pct"] = float(np.mean(stance_pct))
    else:
        reasons["stance_pct"] = "needs two consecutive steps of the same foot"
    gait["symmetry_stance_time_pct"] = robinson_si(gait["stance_s"]["right"], gait["stance_s"]["left"])
    gait["symmetry_peak_force_pct"] = robinson_si(gait["peak_force_n"]["right"], gait["peak_force_n"]["left"])
    for key in ("symmetry_stance_time_pct", "symmetry_peak_force_pct"):
        if gait[key] is None:
            reasons[key] = "needs steps of both the left and the right foot"
    return gait, reasons


def arch_index(mask: np.ndarray, pitch_mm: tuple[float, float], axis_deg: float | None = None) -> float | None:
    """Cavanagh & Rodgers (1987) arch index of one static footprint (bool (rows, cols)).

    Toes are left out: the footprint's largest 8-connected blob is the foot
    proper; separate blobs (toes) do not count. The long axis is the blob's
    principal axis (or ``axis_deg`` from +x); its length from the rearmost to
    the foremost sensel centre is cut in thirds and AI = sensels in the middle
    third / all sensels. Returns None for a footprint under 10 sensels.
    """
    from scipy import ndimage

    m = np.asarray(mask, dtype=bool)
    labels, n = ndimage.label(m, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return None
    sizes = ndimage.sum(m, labels, index=range(1, n + 1))
    main = labels == (1 + int(np.argmax(sizes)))
    r, c = np.nonzero(main)
    if len(r) < 10:
        return None
    pts = np.column_stack([(c + 0.5) * pitch_mm[1], (r + 0.5) * pitch_mm[0]])
    if axis_deg is None:
        centred = pts - pts.mean(axis=0)
        _, vec = np.linalg.eigh(np.cov(centred.T))
        axis = vec[:, 1]
    else:
        axis = np.array([math.cos(math.radians(axis_deg)), math.sin(math.radians(axis_deg))])
    along = pts @ axis
    lo, hi = along.min(), along.max()
    if not hi > lo:
        return None
    third = (hi - lo) / 3.0
    middle = (along >= lo + third) & (along < lo + 2 * third)
    return float(middle.sum() / len(along))
