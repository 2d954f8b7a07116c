"""Errors raised by the device package."""

from gaitkiosk.errors import KioskError


class DeviceError(KioskError, OSError):
    """A sensor cannot be opened, stopped answering, or said something unusable."""


class PortNotFoundError(DeviceError, FileNotFoundError):
    """The port URL names a device that does not exist."""


class FrameError(KioskError, ValueError):
    """A packet or frame is malformed (bad COBS, CRC, length, version...)."""


class RecordingError(KioskError, ValueError):
    """A recording file is missing, malformed, or not in the interchange format."""
