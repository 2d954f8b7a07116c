"""Analysis kernels: per-frame mat and insole analysis, streaming detectors, session metrics.

Each kernel has three faces (STYLE 5): a compiled module (``kernels/_*.pyx``),
a numpy reference that reads like the specification, and a public wrapper with
the dtype/shape policy. ``IMPLEMENTATION`` is ``"compiled"`` when every
compiled kernel imports, else ``"reference"`` (``GAITKIOSK_PURE=1`` forces
the references; a missing build falls back with a RuntimeWarning).
"""

from __future__ import annotations

from kernels.errors import FrameError, KernelError, ParameterError

#: The compiled modules; the package runs "compiled" only when all of them import.
COMPILED_MODULES = ("_frame", "_online", "_iir")

# Imported on first use, not with the package: ``gaitkiosk analyze`` of a recording that carries
# its stored analysis (kernels.stored) needs neither the frame kernel nor the insole kernel.
_LAZY = {"FootResult": "kernels.frame", "FrameAnalyzer": "kernels.frame", "FrameParams": "kernels.frame",
         "FrameResult": "kernels.frame", "check_frame": "kernels.frame", "InsoleAnalyzer": "kernels.insole",
         "InsoleResult": "kernels.insole", "check_insole_frame": "kernels.insole"}


def __getattr__(name):
    import importlib

    if name == "IMPLEMENTATION":
        from kernels import _backend

        value = "compiled" if all(_backend.compiled(m) is not None for m in COMPILED_MODULES) else "reference"
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'kernels' has no attribute {name!r}")
    globals()[name] = value
    return value


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
