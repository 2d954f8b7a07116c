"""Errors raised by the local store.

Each names the database file and says what to do; none of them is raised
after anything was overwritten (the store refuses first, then touches).
"""

from gaitkiosk.errors import KioskError


class StoreError(KioskError, OSError):
    """Base of every store failure."""


class DatabaseRefusedError(StoreError):
    """The file at the database path is not one this version may open."""


class CorruptDatabaseError(DatabaseRefusedError):
    """The file is damaged or is not an SQLite database at all."""


class ForeignDatabaseError(DatabaseRefusedError):
    """The file is a valid SQLite database that belongs to another program."""


class NewerSchemaError(DatabaseRefusedError):
    """The database was written by a newer gaitkiosk than this one."""


class ReadOnlyStoreError(StoreError):
    """The database is on a read-only file system (not damaged)."""


class StorePermissionError(StoreError, PermissionError):
    """This process may not write the database or its directory (not damaged)."""


class DatabaseMissingError(StoreError, FileNotFoundError):
    """An operation needs an existing database and there is none."""


class NotFoundError(KioskError, LookupError):
    """No row with the given id (a session, patient, recording...)."""


class InvalidRecordError(KioskError, ValueError):
    """A value handed to a repository breaks the schema's rules."""


class ChunkCorruptError(StoreError, ValueError):
    """A stored recording chunk fails its checksum or cannot be decoded."""


class DiskFullError(StoreError):
    """The disk (or the database's size limit) is full: recording stopped."""


class LowDiskError(StoreError):
    """Free space is below the configured threshold: no new recording starts."""


class RecordingBusyError(StoreError):
    """The operation needs the kiosk to stop recording first."""


class UncalibratedError(KioskError, ValueError):
    """Raw counts cannot be turned into kPa without a calibration."""


class GeometryError(KioskError, ValueError):
    """A device's geometry (pitch, sensor positions) is unknown, so an export cannot be built."""
