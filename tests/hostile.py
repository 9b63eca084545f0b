"""A corpus of hostile files, built by the tests themselves (no binary blobs in the repository):
workbooks written part by part as a zip, so that a test can say exactly what each part holds."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>')


def col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def sheet_xml(rows: list[list[str]], extra_cells: str = "", dimension: str | None = None) -> str:
    body = "".join(f'<row r="{i}">' + "".join(cell(f"{col_letters(j + 1)}{i}", v) for j, v in enumerate(r))
                   + (extra_cells if i == 1 else "") + "</row>" for i, r in enumerate(rows, start=1))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"{dim}<sheetData>{body}</sheetData></worksheet>")


def _package(path: Path) -> zipfile.ZipFile:
    """A new .xlsx at ``path`` holding every part but the sheet: content types, relations, workbook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    z = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
    for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", RELS), ("xl/workbook.xml", WORKBOOK),
                       ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)):
        z.writestr(name, text)
    return z


def workbook(path: Path, sheet: str | bytes, shared: str | bytes | None = None, parts: dict | None = None) -> Path:
    """An .xlsx from its parts: the first sheet's XML, the shared strings, any other parts."""
    with _package(path) as z:
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
        for name, data in (parts or {}).items():
            z.writestr(name, data)
    return path


def streamed_sheet(path: Path, head: str, repeat: bytes, times: int, tail: str) -> Path:
    """A workbook whose sheet XML is ``head`` + ``repeat`` × ``times`` + ``tail``, written in pieces so
    that a sheet that unpacks to gigabytes is built without holding it in memory."""
    with _package(path) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head.encode())
            block = repeat * max(1, (1 << 20) // len(repeat))
            per = (1 << 20) // len(repeat) or 1
            left = times
            while left > 0:
                n = min(per, left)
                f.write(block if n == per else repeat * n)
                left -= n
            f.write(tail.encode())
    return path


def lie_about_size(path: Path, part: str, declared: int) -> None:
    """Rewrite the zip directory so that ``part`` declares ``declared`` unpacked bytes (a bomb that
    lies about its size)."""
    data = bytearray(path.read_bytes())
    name = part.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x01\x02", 24, 28, 46), (b"PK\x03\x04", 22, 26, 30)):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            n = struct.unpack_from("<H", data, i + name_len_at)[0]
            if bytes(data[i + name_at:i + name_at + n]) == name:
                struct.pack_into("<I", data, i + size_at, declared)
            start = i + 4
    path.write_bytes(bytes(data))


def cfb(streams: list[str]) -> bytes:
    """The first sector of an OLE compound file naming ``streams`` in its directory (what an
    encrypted OOXML package or an .xls starts with), padded to 4 KB."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entries = b"".join(s.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for s in streams)
    return (head + entries).ljust(4096, b"\x00")
