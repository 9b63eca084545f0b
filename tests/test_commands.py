"""The commands as a person meets them: the README's command table agrees with each command's
--help, and every example a --help shows runs on the demo."""

import contextlib
import io
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from pennytrail.cli import main

ROOT = Path(__file__).resolve().parents[1]


def help_text(*words: str) -> str:
    """What `pennytrail WORDS --help` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main([*words, "--help"])
    assert done.value.code == 0
    return out.getvalue()


def commands() -> list[str]:
    text = help_text()
    listed = re.search(r"\{([a-z,]+)\}|COMMAND\n((?:    \S.*\n)+)", text)
    names = re.findall(r"^    ([a-z]+)\s", text, flags=re.M)
    assert listed and names
    return names


def subcommands(command: str) -> list[str]:
    """The subcommands a command's --help lists under its WHAT or ACTION."""
    found = re.search(r"^  (?:WHAT|ACTION)\n((?:    .*\n)+)", help_text(command), flags=re.M)
    return re.findall(r"^    ([a-z]+)\b", found.group(1), flags=re.M) if found else []


def options(text: str) -> set[str]:
    """The long options a --help lists (not --help itself)."""
    return set(re.findall(r"^\s+(--[a-z][a-z-]*)", text, flags=re.M)) - {"--help"}


def readme_rows() -> dict[str, list[str]]:
    """The README's command table: command -> the usage column of its rows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for usage in re.findall(r"^\| `pennytrail ([^`]+)` \|", section, flags=re.M):
        rows.setdefault(usage.split()[0], []).append(usage.replace("\\|", "|"))
    return rows


def readme_commands_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Commands", 1)[1].split("\n## ", 1)[0]


def test_every_command_has_a_readme_row_and_every_row_a_command():
    assert sorted(readme_rows()) == sorted(commands())


@pytest.mark.parametrize("command", sorted(readme_rows()))
def test_a_commands_readme_row_matches_its_help(command):
    rows = readme_rows()[command]
    helps = {None: help_text(command)}
    for sub in subcommands(command):
        helps[sub] = help_text(command, sub)
    shown = {o for row in rows for o in re.findall(r"--[a-z][a-z-]*", row)}
    offered = set().union(*(options(h) for h in helps.values()))
    assert shown <= offered, f"the README shows options {command} --help does not offer: {shown - offered}"
    section = readme_commands_section()
    assert {o for o in offered if o not in section} == set(), "options of --help the README does not mention"
    for sub in helps:
        if sub is not None:
            assert any(re.search(rf"\b{sub}\b", row) for row in rows) or \
                f"`{command} {sub}`" in readme_commands_section(), f"the README does not name `{command} {sub}`"
    # required options are in the row itself
    for sub, text in helps.items():
        usage = " ".join(text.split("\n\n", 1)[0].split())
        required = {o for o in re.findall(r"(?<!\[)(--[a-z][a-z-]*) [A-Z_]+", usage)
                    if not re.search(r"\[" + re.escape(o), usage)}
        mine = [r for r in rows if sub is None or re.search(rf"\b{sub}\b", r)] or rows
        for option in required:
            assert any(option in r for r in mine), f"`{command}`: required {option} is not in its README row"


def examples() -> list[str]:
    """Every `example:` line of every --help, as printed."""
    found = []
    for command in commands():
        texts = [help_text(command)] + [help_text(command, sub) for sub in subcommands(command)]
        for text in texts:
            # argparse wraps a long epilog: the example runs on to the next blank line
            found += [" ".join(e.split()) for e in re.findall(r"^example: (pennytrail .+?)(?:\n\n|\n?\Z)", text,
                                                             flags=re.M | re.S)]
    return list(dict.fromkeys(found))  # a subcommand may repeat its command's example


# the order a person would take them in: the data is there, then closed, signed, reported,
# traced and confirmed, the confirmation verified, portal users managed; generating new data
# comes last
ORDER = ["demo", "close", "summary", "preview", "mappings", "months", "signoff", "report", "trace", "statements", "codes",
         "payables", "calendar", "remind", "keys", "confirm", "verify", "users", "serve", "generate"]
USERS = ["add", "list", "disable", "enable", "password"]


def _order(example: str) -> tuple[int, int]:
    words = shlex.split(example)
    return ORDER.index(words[1]), USERS.index(words[2]) if words[1] == "users" else 0


def _serve(words: list[str], cwd: Path) -> None:
    """`serve` runs until stopped: it is started as its own process (on a free port rather than
    the example's, which may be taken), must answer a page, and is stopped."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    at = words.index("--port")
    words = words[:at + 1] + [str(port)] + words[at + 2:]
    proc = subprocess.Popen([sys.executable, "-m", "pennytrail.cli", *words[1:]], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                    assert page.status == 200
                    return
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "the portal did not answer"
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_every_help_example_runs_on_the_demo(closed_demo, tmp_path, monkeypatch, capsys):
    assert len(examples()) >= len(commands())
    home = tmp_path / ".pennytrail"
    shutil.copytree(closed_demo, home, ignore=shutil.ignore_patterns("dagster"))
    monkeypatch.chdir(tmp_path)
    # what a buyer holds: a statement with its PDF and CSV, and the program's public key
    from pennytrail import app
    from pennytrail.core import keys

    keys.create(home)  # as the demo does
    issued = app.confirm(home, "B01", "2026-02")
    for path in (issued.pdf, issued.csv):
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(issued.statement, tmp_path / "statement.json")
    shutil.copy(keys.key_paths(home)[1], tmp_path / "program.pem")
    runs = sorted(examples(), key=_order)
    assert {shlex.split(e)[1] for e in runs} == set(commands())
    for example in runs:
        words = shlex.split(example)
        if words[1] == "serve":
            _serve(words, tmp_path)
            continue
        if "--password-stdin" in words:
            monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
        assert main(words[1:]) == 0, f"`{example}` failed: {capsys.readouterr().err}"
        out = capsys.readouterr().out
        assert out.strip(), f"`{example}` printed nothing"
    os.chdir(ROOT)
