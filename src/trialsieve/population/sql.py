"""SQL text shared by the DuckDB scan (source.py) and the triage's look (triage.py)."""

from __future__ import annotations

from collections.abc import Iterable


def literal(x: object) -> str:
    """A SQL string literal."""
    return "'" + str(x).replace("'", "''") + "'"


def string_list(items: Iterable[object]) -> str:
    """A SQL list (or IN list) of string literals."""
    return "[" + ", ".join(map(literal, items)) + "]"
