"""The project's base error.

Every package's own ``errors.py`` subclasses :class:`KioskError` *and* the
builtin that fits (``class FrameError(KioskError, ValueError)``), so callers
can catch either. Messages say what was wrong and what to do about it; the
CLI prints them as one line (traceback only with ``--debug``).
"""


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""


class ConfigError(KioskError, ValueError):
    """The configuration file is missing, unreadable or has a bad value."""


class UsageError(KioskError, ValueError):
    """A command was called with arguments that do not make sense together."""
