"""Which face of a kernel runs: the compiled extension or its numpy reference.

``GAITKIOSK_PURE=1`` forces the references (CI runs the suite both ways). A
missing extension falls back to the reference with one RuntimeWarning naming
the build command, so a unit that lost its build still gives correct, slower
answers instead of none.
"""

from __future__ import annotations

import importlib
import os
import warnings

PURE = os.environ.get("GAITKIOSK_PURE") == "1"
_warned: set[str] = set()


def compiled(name: str):
    """The compiled module ``kernels.NAME`` or None (forced pure, or not built; warns once)."""
    if PURE:
        return None
    try:
        return importlib.import_module(f"kernels.{name}")
    except ImportError as exc:
        if name not in _warned:
            _warned.add(name)
            warnings.warn(
                f"kernels.{name} is not built ({exc}); using the numpy reference, which is "
                "correct but slower. Build it with: python setup.py build_ext --inplace",
                RuntimeWarning,
                stacklevel=3,
            )
        return None


def frame_module(implementation: str | None = None):
    """The module providing ``FrameKernel`` and ``InsoleKernel``."""
    if implementation not in (None, "compiled", "reference"):
        raise ValueError(f"implementation must be 'compiled' or 'reference', got {implementation!r}")
    if implementation == "reference":
        from kernels import reference

        return reference
    if implementation == "compiled":
        # Asked for explicitly (tests, bench): fail loudly rather than fall back.
        return importlib.import_module("kernels._frame")
    module = compiled("_frame")
    if module is None:
        from kernels import reference

        return reference
    return module
