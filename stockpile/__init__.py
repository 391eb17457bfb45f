"""stockpile: an LP planning optimizer for the U.S. National Defense Stockpile.

The names below are imported on first use (PEP 562), so ``stockpile --help`` does not pay for
pydantic, pandas and the solvers."""

from __future__ import annotations

from importlib import import_module

_HOMES = {"AuditError": "stockpile.errors", "InputError": "stockpile.errors", "SolveError": "stockpile.errors",
          "StockpileError": "stockpile.errors", "plan_scenario": "stockpile.plan.pipeline",
          "load_scenario": "stockpile.scenario.load", "Scenario": "stockpile.scenario.schema"}

__all__ = ["AuditError", "InputError", "Scenario", "SolveError", "StockpileError", "load_scenario",
           "plan_scenario"]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'stockpile' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
