"""Writing output files safely: never over an existing file unasked, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from stockpile.errors import InputError


def check_writable(path: Path, force: bool) -> None:
    """Refuse (exit 2) before any work is done if ``path`` exists and ``force`` is not set."""
    if path.exists() and not force:
        raise InputError(path, None, "already exists; pass --force to overwrite it")
    if path.exists() and path.is_dir():
        raise InputError(path, None, "is a folder, not a file")
    if not path.parent.exists():
        raise InputError(path, None, f"folder {str(path.parent)!r} does not exist")


def atomic_write(path: Path, write: Callable[[Path], None], force: bool = False) -> None:
    """Call ``write`` on a temporary file in the same folder, then rename it onto ``path``.

    The rename is atomic, so an existing file is either left untouched (on any error or
    interrupt) or replaced whole.
    """
    path = Path(path)
    check_writable(path, force)
    # Keep the real suffix last: writers that pick a format by suffix (LP or MPS) see the right one.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
