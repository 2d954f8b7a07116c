"""Reader for COP-only CSV files: a header ``t_s,x_mm,y_mm`` then one sample per line.

For force plates and balance boards that export only a centre of pressure.
x runs to the patient's right (medio-lateral), y forward (antero-posterior),
mm; t in seconds, strictly increasing, uniformly sampled. Extra columns
``force_n`` (total vertical force) and per-foot ``force_left_n``,
``force_right_n`` are read when present. Every problem is reported with its
line number; nothing is guessed.

A *dropout* row, one with its time but an empty or NaN (or infinite) value
(the device gave no sample), is left out and counted (``meta["dropout_rows"]``,
the first lines in ``meta["dropout_lines"]``); the time it leaves out is a
gap, which the report names and analyses around (``docs/metrics.md`` section 1).
A value that is not a number at all is refused with its line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernels.series import MetricsInputError, check_times

# Dropout rows named in the meta data (the count covers all of them).
DROPOUT_LINES_KEPT = 10

REQUIRED = ("t_s", "x_mm", "y_mm")
OPTIONAL = ("force_n", "force_left_n", "force_right_n")


class CopFileError(MetricsInputError):
    """A COP CSV file that cannot be read as ``t_s,x_mm,y_mm``."""


@dataclass
class CopRecording:
    """What a COP-only file holds, named as the recording file's COP group (DESIGN 4.1)."""

    cop_t: np.ndarray
    cop_mm: np.ndarray
    cop_force_n: np.ndarray | None = None
    force_left_n: np.ndarray | None = None
    force_right_n: np.ndarray | None = None
    meta: dict | None = None


def read_cop_csv(path: str | Path) -> CopRecording:
    """Read and check a COP CSV file; raises :class:`CopFileError` naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CopFileError(f"{path}: not a text (UTF-8) file; export the COP as CSV with columns t_s,x_mm,y_mm") from None
    lines = [line for line in text.splitlines()]
    rows = list(csv.reader(lines))
    # Skip leading blank lines; the first non-blank line is the header.
    start = next((i for i, r in enumerate(rows) if any(cell.strip() for cell in r)), None)
    if start is None:
        raise CopFileError(f"{path}: the file is empty; expected a header t_s,x_mm,y_mm and samples")
    header = [h.strip() for h in rows[start]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CopFileError(
            f"{path}: header {','.join(header)!r} lacks {', '.join(missing)}; "
            "the first line must name the columns t_s,x_mm,y_mm (time in s, COP in mm)"
        )
    columns = [c for c in REQUIRED + OPTIONAL if c in header]
    index = {c: header.index(c) for c in columns}
    data: dict[str, list[float]] = {c: [] for c in columns}
    dropouts: list[int] = []
    for lineno, row in enumerate(rows[start + 1:], start=start + 2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line (often the last) is not a sample
        if len(row) < len(header):
            raise CopFileError(f"{path}, line {lineno}: {len(row)} values, the header has {len(header)}")
        values = {}
        for c in columns:
            cell = row[index[c]].strip()
            try:
                values[c] = float(cell) if cell else math.nan
            except ValueError:
                raise CopFileError(f"{path}, line {lineno}: {c} is {cell!r}, not a number") from None
        if not math.isfinite(values["t_s"]):
            raise CopFileError(f"{path}, line {lineno}: t_s is {row[index['t_s']].strip()!r}; every row needs its "
                               "time (a row without a sample may leave x_mm and y_mm empty)")
        if not all(math.isfinite(v) for v in values.values()):
            dropouts.append(lineno)  # the device gave no sample here: a gap, not a number
            continue
        for c in columns:
            data[c].append(values[c])
    n = len(data["t_s"])
    if n == 0:
        raise CopFileError(f"{path}: a header but no samples" + (f" ({len(dropouts)} rows without a sample)" if dropouts else ""))
    t = np.array(data["t_s"])
    try:
        check_times(t, what=f"{path}: t_s", allow_gaps=True)
    except MetricsInputError as exc:
        raise CopFileError(str(exc)) from None
    cop = np.column_stack([data["x_mm"], data["y_mm"]]).astype(np.float64)

    def optional(name):
        return np.array(data[name]) if name in data else None

    return CopRecording(cop_t=t, cop_mm=cop, cop_force_n=optional("force_n"),
                        force_left_n=optional("force_left_n"), force_right_n=optional("force_right_n"),
                        meta={"source_file": path.name, "format": "cop-csv", "dropout_rows": len(dropouts),
                              "dropout_lines": dropouts[:DROPOUT_LINES_KEPT]})


def write_cop_csv(path: str | Path, t, cop_mm, **forces) -> None:
    """Write ``t_s,x_mm,y_mm`` (plus any of the optional force columns) with full precision."""
    cols = {"t_s": np.asarray(t, float), "x_mm": np.asarray(cop_mm, float)[:, 0], "y_mm": np.asarray(cop_mm, float)[:, 1]}
    for name in OPTIONAL:
        if forces.get(name) is not None:
            cols[name] = np.asarray(forces[name], float)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for row in zip(*cols.values(), strict=True):
            w.writerow([repr(float(v)) for v in row])
