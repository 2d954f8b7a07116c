"""Errors of the virtual patient."""

from gaitkiosk.errors import KioskError


class SimulationError(KioskError, ValueError):
    """A scenario, parameter or request the virtual patient cannot honour."""
