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


# Wire-protocol faults (docs/protocol.md). A reader counts each kind separately,
# drops the packet and resynchronises at the next 0x00 delimiter.


class CobsError(FrameError):
    """The bytes between two delimiters are not valid COBS (truncated or corrupted)."""


class CrcError(FrameError):
    """The packet's CRC-32 does not match its contents (bit errors on the line)."""


class VersionError(FrameError):
    """The packet's protocol version is one this kiosk does not understand.

    ``version`` is the device's version; the message says which side to update.
    ``header`` is ``(version, type, device, seq, t_us)`` when the packet's CRC
    vouched for it (a whole packet we cannot read), else None.
    """

    def __init__(self, message: str, version: int, header: tuple[int, int, int, int, int] | None = None):
        super().__init__(message)
        self.version = version
        self.header = header


class PacketTypeError(FrameError):
    """The packet type byte is not one this protocol version defines.

    Not a fault of the link (docs/protocol.md section 4: a later version may add
    types); ``header`` is ``(version, type, device, seq, t_us)``, so a reader can
    still account for the packet's sequence number.
    """

    def __init__(self, message: str, header: tuple[int, int, int, int, int] | None = None):
        super().__init__(message)
        self.header = header


class LengthError(FrameError):
    """A packet or payload is too short, or its size does not fit its type or geometry."""


class PayloadError(FrameError):
    """A payload field holds an impossible value (unknown device kind, bad UTF-8...)."""


class ImportFormatError(RecordingError):
    """A vendor export is malformed, truncated, or says something the importer does not know."""
