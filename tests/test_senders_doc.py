"""docs/senders.md: every worked example (a profile, a sender's file, what preview says) runs
through `pennytrail preview`, and the preview says what the page says."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from pennytrail.app.senders import preview

from .conftest import small_data_dir

DOC = Path(__file__).resolve().parents[1] / "docs" / "senders.md"
BLOCK = re.compile(r"^```(yaml|csv|text) ([^\n]*)\n(.*?)^```$", re.M | re.S)


def blocks() -> list[tuple[str, str, str]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def write_example(data: Path) -> list[tuple[str, str]]:
    """Every profile and file of the page into ``data``; the expected previews (file, text)."""
    expected = []
    for lang, info, body in blocks():
        words = info.split()
        if lang == "text":
            expected.append((words[1], body))
            continue
        path = data / words[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook()
            wb.active.title = "Resumen"
            wb.active.append(["Resumen de nómina"])
            sheet = wb.create_sheet(dict(w.split("=", 1) for w in words[1:])["sheet"])
            for row in csv.reader(io.StringIO(body)):
                sheet.append(row)
            wb.save(path)
        else:
            path.write_text(body, encoding="utf-8")
    return expected


def test_the_page_has_an_example_of_every_shape():
    infos = [info for lang, info, _ in blocks() if lang == "yaml"]
    assert len(infos) == 5
    text = "\n".join(body for lang, _, body in blocks() if lang == "yaml")
    assert "shape: pairs" in text and "shape: lines" in text and "headerRows: [5]" in text
    assert "sheetName: Nómina" in text and "%Y%m%d" in text


@pytest.fixture(scope="module")
def doc_data(tmp_path_factory) -> tuple[Path, list]:
    data = small_data_dir(tmp_path_factory.mktemp("senders-doc") / "data")
    return data, write_example(data)


@pytest.mark.parametrize("n", range(5))
def test_every_example_previews_as_the_page_says(doc_data, n):
    data, expected = doc_data
    file, text = expected[n]
    shown = preview(data, data / file).text().splitlines()
    for line in text.strip().splitlines():
        assert line in shown, f"{file}: the page says {line!r}; preview says:\n" + "\n".join(shown)
