"""Errors raised by the analysis kernels.

Each subclasses the project's :class:`~gaitkiosk.errors.KioskError` and
:class:`ValueError`, so the live loop can catch either. Bad *pressure values*
(NaN, infinite, negative) are not errors: they are zeroed and counted in the
result (see ``docs/metrics.md`` / :mod:`kernels.frame`). Errors are for input
whose shape or type makes any answer meaningless.
"""

from __future__ import annotations

from gaitkiosk.errors import KioskError


class KernelError(KioskError, ValueError):
    """Base of the errors of the analysis kernels."""


class FrameError(KernelError):
    """A pressure frame of the wrong type, dtype, shape or memory layout."""


class ParameterError(KernelError):
    """An analyzer was built with parameters that cannot work (pitch <= 0, bad geometry...)."""
