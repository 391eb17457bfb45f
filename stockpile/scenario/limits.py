"""Bounds on reading what a planner hands stockpile, so a hostile or mistaken file fails fast.

Two readers every input goes through (scenario files, ``extends`` targets, data CSVs, results
CSVs, workbooks read by ``verify``, ``compare`` and the scenario-workbook reader):

* :func:`read_regular_file` opens only a regular file (never a FIFO, a device such as
  /dev/zero, a folder or a socket; a symlink loop or an over-long path is an error) and reads at
  most a byte cap, whatever the file's reported size;
* :func:`check_workbook_archive` bounds a workbook (a zip of XML parts) before any XML parser sees
  it: the compressed size, the number of parts, their total uncompressed size and the number of
  cells. zipfile stops reading a part at its declared size, so declared sizes bound the work even
  when they lie. XML itself is parsed by openpyxl through ``defusedxml`` (a dependency) or, with lxml
  installed, lxml told to resolve no entities: no entity expansion, no external entities.

Every refusal is an :class:`~stockpile.errors.InputError` naming the file and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from stockpile.errors import InputError

MAX_WORKBOOK_BYTES = 100_000_000
"""A workbook file on disk (the baseline's plan is about 0.2 MB)."""
MAX_WORKBOOK_UNCOMPRESSED = 200_000_000
"""All of a workbook's parts, inflated (the baseline's plan: about 3 MB)."""
MAX_WORKBOOK_PARTS = 10_000
MAX_WORKBOOK_CELLS = 2_000_000
"""Cells in all sheets: openpyxl holds every cell in memory (~0.5 KB each), so this caps ~1 GB."""

_CHUNK = 1 << 20

_KINDS = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def _open_reason(exc: OSError) -> str:
    return {errno.ENOENT: "file not found", errno.ELOOP: "a symbolic link loop (or too many links)",
            errno.ENAMETOOLONG: "the path is too long", errno.EACCES: "permission denied",
            errno.EISDIR: "is a folder, not a file", errno.ENOTDIR: "a part of the path is not a folder",
            }.get(exc.errno, f"cannot read: {exc.strerror or exc.__class__.__name__}")


def open_regular_file(path: str | Path) -> int:
    """A read-only descriptor on ``path``, which must be a regular file (an InputError if not).

    Opened non-blocking so a FIFO never hangs the open; the caller closes the descriptor."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(path, None, _open_reason(exc)) from None
    except ValueError:  # an embedded NUL in the path
        raise InputError(path, None, "the path contains a NUL character") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((words for test, words in _KINDS if test(mode)), "not a regular file")
        raise InputError(path, None, f"is {kind}, not a regular file")
    return fd


def read_regular_file(path: str | Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (``what`` names the kind of file in the
    message: "scenario files"), read with that cap whatever size the file claims."""
    fd = open_regular_file(path)
    try:
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(path, None, _open_reason(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(path, None, f"file is over {max_bytes:,} bytes; {what} are limited to {max_bytes:,} bytes")
    return data


@dataclass(frozen=True)
class WorkbookBounds:
    """What a workbook may hold before it is parsed; ``kind`` names such workbooks in messages."""

    kind: str
    max_bytes: int
    max_parts: int
    max_inflated: int
    max_cells: int | None
    """None: cells are not counted here (the reader counts the cells it keeps)."""


PLAN_WORKBOOK = WorkbookBounds("plan workbooks", MAX_WORKBOOK_BYTES, MAX_WORKBOOK_PARTS, MAX_WORKBOOK_UNCOMPRESSED,
                               MAX_WORKBOOK_CELLS)


def check_workbook_archive(path: str | Path, bounds: WorkbookBounds = PLAN_WORKBOOK) -> None:
    """Refuse a workbook that is not a regular file, or whose size, number of parts, inflated size
    or number of cells is beyond ``bounds``, before it is parsed (a zip bomb is refused from its
    directory, in milliseconds; a FIFO never hangs the read)."""
    fd = open_regular_file(path)
    try:
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if size > bounds.max_bytes:
        raise InputError(path, None, f"file is {size:,} bytes; {bounds.kind} are limited to {bounds.max_bytes:,} bytes")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > bounds.max_parts:
                raise InputError(path, None, f"the workbook has {len(parts):,} parts; {bounds.kind} are limited "
                                             f"to {bounds.max_parts:,}")
            inflated = sum(p.file_size for p in parts)
            if inflated > bounds.max_inflated:
                raise InputError(path, None, f"the workbook inflates to {inflated:,} bytes; {bounds.kind} are "
                                             f"limited to {bounds.max_inflated:,}")
            if bounds.max_cells is not None:
                cells = sum(_count_cells(archive, p, bounds.max_cells) for p in parts
                            if p.filename.startswith("xl/worksheets/"))
                if cells > bounds.max_cells:
                    raise InputError(path, None, f"the workbook has over {bounds.max_cells:,} cells; "
                                                 f"{bounds.kind} are limited to that")
    except zipfile.BadZipFile:
        raise InputError(path, None, "not an .xlsx workbook (not a zip file)") from None
    except (zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
        raise InputError(path, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})") from None


def _count_cells(archive: zipfile.ZipFile, part: zipfile.ZipInfo, most: int) -> int:
    """Cells (``<c`` elements, with or without a namespace prefix) in one worksheet part, counted in
    a streaming pass that stops early; an over-count (``:c`` elsewhere) only errs on the safe side."""
    count, tail = 0, b""
    with archive.open(part) as stream:
        while count <= most:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            count += _cells_in(window) - _cells_in(tail)
            tail = window[-8:]
    return count


def _cells_in(data: bytes) -> int:
    return sum(data.count(opening + end) for opening in (b"<c", b":c") for end in (b" ", b">", b"/", b"\n", b"\t"))
