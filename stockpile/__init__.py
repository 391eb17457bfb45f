"""stockpile: an LP planning optimizer for the U.S. National Defense Stockpile.

The names below are imported on first use (PEP 562), so ``python -m stockpile`` starts its
command line (which handles Ctrl-C) before the solver stack is imported.
"""

from importlib import import_module

_EXPORTS = {"AuditError": "stockpile.errors", "InputError": "stockpile.errors", "SolveError": "stockpile.errors",
            "StockpileError": "stockpile.errors", "plan_scenario": "stockpile.plan.pipeline",
            "load_scenario": "stockpile.scenario.load", "Scenario": "stockpile.scenario.schema"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'stockpile' has no attribute {name!r}")
