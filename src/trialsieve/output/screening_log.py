"""The ICH E6 screening log (CSV and XLSX; ICH E6(R2) 8.3.20 "subject screening log":
every patient screened, the outcome and why, enrolment or the reason for none, the site
and investigator), without direct identifiers: the screening number (identifiers.py)
stands for the patient; no name, medical record number, birth date, FHIR id or file
name.

The CSV keeps machine names for its columns (`COLUMNS`); the XLSX, the copy people read
and file, has their titles (`TITLES`) and real dates (a date cell, not text).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from trialsieve.output.identifiers import screening_number

TITLES = {
    "screening_number": "Screening number",
    "site": "Site",
    "investigator": "Investigator",
    "screening_date": "Screening date",
    "protocol": "Protocol",
    "protocol_version": "Protocol version",
    "policy": "Screening policy",
    "outcome": "Outcome",
    "reason_not_eligible": "Reason not eligible",
    "criteria_not_met": "Criteria not met",
    "criteria_unknown": "Criteria pending",
    "consent_date": "Consent date",
    "enrolled": "Enrolled",
    "reason_not_enrolled": "Reason not enrolled",
    "earliest_eligible_d0": "Earliest eligible D0",
}
COLUMNS = tuple(TITLES)
DATES = ("screening_date", "consent_date", "earliest_eligible_d0")
OUTCOME = {"eligible": "eligible", "not_eligible": "not eligible",
           "incomplete": "incomplete: pending data"}
# Enrolment is the investigator's act at inclusion, after this log is made: an eligible
# patient is "pending", never "yes" on the program's word.
ENROLLED = {"eligible": "pending", "not_eligible": "no", "incomplete": "no"}


def _not_met(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in doc["criteria"]
            if (c["category"] == "inclusion" and c["status"] == "not_met")
            or (c["category"] == "exclusion" and c["status"] == "met")]


def _earliest(doc: dict[str, Any]) -> str:
    w = doc.get("window") or {}
    return next((i["start"] for i in w.get("intervals", []) if i["marking"] == "eligible"), "")


def _consent(doc: dict[str, Any]) -> str:
    """The date of the consent to this study that INCL11 accepted (its newest)."""
    i11 = next((c for c in doc["criteria"] if c["id"] == "INCL11"), None)
    if i11 is None or i11["status"] != "met":
        return ""
    return max((e["date"] for e in i11["evidence"] if e.get("date")), default="")


def _reasons(doc: dict[str, Any]) -> str:
    """Why not eligible: a death first (it decides whatever the criteria say), then each
    criterion that excludes, with what the record shows."""
    why = [doc["deceased"]] if doc.get("deceased") and doc["verdict"] == "not_eligible" \
        else []
    why += [f"{c['id']} {c.get('short', '')}: {c['summary']}" for c in _not_met(doc)]
    return "; ".join(why)


def _not_enrolled(doc: dict[str, Any]) -> str:
    if doc["verdict"] == "not_eligible":
        return "not eligible"
    if doc["verdict"] == "incomplete":
        pending = [c["id"] for c in doc["criteria"] if c["status"] == "unknown"]
        if doc.get("deceased"):  # "possibly deceased (...)"
            pending.insert(0, doc["deceased"])
        return "screening not complete: " + ", ".join(pending)
    return ""


def rows(docs: Sequence[dict[str, Any]], site: str = "",
         investigator: str = "") -> list[dict[str, str]]:
    return [{
        "screening_number": screening_number(doc),
        "site": site,
        "investigator": investigator,
        "screening_date": doc["dates"]["as_of"],
        "protocol": doc["protocol"]["id"],
        "protocol_version": doc["protocol"]["version"],
        "policy": doc["policy"],
        "outcome": OUTCOME.get(doc["verdict"], doc["verdict"]),
        "reason_not_eligible": _reasons(doc),
        "criteria_not_met": "; ".join(f"{c['id']} {c.get('short', '')}".strip()
                                      for c in _not_met(doc)),
        "criteria_unknown": "; ".join(f"{c['id']} {c.get('short', '')}".strip()
                                      for c in doc["criteria"] if c["status"] == "unknown"),
        "consent_date": _consent(doc),
        "enrolled": ENROLLED.get(doc["verdict"], ""),
        "reason_not_enrolled": _not_enrolled(doc),
        "earliest_eligible_d0": _earliest(doc),
    } for doc in docs]


def write_csv(docs: Sequence[dict[str, Any]], path: Path, site: str = "",
              investigator: str = "") -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows(docs, site, investigator))


def write_xlsx(docs: Sequence[dict[str, Any]], path: Path, site: str = "",
               investigator: str = "") -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Screening log"
    ws.append([TITLES[c] for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows(docs, site, investigator):
        ws.append([date.fromisoformat(row[c]) if c in DATES and row[c] else row[c]
                   for c in COLUMNS])
    wide = {"reason_not_eligible": 60, "criteria_not_met": 40, "criteria_unknown": 40,
            "reason_not_enrolled": 40}
    for col, name in zip(ws.iter_cols(min_row=1), COLUMNS, strict=True):
        ws.column_dimensions[col[0].column_letter].width = wide.get(name, 16)
        for cell in col[1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if name in DATES:
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    wb.save(path)
