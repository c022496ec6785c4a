"""CDISC SDTM Trial Inclusion/Exclusion Criteria (TI) and Inclusion/Exclusion Criteria
Not Met (IE), as CSV and SAS XPORT version 5 (pyreadstat), from result documents.

TI: one row per criterion of the protocol. IE: one row per criterion not met by a
screened subject (an inclusion not met: IEORRES "N"; an exclusion met: "Y"); criteria
still unknown are not "not met" and have no IE row. IEDTC is the screening date.
USUBJID: see identifiers.py (no direct identifier); SUBJID belongs to DM, not IE.
Rows in the order of the IE keys (STUDYID, USUBJID, IETESTCD); the dataset labels are
the SDTMIG's.

`check()` applies the SDTMIG 3.4 rules that can be checked without the define.xml:
variable names (<= 8, letters/digits/underscore, starting with a letter), labels
(<= 40), character values (<= 200 ASCII characters for XPORT v5), required variables
present and never empty, DOMAIN, controlled terms of IECAT and IEORRES/IESTRESC (NY),
IESEQ unique within USUBJID, IETESTCD in TI.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialsieve.output.identifiers import usubjid
from trialsieve.protocol import Criterion, Protocol

IETEST_MAX = 200
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
IECAT = {"inclusion": "INCLUSION", "exclusion": "EXCLUSION"}

TI_VARS = {"STUDYID": "Study Identifier", "DOMAIN": "Domain Abbreviation",
           "IETESTCD": "Incl/Excl Criterion Short Name", "IETEST": "Inclusion/Exclusion Criterion",
           "IECAT": "Inclusion/Exclusion Category", "TIVERS": "Protocol Criteria Versions"}
IE_VARS = {"STUDYID": "Study Identifier", "DOMAIN": "Domain Abbreviation",
           "USUBJID": "Unique Subject Identifier",
           "IESEQ": "Sequence Number", "IETESTCD": "Inclusion/Exclusion Criterion Short Name",
           "IETEST": "Inclusion/Exclusion Criterion", "IECAT": "Inclusion/Exclusion Category",
           "IEORRES": "I/E Criterion Original Result",
           "IESTRESC": "I/E Criterion Result in Std Format", "IEDTC": "Date/Time of Collection"}
# the SDTMIG dataset labels (SDTM IG 3.4, TI and IE)
LABELS = {"TI": "Trial Inclusion/Exclusion Criteria",
          "IE": "Inclusion/Exclusion Criteria Not Met"}
REQUIRED = {"TI": ("STUDYID", "DOMAIN", "IETESTCD", "IETEST", "IECAT"),
            "IE": ("STUDYID", "DOMAIN", "USUBJID", "IESEQ", "IETESTCD", "IETEST", "IECAT",
                   "IEORRES", "IESTRESC")}


@dataclass(frozen=True)
class Dataset:
    name: str  # TI, IE
    labels: dict[str, str]  # variable -> label, in column order
    rows: list[dict[str, Any]]


# IETEST for the criteria whose published text is over 200 characters: the same criterion
# written short, every condition kept (a text cut at 200 characters, "... on an MRI or CT
# over the ...", drops conditions and reads as another criterion). The full text is in
# the protocol and on the eligibility checklist.
WRITTEN_SHORT = {
    ("NCT01842165", "INCL03"): (
        "Disease progression in the last 12 months: RECIST 1.1 on MRI or CT; or new lesions "
        "or a >30% diameter increase on SSTR imaging; or both clinical (symptoms) and "
        "biochemical (NET markers) progression"),
    ("NCT01842165", "INCL10"): (
        "Women of childbearing potential and men with partners of childbearing potential "
        "agree to highly effective contraception up to 6 months after treatment; negative "
        "serum pregnancy test within 4 weeks"),
    ("NCT01842165", "INCL13"): (
        "At least one target lesion: 68Ga-octreotate PET/CT uptake above liver (Rotterdam "
        "grade III-IV), >= 20 mm; measurable and progressive (RECIST 1.1) on MRI (or CT); "
        "not previously irradiated"),
    ("NCT01842165", "EXCL03"): (
        "Radiotherapy, chemotherapy, embolization, mTOR inhibitors, receptor tyrosine-kinase "
        "inhibitors, interferon or other investigational therapy within 12 weeks before "
        "inclusion"),
}


def ietest(published: str, short: str | None = None) -> str:
    """The published text on one line without its list number (SDTMIG: IETEST <= 200);
    over 200 characters, the criterion as written short (`short`), never a cut text."""
    text = re.sub(r"\s+", " ", re.sub(r"^\s*\d+\.\s*", "", published)).strip()
    if len(text) > IETEST_MAX:
        if short is None:
            raise ValueError(f"IETEST over {IETEST_MAX} characters and no short text "
                             f"written for it: {text[:60]}...")
        text = short
    text = text.replace("µ", "u").replace("·", ".")  # XPORT v5 holds ASCII only
    return text.encode("ascii", "replace").decode()


def criterion_text(protocol: Protocol, c: Criterion) -> str:
    """A criterion's IETEST: the text with the signs the publication lost (`restored`)."""
    return ietest(c.restored or c.text, WRITTEN_SHORT.get((protocol.id, c.id)))


