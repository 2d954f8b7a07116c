"""Errors raised by calibration/. Each message says what was wrong and what to do.

None of them is raised after a stored calibration changed: procedures fail
before anything is written, so the active calibration is never replaced by a
failed one.
"""

from gaitkiosk.errors import KioskError


class CalibrationError(KioskError, ValueError):
    """Base of every calibration failure."""


class LoadedDuringZeroError(CalibrationError):
    """Something (usually someone) was on the sensor while it was being zeroed."""


class NotStableError(CalibrationError):
    """The load kept changing and never settled long enough to be measured."""


class WrongLoadError(CalibrationError):
    """The load is not what the step asked for (off the sensing area, wrong foot, too light...)."""


class OffAreaError(WrongLoadError):
    """A known weight sits partly or wholly off the sensing area."""


class CurveFitError(CalibrationError):
    """Too few, or non-monotone, points to fit a response curve."""


class CalibrationFileError(CalibrationError):
    """A calibration record is malformed (edited by hand, truncated, another format)."""


class WrongDeviceError(CalibrationError):
    """A calibration made for one device serial is used on another."""


class NotCalibratedError(CalibrationError, LookupError):
    """The device has no (suitable) calibration yet."""
