"""Terminal tables and numbers in planner's units: money in $M, shares in %, headers that wrap
instead of being cut, and long tables summarised to what fits a screen."""

from __future__ import annotations

from collections.abc import Sequence

SCREEN_ROWS = 20
"""A table longer than this is summarised (``--all`` prints every row)."""


def money(dollars: float | None) -> str:
    """$1,138.7M; negative as -$27.4M; None (not measured) as an en dash."""
    if dollars is None or dollars != dollars:
        return "–"
    sign = "-" if dollars < -0.05e6 else ""
    return f"{sign}${abs(dollars) / 1e6:,.1f}M"


def share(fraction: float | None) -> str:
    """0.0075 as 0.75%, 0.3 as 30.0%."""
    if fraction is None or fraction != fraction:
        return "–"
    return f"{fraction:.2%}" if abs(fraction) < 0.1 else f"{fraction:.1%}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], first_left: bool = True, title: str | None = None):
    """A rich table: headers wrap onto a second line rather than being truncated (``fund.appr...``),
    cells never wrap, numbers right-aligned, the first column left-aligned."""
    from rich.table import Table

    view = Table(show_edge=False, pad_edge=False, title=title, title_justify="left")
    for i, header in enumerate(headers):
        widest = max((len(row[i]) for row in rows), default=0)
        # A column is never narrower than its widest cell or its header's longest word, so only
        # its header wraps, between words.
        view.add_column(header, justify="left" if (i == 0 and first_left) else "right",
                        min_width=max(widest, *(len(word) for word in header.split())), overflow="fold")
    for row in rows:
        view.add_row(*row)
    return view


def summary_rows(count: int, turning: set[int], edge: int = 5, limit: int = SCREEN_ROWS) -> list[int | None]:
    """Which rows of a long table to show: the first and last ``edge`` and the turning points,
    in order, with None where rows were left out; every row when the table fits ``limit``."""
    if count <= limit:
        return list(range(count))
    inner = sorted(i for i in turning if edge <= i < count - edge)
    room = max(limit - 2 * edge, 1)
    if len(inner) > room:  # a smooth curve turns everywhere: an even selection of its turns
        inner = [inner[round(k * (len(inner) - 1) / (room - 1))] for k in range(room)] if room > 1 else inner[:1]
    keep = sorted({*range(min(edge, count)), *range(max(0, count - edge), count), *inner})
    out: list[int | None] = []
    for i in keep:
        if out and out[-1] is not None and i != out[-1] + 1:
            out.append(None)
        out.append(i)
    return out


def turning_points(values: Sequence[float], tolerance: float = 1e-9) -> set[int]:
    """Rows where a frontier changes course: its slope changes sign or size (a kink), or it
    starts or stops changing. Along a one-parameter sweep these are the points a planner reads."""
    points: set[int] = set()
    slopes = [b - a for a, b in zip(values, values[1:])]
    for i in range(1, len(slopes)):
        before, after = slopes[i - 1], slopes[i]
        scale = max(abs(before), abs(after), tolerance)
        if abs(after - before) > 1e-3 * scale and not (abs(before) <= tolerance and abs(after) <= tolerance):
            points.add(i)
    return points
