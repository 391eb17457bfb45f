"""stockpile: an LP planning optimizer for the U.S. National Defense Stockpile."""

from stockpile.errors import AuditError, InputError, SolveError, StockpileError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario
from stockpile.scenario.schema import Scenario

__all__ = ["AuditError", "InputError", "Scenario", "SolveError", "StockpileError", "load_scenario",
           "plan_scenario"]
