"""Two-stage sourcing (contract S3): hand-solved instances, solved with HiGHS and with CBC.

An option is mined in its ``country`` (the origin) and refined in its ``refiner`` (the origin when
it names none). Bans and events look at the stage they name (``any``: either), trust at the
stages ``policy.trusted_stages`` requires, ``policy.refiner_cap`` caps one refining country's
share as ``policy.concentration_cap`` caps one origin's. Each test's docstring carries its
derivation. Unless said otherwise: FY2027..FY2029, material X with goal 100 t from FY2027, no
opening stock, lead time 0, every option 1,000 t/FY, Fund $1,000M, discount 0, so every optimum
orders the goal's 100 t in FY2027 from the cheapest mix the rules allow, and nothing after.

Every plan goes through ``plan_scenario``, so each one has also passed the independent audit.
"""

from __future__ import annotations


import pytest

from stockpile.errors import InputError
from stockpile.scenario import rules

from conftest import HandSolved, approx, assert_same_optimum, build, make_scenario, orders_by_key

COUNTRIES = {"United States": ["domestic"], "China": ["covered"], "Congo (Kinshasa)": [],
             "Finland": ["msp"], "Japan": ["fta"], "Australia": ["fta", "msp"]}
TONNES = 1e-5

instance = HandSolved()
INSTANCES, solved = instance.builders, instance.solved


def option(name: str, origin: str, refiner: str | None, price: float) -> dict:
    spec = {"name": name, "material": "X", "kind": "import", "country": origin, "capacity": 1000.0, "price": price}
    if refiner is not None:
        spec["refiner"] = refiner
    return spec


def _three_chains(**overrides) -> dict:
    """A: Congo ore refined in China, $10,000/t; B: Congo ore refined in Finland, $14,000/t;
    C: Chinese ore refined in Japan, $12,000/t."""
    return make_scenario(countries=COUNTRIES, supply=[
        option("A", "Congo (Kinshasa)", "China", 10_000.0),
        option("B", "Congo (Kinshasa)", "Finland", 14_000.0),
        option("C", "China", "Japan", 12_000.0)], **overrides)


# ---------------------------------------------------------------------------------------------
# 1. A ban on a refining country

@instance
def refiner_ban():
    return _three_chains(policy={"bans": [{"material": "X", "tag": "covered", "stage": "refiner", "from_fy": 2027}]})


