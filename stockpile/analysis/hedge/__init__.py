"""Hedging: a two-stage plan over a scenario tree (``tree``: the futures, the deterministic
equivalent, VSS and EVPI) and its workbook (``workbook``)."""
