"""The largest 8-connected blob of a small boolean mask, without importing scipy.ndimage.

``scipy.ndimage`` takes longer to import than the whole analysis of a recording; the
report needs it only to find the foot proper in one static footprint (a few thousand
sensels). Labels are given in raster order of each blob's first sensel, and a tie goes
to the first, as ``scipy.ndimage.label`` + ``argmax`` of the sizes do (tests/test_iir.py
compares them).
"""

from __future__ import annotations

import numpy as np

_NEIGHBOURS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]


def largest_blob(mask: np.ndarray) -> np.ndarray:
    """Boolean mask of the largest 8-connected blob of ``mask`` (all False when it is empty)."""
    m = np.asarray(mask, dtype=bool)
    rows, cols = m.shape
    seen = np.zeros_like(m)
    best: list[tuple[int, int]] = []
    for r0, c0 in zip(*np.nonzero(m), strict=True):  # raster order
        if seen[r0, c0]:
            continue
        seen[r0, c0] = True
        blob, stack = [], [(int(r0), int(c0))]
        while stack:
            r, c = stack.pop()
            blob.append((r, c))
            for dr, dc in _NEIGHBOURS:
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and m[rr, cc] and not seen[rr, cc]:
                    seen[rr, cc] = True
                    stack.append((rr, cc))
        if len(blob) > len(best):
            best = blob
    out = np.zeros_like(m)
    if best:
        r, c = zip(*best, strict=True)
        out[list(r), list(c)] = True
    return out
