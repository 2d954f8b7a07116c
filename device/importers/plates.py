"""Two force plates, one per foot, fused into one centre of pressure (the PDS data set's layout).

Layout (dos Santos et al. 2017, PeerJ 5:e3626, "PDS" ``*grf.txt``): a tab-separated header
``Time RGRF_X RGRF_Y RGRF_Z LGRF_X LGRF_Y LGRF_Z GRFNET_X.. RCOP_X.. LCOP_X.. COPNET_X..
RFREEMOMENT_Y LFREEMOMENT_Y`` and one line per sample, in N and m, in the laboratory
frame: Y vertical, X antero-posterior, Z medio-lateral (+Z towards the right foot's plate).
Each plate's COP is already in the laboratory frame (its position on the floor applied).

Fusion (the data set's own definition): the net COP is the vertical-force-weighted mean of
the two plates' COPs, ``COP = (COP_R·Fy_R + COP_L·Fy_L) / (Fy_R + Fy_L)``, each plate's COP
first moved by that plate's origin in the room when its COP is in plate coordinates
(:func:`fuse`, ``origins_mm``). Stored: x = Z (ML, to the right), y = X (AP, sign as the file),
mm; ``cop_force_n`` the summed vertical force; per foot ``cop_left/right_mm``, ``force_left/right_n``.
The file's own COPNET columns are printed to 1 µm and agree with the fusion of its printed
per-plate columns within 10 µm (rounding of the inputs: docs/import.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.importers.text import fail, numeric_rows, read_lines
from device.recording import Recording

HEADER = ("Time", "RGRF_X", "RGRF_Y", "RGRF_Z", "LGRF_X", "LGRF_Y", "LGRF_Z", "GRFNET_X", "GRFNET_Y", "GRFNET_Z",
          "RCOP_X", "RCOP_Y", "RCOP_Z", "LCOP_X", "LCOP_Y", "LCOP_Z", "COPNET_X", "COPNET_Y", "COPNET_Z",
          "RFREEMOMENT_Y", "LFREEMOMENT_Y")


def fuse(cops_mm: list[np.ndarray], forces_n: list[np.ndarray], origins_mm: list[tuple[float, float]] | None = None,
         min_fz_n: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Net COP (T, 2) mm and total vertical force (T,) of several plates.

    ``cops_mm[k]`` (T, 2) is plate k's COP in its own frame, ``origins_mm[k]`` where that frame's
    origin lies in the room (default: the COPs are already in room coordinates). A plate
    under ``min_fz_n`` carries nobody and adds nothing (its COP may be NaN); a sample whose total
    is under ``min_fz_n`` has no COP (NaN).
    """
    origins = origins_mm or [(0.0, 0.0)] * len(cops_mm)
    total = np.sum(forces_n, axis=0)
    moment = np.zeros((len(total), 2))
    for cop, fz, origin in zip(cops_mm, forces_n, origins, strict=True):
        loaded = fz >= min_fz_n
        moment += np.where(loaded[:, None], (cop + np.asarray(origin)) * fz[:, None], 0.0)
        total = total - np.where(loaded, 0.0, fz)
    ok = total >= min_fz_n
    net = moment / np.where(ok, total, 1.0)[:, None]
    net[~ok] = np.nan
    return net, np.sum(forces_n, axis=0)


def read(path: Path, *, min_fz_n: float = 5.0, **_options) -> Recording:
    lines = read_lines(path)
    if not lines or tuple(lines[0].split()) != HEADER:
        raise fail(path, 1, f"the header is not {' '.join(HEADER[:4])} ...: not a PDS two-plate grf export")
    end = len(lines)
    while end > 1 and not lines[end - 1].strip():
        end -= 1
    if end == 1:
        raise fail(path, 1, "no samples after the header: truncated")
    d = numeric_rows(path, lines[:end], 1, len(HEADER), what="sample")
    col = {name: d[:, k] for k, name in enumerate(HEADER)}
    t = col["Time"]
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise fail(path, 3 + k, f"Time {t[k + 1]!r} does not follow {t[k]!r}")
    right = np.column_stack((col["RCOP_Z"], col["RCOP_X"])) * 1000.0
    left = np.column_stack((col["LCOP_Z"], col["LCOP_X"])) * 1000.0
    net, total = fuse([right, left], [col["RGRF_Y"], col["LGRF_Y"]], min_fz_n=min_fz_n)
    meta = {"device": {"kind": "two force plates, one per foot", "layout": "PDS (dos Santos et al. 2017)"},
            "units": {"file": "N, m (laboratory frame, Y up)", "stored": "mm, N"},
            "axes": "x = file Z (medio-lateral), y = file X (antero-posterior)", "time_base": "Time",
            "fusion": "vertical-force-weighted mean of the plates' COPs", "min_fz_n": min_fz_n}
    return Recording(meta=meta, cop_t=t.copy(), cop_mm=net, cop_force_n=total,
                     cop_left_mm=left, cop_right_mm=right, force_left_n=col["LGRF_Y"].copy(),
                     force_right_n=col["RGRF_Y"].copy())


def file_net_cop_mm(path: Path) -> np.ndarray:
    """The net COP the data set's authors wrote (COPNET_Z, COPNET_X), in mm: what tests compare against."""
    d = numeric_rows(path, read_lines(path), 1, len(HEADER))
    return np.column_stack((d[:, HEADER.index("COPNET_Z")], d[:, HEADER.index("COPNET_X")])) * 1000.0
