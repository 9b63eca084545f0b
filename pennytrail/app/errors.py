"""The one kind of error the application layer reports to a person."""

from __future__ import annotations

from pathlib import Path

from ..core.publish import is_month


class UserError(Exception):
    """A problem with the user's input or data; ``str(e)`` is the one line to show, ``details``
    (a failed step's stack, say) what goes to the log."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def need_month(text: str) -> str:
    """``text`` when it is a month YYYY-MM; a UserError otherwise."""
    if not is_month(text):
        raise UserError(f"--month expects YYYY-MM, got {text!r}")
    return text


def need_warehouse(home: Path) -> Path:
    """The warehouse file of ``home``; a UserError saying how to make one when there is none."""
    path = Path(home) / "pennytrail.duckdb"
    if not path.exists():
        raise UserError(f"no warehouse in {home}: run `pennytrail close --data DIR --home {home}` first")
    return path