def test_a_ban_at_the_refining_stage_spares_ore_mined_there(solver):
    """Ban on tag ``covered`` at the refiner stage; China is covered.

    Effective tags at the refiner stage: A = {import, covered} (refined in China), B = {import,
    msp}, C = {import, fta} (refined in Japan; its Chinese origin is not looked at). So only A is
    banned, and the cheapest allowed option is C at $12,000/t: 100 t from C in FY2027, cost
    100 x $12,000 = 1.2 $M (1.0 $M from A without the ban). The orders table names C's origin
    China and refiner Japan; the Sourcing table's covered share is 1 (covered at either stage).
    """
    plan = solved("refiner_ban", solver)
    assert orders_by_key(plan) == {("C", 2027): approx(100.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.2)
    row = plan.tables["orders"].iloc[0]
    assert (row.country, row.refiner) == ("China", "Japan")
    sourcing = plan.tables["sourcing"].set_index(["material", "fy"])
    assert sourcing.loc[("X", 2027), "covered_share"] == approx(1.0)
    assert sourcing.loc[("X", 2027), "largest_country"] == "China"
    assert sourcing.loc[("X", 2027), "largest_refiner"] == "Japan"


@instance
def country_ban_either_stage():
    return _three_chains(policy={"bans": [{"material": "X", "tag": None, "countries": ["China"], "stage": "any",
                                           "from_fy": 2027}]})


def test_a_country_ban_at_either_stage_hits_both_chains_through_it(solver):
    """Ban on the country China at stage ``any``: A (refined in China) and C (mined in China) are
    both banned, so all 100 t come from B, Congolese ore refined in Finland, at $14,000/t:
    cost 1.4 $M. The same ban at stage ``origin`` would hit only C (A stays, 1.0 $M)."""
    plan = solved("country_ban_either_stage", solver)
    assert orders_by_key(plan) == {("B", 2027): approx(100.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.4)
    origin_only = build(_three_chains(policy={"bans": [{"material": "X", "tag": None, "countries": ["China"],
                                                        "stage": "origin", "from_fy": 2027}]}))
    assert [o.name for o in origin_only.options if rules.bans_hitting(origin_only, o, 2027)] == ["C"]


# ---------------------------------------------------------------------------------------------
# 2. A trusted floor that needs both stages

def _trust(stages: str) -> dict:
    """P: Australian ore (fta) refined in China, $10,000/t; Q: Congolese ore refined in Japan
    (fta), $11,000/t; R: Australian ore refined in Japan, $16,000/t. trusted_tags = [fta],
    trusted share of X at least 0.5."""
    return make_scenario(countries=COUNTRIES, supply=[
        option("P", "Australia", "China", 10_000.0),
        option("Q", "Congo (Kinshasa)", "Japan", 11_000.0),
        option("R", "Australia", "Japan", 16_000.0)],
        policy={"trusted_tags": ["fta"], "trusted_share": {"X": 0.5}, "trusted_stages": stages})


@instance
def trusted_floor_both_stages():
    return _trust("both")


@instance
def trusted_floor_origin_stage():
    return _trust("origin")


@instance
def trusted_floor_refiner_stage():
    return _trust("refiner")


def test_a_trusted_floor_on_both_stages_buys_the_all_partner_chain(solver):
    """trusted_stages = both: trusted only when origin and refiner are both fta: R alone.

    p + q + r = 100, r >= 0.5 x 100 = 50. The cheapest untrusted option is P ($10,000 < Q's
    $11,000), so r = 50, p = 50: cost 50 x $16,000 + 50 x $10,000 = $1.3M. Trusted share 0.5."""
    plan = solved("trusted_floor_both_stages", solver)
    assert orders_by_key(plan) == {("P", 2027): approx(50.0, TONNES), ("R", 2027): approx(50.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.3)
    sourcing = plan.tables["sourcing"].set_index(["material", "fy"])
    assert sourcing.loc[("X", 2027), "trusted_share"] == approx(0.5)


def test_a_trusted_floor_on_one_stage_only_is_cheaper(solver):
    """trusted_stages = origin: P and R are trusted (Australian ore), so all 100 t from P: 1.0 $M.
    trusted_stages = refiner: Q and R are trusted (refined in Japan); q + r >= 50 with the rest
    from P: q = 50, p = 50 (Q is cheaper than R): 50 x $11,000 + 50 x $10,000 = 1.05 $M."""
    origin = solved("trusted_floor_origin_stage", solver)
    assert orders_by_key(origin) == {("P", 2027): approx(100.0, TONNES)}
    assert origin.objective_values["cost"] == approx(1.0)
    refiner = solved("trusted_floor_refiner_stage", solver)
    assert orders_by_key(refiner) == {("P", 2027): approx(50.0, TONNES), ("Q", 2027): approx(50.0, TONNES)}
    assert refiner.objective_values["cost"] == approx(1.05)


# ---------------------------------------------------------------------------------------------
# 3. A cap on one refining country, beside the cap on one origin

@instance
def refiner_and_origin_caps():
    return make_scenario(countries=COUNTRIES, supply=[
        option("A", "Congo (Kinshasa)", "China", 10_000.0),
        option("B", "Congo (Kinshasa)", "Finland", 14_000.0),
        option("C", "Australia", "China", 12_000.0)],
        policy={"refiner_cap": 0.6, "concentration_cap": 0.7})


def test_refiner_cap_and_origin_cap_bind_together(solver):
    """A: Congo -> China $10,000/t; B: Congo -> Finland $14,000/t; C: Australia -> China
    $12,000/t. Refined in China (A + C) <= 0.6 x 100 = 60; mined in Congo (A + B) <= 0.7 x 100 = 70.

    With c = 100 - a - b: a + c <= 60 gives b >= 40; a + b <= 70 gives c >= 30. Cost in $k:
    10a + 14b + 12(100 - a - b) = 1200 - 2a + 2b, least with b as small and a as large as allowed:
    b = 40, a = 30, c = 30: $1,220k = 1.22 $M. Largest refiner China at 60%, largest origin Congo
    at 70%."""
    plan = solved("refiner_and_origin_caps", solver)
    assert orders_by_key(plan) == {("A", 2027): approx(30.0, TONNES), ("B", 2027): approx(40.0, TONNES),
                                   ("C", 2027): approx(30.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.22)
    row = plan.tables["sourcing"].set_index(["material", "fy"]).loc[("X", 2027)]
    assert (row.largest_refiner, row.largest_refiner_share, row.refiner_cap) == ("China", approx(0.6), approx(0.6))
    assert (row.largest_country, row.largest_share) == ("Congo (Kinshasa)", approx(0.7))


# ---------------------------------------------------------------------------------------------
# 4. Events by stage; validation

def test_an_event_matching_both_stages_applies_once():
    """China ore refined in China, capacity 1,000 t at $5,000/t; an event on China (stage any)
    with availability 0.5 and price 2: capacity 500 t and price $10,000/t (once, not 250 t and
    $20,000/t). An event on China at the refiner stage leaves Chinese ore refined in Japan alone."""
    raw = make_scenario(countries=COUNTRIES, supply=[option("D", "China", None, 5_000.0),
                                                     option("C", "China", "Japan", 12_000.0)],
                        events={"both": {"country": "China", "material": "X", "from_fy": 2027,
                                         "availability": 0.5, "price": 2.0},
                                "refining": {"country": "China", "stage": "refiner", "from_fy": 2028,
                                             "availability": 0.0}})
    s = build(raw)
    d, c = s.options
    assert rules.capacity(s, d, 2027) == approx(500.0)
    assert rules.unit_price(s, d, 2027) == approx(10_000.0)
    assert [event_id for event_id, _ in rules.events_hitting(s, d, 2028)] == ["both", "refining"]
    assert [event_id for event_id, _ in rules.events_hitting(s, c, 2028)] == ["both"]
    assert rules.refiner(d) == "China" and rules.refiner(c) == "Japan"


def test_an_unknown_refiner_is_an_input_error_at_its_key():
    raw = make_scenario(countries=COUNTRIES, supply=[option("A", "Congo (Kinshasa)", "Atlantis", 10_000.0)])
    with pytest.raises(InputError) as caught:
        build(raw)
    assert "supply[1].refiner" in str(caught.value) and "Atlantis" in str(caught.value)


def test_a_bad_stage_is_an_input_error_at_its_key():
    raw = _three_chains(policy={"bans": [{"material": "X", "tag": "covered", "stage": "smelter", "from_fy": 2027}]})
    with pytest.raises(InputError) as caught:
        build(raw)
    assert "policy.bans[1].stage" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Both solvers agree on every instance

@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_highs_and_cbc_agree(name):
    """HiGHS and CBC reach the same optimum: objective values to 1e-6 relative, same closing stock."""
    highs, cbc = solved(name, "highs"), solved(name, "cbc")
    assert_same_optimum(cbc, highs)
