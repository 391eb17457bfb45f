"""Every worked case of the README's formula table is what the code computes.

The test reads the table under "Formulas, with a worked case each" in README.md, parses each
row's inputs (``name = value`` pairs) and stated value, and recomputes the case with the code:
the objective weights from stockpile.scenario.rules, the loss, payment and delivery FYs from a
solved one-material plan, the discount factor from rules.discount_factor. A README that drifts
from the code fails here, naming the case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import build, make_scenario, solve
from stockpile.scenario import rules

README = Path(__file__).resolve().parents[1] / "README.md"
CASES = ("release weight", "shortfall weight", "shortfall weight without a goal", "loss on opening stock",
         "payment FY of an order", "delivery FY of an order", "discounting FY")


def formula_table() -> dict[str, tuple[dict[str, float], float]]:
    """case -> (inputs, stated value), from the README's formula table."""
    text = README.read_text(encoding="utf-8")
    start = text.index("**Formulas, with a worked case each**")
    rows = {}
    for line in text[start:].splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("case", "---"):
            continue
        inputs = {name: float(value) for name, value in re.findall(r"(\w+) = ([-\d.]+)", cells[2])}
        rows[cells[0]] = (inputs, float(cells[3]))
    return rows


def one_material(inputs: dict[str, float], **overrides) -> dict:
    return make_scenario(materials={"X": {"goal": inputs.get("goal", 100.0), "weight": inputs.get("w", 1.0),
                                          **({"draw": {"2028": inputs["draw"]}} if "draw" in inputs else {})}},
                         **overrides)


def computed(case: str, inputs: dict[str, float]) -> float:
    if case in ("release weight", "shortfall weight", "shortfall weight without a goal"):
        s = build(one_material(inputs))
        weight = rules.release_weight if case == "release weight" else rules.shortfall_weight
        return weight(s, "X", 2028)
    if case == "loss on opening stock":
        plan = solve(make_scenario(supply=[], materials={"X": {"goal": 0.0, "opening_inventory": inputs["opening"],
                                                               "loss_rate": inputs["loss_rate"]}}))
        return float(plan.tables["inventory"].loss.iloc[0])
    if case in ("payment FY of an order", "delivery FY of an order"):
        order_fy, lead = int(inputs["order_fy"]), int(inputs["lead_time"])
        plan = solve(make_scenario(
            horizon={"last_fy": order_fy + lead}, materials={"X": {"goal": 0.0}},
            supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 1000.0,
                     "price": 50_000.0, "lead_time": lead, "fixed": {str(order_fy): 10.0}}]))
        if case == "delivery FY of an order":
            inventory = plan.tables["inventory"]
            return float(inventory[inventory.deliveries > 0].fy.iloc[0])
        fund = plan.tables["fund"]
        paid = fund[fund.purchases > 0]
        assert len(paid) == 1
        return float(paid.fy.iloc[0])
    if case == "discounting FY":
        s = build(make_scenario(horizon={"first_fy": int(inputs["first_fy"]), "last_fy": int(inputs["fy"])},
                                objective={"discount_rate": inputs["r"]}))
        return rules.discount_factor(s, int(inputs["fy"]))
    raise AssertionError(f"no evaluator for README case {case!r}")


def test_the_readme_lists_every_case():
    assert set(formula_table()) == set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_readme_formula_case_matches_the_code(case):
    inputs, stated = formula_table()[case]
    assert computed(case, inputs) == pytest.approx(stated, rel=1e-6), case
