"""The protocol's criteria as an 80-column text table.

A screening result is rendered by trialsieve.output (terminal, JSON, checklist,
exports); `to_json` is kept here under its old name for callers of version 1.
"""

from __future__ import annotations

import textwrap

from trialsieve.output.json_result import to_json
from trialsieve.protocol import Protocol
from trialsieve.wrap import chop_long_words

__all__ = ["criteria_table", "to_json"]

WIDTH = 80


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(chop_long_words(text, WIDTH - len(indent) - 2), WIDTH,
                         initial_indent=indent, subsequent_indent=indent + "  ")


def criteria_table(p: Protocol) -> str:
    lines = [f"{p.title}", f"Protocol {p.id} v{p.version} ({p.hash})", "-" * WIDTH]
    for c in p.criteria:
        lines.append(f"{c.id:<7} {c.category:<9} {c.short}")
        lines += _wrap("reading: " + c.reading, " " * 8)
    return "\n".join(lines)
