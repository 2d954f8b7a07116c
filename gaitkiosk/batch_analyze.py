"""``gaitkiosk analyze DIR|FILES… --csv OUT``: many recordings, one row each, on every core.

A therapist or researcher with a folder of recordings wants one table. Each recording is
analysed in its own worker process (the analysis is CPU-bound Python and numpy: threads would
share one core), results come back in any order and are written in the order the files were
given, so the table is the same whatever the scheduling. A file that cannot be read gets a
row with its one-line reason and the others go on; the command then exits 1 and says how
many failed. The progress bar (tqdm) shows only on a terminal.

Columns: ``file``, ``status`` (ok / error), ``error``, then the report's numbers flattened
with dots (``sway.path_length_mm``, ``calibration.state``, ``sources.sway``...), so every
number carries its source sensor and calibration state in the same row. Lists of numbers
get one column per element (``sway.ellipse95_axes_mm.0``). Steps, gaps, notes, parameters
and null reasons stay in ``--json`` of a single file.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

# Report keys that are not one number per recording (kept out of the table).
SKIPPED = {"steps", "gaps", "notes", "null_reasons", "parameters", "window", "sway_part", "file"}
RECORDING_SUFFIXES = {".npz", ".csv"}


def collect(paths: list[Path]) -> list[Path]:
    """The files to analyse: files as given, folders' recordings and vendor exports sorted by name."""
    from device.importers import is_vendor_export
    from gaitkiosk.errors import UsageError

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            found += [p for p in inside if p.suffix.lower() in RECORDING_SUFFIXES or is_vendor_export(p)]
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{path} does not exist; give recordings (.npz, .csv, vendor exports) or folders of them")
    if not found:
        raise UsageError("no recordings found in " + ", ".join(map(str, paths)))
    return found


def flatten(report: dict, prefix: str = "") -> dict:
    """The report's per-recording numbers as one flat row."""
    row: dict = {}
    for key, value in report.items():
        if not prefix and key in SKIPPED:
            continue
        name = prefix + key
        if isinstance(value, dict):
            row.update(flatten(value, name + "."))
        elif isinstance(value, list | tuple):
            if all(isinstance(v, int | float) or v is None for v in value):
                row.update({f"{name}.{i}": v for i, v in enumerate(value)})
        else:
            row[name] = value
    return row


def analyze_one(job: tuple[int, str, dict, dict | None]) -> tuple[int, dict]:
    """(index, one recording's row) (runs in a worker process); never raises for a bad file."""
    index, path, options, stored_for = job
    from gaitkiosk.commands.analyze import load
    from gaitkiosk.errors import KioskError
    from kernels.errors import KernelError
    from kernels.report import analyze_recording

    try:
        report = analyze_recording(load(Path(path), stored_for), **options)
    except (KioskError, KernelError, ValueError, OSError) as exc:
        return index, {"file": path, "status": "error", "error": str(exc).splitlines()[0]}
    return index, {"file": path, "status": "ok", "error": "", **flatten(report)}


def _context():
    # fork: a worker starts in milliseconds with the modules already imported; spawn would pay
    # the imports again in every worker. The CLI process holds no threads or connections here.
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def run_batch(paths: list[Path], out: Path, options: dict, jobs: int | None, progress: bool | None = None,
              stored_for: dict | None = None) -> tuple[int, int]:
    """Analyse ``paths`` into the CSV ``out``; returns (recordings, failures). ``stored_for``: the
    options under which a recording's stored analysis stands in for its frames (None: read them)."""
    files = collect(paths)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    show = sys.stderr.isatty() if progress is None else progress
    rows: list[dict | None] = [None] * len(files)
    # Largest first: a long recording started last would leave the other cores idle at the end.
    order = sorted(range(len(files)), key=lambda i: -_size(files[i]))
    work = [(i, str(files[i]), options, stored_for) for i in order]
    if jobs == 1:
        _fill(rows, map(analyze_one, work), len(files), show)
    else:
        _preload()

        # One recording per task, rows taken as they finish (a slow one holds nothing up) and put
        # back in the given order: the table is the same whatever the scheduling. (The executor,
        # not multiprocessing.Pool: a worker that dies is an error here, not a hang.)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
            done = as_completed([pool.submit(analyze_one, job) for job in work])
            _fill(rows, (future.result() for future in done), len(files), show)
    _write(out, rows)
    return len(files), sum(1 for r in rows if r["status"] != "ok")


def _preload() -> None:
    """Import what a worker needs here, once: every forked worker inherits it instead of importing
    it again on its first recording (the frame kernels and the compiled modules included)."""
    import device.recording  # noqa: F401
    import gaitkiosk.commands.analyze  # noqa: F401
    import kernels
    import kernels.report  # noqa: F401
    import kernels.stored  # noqa: F401

    assert kernels.IMPLEMENTATION  # loads the compiled kernels (or their references)
    kernels.stored.kernels_digest()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _fill(rows: list, results, total: int, show: bool) -> None:
    from tqdm import tqdm

    with tqdm(total=total, unit="recording", disable=not show, file=sys.stderr) as bar:
        for index, row in results:
            rows[index] = row
            bar.update(1)


def _write(out: Path, rows: list[dict]) -> None:
    """The CSV, written beside ``out`` and renamed: a crash never leaves half a table."""
    columns: list[str] = ["file", "status", "error"]
    for row in rows:
        columns += [k for k in row if k not in columns]
    tmp = out.with_name(f".{out.name}.partial")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out)
