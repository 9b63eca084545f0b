"""Screening a submission before it is read: what the file is, and whether reading it stays bounded.

A file a sender's software, a misconfigured upload or an attacker produced must not crash the
close or make it allocate without bound. Before the expensive read, ``screen_csv`` and
``screen_xlsx`` look at the bytes a reader would trust: the file's first bytes (is it what its
name says?), a workbook's zip directory (how many parts, how large unpacked, how compressed),
and the parts the Excel reader loads, streamed with a byte count that does not trust the zip's
own declared sizes. A sheet's cell references are checked for the extent of the grid the reader
would allocate. Each problem is a ``FileProblem`` with a code and a message for the sender; the
limits are the ``LIMITS`` below (docs/decisions.md explains them).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20


class FileProblem(Exception):
    """The whole file is rejected: ``code`` goes to the quarantine, ``message`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 120 * MiB          # a CSV or XLSX file on disk
    rows: int = 750_000                  # data rows of one file (a close over any one file stays under 2 GiB)
    unpacked_bytes: int = 1024 * MiB     # an XLSX's parts, unpacked, all together
    part_bytes: int = 1024 * MiB         # one part the Excel reader loads (the sheet), unpacked
    shared_strings_bytes: int = 256 * MiB  # the workbook's shared strings, unpacked
    small_part_bytes: int = 32 * MiB     # any other part the reader loads (workbook, styles, relations)
    ratio: int = 100                     # unpacked ÷ packed size of a part larger than 1 MiB
    parts: int = 10_000                  # entries in the zip directory
    cells: int = 1 << 24                 # rows × columns of the grid a sheet or a CSV spans (16,777,216)
    columns: int = 16_384                # columns of a CSV header (Excel's own limit)
    row_bytes: int = 1 * MiB             # text of one row
    text_bytes: int = 1024 * MiB         # text the sheet's cells hold, shared strings counted per use


LIMITS = Limits()
ZIP = b"PK\x03\x04"
EMPTY_ZIP = b"PK\x05\x06"
CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .xls, or an encrypted OOXML package
BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"),
        (b"\xff\xfe", "UTF-16"))


def _mb(n: int) -> str:
    return f"{n / MiB:,.0f} MB" if n >= MiB else f"{n:,} bytes"


def _cfb_kind(head: bytes) -> FileProblem:
    if "EncryptedPackage".encode("utf-16-le") in head or "EncryptionInfo".encode("utf-16-le") in head:
        return FileProblem("ENCRYPTED_FILE", "the workbook is password-protected (encrypted): remove the password "
                                             "(File > Info > Protect Workbook) and send it again as .xlsx")
    return FileProblem("WRONG_FORMAT", "the file is an Excel 97-2003 workbook (.xls) or another OLE document, not "
                                       ".xlsx: open it and save it as Excel Workbook (.xlsx) or CSV UTF-8")


def _other_format(head: bytes) -> str | None:
    """What a file that is neither CSV text nor a workbook looks like, from its first bytes."""
    probe = head.lstrip()[:64].lower()
    for magic, what in ((b"%pdf", "a PDF document"), (b"{\\rtf", "an RTF document"), (b"\x1f\x8b", "a gzip archive"),
                        (b"<?xml", "an XML document (an Excel 2003 XML spreadsheet?)"), (b"<html", "a web page (HTML)"),
                        (b"<!doctype", "a web page (HTML)"), (b"<table", "a web page (HTML)"),
                        (b"7z\xbc\xaf", "a 7-Zip archive"), (b"rar!", "a RAR archive")):
        if probe.startswith(magic):
            return what
    return None


def screen_size(suffix: str, size: int) -> None:
    """The size check of ``screen_csv`` and ``screen_xlsx``, before a byte is read."""
    what = "workbook" if suffix == ".xlsx" else "file"
    if size > LIMITS.file_bytes:
        raise FileProblem("FILE_TOO_LARGE", f"the {what} is {_mb(size)}, more than the {_mb(LIMITS.file_bytes)} "
                                            "pennytrail reads from one file: split it into several files")


def _head(source: bytes | Path) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:64 * 1024])
    with Path(source).open("rb") as f:
        return f.read(64 * 1024)


def screen_csv(source: bytes | Path, size: int) -> None:
    """Checks on a CSV's size and first bytes (``source``: the file's bytes, or its path), before
    it is parsed."""
    screen_size(".csv", size)
    head = _head(source)
    if head.startswith(ZIP) or head.startswith(EMPTY_ZIP):
        raise FileProblem("WRONG_FORMAT", "the file is an Excel workbook or another zip archive, not CSV text: "
                                          "send it with the .xlsx ending, or save it as CSV UTF-8")
    if head.startswith(CFB):
        raise _cfb_kind(head)
    for bom, name in BOMS:
        if head.startswith(bom):
            raise FileProblem("BAD_ENCODING", f"the file is {name} text (Excel's 'Unicode Text'), not UTF-8: save it "
                                              "as CSV UTF-8 (Comma delimited) and send it again")
    other = _other_format(head)
    if other:
        raise FileProblem("WRONG_FORMAT", f"the file is {other}, not CSV text: save the table as CSV UTF-8")
    if head[:200].count(b"\x00") > 10:
        raise FileProblem("BAD_ENCODING", "the file looks like UTF-16 text without a byte-order mark, not UTF-8: "
                                          "save it as CSV UTF-8 (Comma delimited) and send it again")


# -- workbooks ------------------------------------------------------------------------------------

_ATTR = r'\s+(?:[\w.-]+:)?{name}\s*=\s*["\']([^"\']*)["\']'
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_RID = re.compile(rb'\s(?:[\w.-]+:)?id\s*=\s*["\']([^"\']*)["\']')
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_TARGET = re.compile(rb'\sTarget\s*=\s*["\']([^"\']*)["\']')
_ID = re.compile(rb'\sId\s*=\s*["\']([^"\']*)["\']')
# Boxes a sheet's cells may be checked to lie in with one whole-chunk search each: every cell and
# row element written the plain way Excel, LibreOffice and openpyxl write (`<c r="…"`), and no
# reference outside the box. Each box spans fewer cells than ``LIMITS.cells``; a sheet in none of
# them is measured reference by reference.
_PLAIN = rb'<(?:c|row)(?! r="[0-9A-Z])[\s/>]|<[\w.-]+:(?:c|row)[\s/>]|'
BOXES = [  # (columns, rows, what lies outside the box)
    (16, 999_999, re.compile(_PLAIN + rb' r="(?:[A-Z]{2}|[Q-Z][0-9]|[A-Z]?[0-9]{7})')),
    (26, 599_999, re.compile(_PLAIN + rb' r="(?:[A-Z]{2}|[A-Z]?[6-9][0-9]{5}"|[A-Z]?[0-9]{7})')),
    (52, 99_999, re.compile(_PLAIN + rb' r="(?:[B-Z][A-Z]|[A-Z]{3}|[A-Z]{0,2}[0-9]{6})')),
    (702, 9_999, re.compile(_PLAIN + rb' r="(?:[A-Z]{3}|[A-Z]{0,2}[0-9]{5})')),
]
_REF = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]*)([0-9]*)["\']')
_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?(c|row)[\s/>]")
_SI = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")
_SHARED_CELL = re.compile(rb'<(?:[\w.-]+:)?c\b[^>]*\st\s*=\s*["\']s["\'][^>]*>\s*<(?:[\w.-]+:)?v>\s*([0-9]+)\s*<')
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


@dataclass
class _Extent:
    max_row: int = 0
    max_col: int = 0
    outside: set = None  # the boxes (by index) a reference or element was found outside of


def _stream(z: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, what: str, each=None) -> int:
    """Unpack one part in pieces, counting the bytes actually produced (a zip's declared sizes can
    lie); ``each(piece)`` sees pieces cut just before a ``<``. The number of bytes."""
    total = 0
    tail = b""
    try:
        with z.open(info) as f:
            while True:
                block = f.read(8 * MiB)
                if not block:
                    break
                total += len(block)
                if total > cap:
                    raise FileProblem("FILE_TOO_LARGE", f"the workbook's {what} unpacks to more than {_mb(cap)}, more "
                                                        "than pennytrail reads: split the data into several files")
                if each is not None:
                    chunk = tail + block
                    if total == len(block) and _DTD.search(chunk[:4096]):
                        raise FileProblem("UNREADABLE_FILE", f"the workbook's {what} declares a DTD, which no "
                                                             "spreadsheet program writes: save it again from Excel")
                    cut = chunk.rfind(b"<")
                    cut = len(chunk) if cut <= 0 else cut
                    each(chunk[:cut])
                    tail = chunk[cut:]
                    if len(tail) > MiB:
                        raise FileProblem("UNREADABLE_FILE", f"the workbook's {what} holds a single XML tag longer "
                                                             "than 1 MB: save it again from Excel")
        if each is not None and tail:
            each(tail)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as e:
        raise FileProblem("UNREADABLE_FILE", f"the workbook's {what} cannot be unpacked ({e}): save it again "
                                             "from Excel and send it again") from None
    return total


def _first_sheet(z: zipfile.ZipFile, names: set[str]) -> str | None:
    """The part name of the workbook's first sheet (the one pennytrail reads), or None."""
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    book = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels")
    first = _SHEET.search(book)
    rid = _RID.search(first.group(1)) if first else None
    if rid is None:
        return None
    for m in _REL.finditer(rels):
        ident, target = _ID.search(m.group(1)), _TARGET.search(m.group(1))
        if ident and target and ident.group(1) == rid.group(1):
            t = target.group(1).decode("utf-8", "replace")
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    return None


def screen_xlsx(source: bytes | Path, size: int) -> None:
    """Checks on a workbook (``source``: its bytes, or its path) before the Excel reader loads it:
    its format, its zip directory, and the parts the reader loads, with the extent of the first
    sheet's cells."""
    screen_size(".xlsx", size)
    head = _head(source)
    if not head:
        raise FileProblem("MISSING_COLUMN", "the file is empty: it has no header row")
    if head.startswith(CFB):
        raise _cfb_kind(head)
    if not head.startswith(ZIP):
        other = _other_format(head)
        if other:
            raise FileProblem("WRONG_FORMAT", f"the file is {other}, not an Excel workbook: save it as .xlsx")
        text = b"," in head or b"\n" in head or b"\t" in head
        raise FileProblem("WRONG_FORMAT", "the file is text (CSV?) with an .xlsx ending, not an Excel workbook: "
                                          "rename it to .csv" if text else
                          "the file is not an Excel workbook (.xlsx files are zip archives): save it again as .xlsx")
    try:
        z = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as e:
        raise FileProblem("UNREADABLE_FILE", f"the workbook is damaged ({e}): save it again from Excel and "
                                             "send it again") from None
    with z:
        _screen_zip(z)


def _screen_zip(z: zipfile.ZipFile) -> None:
    infos = z.infolist()
    if len(infos) > LIMITS.parts:
        raise FileProblem("FILE_TOO_LARGE", f"the workbook holds {len(infos):,} parts, more than {LIMITS.parts:,}: "
                                            "it is not a plain spreadsheet")
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise FileProblem("ENCRYPTED_FILE", "the workbook's parts are encrypted: remove the password and send it again")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > LIMITS.unpacked_bytes:
        raise FileProblem("FILE_TOO_LARGE", f"the workbook unpacks to {_mb(unpacked)}, more than "
                                            f"{_mb(LIMITS.unpacked_bytes)}: split the data into several files")
    for i in infos:
        if i.file_size > MiB and i.file_size > LIMITS.ratio * max(i.compress_size, 1):
            raise FileProblem("FILE_TOO_LARGE", f"the workbook's part {i.filename} is compressed "
                                                f"{i.file_size // max(i.compress_size, 1):,} to 1 (more than "
                                                f"{LIMITS.ratio} to 1, which no spreadsheet reaches): it is not a plain "
                                                "spreadsheet")
    if "xl/workbook.bin" in names:
        raise FileProblem("WRONG_FORMAT", "the file is an Excel binary workbook (.xlsb): save it as Excel Workbook (.xlsx)")
    if "content.xml" in names and "mimetype" in names:
        raise FileProblem("WRONG_FORMAT", "the file is an OpenDocument spreadsheet (.ods): save it as Excel Workbook (.xlsx)")
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        raise FileProblem("WRONG_FORMAT", "the file is a Word or PowerPoint document, not an Excel workbook")
    small = ["[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "_rels/.rels"]
    for name in small:
        if name in names:
            _stream(z, z.getinfo(name), LIMITS.small_part_bytes, name)
    sheet = _first_sheet(z, names)
    if sheet is None or sheet not in names:
        raise FileProblem("UNREADABLE_FILE", "the workbook has no readable first sheet (xl/workbook.xml does not name "
                                             "one): save it again from Excel and send it again")
    strings: list[int] = []
    if "xl/sharedStrings.xml" in names:
        _stream(z, z.getinfo("xl/sharedStrings.xml"), LIMITS.shared_strings_bytes, "shared strings",
                lambda piece: _lengths(piece, strings))
    extent = _Extent(outside=set())

    def look(boxes: list[int]):
        def each(piece: bytes) -> None:
            for i in boxes:
                if i not in extent.outside and BOXES[i][2].search(piece):
                    extent.outside.add(i)
        return each
    size = _stream(z, z.getinfo(sheet), LIMITS.part_bytes, f"sheet {sheet}", look([0]))
    if 0 in extent.outside:  # the other boxes, in one more pass
        _stream(z, z.getinfo(sheet), LIMITS.part_bytes, f"sheet {sheet}", look(list(range(1, len(BOXES)))))
    inside = [i for i in range(len(BOXES)) if i not in extent.outside]
    if inside:
        extent.max_col, extent.max_row = BOXES[inside[0]][:2]
    else:  # measured precisely: every reference, and the cells whose position is implied
        _measure(z, z.getinfo(sheet), sheet, extent)
    cells = extent.max_row * extent.max_col
    if cells > LIMITS.cells:
        raise FileProblem("FILE_TOO_LARGE", f"the first sheet spans {extent.max_row:,} rows × {extent.max_col:,} "
                                            f"columns ({cells:,} cells), more than the {LIMITS.cells:,} cells pennytrail "
                                            "reads from one sheet: delete what lies beyond the data (Ctrl+End shows "
                                            "where the sheet ends) or split it into several files")
    if strings:
        _check_text(z, z.getinfo(sheet), strings, min(cells, size // 8 + 1), sheet)


def _lengths(piece: bytes, strings: list[int]) -> None:
    """Add the lengths in bytes of the shared strings in ``piece`` (each up to the next one; the
    bytes before the first belong to the string the last piece ended in)."""
    starts = [m.start() for m in _SI.finditer(piece)]
    if strings:
        strings[-1] += starts[0] if starts else len(piece)
    strings.extend(b - a for a, b in zip(starts, starts[1:] + [len(piece)]))


def _measure(z: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str, extent: _Extent) -> None:
    """The grid a sheet spans, from every cell and row reference; a cell or row without a reference
    takes the next position, so each one widens the bound by one."""
    counts = {"refs": 0, "elements": 0}

    def each(piece: bytes) -> None:
        for letters, digits in _REF.findall(piece):
            if len(letters) > 3 or len(digits) > 7 or not digits:
                raise FileProblem("UNREADABLE_FILE", f"sheet {sheet} has a cell reference "
                                                     f"{(letters + digits).decode('ascii')!r} that is not a cell "
                                                     "position: save it again from Excel")
            counts["refs"] += 1
            extent.max_row = max(extent.max_row, int(digits))
            if letters:
                extent.max_col = max(extent.max_col, _column_number(letters))
        counts["elements"] += len(_ELEMENT.findall(piece))
    _stream(z, info, LIMITS.part_bytes, f"sheet {sheet}", each)
    implied = max(0, counts["elements"] - counts["refs"])
    extent.max_row = max(extent.max_row, 1) + implied
    extent.max_col = max(extent.max_col, 1) + implied
    if extent.max_row > 1_048_576 or extent.max_col > 16_384:
        extent.max_row, extent.max_col = max(extent.max_row, 1_048_577), max(extent.max_col, 16_385)


def _check_text(z: zipfile.ZipFile, info: zipfile.ZipInfo, strings: list[int], cells: int, sheet: str) -> None:
    """The Excel reader copies a shared string into every cell that uses it: the text the cells
    hold, counted per use, stays under ``LIMITS.text_bytes``. The bound cells × longest string is
    enough for most sheets; otherwise each shared cell's string is counted."""
    if cells * max(strings) <= LIMITS.text_bytes:
        return
    total = 0

    def each(piece: bytes) -> None:
        nonlocal total
        for index in _SHARED_CELL.findall(piece):
            i = int(index)
            total += strings[i] if i < len(strings) else 0
        if total > LIMITS.text_bytes:
            raise FileProblem("FILE_TOO_LARGE", f"the cells of sheet {sheet} repeat shared text adding up to more than "
                                                f"{_mb(LIMITS.text_bytes)}: it is not a plain spreadsheet")
    _stream(z, info, LIMITS.part_bytes, f"sheet {sheet}", each)
