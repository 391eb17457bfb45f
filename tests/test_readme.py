"""Every ``stockpile`` command line in README.md's code blocks runs, and exits as the README says.

A line's exit code is the ``# exit N`` comment after it (0 when it has none). In a ``&&`` chain
only the ``stockpile`` commands run: the rest sets up an environment (``python -m venv``,
``pip install``) or runs this very suite (``pytest``), which ``.ci/run`` does itself. Commands
run in a temporary folder (their output files land there), with ``scenarios/...`` read from the
checkout.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockpile.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXIT = re.compile(r"#\s*exit\s+(\d+)")
runner = CliRunner()


def readme_commands() -> list[tuple[int, str, int]]:
    """(line number, command, expected exit code) for every stockpile command in a bash block."""
    out, language = [], None
    for number, line in enumerate(README.read_text().splitlines(), start=1):
        if line.startswith("```"):
            language = None if language is not None else (line[3:].strip() or "text")
            continue
        if language not in ("bash", "sh", "shell"):
            continue
        code, _, comment = line.partition("#")
        expected = int(EXIT.search(line).group(1)) if EXIT.search(line) else 0
        for part in code.split("&&"):
            words = shlex.split(part)
            if words and words[0] == "stockpile":
                out.append((number, part.strip(), expected))
    return out


COMMANDS = readme_commands()


def test_the_readme_has_command_lines_to_run() -> None:
    assert len(COMMANDS) >= 8
    assert any(expected == 1 for _, _, expected in COMMANDS)


@pytest.mark.parametrize("number, command, expected", COMMANDS, ids=[f"line{n}" for n, _, _ in COMMANDS])
def test_readme_command_exits_as_documented(number, command, expected, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = [str(ROOT / word) if word.startswith("scenarios/") else word for word in shlex.split(command)[1:]]
    result = runner.invoke(app, args)
    assert result.exit_code == expected, f"README line {number}: {command}\n{result.output}"
    assert "Traceback" not in result.output
