"""Policy costs measured warm on the plan's own model equal those measured by re-solving cold.

The warm path frees the rows a policy alone sets on the plan's solver model and re-solves from
the plan's bases (stockpile.analysis.policy_costs); the cold path builds and solves the scenario
without the policy from scratch, as every policy cost was measured before. Both must give the
same table (to solver noise: 1e-6 of a figure's scale), on the baseline and on a generated case
with every kind of policy (floors, bans, the cap), serially and on two processes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402

from stockpile.analysis import executor  # noqa: E402
from stockpile.analysis.policy_costs import POLICY_COST_COLUMNS, policies, policy_cost_table  # noqa: E402
from stockpile.model.build import build  # noqa: E402
from stockpile.plan.pipeline import solve_scenario  # noqa: E402
from stockpile.scenario.load import load_scenario, scenario_from_dict  # noqa: E402
from stockpile.solve.relaxations import LimitContext, rows_only_set_by  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
FIGURES = POLICY_COST_COLUMNS[3:]


def generated():
    """5 materials, 8 options each, 6 FYs, a 60% cap: floors on some materials, bans, the cap."""
    return scenario_from_dict(generate(5, 8, 6, seed=3, concentration_cap=0.6))


def assert_same_table(warm: pd.DataFrame, cold: pd.DataFrame) -> None:
    assert warm[["policy", "key", "status"]].equals(cold[["policy", "key", "status"]])
    for column in FIGURES:
        scale = max(1.0, float(cold[column].abs().max()))
        assert warm[column].to_numpy() == pytest.approx(cold[column].to_numpy(), abs=1e-6 * scale), column


@pytest.mark.parametrize("scenario", [load_scenario(BASELINE), generated()], ids=["baseline", "generated"])
def test_warm_policy_costs_equal_the_cold_ones(scenario) -> None:
    plan, model, solution = solve_scenario(scenario)
    rhs_before = list(model.lp.row_rhs)
    calls: list[tuple[int, int]] = []
    warm = policy_cost_table(scenario, plan, model=model, solution=solution,
                             progress=lambda done, total: calls.append((done, total)))
    cold = policy_cost_table(scenario, plan, warm=False)
    assert len(warm) == len(list(policies(scenario))) > 0
    assert_same_table(warm, cold)
    assert (warm.status == "optimal").all()
    # Something is priced: a cost-free table would pass the comparison without showing anything.
    assert (warm[FIGURES].abs() > 1e-3).any().any()
    assert calls[0] == (0, len(warm)) and calls[-1] == (len(warm), len(warm))
    assert model.lp.row_rhs == rhs_before  # every freed row (and the stages' rows) restored


def test_generated_case_has_every_kind_of_policy() -> None:
    keys = [key for _, key, _ in policies(generated())]
    assert any(k.startswith("policy.trusted_share.") for k in keys)
    assert any(k.startswith("policy.bans[") for k in keys)
    assert "policy.concentration_cap" in keys


@pytest.mark.parametrize("scenario", [load_scenario(BASELINE), generated()], ids=["baseline", "generated"])
def test_rows_a_policy_alone_sets_are_the_rows_its_absence_removes(scenario) -> None:
    """Freeing exactly these rows turns the plan's LP into the LP of the scenario without it."""
    lp = build(scenario).lp
    listed = list(policies(scenario))
    found = rows_only_set_by(LimitContext.of(scenario, lp), [key for _, key, _ in listed])
    for _, key, without in listed:
        other = build(without).lp
        assert other.col_key == lp.col_key and other.col_family == lp.col_family, key
        kept = {(f, k) for f, k in zip(other.row_family, other.row_key)}
        gone = [row for row in range(lp.n_rows) if (lp.row_family[row], lp.row_key[row]) not in kept]
        assert sorted(found[key]) == gone, key
        assert gone, key  # each policy of these scenarios sets rows


def test_two_processes_give_the_serial_table(monkeypatch) -> None:
    scenario = generated()
    plan, model, solution = solve_scenario(scenario)
    serial = policy_cost_table(scenario, plan, model=model, solution=solution)
    monkeypatch.setattr(executor, "PARENT_SOLVES", False)  # every task from the spawned process
    pooled = policy_cost_table(scenario, plan, model=model, solution=solution, workers=2)
    assert_same_table(pooled, serial)
