"""Errors of the drills package.

Every message says what was wrong and what to do; the CLI prints it as one
line. ``DrillParamError`` is what a therapist meets when a prescription names
an unknown drill or parameter, or a value out of range.
"""

from gaitkiosk.errors import KioskError


class DrillError(KioskError):
    """Base of every error raised on purpose by ``drills``."""


class UnknownDrillError(DrillError, LookupError):
    """A drill name that the registry does not know."""


class DrillParamError(DrillError, ValueError):
    """A prescription parameter that is unknown, of the wrong type or out of range."""


class DrillStateError(DrillError, RuntimeError):
    """A drill was asked for something its current phase does not allow (a result before it ended)."""


class ProgramError(DrillError, ValueError):
    """A patient's program cannot be built (no patient, no program, a bad prescription text)."""
