"""Import structure of ``sim``, read from the source with ``ast``: no module imports itself through
others (function-level imports count: a lazy import does not hide a cycle), and the core packages
depend one way only: scenario -> world -> routing -> transit -> model."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx

from tests.conftest import ROOT

SIM = ROOT / "sim"
#: Each package may import only the packages before it (and anything outside this list).
CORE = ("scenario", "world", "routing", "transit", "model")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return out


def import_graph() -> nx.DiGraph:
    """Module -> module imports inside ``sim`` (top-level and function-level, not TYPE_CHECKING)."""
    files = {_module_name(p): p for p in SIM.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        skip = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                found = resolve(target) if target.split(".")[0] == "sim" else None
                if found is not None and found != module:
                    graph.add_edge(module, found)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sim"


def test_the_graph_sees_known_imports() -> None:
    """The parser finds real imports of each kind (so an empty graph cannot pass the tests below)."""
    graph = import_graph()
    assert graph.has_edge("sim.routing.tables", "sim.world.network")  # top-level from-import
    assert graph.has_edge("sim.cli", "sim.runner")  # function-level import
    assert not graph.has_edge("sim.scenario.checks", "sim.scenario.load")  # TYPE_CHECKING only
    assert graph.number_of_edges() > 200


def test_no_module_import_cycle() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == [], f"import cycles among sim modules: {cycles}"


def test_core_packages_depend_one_way() -> None:
    """scenario -> world -> routing -> transit -> model: no package imports one after it, directly
    or through any chain of other sim packages."""
    graph = import_graph()
    packages: dict[str, set[str]] = defaultdict(set)
    for a, b in graph.edges:
        if _package(a) != _package(b):
            packages[_package(a)].add(_package(b))
    pg = nx.DiGraph([(a, b) for a, bs in packages.items() for b in bs])
    wrong = []
    for i, low in enumerate(CORE):
        for high in CORE[i + 1 :]:
            if low in pg and high in pg and nx.has_path(pg, low, high):
                wrong.append(f"{low} -> {' -> '.join(nx.shortest_path(pg, low, high)[1:])}")
    assert wrong == [], f"core packages import the layers above them: {wrong}"
