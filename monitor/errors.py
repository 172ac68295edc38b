"""The few exceptions the library raises on purpose; each says what to do about it."""


class MonitorError(Exception):
    """Base class: the CLI prints the message as a one-line error and exits 1."""


class SchemaTooOld(MonitorError):
    """The database schema is behind the code: run `monitor init`."""


class DatabaseUnreachable(MonitorError):
    """The database cannot be reached with the configured URL."""


class ModelNotFound(MonitorError):
    """No model version with that name in the registry."""


class InputError(MonitorError):
    """A malformed input line or file; the message names the file and line."""


class RoundLocked(MonitorError):
    """Another round is running (scheduler, cron or a second shell)."""
