"""The one error type a user can cause or fix.

A `TradlyteError`'s message is one line: what is wrong and what to do. The CLI prints it and
exits 2 (a traceback only with `-v`); libraries raise subclasses of it so callers can tell
"your setup or input" from a bug.
"""

from __future__ import annotations


class TradlyteError(RuntimeError):
    """Something the user can fix: bad input, a missing file, a service down, a locked file."""


def first_line(text: object) -> str:
    """The first non-blank line of a message (driver errors often span several)."""
    for line in str(text).strip().splitlines():
        if line.strip():
            return line.strip()
    return repr(text)
