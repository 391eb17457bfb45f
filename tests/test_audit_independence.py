"""The audit shares no rule code with the model, and so catches a model that reads a rule wrong.

``test_the_audit_imports_nothing_of_the_model``: the audit's modules, and every stockpile module
they import in turn (package ``__init__`` files aside), never reach the model, its rules
(stockpile.scenario.rules), the tag helpers the model uses (stockpile.scenario.references), the
solver or the plan reader.

``test_a_wrongly_read_rule_fails_the_audit``: for each rule the model builds the LP from, the rule
is patched to be wrong (as a defect in it would be), the scenario built and solved with it, and
the audit must fail the plan. Each instance is made so that the rule binds: FY2027..FY2029, goal
100 t of X in every FY, no opening stock, so 100 t must be ordered in FY2027; option A (Canada,
fta) at $50,000/t, and where needed a dearer B (Australia, msp and fta) at $80,000/t.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stockpile.errors import AuditError
from stockpile.plan.audit import objectives as audit_objectives
from stockpile.plan import read
from stockpile.scenario import rules
from tests.conftest import make_scenario, solve

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "stockpile" / "plan" / "audit"
FORBIDDEN = ("stockpile.model", "stockpile.scenario.rules", "stockpile.scenario.references", "stockpile.solve",
             "stockpile.plan.read", "stockpile.plan.pipeline", "stockpile.analysis")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("stockpile")}


def _module_file(name: str) -> Path | None:
    base = ROOT / Path(*name.split("."))
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    return None  # a package (its __init__ is packaging, not code the audit runs) or a name in one


def test_the_audit_imports_nothing_of_the_model() -> None:
    seen: set[str] = set()
    todo = [f"stockpile.plan.audit.{p.stem}" for p in AUDIT.glob("*.py") if p.stem != "__init__"]
    todo += [name for name in _imports(AUDIT / "__init__.py")]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is not None:
            todo.extend(_imports(path))
    reached = sorted(name for name in seen if name.startswith(FORBIDDEN))
    assert not reached, f"the audit reaches the model's code: {reached}"
    assert "stockpile.scenario.schema" in seen  # it does read the scenario


def test_the_audits_kpi_thresholds_are_the_plan_readers() -> None:
    assert audit_objectives.SHORTFALL_TONNES == read.SHORTFALL_TONNES
    assert audit_objectives.ZERO_DOLLARS == read.ZERO_DOLLARS


COUNTRIES = {"United States": ["domestic"], "Canada": ["fta"], "Australia": ["msp", "fta"], "China": ["covered"]}
B = {"name": "B", "material": "X", "kind": "import", "country": "Australia", "capacity": 1000.0, "price": 80_000.0}


def _with_b(**overrides) -> dict:
    raw = make_scenario(countries=COUNTRIES, **overrides)
    raw["supply"].append(dict(B))
    return raw


def _a(raw: dict, **fields) -> dict:
    raw["supply"][0].update(fields)
    return raw


CASES = {
    # a price: every order priced 10% low
    "price": ("orders", lambda: make_scenario(countries=COUNTRIES),
              "unit_price", lambda real: lambda s, o, fy: 0.9 * real(s, o, fy)),
    # a capacity: doubled, so the cheap A (50 t) is bought for all 100 t
    "capacity": ("capacity", lambda: _a(_with_b(), capacity=50.0),
                 "capacity", lambda real: lambda s, o, fy: 2.0 * real(s, o, fy)),
    # an event's availability ignored: A is cut to 0 in FY2027 but bought
    "event": ("capacity", lambda: _with_b(events={"cut": {"country": "Canada", "material": "X", "from_fy": 2027,
                                              "to_fy": 2027, "availability": 0.0}}),
              "availability", lambda real: lambda s, o, fy: 1.0),
    # an order window: A from FY2028 only, ordered in FY2027
    "window": ("orders", lambda: _a(_with_b(), first_fy=2028),
               "orderable_fys", lambda real: lambda s, o: list(s.fys)[:len(s.fys) - o.lead_time]),
    # a ban missed: A from China (covered) is banned
    "ban": ("ban", lambda: _a(_with_b(policy={"bans": [{"material": "X", "tag": "covered", "from_fy": 2027}]}),
                       country="China"),
            "bans_hitting", lambda real: lambda s, o, fy: []),
    # a trust tag: every option taken as trusted, so the 50% floor buys only the cheap untrusted A
    "trust": ("partner_share", lambda: _with_b(policy={"trusted_tags": ["msp"], "trusted_share": {"X": 0.5}}),
              "is_trusted", lambda real: lambda s, o: True),
    # a floor: the trusted-share floor read as 0
    "floor": ("partner_share", lambda: _with_b(policy={"trusted_tags": ["msp"], "trusted_share": {"X": 0.5}}),
              "trusted_floor", lambda real: lambda s, m, fy: 0.0),
    # a cap: the 60% single-country cap read as none
    "cap": ("concentration", lambda: _with_b(policy={"concentration_cap": 0.6}),
            "concentration_cap", lambda real: lambda s, fy: None),
    # a tier: A's dearer second tier (x2 above 50 t) read as one tier at the first price
    "tier": ("orders", lambda: _a(_with_b(), tiers=[{"up_to": 50.0, "factor": 1.0}, {"factor": 2.0}]),
             "tiers", lambda real: lambda o: [(None, 1.0)]),
    # a readiness weight: doubled, so the shortfall objective reported is twice the tables'
    "weight": ("objectives", lambda: _a(make_scenario(countries=COUNTRIES), capacity=50.0),
               "shortfall_weight", lambda real: lambda s, m, fy: 2.0 * real(s, m, fy)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrongly_read_rule_fails_the_audit(case, monkeypatch) -> None:
    family, make, name, wrong = CASES[case]
    raw = make()
    solve(raw)  # read right, the plan passes
    monkeypatch.setattr(rules, name, wrong(getattr(rules, name)))
    with pytest.raises(AuditError) as failure:
        solve(raw)
    assert f"first: {family}: " in str(failure.value), str(failure.value)
