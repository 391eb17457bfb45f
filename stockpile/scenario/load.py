"""Loading a scenario file: TOML within size and depth limits, ``extends``, the ``[data]``
defaults, validation and the cross-reference checks.

Every problem is reported as an :class:`~stockpile.errors.InputError` naming the file, the key
path (see :mod:`stockpile.scenario.keypaths`) and the reason.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from stockpile.errors import InputError, InputErrors
from stockpile.scenario.defaults import expand_data_defaults
from stockpile.scenario.keypaths import validation_errors
from stockpile.scenario.limits import read_regular_file
from stockpile.scenario.merge import MergeError, merge_overrides
from stockpile.scenario.references import check_references
from stockpile.scenario.schema import Scenario
from stockpile.scenario.workbook_safety import is_workbook

# Limits on reading, so a malformed or hostile file fails fast.
MAX_EXTENDS_DEPTH = 16
MAX_FILE_BYTES = 5_000_000
MAX_KEY_DEPTH = 32
"""Dotted keys and table headers nest at most this deep (tomllib takes quadratic time on deeper)."""
_DEEP_KEY = re.compile(r"(?<![\w\-\"'.])(?:(?:[\w\-]++|\"[^\"\n]*+\"|'[^'\n]*+')[ \t]*+\.[ \t]*+){%d}"
                       % MAX_KEY_DEPTH)


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``), validate and cross-check a scenario file: TOML, or an input
    workbook (``.xlsx``, :mod:`stockpile.scenario.workbook`)."""
    path = Path(path)
    if is_workbook(path):
        from stockpile.scenario.workbook import load_workbook_scenario  # its layout is read at import: not for TOML

        return load_workbook_scenario(path)
    raw, parents = _read_with_extends(path, chain=())
    source = f"{path} (extends {' -> '.join(parents)})" if parents else path
    raw, provenance = expand_data_defaults(raw, source)
    scenario = scenario_from_dict(raw, source=source)
    scenario.record_provenance(provenance)
    return scenario


def scenario_from_dict(raw: dict, source: str | Path | None = None) -> Scenario:
    """Validate already-merged scenario data; ``source`` names the file in error messages."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise validation_errors(exc, source, raw) from None
    problems = check_references(scenario)
    if problems:
        raise InputErrors([InputError(source, where, why) for where, why in problems])
    return scenario


def _read_toml(path: Path) -> dict:
    data = read_regular_file(path, MAX_FILE_BYTES, "scenario files")  # no FIFO, device, loop or bomb
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"byte {exc.start}", "not UTF-8 text (save the file as UTF-8)") from None
    deep = _DEEP_KEY.search(text)
    if deep:
        raise InputError(path, f"line {text.count(chr(10), 0, deep.start()) + 1}",
                         f"a key nested more than {MAX_KEY_DEPTH} levels deep (not a scenario key)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(path, None, "not valid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer literal beyond Python's 4,300-digit conversion limit
        raise InputError(path, None, f"not a usable number: {exc}") from None


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, list[str]]:
    """The file merged over everything it extends, and the names of those files, nearest first."""
    try:
        resolved = path.resolve()
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
        raise InputError(path, None, "a symbolic link loop") from None
    if resolved in chain:
        cycle = " -> ".join(p.name for p in chain + (resolved,))
        raise InputError(path, "extends", f"extends cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise InputError(path, "extends", f"more than {MAX_EXTENDS_DEPTH} levels of extends")
    raw = _read_toml(path)
    parent_name = raw.pop("extends", None)
    if parent_name is None:
        return raw, []
    if not isinstance(parent_name, str) or not parent_name:
        raise InputError(path, "extends", "must be the name of another scenario file")
    parent_path = path.parent / parent_name
    try:
        found = parent_path.exists()
    except (OSError, ValueError) as exc:  # a name too long, a NUL
        raise InputError(path, "extends", f"{parent_name[:80]!r}: not a usable file name ({exc})") from None
    if not found:
        raise InputError(path, "extends", f"{parent_name[:80]!r} not found next to this file")
    parent, ancestors = _read_with_extends(parent_path, chain + (resolved,))
    try:
        return merge_overrides(parent, raw), [parent_name, *ancestors]
    except MergeError as exc:
        raise InputError(path, exc.where, str(exc)) from None

