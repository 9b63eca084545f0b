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

from pennytrail.cli import build_parser, main

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
    return re.findall(r"^    ([a-z]+)\s", help_text(command).split("WHAT", 1)[-1], flags=re.M) \
        if "WHAT" in help_text(command) else []


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
            assert any(row.split()[1:2] == [sub] or f" {sub} " in f" {row} " for row in rows), \
                f"no README row for `{command} {sub}`"
    # required options are in the row itself
    for sub, text in helps.items():
        usage = " ".join(text.split("\n\n", 1)[0].split())
        required = {o for o in re.findall(r"(?<!\[)(--[a-z][a-z-]*) [A-Z_]+", usage)
                    if not re.search(r"\[" + re.escape(o), usage)}
        mine = [r for r in rows if sub is None or f" {sub} " in f" {r} "]
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
    return found


# the order a person would take them in: the data is there, then closed, signed, reported,
# traced and confirmed, the confirmation verified; generating new data comes last
ORDER = ["demo", "close", "summary", "signoff", "report", "trace", "confirm", "verify", "generate"]


def test_every_help_example_runs_on_the_demo(closed_demo, tmp_path, monkeypatch, capsys):
    assert len(examples()) >= len(commands())
    home = tmp_path / ".pennytrail"
    shutil.copytree(closed_demo, home, ignore=shutil.ignore_patterns("dagster"))
    monkeypatch.chdir(tmp_path)
    runs = sorted(examples(), key=lambda e: ORDER.index(shlex.split(e)[1]))
    assert {shlex.split(e)[1] for e in runs} == set(commands())
    for example in runs:
        words = shlex.split(example)
        assert main(words[1:]) == 0, f"`{example}` failed: {capsys.readouterr().err}"
        out = capsys.readouterr().out
        assert out.strip(), f"`{example}` printed nothing"
    os.chdir(ROOT)
