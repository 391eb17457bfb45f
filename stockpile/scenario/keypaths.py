"""Key paths in validation errors: where in a scenario file pydantic found a problem, as a planner writes it.

Every problem is reported as an :class:`~stockpile.errors.InputError` naming the file, the key
path (``supply[3].capacity.2029``; list positions count from 1, as a planner counts
``[[supply]]`` blocks) and the reason. The scenario loader and the ``[data]`` defaults both
report their validation errors this way.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from stockpile.errors import InputError, InputErrors
from stockpile.scenario.series import SERIES_TAGS
from stockpile.scenario.text import terminal_safe


def format_loc(loc: tuple, raw: dict) -> str:
    """``('supply', 2, 'capacity', 'table', '2029')`` -> ``supply[3].capacity.2029``."""
    parts: list[str] = []
    dropped_previous = False
    for element in loc:
        if isinstance(element, str) and element in SERIES_TAGS and not dropped_previous and parts:
            dropped_previous = True
            continue
        dropped_previous = False
        if isinstance(element, int):
            parts.append(f"[{element + 1}]")
        else:
            parts.append(("." if parts else "") + terminal_safe(str(element)))  # a key may hold ESC
    return "".join(parts) or "(top level)"


def reason(err: dict) -> str:
    """pydantic's message for one error, in a planner's words."""
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see the scenario format in README.md)"
    if kind == "missing":
        return "required key is missing"
    if kind.startswith("literal_error"):
        return msg.replace("Input should be", "must be")
    msg = msg.removeprefix("Value error, ")
    return msg.replace("Input should be", "must be")


def validation_errors(exc: ValidationError, source: Any, raw: dict, prefix: str = "") -> InputErrors:
    """Every problem pydantic found in ``raw`` as one :class:`InputErrors`, each naming ``source``
    and its key path (``prefix`` names the table ``raw`` was read from, such as ``data.``)."""
    return InputErrors([InputError(source, prefix + format_loc(err["loc"], raw), reason(err))
                        for err in exc.errors()])
