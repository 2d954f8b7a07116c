"""Builds the Cython extensions; everything else lives in pyproject.toml.

Each compiled module has a numpy reference twin; if a build is skipped
(GAITKIOSK_NO_EXT=1) the package falls back to the reference at import time.
"""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

# One entry per compiled kernel: (module name, source file).
KERNELS = [
    ("device._codec", "device/_codec.pyx"),
    ("kernels._online", "kernels/_online.pyx"),
    ("kernels._iir", "kernels/_iir.pyx"),
    # per-frame analysis: its steps are kernels/_frame_*.pxi, included by _frame.pyx
    ("kernels._frame_results", "kernels/_frame_results.pyx"),
    ("kernels._frame_insole", "kernels/_frame_insole.pyx"),
    ("kernels._frame", "kernels/_frame.pyx"),
    ("calibration._apply", "calibration/_apply.pyx"),
    ("ui._heat", "ui/_heat.pyx"),  # the live heat map's colour indices
]


def extensions():
    if os.environ.get("GAITKIOSK_NO_EXT") == "1":
        return []
    exts = [
        Extension(
            name,
            [source],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            # -ffp-contract=off: GCC on aarch64 (the Pi) fuses a*b+c into one FMA instruction by
            # default, x86-64's baseline cannot; on degenerate input (a one-sensel footprint: a
            # variance that should be 0) the fused rounding left a tiny residue and the compiled
            # kernel disagreed with the reference there (found by `make test-arm64`).
            extra_compile_args=["-O3", "-ffp-contract=off"],
        )
        for name, source in KERNELS
        if os.path.exists(source)
    ]
    return cythonize(exts, language_level=3, compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True})


setup(ext_modules=extensions())
