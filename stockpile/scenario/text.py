"""Which characters a scenario's names and texts may hold, and how text is shown on a terminal.

A name reaches a terminal, workbook cells, chart titles, CSV files and the audit's lookups, and
must read back from each exactly. XML 1.0 (inside .xlsx) cannot hold most control characters
and turns CR into LF; U+FFFE/U+FFFF and the other noncharacters make a workbook unreadable; a
terminal obeys ESC sequences; bidirectional controls reorder what a reader sees (the "Trojan
Source" trick). So names refuse all of these at validation, with the key path, and free text
(descriptions, reasons) refuses them except line breaks and tabs.

Anything else printed (a key a planner misspelled, a path) goes through :func:`terminal_safe`.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Arabic letter mark, LRM/RLM, embeddings, overrides and isolates: invisible, and they reorder text."""

_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17))
_FORBIDDEN_IN_NAMES = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{BIDI_CONTROLS}{_NONCHARACTERS}]")
_FORBIDDEN_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{BIDI_CONTROLS}{_NONCHARACTERS}]")
_UNSAFE_ON_TERMINAL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{BIDI_CONTROLS}{_NONCHARACTERS}]")


def _refuse(value: str, pattern: re.Pattern[str], what: str) -> str:
    bad = pattern.search(value)
    if bad:
        raise ValueError(f"{what} holds the character {_escape(bad.group())} at position {bad.start() + 1}, "
                         f"which workbooks, CSV files or terminals cannot show exactly")
    return value


def check_name(value: str) -> str:
    """A name: no control character (CR and tab included), noncharacter or bidirectional control."""
    if value != value.strip():
        raise ValueError("a name cannot start or end with spaces (they are invisible in every output)")
    return _refuse(value, _FORBIDDEN_IN_NAMES, "the name")


def check_text(value: str) -> str:
    """Free text: like a name, but line breaks (LF, CR) and tabs are allowed."""
    return _refuse(value.replace("\r", ""), _FORBIDDEN_IN_TEXT, "the text")


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else (f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would obey or hide (ESC, NUL, CR, bidirectional
    controls, noncharacters) written as a visible escape (``\\x1b``); line breaks and tabs kept."""
    return _UNSAFE_ON_TERMINAL.sub(lambda m: _escape(m.group()), text)
