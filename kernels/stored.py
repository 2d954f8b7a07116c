"""The per-frame analysis stored in a recording file, so ``gaitkiosk analyze`` need not redo it.

A 60 s recording is 6,000 mat frames (55 MB of float32 once inflated) and 12,000 insole frames;
inflating them and running the frame kernel and the step detectors over them was ~90 % of
``analyze``'s time (docs/performance.md "Command start-up"). What the report needs from them is
small: per frame the force, the whole-body COP and each foot's force and region loads, plus the
detected events (steps with their metrics), the last footprint of each foot and the quality counts.
``gaitkiosk.stored_analysis`` computes exactly that with the report's own code
(:func:`kernels.report.stream_outputs`) and stores it beside the frames as ``analysis_*`` arrays
(format ``gaitkiosk-recording/2``), stamped with:

- ``kernels``: a digest of the analysis code (the kernels package's sources, or the compiled
  extension where a source is not shipped), the kernel backend (compiled or pure), numpy's
  version and the machine: any change means "recompute";
- ``options``: the detector and threshold settings it was made with (``[analysis]`` config);
- ``members``: the CRC-32 of every other array of the file, which the zip directory holds, so a
  file whose frames or meta were rewritten is recomputed, never trusted, without inflating them.

``analyze`` uses it only when the whole stamp matches and no ``--window`` cuts the frames (a
window restarts the foot tracking at its edge); otherwise, and with ``--recompute``, it analyses
the frames. The result is the same to the bit either way (tests/test_stored_analysis.py).
"""

from __future__ import annotations

import json
import os
import platform
import zlib
from types import SimpleNamespace

import numpy as np

PREFIX = "analysis_"
JSON_KEY = "analysis_json"
SIDES = ("left", "right")
# The modules whose code makes the stored numbers (the frame kernel, insoles, detectors, report).
_SOURCES = ("_backend.py", "frame.py", "results.py", "blobs.py", "insole.py", "detectors.py", "steps.py",
            "series.py", "report.py", "stored.py", "reference.py", "errors.py")
_COMPILED = ("_frame", "_frame_insole", "_frame_results")
_digest: str | None = None


def kernels_digest() -> str:
    """What the stored numbers depend on besides the frames and options (cached per process)."""
    global _digest
    if _digest is None:
        from kernels import _backend

        here = os.path.dirname(os.path.abspath(__file__))
        h = _Checksum()
        for name in _SOURCES:
            _hash_file(h, os.path.join(here, name))
        names = os.listdir(here)
        for stem in _COMPILED:
            # The Cython source where it is shipped (the tree), else the built extension (a wheel).
            sources = sorted(n for n in names if n.startswith(stem + ".") and n.endswith((".pyx", ".pxd"))
                             or n.startswith(stem + "_") and n.endswith(".pxi"))
            built = sorted(n for n in names if n.startswith(stem + ".") and n.endswith((".so", ".pyd")))
            for name in sources or built:
                _hash_file(h, os.path.join(here, name))
        h.update(f"pure={_backend.PURE} numpy={np.__version__} machine={platform.machine()}".encode())
        _digest = h.hexdigest()
    return _digest


class _Checksum:
    """CRC-32 and Adler-32 of everything fed, with the length: 72 bits that change with any edit.

    Not a cryptographic hash on purpose: it guards against stale numbers after a code change, not
    against forgery (which the file's other arrays could undergo anyway), and ``hashlib`` loads
    OpenSSL (~2.5 ms of ``analyze``'s start)."""

    def __init__(self):
        self.crc, self.adler, self.size = 0, 1, 0

    def update(self, data: bytes) -> None:
        self.crc, self.adler = zlib.crc32(data, self.crc), zlib.adler32(data, self.adler)
        self.size += len(data)

    def hexdigest(self) -> str:
        return f"{self.crc:08x}{self.adler:08x}-{self.size}"


def _hash_file(h, path: str) -> None:
    h.update(os.path.basename(path).encode())
    try:
        with open(path, "rb") as f:
            h.update(f.read())
    except FileNotFoundError:
        h.update(b"-")


def stamp(options: dict, members: dict[str, int]) -> dict:
    return {"kernels": kernels_digest(), "options": dict(sorted(options.items())), "members": dict(sorted(members.items()))}


def matches(stored_stamp: dict, options: dict, members: dict[str, int]) -> bool:
    """True when numbers stored under ``stored_stamp`` are what the frames would give now."""
    return stored_stamp == stamp(options, members)


# -- streams <-> arrays ---------------------------------------------------------------------------


def to_arrays(outputs: dict, options: dict, members: dict[str, int]) -> dict[str, np.ndarray]:
    """The ``analysis_*`` arrays of :func:`kernels.report.stream_outputs`' result."""
    arrays: dict[str, np.ndarray] = {}
    described: dict = {"stamp": stamp(options, members), "streams": {}}
    for name, (stream, notes) in outputs.items():
        about = {"events": [_event(e) for e in stream["events"]], "quality": stream["quality"], "notes": notes,
                 "sides": sorted(stream["side_force"])}
        if "force" in stream:
            arrays[f"{PREFIX}{name}_force"] = stream["force"]
            arrays[f"{PREFIX}{name}_cop"] = stream["cop"]
        for side in stream["side_force"]:
            arrays[f"{PREFIX}{name}_{side}_force"] = stream["side_force"][side]
            arrays[f"{PREFIX}{name}_{side}_regions"] = stream["side_regions"][side]
        if "last_feet" in stream:
            about["last_feet"] = {}
            for side, (foot, mask) in stream["last_feet"].items():
                about["last_feet"][side] = {"axis_deg": foot.axis_deg, "footprint": mask is not None}
                if mask is not None:
                    arrays[f"{PREFIX}{name}_{side}_footprint"] = mask
        described["streams"][name] = about
    arrays[JSON_KEY] = np.array(json.dumps(described, default=_plain, allow_nan=True))
    return arrays


def read_stamp(arrays_json: str) -> dict:
    return json.loads(arrays_json)["stamp"]


def from_arrays(arrays: dict[str, np.ndarray]) -> dict:
    """name -> (partial stream, notes): what :func:`to_arrays` stored, for ``kernels.report``."""
    from kernels.detectors import Event

    described = json.loads(str(arrays[JSON_KEY]))
    out = {}
    for name, about in described["streams"].items():
        stream: dict = {"events": [Event(e["kind"], e["t"], e["foot"], metrics=e["metrics"], reasons=e["reasons"])
                                   for e in about["events"]],
                        "quality": about["quality"], "side_force": {}, "side_regions": {}}
        if f"{PREFIX}{name}_force" in arrays:
            stream["force"] = arrays[f"{PREFIX}{name}_force"]
            stream["cop"] = arrays[f"{PREFIX}{name}_cop"]
        for side in about["sides"]:
            stream["side_force"][side] = arrays[f"{PREFIX}{name}_{side}_force"]
            stream["side_regions"][side] = arrays[f"{PREFIX}{name}_{side}_regions"]
        if "last_feet" in about:
            stream["last_feet"] = {
                side: (SimpleNamespace(axis_deg=foot["axis_deg"]),
                       arrays[f"{PREFIX}{name}_{side}_footprint"] if foot["footprint"] else None)
                for side, foot in about["last_feet"].items()}
        out[name] = (stream, about["notes"])
    return out


def _event(e) -> dict:
    return {"kind": e.kind, "t": e.t, "foot": e.foot, "metrics": e.metrics, "reasons": e.reasons}


def _plain(value):
    # numpy scalars in a step's metrics: their exact value as a Python number (float64 is exact).
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a recording's analysis")
