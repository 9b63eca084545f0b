"""A stage's SQL file read as its statements: each introduced by a line ``-- table: <name>``
naming the table it creates, and ended by ``;``. What comes before the first marker is the
file's heading. The text is taken as written: nothing is substituted into it."""

from __future__ import annotations

import re
from pathlib import Path

MARKER = re.compile(r"^-- table: ([a-z_]+)[ \t]*$", re.M)


def statements(module_file: str) -> list[tuple[str, str]]:
    """The (table, SELECT) pairs of the ``.sql`` file beside ``module_file``, in their order."""
    path = Path(module_file).with_suffix(".sql")
    parts = MARKER.split(path.read_text(encoding="utf-8"))
    found = []
    for table, body in zip(parts[1::2], parts[2::2]):
        sql = body.strip()
        code = re.sub(r"'[^']*'", "''", "\n".join(ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")))
        if not code.endswith(";") or ";" in code[:-1]:
            raise ValueError(f"{path.name}: the statement of {table} must be one statement ended by ';'")
        found.append((table, sql[:-1].rstrip()))
    if not found:
        raise ValueError(f"{path.name} holds no '-- table:' statement")
    return found
