"""``stockpile template`` (a scenario as an input workbook, or a workbook back as TOML) and
``stockpile init`` (a starter project)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import console, default_scenario, reported_errors
from stockpile.errors import InputError

PACKAGED_BASELINE = "baseline.toml"
"""The shipped baseline, resolved (extends and [data] applied), in stockpile/examples: what a
project made by ``stockpile init`` extends, so it needs neither this repository nor data/.
Refresh it after the baseline or data/ change:
``python -m stockpile template scenarios/baseline.toml -o stockpile/examples/baseline.toml --force``."""

STARTER_SCENARIO = '''\
# My scenario: the shipped baseline with one change, to edit and solve.
#
# `extends` reads every setting of the baseline (FY2026-FY2040, the four materials, every supply
# option and recycling stream, the Transaction Fund, today's policy); the keys below override
# it. Money is in dollars, quantities in tonnes of contained metal, years are fiscal years.
# The file format is described in the stockpile README ("Scenario files").

extends = "../base/baseline.toml"
name = "My scenario: the baseline with $25M a year more"
description = "The baseline with $25M a year more appropriation: $75M a year instead of the enacted $50M."

[fund]
# The baseline: $50M a year as enacted, plus $186.25M a year in FY2026-FY2029 (these four
# materials' share of the $2B of P.L. 119-21); this asks what $25M a year more buys.
appropriation = { 2026 = 261.25e6, 2030 = 75e6 }

# More things to try (uncomment one):
# [objective]
# discount_rate = 0.05           # a higher real discount rate
#
# [[supply]]
# name = "Perpetua Stibnite"     # an entry named as in the baseline overrides its keys
# first_fy = 2031                # the project comes on line later
'''

STARTER_README = '''\
# {name}

A stockpile project: `scenarios/my-scenario.toml` extends the shipped baseline
(`base/baseline.toml`, resolved from the data sources); `scenarios/my-scenario.xlsx` is the same
scenario as an input workbook to edit in Excel or LibreOffice.

Next three commands:

    stockpile solve scenarios/my-scenario.toml -o plan.xlsx --json plan.json
    stockpile solve scenarios/my-scenario.xlsx -o plan-from-excel.xlsx     # after editing the workbook
    stockpile template --from scenarios/my-scenario.xlsx -o scenarios/edited.toml   # the edits as TOML

`stockpile validate FILE` checks a scenario without solving; `stockpile --help` lists the rest.
'''


def default_baseline() -> Path:
    """The shipped baseline: the repository's scenarios/baseline.toml, else the packaged copy."""
    found = default_scenario()
    if found.name == "baseline.toml":
        return found
    return Path(str(resources.files("stockpile") / "examples" / PACKAGED_BASELINE))


def template(
    scenario: Annotated[Optional[Path], typer.Argument(
        help="Scenario TOML file or input workbook (default: scenarios/baseline.toml, fully expanded).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Write the input workbook (.xlsx) or, "
                                                                 "from a workbook, TOML (.toml).")] = ...,
    from_workbook: Annotated[Optional[Path], typer.Option(
        "--from", help="Read this input workbook (or scenario) instead of SCENARIO.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
) -> None:
    """Write a scenario as an input workbook a planner edits, or a workbook back as commented TOML."""
    from stockpile.outputs.files import atomic_write, check_writable
    from stockpile.outputs.template import write_template
    from stockpile.scenario.load import load_scenario
    from stockpile.scenario.toml_text import scenario_toml

    with reported_errors():
        if scenario is not None and from_workbook is not None:
            raise InputError(from_workbook, "--from", "give either SCENARIO or --from, not both")
        source = from_workbook or scenario or default_baseline()
        suffix = output.suffix.lower()
        if suffix not in (".xlsx", ".toml"):
            raise InputError(output, "-o", "write an input workbook (.xlsx) or a scenario file (.toml)")
        check_writable(output, force)
        s = load_scenario(source)

        def write(tmp: Path) -> None:
            if suffix == ".xlsx":
                write_template(s, tmp, str(source), force=True)
            else:
                tmp.write_text(scenario_toml(s, f"{s.name}\nfrom {source} (sha256 {s.sha256})"), encoding="utf-8")
            # Read back before the file is put in place: what is written must be the same scenario.
            if load_scenario(tmp).sha256 != s.sha256:
                raise InputError(source, None, f"cannot be written as {suffix[1:].upper()} exactly (a value "
                                               f"such as a ban with no tag has no {suffix} form); nothing written")

        atomic_write(output, write, force=force)
    console.print(f"{output}: {s.name!r} from {source} (sha256 {s.sha256[:12]}).")


def init(directory: Annotated[Path, typer.Argument(help="The folder to create (must be new or empty).")]) -> None:
    """Start a project: a scenario extending the shipped baseline, its input workbook, a README."""
    from stockpile.outputs.template import write_template
    from stockpile.scenario.load import load_scenario

    with reported_errors():
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise InputError(directory, None, "already exists and is not an empty folder")
        baseline = resources.files("stockpile") / "examples" / PACKAGED_BASELINE
        (directory / "base").mkdir(parents=True, exist_ok=True)
        (directory / "scenarios").mkdir(exist_ok=True)
        (directory / "base" / "baseline.toml").write_text(baseline.read_text(encoding="utf-8"), encoding="utf-8")
        scenario_path = directory / "scenarios" / "my-scenario.toml"
        scenario_path.write_text(STARTER_SCENARIO, encoding="utf-8")
        s = load_scenario(scenario_path)
        write_template(s, directory / "scenarios" / "my-scenario.xlsx", str(scenario_path))
        (directory / "README.md").write_text(STARTER_README.format(name=directory.name), encoding="utf-8")
    console.print(f"{directory}: a stockpile project. Next: cd {directory} && stockpile solve "
                  f"scenarios/my-scenario.toml -o plan.xlsx (see {directory / 'README.md'}).")
