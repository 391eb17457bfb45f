"""Large, realistic, reproducible scenarios for the benchmark (and for the hedge issue's futures).

``generate(materials=M, options=S, years=Y, seed=...)`` returns the plain dict
:func:`stockpile.scenario.scenario_from_dict` takes: M materials with S ways to add each
(imports from producing countries, domestic and partner projects, recycling streams) over Y fiscal
years from FY2027. Everything is drawn from ``random.Random(seed)`` only, so the same arguments
give the same scenario, byte for byte, on any machine.

Shapes and magnitudes follow ``scenarios/baseline.toml`` (see README, "Shipped scenarios"):

* materials: opening stock of a few hundred to a few thousand tonnes, goals ramping to a year of
  consumption (about $300M of material at today's price) five FYs into the horizon, storage loss
  0.1-0.2% a FY; a few with disposals allowed, pipeline deliveries, a drawdown or an AMP limit;
* options: imports one per producing country (heavy-tailed capacities, 1 t to several thousand
  t a FY, like USGS mine output x 5%), prices $10k-80k/t (country spread +-10%, some escalating),
  lead time 1 FY; domestic and partner projects at a 10-30% premium, opening later, with lead
  times of 1-3 FYs; recycling streams (feedstock x 50-90% yield) at 85% of the price; convex
  price tiers on one purchase option in ten (``tier_share``; the baseline has none);
* the Fund: $68M opening balance, $31M a FY of appropriation and $12.5M of operating cost per
  material (the baseline's $270M, $125M and $50M for four), holding cost $100/t-yr;
* policy: MSP/FTA/domestic/recycling trusted, a 30-50% trusted-share floor per material, a
  ``covered`` ban on about one material in ten (10 U.S.C. 4872 on tungsten), an optional
  single-country concentration cap (the baseline has none);
* events: open-ended export bans by a covered producer on about a quarter of the materials
  (China on antimony), and two-year disruptions of a top producer (availability 50%, price +30%).

``generate_futures(raw, k, seed)`` draws K disruption futures for a scenario (the stochastic
version): each is a dict ``{"name", "probability", "events"}`` whose ``events`` table is merged
over the scenario's ``[events]`` (same schema). ``with_uncertainty(raw, futures)`` writes them as
the scenario's ``[uncertainty]`` tree, the input of ``stockpile hedge``; ``future_scenarios(raw,
futures)`` turns them into K ordinary scenario dicts, each solvable on its own.

``to_toml(raw)`` writes any of these dicts as a scenario file. From the command line::

    python -m bench.generate --materials 50 --options 40 --years 15 --seed 1 -o big.toml
    python -m bench.generate --materials 8 --options 10 --years 10 --futures 20 -o futures/
    stockpile hedge futures/hedge.toml
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
from pathlib import Path

FIRST_FY = 2027

# Countries with the policy tags they carry in data/country_tags.csv (MSP members, FTA partners,
# 10 U.S.C. 4872 covered nations), and producers without tags. Enough for 40+ imports a material.
COUNTRIES: dict[str, tuple[str, ...]] = {
    "United States": ("domestic", "msp"),
    "Australia": ("fta", "msp"), "Canada": ("fta", "msp"), "Republic of Korea": ("fta", "msp"),
    "Japan": ("fta", "msp"), "Chile": ("fta",), "Peru": ("fta",), "Mexico": ("fta",),
    "Morocco": ("fta",), "Colombia": ("fta",), "Guatemala": ("fta",), "Israel": ("fta",),
    "Finland": ("msp",), "Sweden": ("msp",), "Norway": ("msp",), "France": ("msp",),
    "Germany": ("msp",), "India": ("msp",), "United Kingdom": ("msp",), "Estonia": ("msp",),
    "Italy": ("msp",),
    "China": ("covered",), "Russia": ("covered",), "Iran": ("covered",), "North Korea": ("covered",),
    "Congo (Kinshasa)": (), "Indonesia": (), "Philippines": (), "Bolivia": (), "Burma": (),
    "Tajikistan": (), "Turkey": (), "Vietnam": (), "Argentina": (), "Brazil": (), "Zimbabwe": (),
    "Namibia": (), "Portugal": (), "Spain": (), "Austria": (), "Rwanda": (), "Kazakhstan": (),
    "Kyrgyzstan": (), "Laos": (), "Pakistan": (), "Madagascar": (), "Cuba": (),
    "Papua New Guinea": (), "New Caledonia": (), "South Africa": (), "Zambia": (), "Gabon": (),
    "Ghana": (), "Malaysia": (), "Thailand": (), "Mongolia": (), "Uzbekistan": (), "Nigeria": (),
    "Mozambique": (), "Tanzania": (), "Uganda": (),
}
PROJECT_COUNTRIES = ("United States", "United States", "Canada", "Australia", "Republic of Korea",
                     "Japan", "Finland", "Sweden")
COVERED = tuple(c for c, tags in COUNTRIES.items() if "covered" in tags)
FOREIGN = tuple(c for c in COUNTRIES if c != "United States")

# The first materials carry real names (the NDS holds about fifty); later ones are numbered.
ELEMENTS = [
    ("Sb", "Antimony"), ("Co", "Cobalt"), ("Li", "Lithium"), ("W", "Tungsten"), ("Ga", "Gallium"),
    ("Ge", "Germanium"), ("Ta", "Tantalum"), ("Nb", "Niobium"), ("Be", "Beryllium"), ("Bi", "Bismuth"),
    ("Cr", "Chromium"), ("Mn", "Manganese"), ("Ni", "Nickel"), ("Sn", "Tin"), ("Ti", "Titanium"),
    ("V", "Vanadium"), ("Zr", "Zirconium"), ("Hf", "Hafnium"), ("In", "Indium"), ("Te", "Tellurium"),
    ("Re", "Rhenium"), ("Pt", "Platinum"), ("Pd", "Palladium"), ("Ir", "Iridium"), ("Rh", "Rhodium"),
    ("Nd", "Neodymium"), ("Pr", "Praseodymium"), ("Dy", "Dysprosium"), ("Tb", "Terbium"),
    ("Sm", "Samarium"), ("Y", "Yttrium"), ("La", "Lanthanum"), ("Ce", "Cerium"), ("Eu", "Europium"),
    ("Gd", "Gadolinium"), ("Er", "Erbium"), ("Yb", "Ytterbium"), ("Lu", "Lutetium"), ("Sc", "Scandium"),
    ("Mg", "Magnesium"), ("Al", "Aluminum"), ("Cu", "Copper"), ("Zn", "Zinc"), ("Mo", "Molybdenum"),
    ("Cd", "Cadmium"), ("Cs", "Cesium"), ("Rb", "Rubidium"), ("As", "Arsenic"), ("Ba", "Barite"),
    ("F", "Fluorspar"),
]


def _round(value: float, digits: int = 4) -> float:
    """Round to ``digits`` significant figures, as a planner writes figures (and TOML keeps short)."""
    if value == 0:
        return 0.0
    return float(round(value, digits - 1 - int(math.floor(math.log10(abs(value))))))


def _material_codes(n: int) -> list[tuple[str, str]]:
    return [ELEMENTS[i] if i < len(ELEMENTS) else (f"M{i + 1:03d}", f"Material {i + 1}") for i in range(n)]


def generate(materials: int = 50, options: int = 40, years: int = 15, seed: int = 0,
             concentration_cap: float | None = None, name: str | None = None,
             tier_share: float = 0.1, funding: float = 1.0) -> dict:
    """A scenario of ``materials`` x ``options`` x ``years`` as the dict the schema takes.

    ``options`` counts every way to add a material (imports, projects, recycling streams).
    """
    if materials < 1 or options < 3 or years < 2:
        raise ValueError("need at least 1 material, 3 options per material and 2 FYs")
    rng = random.Random(f"stockpile-bench:{materials}:{options}:{years}:{seed}")
    first, last = FIRST_FY, FIRST_FY + years - 1
    goal_fy = min(first + 5, last)
    codes = _material_codes(materials)
    raw: dict = {
        "name": name or f"Generated {materials} materials x {options} options x {years} FYs (seed {seed})",
        "description": "Synthetic scenario from bench/generate.py with the baseline's shapes and magnitudes.",
        "horizon": {"first_fy": first, "last_fy": last},
        "countries": {country: list(tags) for country, tags in COUNTRIES.items()},
        "materials": {},
        "supply": [],
        "recycling": [],
        "fund": {
            "opening_balance": _round(68e6 * materials),
            "floor": 0.0,
            "appropriation": {str(first): _round(31.25e6 * materials * 0.8 * funding),
                              str(min(first + 2, last)): _round(31.25e6 * materials * funding)},
            "operating_cost": _round(12.5e6 * materials),
            "holding_cost": 100.0,
        },
        "policy": {
            "trusted_tags": ["msp", "fta", "domestic", "recycling"],
            "trusted_share": {},
            "bans": [],
        },
        "events": {},
        "objective": {"mode": "lexicographic", "discount_rate": 0.03},
        "solver": {"name": "highs", "time_limit": 3600.0},
    }
    if concentration_cap is not None:
        raw["policy"]["concentration_cap"] = concentration_cap
    n_recycling = max(1, round(0.1 * options))
    n_projects = max(1, round(0.15 * options))
    n_imports = options - n_recycling - n_projects
    for index, (code, label) in enumerate(codes):
        price = _round(rng.uniform(10_000, 80_000))
        goal_value = rng.lognormvariate(math.log(250e6), 0.5)
        goal = goal_value / price
        opening = goal * rng.uniform(0.0, 0.4)
        material: dict = {
            "name": label,
            "weight": rng.choice((1.0, 1.0, 1.0, 1.5, 2.0)),
            "opening_inventory": _round(opening),
            "goal": {"ramp": {str(first): _round(opening), str(goal_fy): _round(goal)}},
            "loss_rate": rng.choice((0.001, 0.001, 0.002)),
        }
        roll = rng.random()
        if roll < 0.08:   # excess stock for sale, like tungsten's past disposals
            material["opening_inventory"] = _round(goal * 1.3)
            material["goal"] = _round(goal)
            material["disposal"] = {"allowed": True, "price": _round(price * 0.8),
                                    "max_per_fy": _round(goal * 0.05)}
        elif roll < 0.16:
            material["pipeline"] = {str(first): _round(goal * 0.05), str(first + 1): _round(goal * 0.03)}
        elif roll < 0.2:
            material["draw"] = {str(first + years // 2): _round(goal * 0.3)}
        if rng.random() < 0.1:
            material["amp_limit"] = _round(goal * 0.4)
        raw["materials"][code] = material
        raw["policy"]["trusted_share"][code] = rng.choice((0.3, 0.5, 0.5))
        # Imports: one per producing country, heavy-tailed capacity, a year's total ~ goal / 4.
        total_capacity = goal / 5 * rng.uniform(1.0, 2.2)
        countries = rng.sample(FOREIGN, min(n_imports, len(FOREIGN)))
        while len(countries) < n_imports:
            countries.append(rng.choice(FOREIGN))
        shares = [rng.lognormvariate(0, 1.4) for _ in countries]
        scale = total_capacity / sum(shares)
        seen: dict[str, int] = {}
        escalation = rng.choice((0.0, 0.0, 0.01, 0.02))
        for country, share in zip(countries, shares):
            seen[country] = seen.get(country, 0) + 1
            suffix = "" if seen[country] == 1 else f" {seen[country]}"
            option = {"name": f"{country} {label.lower()} import{suffix}", "material": code,
                      "kind": "import", "country": country, "lead_time": 1,
                      "capacity": max(_round(share * scale, 3), 1.0),
                      "price": _round(price * rng.uniform(0.9, 1.1))}
            if escalation:
                option["escalation"] = escalation
            if rng.random() < tier_share:
                option["tiers"] = _tiers(rng, option["capacity"])
            raw["supply"].append(option)
        for p in range(n_projects):
            country = rng.choice(PROJECT_COUNTRIES)
            kind = "domestic" if country == "United States" else "partner_project"
            capacity = _round(goal / 10 * rng.uniform(0.3, 1.5))
            option = {"name": f"{label} project {p + 1} ({country})", "material": code, "kind": kind,
                      "country": country, "lead_time": rng.choice((1, 1, 2, 3)),
                      "first_fy": first + rng.randrange(0, min(6, years)),
                      "capacity": capacity, "price": _round(price * rng.uniform(1.1, 1.3))}
            if rng.random() < tier_share:
                option["tiers"] = _tiers(rng, capacity)
            raw["supply"].append(option)
        for r in range(n_recycling):
            raw["recycling"].append({
                "name": f"{label} recycling stream {r + 1}", "material": code,
                "feedstock": _round(goal / 20 * rng.uniform(0.2, 1.0)),
                "recovery_yield": rng.choice((0.5, 0.6, 0.75, 0.9)),
                "cost": _round(price * rng.uniform(0.8, 0.9))})
        if index % 10 == 3:   # a tungsten-like 10 U.S.C. 4872 ban
            raw["policy"]["bans"].append({"material": code, "tag": "covered", "from_fy": first,
                                          "reason": "10 U.S.C. 4872 (generated)"})
        covered_here = [c for c in countries if c in COVERED]
        if covered_here and rng.random() < 0.25:   # an antimony-like export ban, open-ended
            raw["events"][f"{covered_here[0].lower().replace(' ', '-')}-{code.lower()}-ban"] = {
                "country": covered_here[0], "material": code, "from_fy": first, "availability": 0.0,
                "description": "generated export ban"}
        if rng.random() < 0.3:   # a two-year disruption of the largest producer
            top = countries[max(range(len(countries)), key=lambda i: shares[i])]
            start = first + rng.randrange(1, max(2, years - 2))
            raw["events"][f"{code.lower()}-disruption"] = {
                "country": top, "material": code, "from_fy": start, "to_fy": min(start + 1, last),
                "availability": 0.5, "price": 1.3, "description": "generated disruption"}
    return raw


def _tiers(rng: random.Random, capacity: float) -> list[dict]:
    first = _round(capacity * rng.uniform(0.3, 0.5))
    second = _round(capacity * rng.uniform(0.6, 0.8))
    if second <= first:
        second = _round(first * 1.5)
    return [{"up_to": first, "factor": 1.0}, {"up_to": second, "factor": _round(rng.uniform(1.1, 1.2))},
            {"factor": _round(rng.uniform(1.25, 1.5))}]


def size_of(raw: dict) -> dict[str, int]:
    """Columns, rows and nonzeros of the LP ``raw`` builds (validates and builds it)."""
    from stockpile.model.build import build
    from stockpile.scenario.load import scenario_from_dict

    lp = build(scenario_from_dict(raw)).lp
    return {"variables": lp.n_cols, "rows": lp.n_rows, "nonzeros": lp.n_nonzeros}


# ---------------------------------------------------------------------------------------------
# K futures (the stochastic version)

def generate_futures(raw: dict, k: int, seed: int = 0, disruption_rate: float = 0.3,
                     from_fy: int | None = None) -> list[dict]:
    """K disruption futures of a scenario, equally likely, as data.

    Each future is ``{"name": "future-001", "probability": 1/K, "events": {id: event}}``: in
    each, every material independently (with ``disruption_rate``) loses part of a producer's
    supply (a country among its imports, larger producers likelier) from a random FY at or after
    ``from_fy`` (default: two FYs into the horizon, the default decision FY) for one to four FYs,
    at availability 0, 25% or 50% and a price 0-60% higher. The events use the scenario's
    ``[events]`` schema, to be merged over its own events (a future's ids never collide with
    them). Deterministic in (scenario name, k, seed).
    """
    rng = random.Random(f"stockpile-futures:{raw['name']}:{k}:{seed}")
    first, last = raw["horizon"]["first_fy"], raw["horizon"]["last_fy"]
    start_fy = min(max(first, from_fy if from_fy is not None else first + 2), last)
    imports: dict[str, list[tuple[str, float]]] = {}
    for option in raw.get("supply", []):
        if option.get("kind") == "import":
            capacity = option["capacity"]
            size = capacity if isinstance(capacity, (int, float)) else 1.0
            imports.setdefault(option["material"], []).append((option["country"], float(size)))
    futures = []
    for i in range(k):
        events = {}
        for code in raw["materials"]:
            producers = imports.get(code)
            if not producers or rng.random() >= disruption_rate:
                continue
            country = rng.choices([c for c, _ in producers], weights=[w for _, w in producers])[0]
            start = rng.randint(start_fy, last)
            events[f"future-{i + 1:03d}-{code.lower()}"] = {
                "country": country, "material": code, "from_fy": start,
                "to_fy": min(start + rng.randint(0, 3), last),
                "availability": rng.choice((0.0, 0.25, 0.5)), "price": _round(rng.uniform(1.0, 1.6)),
                "description": f"future {i + 1}: {country} supply of {code} disrupted"}
        futures.append({"name": f"future-{i + 1:03d}", "probability": 1.0 / k, "events": events})
    return futures


def with_uncertainty(raw: dict, futures: list[dict], decision_fy: int | None = None) -> dict:
    """The scenario with the futures as its ``[uncertainty]`` tree, for ``stockpile hedge``.

    Orders before ``decision_fy`` (default: two FYs into the horizon) are shared by every future.
    The probabilities are rescaled to sum to exactly 1 (the schema checks the sum to 1e-9).
    """
    scenario = copy.deepcopy(raw)
    total = math.fsum(f["probability"] for f in futures)
    scenario["uncertainty"] = {
        "decision_fy": decision_fy if decision_fy is not None else raw["horizon"]["first_fy"] + 2,
        "futures": {f["name"]: {"probability": f["probability"] / total,
                                "description": f"{len(f['events'])} disruptions",
                                "events": copy.deepcopy(f["events"])} for f in futures},
    }
    return scenario


def future_scenarios(raw: dict, futures: list[dict]) -> list[dict]:
    """One ordinary scenario dict per future: the scenario with that future's events added."""
    result = []
    for future in futures:
        scenario = copy.deepcopy(raw)
        scenario["name"] = f"{raw['name']} / {future['name']}"
        scenario["events"] = {**scenario.get("events", {}), **copy.deepcopy(future["events"])}
        result.append(scenario)
    return result


