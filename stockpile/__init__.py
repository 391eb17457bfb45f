"""stockpile: an LP planning optimizer for the U.S. National Defense Stockpile."""

from .errors import AuditError, InputError, SolveError, StockpileError
from .pipeline import plan_scenario
from .scenario import Scenario, load_scenario

__all__ = ["AuditError", "InputError", "Scenario", "SolveError", "StockpileError", "load_scenario",
           "plan_scenario"]
