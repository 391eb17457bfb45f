"""Row and column names for LP and MPS files: stockpile's ``family[key]`` in the characters allowed.

CPLEX LP names (which GLPK and HiGHS read) are letters, digits and ``!"#$%&()/,.;?@_'{}|~``, at
most 255 characters, not starting with a digit or a period (nor with ``e`` and a digit, which
reads as an exponent). So ``balance[Sb,2028]`` is written ``balance(Sb,2028)``, and an option
named ``Vietnam antimony import`` becomes ``Vietnam_antimony_import``. The same names serve free
MPS files, which allow no spaces either.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

ALLOWED = frozenset(string.ascii_letters + string.digits + "!\"#$%&()/,.;?@_'{}|~")
MAX_LENGTH = 255
BRACKETS = str.maketrans("[]", "()")
AWKWARD_START = re.compile(r"^([0-9.]|[eE][0-9eE])")


def file_name(name: str) -> str:
    """One name in the allowed characters: brackets as parentheses, any other character as ``_``."""
    text = "".join(ch if ch in ALLOWED else "_" for ch in name.translate(BRACKETS))
    if not text or AWKWARD_START.match(text):
        text = "_" + text
    return text[:MAX_LENGTH]


class UniqueFileNames:
    """:func:`file_name` of each name given, kept unique: a name already taken (``a b`` and ``a_b``
    both give ``a_b``) gets ``~2``, ``~3``, ... in the order met. ``also`` maps further characters
    to ``_`` first (PuLP rewrites ``/`` itself, which could make two names one)."""

    def __init__(self, also: str = ""):
        self.taken: set[str] = set()
        self.also = str.maketrans({ch: "_" for ch in also})

    def __call__(self, name: str) -> str:
        base = candidate = file_name(name.translate(self.also))
        n = 1
        while candidate in self.taken:
            n += 1
            suffix = f"~{n}"
            candidate = base[:MAX_LENGTH - len(suffix)] + suffix
        self.taken.add(candidate)
        return candidate


def file_names(names: Iterable[str]) -> list[str]:
    """Each name as :func:`file_name`, kept unique (:class:`UniqueFileNames`), in the order met."""
    unique = UniqueFileNames()
    return [unique(name) for name in names]
