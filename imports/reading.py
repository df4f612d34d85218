"""Reading an uploaded CSV: its encoding, its separator, its rows, numbered.

Spreadsheets save CSV in more than one way: UTF-8 with or without a byte order
mark (Excel's "CSV UTF-8" writes one), or Windows-1252 (Excel's plain "CSV" on
a western Windows), separated by commas, or by semicolons where the comma is the
decimal mark. ``inspect`` reads the file once to tell which, and counts its
rows; ``records`` then reads it again, a row at a time, so that a file of any
size is held one row at a time.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

UTF8, WINDOWS_1252 = "utf-8", "cp1252"
SEPARATORS = (",", ";")
# No cell is larger (csv's default is 128 KiB; a long summary with its quotes may exceed it).
MAX_CELL = 1 << 20


class FileError(Exception):
    """The file cannot be read as a CSV at all (not one row's fault)."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class CsvFormat:
    """How a file is written: its encoding, its separator, its header, its number of rows."""

    encoding: str
    separator: str
    headers: list[str]
    rows: int


csv.field_size_limit(MAX_CELL)


def _text(binary: IO[bytes], encoding: str) -> io.TextIOWrapper:
    """The file from its start as text; a UTF-8 byte order mark is not part of the first header."""
    binary.seek(0)
    if encoding == UTF8 and binary.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
        binary.seek(0)
    buffered = io.BufferedReader(_Unclosing(binary), buffer_size=1 << 16)
    # newline="": the csv module reads the line ends itself (a quoted cell may hold one).
    return io.TextIOWrapper(buffered, encoding=encoding, newline="")


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _separator(header_line: str) -> str:
    """The separator the header uses more: headers hold neither commas nor semicolons."""
    return max(SEPARATORS, key=header_line.count)


def inspect(binary: IO[bytes]) -> CsvFormat:
    """Read the whole file once: its encoding and separator, its header and number of rows.

    UTF-8 is tried first and Windows-1252 when the bytes are not UTF-8, so that
    a file is never half read in one and half in the other. Raises ``FileError``
    for a file that is empty, neither, or has no header.
    """
    for encoding in (UTF8, WINDOWS_1252):
        try:
            return _inspect(binary, encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("The file is not text in UTF-8 or Windows-1252: save it as CSV UTF-8.")


def _inspect(binary: IO[bytes], encoding: str) -> CsvFormat:
    header_line = _text(binary, encoding).readline()
    if not header_line.strip():
        raise FileError("The file is empty: its first line should name the columns.")
    separator = _separator(header_line)
    reader = csv.reader(_text(binary, encoding), delimiter=separator)
    headers = [header.strip() for header in next(reader)]
    rows = 0
    try:
        for cells in reader:
            if not _is_blank(cells):
                rows += 1
    except csv.Error as error:
        raise FileError(f"The file is not a readable CSV after row {rows}: {error}.") from error
    return CsvFormat(encoding=encoding, separator=separator, headers=headers, rows=rows)


def records(binary: IO[bytes], form: CsvFormat) -> Iterator[tuple[int, list[str]]]:
    """Each data row that is not blank, with its number (from 1, the header not counted).

    A blank row (every cell empty, as a spreadsheet leaves at the end) is skipped
    but counted, so the numbers are those a spreadsheet shows, less one.
    """
    reader = csv.reader(_text(binary, form.encoding), delimiter=form.separator)
    next(reader)  # the header, already read by ``inspect``
    for number, cells in enumerate(reader, start=1):
        if not _is_blank(cells):
            yield number, cells


class _Unclosing(io.RawIOBase):
    """A file seen through a text wrapper that must not close it when it is dropped."""

    def __init__(self, binary: IO[bytes]) -> None:
        super().__init__()
        self.binary = binary

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.binary.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:  # the caller owns the file
        pass
