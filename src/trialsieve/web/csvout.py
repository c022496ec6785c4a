"""CSV downloads (audit trail, screening log) that a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A text that a spreadsheet would run as a formula gets a leading quote (OWASP CSV
    injection); numbers, dates and hashes are left as they are."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
