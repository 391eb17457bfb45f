"""Values in a planner's units, as the diagnosis and ``explain`` print them.

Units are those of scenario keys: "$" (dollars, shown in $M), "t" (tonnes), "share" and
"availability" (fractions, shown as percentages and their changes in points) and "FY".
"""

from __future__ import annotations


def format_value(value: float, unit: str) -> str:
    """``value`` as a planner reads it: "$12.50M", "1,230.0 t", "40.00%", "FY2031"."""
    if unit == "$":
        return f"${value / 1e6:,.2f}M" if abs(value) < 1e7 else f"${value / 1e6:,.1f}M"
    if unit == "t":
        return f"{value:,.1f} t" if abs(value) < 1e5 else f"{value:,.0f} t"
    if unit in ("share", "availability"):
        return f"{value:.2%}"
    if unit == "FY":
        return f"FY{int(value)}"
    return f"{value:,.4g}"


def format_change(delta: float, unit: str) -> str:
    """A change of ``delta``, signed: "+$2.00M", "-150.0 t", "+5.00 points"."""
    sign = "+" if delta >= 0 else "-"
    if unit in ("share", "availability"):
        return f"{sign}{abs(delta) * 100:.2f} points"
    return sign + format_value(abs(delta), unit)
