"""Writing output files safely: never over an existing file unasked, never over anything but a
regular file, never half-written, and a command's several outputs replaced all together.

How a command writes its outputs:

1. :func:`check_writable` on every output before any work (exists without ``--force``, not a
   regular file, folder missing, read-only, no permission, no space: exit 2 naming the file).
2. :func:`write_outputs` with every output and its writer: each is written to a temporary file
   beside it (``.NAME.XXXXXXXX.tmp.SUFFIX``, mode from the umask like any new file), and only when
   all are whole are they renamed onto their names, one after the other with Ctrl-C held back, so
   an interrupt or a full disk leaves every old file as it was; a Ctrl-C during the renames is
   reported as :class:`OutputsInterrupted` naming what was written.

The path ``-`` means standard output (``--json -``): it is written to a temporary file like the
others and copied to stdout after the renames.

A temporary file is held under an exclusive ``flock`` while it is written; one left behind by a
killed run (no live lock, older than this process) is removed the next time that output is
written, and nothing else is ever removed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from stockpile.errors import InputError

STDOUT = "-"
"""The output name meaning standard output."""

PROBE_BYTES = 4096
"""Written (and removed) by the preflight check: a full disk refuses even this much."""

_STARTED = time.time()


def _process_start() -> float:
    """This process's start time (Linux /proc), else when this module was imported."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _STARTED


def is_stdout(path: str | Path) -> bool:
    return str(path) == STDOUT


class OutputsInterrupted(KeyboardInterrupt):
    """Ctrl-C arrived while outputs were being renamed into place: ``written`` lists the ones
    replaced (all of them: the renames finish first), for the command's message."""

    def __init__(self, written: Sequence[Path]):
        self.written = list(written)
        super().__init__(f"interrupted after writing {', '.join(map(str, self.written))}")


KINDS = [(stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
         (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is, in words, or None for a regular file."""
    for test, words in KINDS:
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def _os_reason(exc: OSError) -> str:
    """An OSError as a reason a planner can act on."""
    reasons = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "the folder is on a read-only file system", errno.EACCES: "permission denied",
               errno.EPERM: "permission denied", errno.ENAMETOOLONG: "the file name is too long"}
    return reasons.get(exc.errno, exc.strerror or exc.__class__.__name__)


def check_writable(path: Path, force: bool) -> None:
    """Refuse (exit 2) before any work is done unless ``path`` can be written: it must not exist
    (or ``force``), must be a regular file if it does (never a FIFO, device, symlink or folder,
    even with ``--force``), and its folder must exist and take a new file."""
    if is_stdout(path):
        return
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(path, None, f"cannot write: {_os_reason(exc)}") from None
    if info is not None:
        kind = _not_regular(info.st_mode)
        if kind:
            raise InputError(path, None, f"is {kind}; stockpile replaces only regular files, even with --force")
        if not force:
            raise InputError(path, None, "already exists; pass --force to overwrite it")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(path, None, f"folder {str(folder)!r} does not exist")
    # A killed run's temporaries go now, not only when this run reaches its outputs: an
    # interrupt during the solve would otherwise leave them for yet another run.
    remove_stale_temporaries(path)
    try:
        with _temporary(path) as (tmp, fd):
            os.write(fd, b"\0" * PROBE_BYTES)
    except OSError as exc:
        raise InputError(path, None, f"cannot write in folder {str(folder)!r}: {_os_reason(exc)}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_pattern(path: Path) -> re.Pattern[str]:
    """The names ``_temporary`` gives temporaries of ``path`` (tempfile's 8 random characters)."""
    return re.compile(rf"\.{re.escape(path.stem)}\.[a-z0-9_]{{8}}\.tmp{re.escape(path.suffix)}")


@contextmanager
def _temporary(path: Path):
    """A new temporary file beside ``path``, locked while in use, removed on leaving unless renamed."""
    # Keep the real suffix last: writers that pick a format by suffix (LP or MPS) see the right one.
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    tmp = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; an output is a file like any other
        yield tmp, fd
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove temporaries of ``path`` left by a killed run: only names of :func:`_temp_pattern`,
    regular files, modified before this process started and locked by no live process."""
    if is_stdout(path):
        return []
    path = Path(path)
    pattern, started, removed = _temp_pattern(path), _process_start(), []
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return []
    for candidate in candidates:
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= started:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a live writer holds it: leave it
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


Writer = Callable[[Path], None]


def write_outputs(outputs: Sequence[tuple[Path, Writer]], force: bool = False) -> list[Path]:
    """Write every output with its writer (``write(tmp)`` fills the temporary file), then replace
    them all: on any error or interrupt while writing, no output changes and no temporary stays.

    Returns the paths written, in order. A full disk or a permission problem while writing is an
    exit-2 :class:`InputError` naming the file (and saying nothing was written).
    """
    outputs = [(path if is_stdout(path) else Path(path), write) for path, write in outputs]
    with _all_temporaries(outputs, force) as ready:
        return _rename_all(ready)


@contextmanager
def _all_temporaries(outputs, force: bool):
    ready: list[tuple[Path, Path]] = []
    stack = []
    try:
        for path, write in outputs:
            check_writable(path, force)
            if is_stdout(path):
                context = _temporary(Path(tempfile.gettempdir()) / "stockpile-stdout")
            else:
                remove_stale_temporaries(path)
                context = _temporary(path)
            tmp, _fd = context.__enter__()
            stack.append(context)
            try:
                write(tmp)
                os.chmod(tmp, 0o666 & ~_umask())  # a writer may have re-created the file
            except OSError as exc:
                raise InputError(path, None, f"cannot write: {_os_reason(exc)}; "
                                             f"no output was changed") from None
            ready.append((path, tmp))
        yield ready
    finally:
        for context in reversed(stack):
            context.__exit__(None, None, None)


def _rename_all(ready: list[tuple[Path, Path]]) -> list[Path]:
    """Rename the temporaries onto their outputs with SIGINT held until all are done."""
    written: list[Path] = []
    with _held_interrupts() as held:
        for path, tmp in ready:
            if is_stdout(path):
                continue
            os.replace(tmp, path)
            written.append(path)
        for path, tmp in ready:
            if is_stdout(path):
                with open(tmp, "rb") as source:
                    sys.stdout.flush()
                    shutil.copyfileobj(source, sys.stdout.buffer)
                    sys.stdout.buffer.flush()
                written.append(path)
    if held:
        raise OutputsInterrupted(written)
    return written


@contextmanager
def _held_interrupts():
    """Hold back SIGINT (Ctrl-C) for the block; yields a list that is non-empty if one came."""
    held: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda number, frame: held.append(number))
    except ValueError:  # not the main thread: signals go to the main thread anyway
        yield held
        return
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


def atomic_write(path: Path, write: Writer, force: bool = False) -> None:
    """Write one output atomically: :func:`write_outputs` with a single file."""
    write_outputs([(path, write)], force)
