"""Bounds on reading what a planner hands stockpile, so a hostile or mistaken file fails fast.

Two readers every input goes through (scenario files, ``extends`` targets, data CSVs, results
CSVs, workbooks read by ``verify``, ``compare`` and the scenario-workbook reader):

* :func:`read_regular_file` opens only a regular file (never a FIFO, a device such as
  /dev/zero, a folder or a socket; a symlink loop or an over-long path is an error) and reads at
  most a byte cap, whatever the file's reported size;
* :func:`check_workbook_archive` bounds a workbook (a zip of XML parts) before any XML parser sees
  it: the compressed size, the number of parts, their total uncompressed size and the number of
  cells. zipfile stops reading a part at its declared size, so declared sizes bound the work even
  when they lie. XML itself is parsed by openpyxl through ``defusedxml`` (a dependency), which
  refuses entity expansion and external entities.

Every refusal is an :class:`~stockpile.errors.InputError` naming the file and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
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


def check_workbook_archive(path: str | Path) -> None:
    """Refuse a workbook whose size, number of parts, inflated size or number of cells is beyond the
    bounds above, before it is parsed (a zip bomb is refused from its directory, in milliseconds)."""
    fd = open_regular_file(path)
    try:
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if size > MAX_WORKBOOK_BYTES:
        raise InputError(path, None, f"workbook is {size:,} bytes; at most {MAX_WORKBOOK_BYTES:,} are read")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_WORKBOOK_PARTS:
                raise InputError(path, None, f"workbook has {len(parts):,} parts; at most {MAX_WORKBOOK_PARTS:,}")
            inflated = sum(p.file_size for p in parts)
            if inflated > MAX_WORKBOOK_UNCOMPRESSED:
                raise InputError(path, None, f"workbook inflates to {inflated:,} bytes; at most "
                                             f"{MAX_WORKBOOK_UNCOMPRESSED:,} are read")
            cells = sum(_count_cells(archive, p) for p in parts if p.filename.startswith("xl/worksheets/"))
            if cells > MAX_WORKBOOK_CELLS:
                raise InputError(path, None, f"workbook has over {MAX_WORKBOOK_CELLS:,} cells; not a plan")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
        raise InputError(path, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})") from None


def _count_cells(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> int:
    """Cells (``<c`` elements, with or without a namespace prefix) in one worksheet part, counted in
    a streaming pass that stops early; an over-count (``:c`` elsewhere) only errs on the safe side."""
    count, tail = 0, b""
    with archive.open(part) as stream:
        while count <= MAX_WORKBOOK_CELLS:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            count += _cells_in(window) - _cells_in(tail)
            tail = window[-8:]
    return count


def _cells_in(data: bytes) -> int:
    return sum(data.count(opening + end) for opening in (b"<c", b":c") for end in (b" ", b">", b"/", b"\n", b"\t"))
