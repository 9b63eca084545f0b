"""Named points where the process can be made to end hard, to test that a close survives it.

Set ``PENNYTRAIL_CRASH_AT`` to one of ``POINTS`` and the process ends at once (``os._exit``, no
cleanup, no rollback, no checkpoint) with exit code ``CRASH_EXIT`` when it reaches that point,
after writing one line to stderr. The crash-safety tests use it instead of timed kills: the exit
code proves the point was reached. The variable is read once, at import; when it is unset each
point costs one comparison.
"""

from __future__ import annotations

import os

CRASH_EXIT = 86
POINTS = (
    "reference.committed",     # the reference tables replaced
    "ingest.batch_written",    # a batch's rows and log lines written, not committed
    "ingest.batch_committed",  # a batch committed
    "reconcile.written",       # the working tables copied into the warehouse, not committed
    "reconcile.committed",     # the working tables committed
    "publish.written",         # the months' output rows replaced, not committed
    "publish.committed",       # the months' output rows committed
    "checkpoint",              # the close is over, its commits are in the log, the file not yet written
)
_AT = os.environ.get("PENNYTRAIL_CRASH_AT") or None


def point(name: str) -> None:
    """End the process here if ``PENNYTRAIL_CRASH_AT`` names this point."""
    if _AT is not None and _AT == name:
        os.write(2, f"pennytrail: crash injected at {name}\n".encode())
        os._exit(CRASH_EXIT)
