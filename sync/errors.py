"""Errors of sync/: each says what was wrong and what to do, in one line."""

from gaitkiosk.errors import KioskError


class SyncError(KioskError):
    """Base of sync/'s own errors."""


class PayloadError(SyncError, ValueError):
    """A payload breaks docs/sync.md (malformed, oversized, wrong id): the sender's bug, never retried."""


class ServerError(SyncError, RuntimeError):
    """The server cannot reach or use its PostgreSQL database."""