def ti(protocol: Protocol) -> Dataset:
    rows = [{"STUDYID": protocol.id, "DOMAIN": "TI", "IETESTCD": c.id,
             "IETEST": criterion_text(protocol, c), "IECAT": IECAT[c.category],
             "TIVERS": protocol.version}
            for c in protocol.criteria]
    return Dataset("TI", TI_VARS, rows)


def ie(docs: Sequence[dict[str, Any]], protocol: Protocol) -> Dataset:
    texts = {c.id: criterion_text(protocol, c) for c in protocol.criteria}
    rows = []
    for doc in docs:
        for c in doc["criteria"]:
            failed = ((c["category"] == "inclusion" and c["status"] == "not_met")
                      or (c["category"] == "exclusion" and c["status"] == "met"))
            if not failed:
                continue
            answer = "N" if c["category"] == "inclusion" else "Y"
            rows.append({"STUDYID": doc["protocol"]["id"], "DOMAIN": "IE",
                         "USUBJID": usubjid(doc), "IESEQ": 0, "IETESTCD": c["id"],
                         "IETEST": texts.get(c["id"]) or ietest(c["text"]),
                         "IECAT": IECAT[c["category"]], "IEORRES": answer, "IESTRESC": answer,
                         "IEDTC": doc["dates"]["as_of"]})
    # sorted by the IE keys (STUDYID, USUBJID, IETESTCD), IESEQ numbered in that order
    rows.sort(key=lambda r: (r["STUDYID"], r["USUBJID"], r["IETESTCD"]))
    for n, row in enumerate(rows):
        same = n and rows[n - 1]["USUBJID"] == row["USUBJID"]
        row["IESEQ"] = rows[n - 1]["IESEQ"] + 1 if same else 1
    return Dataset("IE", IE_VARS, rows)


# SDTMIG --DTC: ISO 8601 date, optionally with a time (partial dates end early).
_ISO8601 = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?$")


def check(ds: Dataset, ti_codes: set[str] | None = None) -> list[str]:
    """SDTMIG problems in a dataset; empty when none."""
    problems = []
    for var, label in ds.labels.items():
        if not _NAME.match(var):
            problems.append(f"{ds.name}.{var}: variable name not SDTM (<= 8, A-Z0-9_)")
        if len(label) > 40:
            problems.append(f"{ds.name}.{var}: label longer than 40 characters")
    seen: set[tuple[str, int]] = set()
    for n, row in enumerate(ds.rows, 1):
        where = f"{ds.name} row {n}"
        if set(row) != set(ds.labels):
            problems.append(f"{where}: variables {sorted(set(row) ^ set(ds.labels))}")
        for var in REQUIRED[ds.name]:
            if row.get(var) in (None, ""):
                problems.append(f"{where}: required {var} is empty")
        for var, value in row.items():
            if isinstance(value, str) and (len(value) > 200 or not value.isascii()):
                problems.append(f"{where}: {var} not <= 200 ASCII characters")
        if row.get("DOMAIN") != ds.name:
            problems.append(f"{where}: DOMAIN {row.get('DOMAIN')!r} is not {ds.name}")
        if row.get("IECAT") not in IECAT.values():
            problems.append(f"{where}: IECAT {row.get('IECAT')!r} not INCLUSION/EXCLUSION")
        if not _NAME.match(str(row.get("IETESTCD", ""))):
            problems.append(f"{where}: IETESTCD {row.get('IETESTCD')!r} not a valid name")
        if ds.name == "IE":
            expected = "N" if row.get("IECAT") == "INCLUSION" else "Y"
            for var in ("IEORRES", "IESTRESC"):
                if row.get(var) != expected:
                    problems.append(f"{where}: {var} must be {expected} for {row.get('IECAT')}")
            key = (str(row.get("USUBJID")), int(row.get("IESEQ") or 0))
            if key in seen:
                problems.append(f"{where}: IESEQ {key[1]} repeated for {key[0]}")
            seen.add(key)
            if row.get("IEDTC") and not _ISO8601.match(str(row["IEDTC"])):
                problems.append(f"{where}: IEDTC {row['IEDTC']!r} not ISO 8601")
            if ti_codes is not None and row.get("IETESTCD") not in ti_codes:
                problems.append(f"{where}: IETESTCD {row.get('IETESTCD')} not in TI")
    return problems


def write_csv(ds: Dataset, path: Path) -> None:
    with path.open("w", newline="", encoding="ascii") as f:
        w = csv.DictWriter(f, fieldnames=list(ds.labels))
        w.writeheader()
        w.writerows(ds.rows)


def write_xpt(ds: Dataset, path: Path) -> None:
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame(ds.rows, columns=list(ds.labels))
    if "IESEQ" in frame:
        frame["IESEQ"] = frame["IESEQ"].astype(float)  # XPORT numbers are doubles
    pyreadstat.write_xport(frame, str(path), file_label=LABELS[ds.name],
                           column_labels=list[str | None](ds.labels.values()),
                           table_name=ds.name,
                           file_format_version=5)
