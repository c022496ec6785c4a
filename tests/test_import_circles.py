"""No module imports one that imports it back (issue 17: the circles population/run <->
spark_job, population/source <-> triage and units <-> unit_spellings), counting every
import: at the top, inside a function, or for type checking only."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def imports() -> dict[str, set[str]]:
    modules = {".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (SRC / "trialsieve").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of modules that reach each other."""
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for m in graph[todo.pop()]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    reached = {m: reach(m) for m in graph}
    return sorted((a, b) for a in graph for b in reached[a] if a < b and a in reached[b]
                  and "." in a and not b.startswith(a + "."))


def test_the_named_circles_are_gone():
    graph = imports()
    named = [("trialsieve.population.run", "trialsieve.population.spark_job"),
             ("trialsieve.population.source", "trialsieve.population.triage"),
             ("trialsieve.unit_spellings", "trialsieve.units")]
    found = circles(graph)
    assert [c for c in named if c in found] == []
    assert found == []  # nor any other