# ---------------------------------------------------------------------------------------------
# TOML

def to_toml(raw: dict) -> str:
    """The scenario dict as a TOML scenario file (the subset of TOML these dicts need)."""
    lines: list[str] = []
    scalars = {k: v for k, v in raw.items() if not isinstance(v, (dict, list))}
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in raw.items():
        if isinstance(value, dict):
            _table(lines, [key], value)
    for key, value in raw.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append("")
                lines.append(f"[[{_key(key)}]]")
                for k, v in item.items():
                    lines.append(f"{_key(k)} = {_value(v)}")
    return "\n".join(lines) + "\n"


def _table(lines: list[str], path: list[str], table: dict) -> None:
    plain = {k: v for k, v in table.items() if not (isinstance(v, dict) and _is_section(v))}
    lines.append("")
    lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    for k, v in plain.items():
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in table.items():
        if k not in plain:
            _table(lines, path + [k], v)


def _is_section(value: dict) -> bool:
    """A nested table written as its own [section] (materials, events), not inline (series)."""
    return any(isinstance(v, dict) for v in value.values()) and not (set(value) == {"ramp"})


def _key(key) -> str:
    key = str(key)
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise ValueError("TOML has no null: leave the key out")
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--materials", type=int, default=50)
    parser.add_argument("--options", type=int, default=40)
    parser.add_argument("--years", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concentration-cap", type=float, default=None)
    parser.add_argument("--futures", type=int, default=0,
                        help="also write K disruption futures (futures.json and one scenario file each)")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="scenario .toml (or .json) file; with --futures, a folder")
    args = parser.parse_args(argv)
    raw = generate(args.materials, args.options, args.years, args.seed, args.concentration_cap)
    if args.futures:
        folder = args.output
        folder.mkdir(parents=True, exist_ok=True)
        futures = generate_futures(raw, args.futures, args.seed)
        (folder / "scenario.toml").write_text(to_toml(raw), encoding="utf-8")
        (folder / "hedge.toml").write_text(to_toml(with_uncertainty(raw, futures)), encoding="utf-8")
        (folder / "futures.json").write_text(json.dumps(futures, indent=1), encoding="utf-8")
        for future, scenario in zip(futures, future_scenarios(raw, futures)):
            (folder / f"{future['name']}.toml").write_text(to_toml(scenario), encoding="utf-8")
        print(f"wrote {folder}/scenario.toml, hedge.toml (for stockpile hedge), futures.json and "
              f"{len(futures)} future scenarios")
        return
    text = json.dumps(raw, indent=1) if args.output.suffix == ".json" else to_toml(raw)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
