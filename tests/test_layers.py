"""The package's rooms stay in pipeline order.

stockpile/ reads as the pipeline: ``scenario/`` -> ``model/`` -> ``solve/`` -> ``plan/`` ->
``outputs/`` -> ``analysis/`` -> ``cli/``, on a foundation (``errors.py``) every layer may use.
These tests parse every module's imports (module-level and inside functions alike, since a lazy
import is still a dependency) and fail on:

* an import from a later layer (``plan/`` importing ``analysis/``);
* a cycle of modules importing each other, within a layer or across;
* a private name (``_x``) imported from, or reached into, another module;
* a module over 500 lines.

The checker is tested too: a copy of the package with a deliberately added cycle, upward import
and private import must fail it.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "stockpile"
LAYERS = ("scenario", "model", "solve", "plan", "outputs", "analysis", "cli")
FOUNDATION = ("errors",)
FACE = ("__init__", "__main__")  # the package's own face may import from any layer
MAX_LINES = 500


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. stockpile.plan.read
    imported: str  # dotted module name
    names: tuple[str, ...]  # names taken from it (empty for ``import x``)
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imports_of(path: Path, name: str, known: set[str], root: Path) -> list[Import]:
    """Every import of a module of the package, resolved to the module it names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = root.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == top:
                    found.append(Import(name, _nearest(alias.name, known), (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != top:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in known:  # ``from stockpile.scenario import rules``
                    found.append(Import(name, submodule, (), node.lineno))
                else:
                    found.append(Import(name, _nearest(target, known), (alias.name,), node.lineno))
    return found


def _nearest(dotted: str, known: set[str]) -> str:
    while dotted not in known and "." in dotted:
        dotted = dotted.rpartition(".")[0]
    return dotted


def layer_of(module: str) -> int | None:
    """0 for the foundation, 1.. for the pipeline's layers, None for the package's face."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in FACE:
        return None
    if parts[0] in FOUNDATION:
        return 0
    return LAYERS.index(parts[0]) + 1


def private_reaches(path: Path, name: str, imported_modules: dict[str, str]) -> list[str]:
    """``module._private`` attribute reads on a package module this file imported as a name."""
    problems = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules and _private(node.attr)):
            problems.append(f"{name}:{node.lineno} reaches into {imported_modules[node.value.id]}.{node.attr}")
    return problems


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def layering_problems(root: Path = PACKAGE) -> list[str]:
    """Every breach of the rules in this module's docstring, as readable lines (empty: none)."""
    found = modules(root)
    known = set(found)
    problems: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in found}
    top = root.name
    for name, path in found.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            problems.append(f"{name} has {lines} lines (at most {MAX_LINES})")
        as_names: dict[str, str] = {}
        for imp in imports_of(path, name, known, root):
            if imp.imported == name or imp.imported == top and not imp.names:
                continue
            mine, theirs = layer_of(name), layer_of(imp.imported)
            if mine is not None and theirs is not None and theirs > mine:
                problems.append(f"{name}:{imp.line} imports {imp.imported} from a later layer")
            if mine is not None and theirs is None:
                problems.append(f"{name}:{imp.line} imports the package's face {imp.imported}")
            for taken in imp.names:
                if _private(taken):
                    problems.append(f"{name}:{imp.line} imports the private name {taken} from {imp.imported}")
            if not imp.names:
                as_names[imp.imported.rpartition(".")[2]] = imp.imported
            if layer_of(name) is not None or layer_of(imp.imported) is not None:
                graph[name].add(imp.imported)
        problems += private_reaches(path, name, as_names)
    problems += [f"import cycle among {', '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules of each strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_keeps_its_layers() -> None:
    problems = layering_problems()
    assert not problems, "\n".join(problems)


def test_every_layer_is_a_folder_in_pipeline_order() -> None:
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert sorted(LAYERS) == folders
    loose = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert loose == sorted(FACE + FOUNDATION)


def test_the_checker_catches_a_cycle_an_upward_import_and_a_private_import(tmp_path: Path) -> None:
    """The rules bite: a copy of the package with each breach added is reported, breach by breach."""
    copy = tmp_path / "stockpile"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = set(layering_problems(copy))

    def added() -> set[str]:
        return set(layering_problems(copy)) - before

    model_init = copy / "model" / "__init__.py"
    scenario_init = copy / "scenario" / "__init__.py"
    # A cycle: model imports scenario (allowed), scenario imports model (upward, and a cycle).
    model_init.write_text(model_init.read_text() + "\nfrom stockpile import scenario  # noqa\n")
    scenario_init.write_text(scenario_init.read_text() + "\nimport stockpile.model  # noqa\n")
    problems = added()
    assert "import cycle among stockpile.model, stockpile.scenario" in problems
    assert any(p.startswith("stockpile.scenario:") and "later layer" in p for p in problems)
    # A private name taken from another module.
    errors_py = copy / "errors.py"
    errors_py.write_text(errors_py.read_text() + "\n_hidden = 1\n")
    scenario_init.write_text("from stockpile.errors import _hidden  # noqa\n")
    assert any("private name _hidden" in p for p in added())
    # A cycle inside one layer, through a lazy import.
    (copy / "plan" / "first.py").write_text("def f():\n    from stockpile.plan import second  # noqa\n")
    (copy / "plan" / "second.py").write_text("from stockpile.plan import first  # noqa\n")
    assert "import cycle among stockpile.plan.first, stockpile.plan.second" in added()
