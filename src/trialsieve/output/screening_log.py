"""The ICH E6 screening log (CSV and XLSX): every patient screened, the outcome and why,
without direct identifiers: the screening number (identifiers.py) stands for the patient;
no name, medical record number, birth date, FHIR id or file name.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trialsieve.output.identifiers import screening_number

COLUMNS = ("screening_number", "screening_date", "protocol", "protocol_version", "policy",
           "outcome", "criteria_not_met", "criteria_unknown", "earliest_eligible_d0")
OUTCOME = {"eligible": "eligible", "not_eligible": "not eligible",
           "incomplete": "incomplete: pending data"}


def _not_met(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in doc["criteria"]
            if (c["category"] == "inclusion" and c["status"] == "not_met")
            or (c["category"] == "exclusion" and c["status"] == "met")]


def _earliest(doc: dict[str, Any]) -> str:
    w = doc.get("window") or {}
    return next((i["start"] for i in w.get("intervals", []) if i["marking"] == "eligible"), "")


def rows(docs: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    return [{
        "screening_number": screening_number(doc),
        "screening_date": doc["dates"]["as_of"],
        "protocol": doc["protocol"]["id"],
        "protocol_version": doc["protocol"]["version"],
        "policy": doc["policy"],
        "outcome": OUTCOME.get(doc["verdict"], doc["verdict"]),
        "criteria_not_met": "; ".join(f"{c['id']} {c.get('short', '')}".strip()
                                      for c in _not_met(doc)),
        "criteria_unknown": "; ".join(f"{c['id']} {c.get('short', '')}".strip()
                                      for c in doc["criteria"] if c["status"] == "unknown"),
        "earliest_eligible_d0": _earliest(doc),
    } for doc in docs]


def write_csv(docs: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows(docs))


def write_xlsx(docs: Sequence[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Screening log"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(docs):
        ws.append([row[c] for c in COLUMNS])
    for col, name in zip(ws.iter_cols(min_row=1, max_row=1), COLUMNS, strict=True):
        ws.column_dimensions[col[0].column_letter].width = max(14, min(60, len(name) + 4))
    ws.freeze_panes = "A2"
    wb.save(path)
