"""The areas stand in layers: no area imports a higher one, so no two areas import each other.

The graph is built from the source with ``ast``: every ``import`` and ``from ... import`` in a
module counts, at the top or inside a function. An area is a package under ``civicvote/``. The
shared top-level modules (``security``, ``viewhelpers``, ``errors`` ...) are not areas: an area
that imports one depends on whatever areas that module imports (``security`` loads communities).
The composition roots (``app``, ``cli``, ``demo``, ``models``, ``wsgi``) import every area and are
imported by none. docs/architecture.md explains the layers.
"""

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "civicvote"
ROOTS = {"civicvote", "civicvote.__main__", "civicvote.app", "civicvote.cli", "civicvote.demo"}
ROOTS |= {"civicvote.models", "civicvote.wsgi"}

# Bottom to top. An import goes to the same area or to an area of a lower layer.
LAYERS = (
    ("allocation", "audit", "uploads"),
    ("communities",),
    ("accounts",),
    ("main", "organizations"),
    ("rounds",),
    ("intake",),
    ("proposals",),
    ("ballots",),
    ("registry",),
    ("checkin",),
    ("voting",),
    ("results",),
    ("delivery",),
    ("board",),
    ("reports", "audit pages", "workbench"),
    ("api",),
)
# Every area writes to the audit log, so the log stands at the bottom; its pages (a community's
# public log, the administrators' log) tell each entry in words, naming and linking the ballot,
# proposal, need... it is about, so like the round report they read every area and stand on top.
SPLIT = {
    "civicvote.audit.views": "audit pages",
    "civicvote.audit.describe": "audit pages",
    "civicvote.audit.changes": "audit pages",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    target: str  # the imported module


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _targets(node, module: str, is_package: bool, modules) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    source = node.module if not node.level else ".".join(filter(None, (base, node.module)))
    # "from package import name": the submodule if there is one, else the package.
    return [
        f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
        for alias in node.names
    ]


def _imports() -> list[Import]:
    modules = _modules()
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                is_package = path.name == "__init__.py"
                for target in _targets(node, module, is_package, modules):
                    if target == "civicvote" or target.startswith("civicvote."):
                        found.append(Import(module, node.lineno, target))
    return found


def _area(module: str) -> str | None:
    """The area a module belongs to; None for the top-level modules."""
    for prefix, part in SPLIT.items():
        if module == prefix or module.startswith(prefix + "."):
            return part
    parts = module.split(".")
    if len(parts) > 2 or (PACKAGE / parts[-1]).is_dir():
        return parts[1] if len(parts) > 1 else None
    return None


def _nearest_module(target: str, modules) -> str:
    while target not in modules and "." in target:
        target = target.rpartition(".")[0]
    return target


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    why: str  # "civicvote/x/y.py:12 civicvote.z.w (via civicvote.security)"


def area_edges() -> list[Edge]:
    """Every dependency of one area on another, with the import line behind it."""
    modules = _modules()
    imports = _imports()
    by_module = defaultdict(list)
    for imp in imports:
        by_module[imp.module].append(imp)

    def reached_through(shared: str, seen: set[str]) -> list[tuple[str, str]]:
        """The areas a top-level module imports, directly or through other top-level ones."""
        reached = []
        for imp in by_module[shared]:
            target = _nearest_module(imp.target, modules)
            area = _area(target)
            if area is not None:
                reached.append((area, f"{target} (via {shared})"))
            elif target not in seen and target not in ROOTS:
                reached += reached_through(target, seen | {target})
        return reached

    edges = set()
    for imp in imports:
        source = _area(imp.module)
        if source is None:
            continue
        where = f"{modules[imp.module].relative_to(PACKAGE.parent)}:{imp.line}"
        target = _nearest_module(imp.target, modules)
        area = _area(target)
        if area is not None:
            reached = [(area, target)]
        elif target in ROOTS:
            reached = [(f"<{target}>", target)]
        else:
            reached = reached_through(target, {target})
        for area, what in reached:
            if area != source:
                edges.add(Edge(source, area, f"{where} imports {what}"))
    return sorted(edges, key=lambda e: (e.source, e.target, e.why))


def find_cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One cycle through each group of areas that import each other (Tarjan, then a BFS)."""
    graph = defaultdict(list)
    for edge in edges:
        graph[edge.source].append(edge)
    return [_one_cycle(graph, group) for group in _strongly_connected(graph)]


def _strongly_connected(graph: dict) -> list[set]:
    """The groups of more than one area that can each reach the others (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph[node]:
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _one_cycle(graph: dict, group: set) -> list[Edge]:
    """The shortest way from the group's first area back to itself (BFS inside the group)."""
    start = min(group)
    paths = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for edge in graph[node]:
            if edge.target == start:
                return paths[node] + [edge]
            if edge.target in group and edge.target not in paths:
                paths[edge.target] = paths[node] + [edge]
                queue.append(edge.target)
    raise AssertionError(f"no way back to {start} in {group}")  # a group always has one


def _describe(cycle: list[Edge]) -> str:
    names = " -> ".join([cycle[0].source] + [edge.target for edge in cycle])
    return "\n".join([names] + [f"    {e.source} -> {e.target}: {e.why}" for e in cycle])


def test_no_import_cycle_between_areas():
    cycles = find_cycles(area_edges())
    assert not cycles, "Areas import each other in a circle:\n" + "\n".join(map(_describe, cycles))


def test_areas_stand_in_layers():
    layer_of = {area: n for n, layer in enumerate(LAYERS) for area in layer}
    upward = [
        f"{e.source} (layer {layer_of[e.source]}) -> {e.target} (layer {layer_of[e.target]}): "
        f"{e.why}"
        for e in area_edges()
        if e.target in layer_of and layer_of[e.target] >= layer_of[e.source]
    ]
    assert not upward, "An area imports one of its own layer or a higher one:\n" + "\n".join(upward)


def test_every_area_has_its_layer_and_no_area_imports_the_roots():
    areas = {_area(module) for module in _modules()} - {None}
    listed = [area for layer in LAYERS for area in layer]
    assert sorted(areas) == sorted(listed), "Add the new area to LAYERS (and the docs)."
    into_roots = [f"{e.source}: {e.why}" for e in area_edges() if e.target.startswith("<")]
    assert not into_roots, "An area imports a composition root:\n" + "\n".join(into_roots)


def test_the_graph_sees_imports_inside_functions_and_through_shared_modules():
    """The test's own check: edges the source is known to have are found."""
    whys = {(e.source, e.target): e.why for e in area_edges()}
    # results.services imports the Pabulib writer inside a function
    assert ("results", "allocation") in whys
    # audit's pages reach communities through their own import and through security.py
    assert ("audit pages", "communities") in whys
    assert any("via civicvote.security" in e.why for e in area_edges())
    # an invented cycle is found and printed
    cycle = find_cycles([Edge("a", "b", "x.py:1"), Edge("b", "a", "y.py:2")])
    assert [[e.source for e in c] for c in cycle] == [["a", "b"]]


def _allocation_imports() -> dict[str, set[str]]:
    modules = _modules()
    graph = defaultdict(set)
    for imp in _imports():
        target = _nearest_module(imp.target, modules)
        inside = imp.module.startswith("civicvote.allocation") and target != imp.module
        if inside and target.startswith("civicvote.allocation"):
            graph[imp.module].add(target)
    return graph


def test_allocation_modules_import_each_other_in_no_circle():
    edges = [
        Edge(source, target, "")
        for source, targets in _allocation_imports().items()
        for target in targets
    ]
    cycles = find_cycles(edges)
    assert not cycles, "allocation modules import each other in a circle:\n" + "\n".join(
        " -> ".join([c[0].source] + [e.target for e in c]) for c in cycles
    )
