"""Analysis kernels: per-frame mat and insole analysis, streaming detectors, session metrics.

Each kernel has three faces (STYLE 5): a compiled module (``kernels/_*.pyx``),
a numpy reference that reads like the specification, and a public wrapper with
the dtype/shape policy. ``IMPLEMENTATION`` is ``"compiled"`` when every
compiled kernel imports, else ``"reference"`` (``GAITKIOSK_PURE=1`` forces
the references; a missing build falls back with a RuntimeWarning).
"""

from __future__ import annotations

from kernels import _backend
from kernels.errors import FrameError, KernelError, ParameterError
from kernels.frame import FootResult, FrameAnalyzer, FrameParams, FrameResult, check_frame
from kernels.insole import InsoleAnalyzer, InsoleResult, check_insole_frame

#: The compiled modules; the package runs "compiled" only when all of them import.
COMPILED_MODULES = ("_frame", "_online", "_iir")

IMPLEMENTATION = (
    "compiled" if all(_backend.compiled(name) is not None for name in COMPILED_MODULES)
    else "reference"
)

__all__ = [
    "IMPLEMENTATION",
    "FrameAnalyzer",
    "FrameParams",
    "FrameResult",
    "FootResult",
    "check_frame",
    "InsoleAnalyzer",
    "InsoleResult",
    "check_insole_frame",
    "KernelError",
    "FrameError",
    "ParameterError",
]
