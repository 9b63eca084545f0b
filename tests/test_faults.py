"""A crash point, on its own (the crash-safety tests end real closes at each)."""
from __future__ import annotations

import pytest

from pennytrail.core import faults


def test_a_crash_point_ends_the_process_at_its_own_name_only(monkeypatch):
    """What the crash-safety tests rely on (docs/testing.md: Crash points), in this process: the
    exit is replaced by an exception and the line to stderr is captured."""
    written: list[tuple[int, bytes]] = []

    def exit_(code: int) -> None:
        raise SystemExit(code)
    monkeypatch.setattr(faults.os, "_exit", exit_)
    monkeypatch.setattr(faults.os, "write", lambda fd, data: written.append((fd, data)))
    monkeypatch.setattr(faults, "_AT", None)
    for name in faults.POINTS:
        faults.point(name)
    monkeypatch.setattr(faults, "_AT", "publish.written")
    faults.point("publish.committed")
    assert written == []
    with pytest.raises(SystemExit) as e:
        faults.point("publish.written")
    assert e.value.code == faults.CRASH_EXIT == 86
    assert written == [(2, b"pennytrail: crash injected at publish.written\n")]
