"""Folder names for parties: nothing from input data becomes a path as it is.

A party id comes from ``parties.csv`` and may hold anything: ``../../x``, ``/abs``, ``B01/../B02``,
``CON``, a name that differs from another only in case or by Unicode normalisation. Its folder is
a readable prefix of plain ASCII letters, digits, ``-`` and ``_`` (at most 32, upper case
folded to lower) followed by the first 16 hex digits of the SHA-256 of the exact id, so two ids
never share a folder, on a case-sensitive file system or not, and no name is a reserved one.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def party_folder_name(party_id: str) -> str:
    prefix = _UNSAFE.sub("_", party_id.lower()).strip("_-")[:32] or "party"
    return f"{prefix}-{hashlib.sha256(party_id.encode('utf-8')).hexdigest()[:16]}"


def party_folder(root: Path, party_id: str) -> Path:
    """``root/<folder of party_id>``, always a direct child of ``root``."""
    path = root / party_folder_name(party_id)
    assert path.parent == root
    return path
