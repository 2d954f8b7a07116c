"""The stored per-frame analysis of a recording file: written beside the frames, read instead of them.

``kernels.stored`` says what is stored and how it is stamped; ``device.recording`` writes and
skips the ``analysis_*`` members but may not compute them (``device`` imports no other package of
the kiosk). This module joins the two for the commands that write recording files (record,
simulate, import, sessions export) and for ``gaitkiosk analyze``.
"""

from __future__ import annotations

import logging
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from device.recording import (
    ANALYSIS_PREFIX,
    FORMAT,
    FRAME_KEYS,
    TRUTH_PREFIX,
    Recording,
    load_recording,
    recording_from_arrays,
    save_recording,
)


def derived(rec: Recording, crcs: dict[str, int]) -> dict[str, np.ndarray]:
    """The ``analysis_*`` members of ``rec`` (``save_recording``'s ``derived`` hook), stamped with
    ``crcs``, the CRC-32 of every other member; none when it has no frames to analyse."""
    outputs = _analysis(rec)
    if outputs is None:
        return {}
    from kernels import stored

    return stored.to_arrays(outputs[1], outputs[0], crcs)


def save_with_analysis(path: str | os.PathLike[str], rec: Recording) -> Path:
    """``save_recording`` with the stored analysis: what every command that writes a recording uses."""
    return save_recording(path, rec, derived=derived)


def _analysis(rec: Recording) -> tuple[dict, dict] | None:
    """(options, streams) of the recording's frames at the default analysis options, or None when
    it has no frames or they cannot be analysed (``analyze`` then reports why)."""
    if rec.mat_kpa is None and rec.insole_t is None:
        return None
    from kernels.errors import KernelError
    from kernels.report import stream_options, stream_outputs

    _, options = stream_options()
    try:
        return options, stream_outputs(rec, options)
    except (KernelError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - the stored analysis is optional: a bug in it must not lose a recording
        logging.getLogger(__name__).exception("the recording is written without its stored analysis")
        return None


def load_for_analysis(path: str | os.PathLike[str], options: dict) -> Recording:
    """The recording for ``gaitkiosk analyze`` with ``options`` (``kernels.report.stream_options``).

    When the file carries a stored analysis whose stamp matches (this analysis code, these
    options, the file's other arrays unchanged since it was made: ``kernels.stored``) the frame
    arrays (and the simulator's truth arrays) are left unread and the stored streams are handed on; otherwise (format 1, another
    version, a rewritten file) it is :func:`load_recording`. The file was checked against DESIGN
    4.1 when the stamp was written, and the CRCs say it has not changed since.
    """
    from kernels import stored

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile) or stored.JSON_KEY not in npz.files:
                raise LookupError
            members = {i.filename.removesuffix(".npy"): i.CRC for i in npz.zip.infolist()
                       if not i.filename.startswith(ANALYSIS_PREFIX)}
            if str(npz["format"]) != FORMAT or not stored.matches(stored.read_stamp(str(npz[stored.JSON_KEY])),
                                                                options, members):
                raise LookupError
            # Neither the frames nor the simulator's truth arrays: the analysis needs neither.
            arrays = {k: npz[k] for k in npz.files
                      if k not in FRAME_KEYS and not k.startswith((ANALYSIS_PREFIX, TRUTH_PREFIX))}
            streams = stored.from_arrays({k: npz[k] for k in npz.files if k.startswith(ANALYSIS_PREFIX)})
            not_read = tuple(k for k in FRAME_KEYS if k in npz.files)
    except (LookupError, OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        return load_recording(path)  # which says plainly what is wrong, if anything is
    rec = recording_from_arrays(arrays, str(path), check=False)
    rec.frames_not_read = not_read
    rec.stored_analysis = (options, streams)
    return rec


