"""The one exception type users see: a clear, one-line message about bad input."""


class LongtrackError(Exception):
    """Bad input or an unusable file. The CLI prints the message alone (no traceback)."""
