"""Layer checks over the ``import`` statements of src/longtrack (read with ``ast``, nothing imported).

* No import cycle between modules: imports inside functions count too (a lazy import hides a
  cycle from Python, not from a reader). Imports under ``if TYPE_CHECKING:`` are annotations only
  and do not count.
* Nothing in ``models/`` or ``backbones/`` imports ``train/``, ``trackers/`` or ``commands/``:
  networks are the lower layer that training and tracking build on.
* Trackers build on ``contract.py``, never on the front door ``api.py`` (``create``,
  ``track_video``), which sits above them.

Repeat by hand: ``python3 -m pytest -q tests/test_layers.py``, or ``python3 tests/test_layers.py``
to print the module count, the cycles and the upward imports it finds (``none`` for each today).
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "longtrack"
LOWER_LAYERS = ("longtrack.models", "longtrack.backbones")
UPPER_LAYERS = ("longtrack.train", "longtrack.trackers", "longtrack.commands")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module.
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imported_modules(path, set(paths)) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def _in(name: str, layers: tuple[str, ...]) -> bool:
    return any(name == layer or name.startswith(layer + ".") for layer in layers)


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """``(importer, imported)`` pairs where models/ or backbones/ import train/, trackers/ or commands/."""
    return sorted((src, dst) for src, targets in graph.items() if _in(src, LOWER_LAYERS)
                  for dst in targets if _in(dst, UPPER_LAYERS))


def test_cycle_finder_and_import_reader(tmp_path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    graph = {"longtrack.models.net": {"longtrack.trackers.run", "longtrack.ops.nms"},
             "longtrack.train.loop": {"longtrack.models.net"}}
    assert upward_imports(graph) == [("longtrack.models.net", "longtrack.trackers.run")]
    registry = imported_modules(PACKAGE / "registry.py", set(import_graph()))
    assert "longtrack.errors" in registry and "longtrack.trackers" not in registry


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_models_and_backbones_import_no_upper_layer():
    assert upward_imports(import_graph()) == []


def test_trackers_build_on_the_contract_not_the_front_door():
    graph = import_graph()
    assert "longtrack.contract" in graph["longtrack.trackers.classic_lt"]
    assert sorted(src for src, targets in graph.items()
                  if _in(src, ("longtrack.trackers",)) and "longtrack.api" in targets) == []


if __name__ == "__main__":
    graph = import_graph()
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports between them")
    print("import cycles:", cycles(graph) or "none")
    print("upward imports from models/ or backbones/:", upward_imports(graph) or "none")
