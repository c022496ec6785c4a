"""The results the commands render: FHIR input screened now (with the D0 window), or,
for `report` and `export`, result documents kept from `screen --format json|ndjson`
(filed as they were decided)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from trialsieve.engine import Dates, ScreeningResult, screen
from trialsieve.fhir import concept_map
from trialsieve.fhir.concept_map import ConceptMapping
from trialsieve.fhir.errors import InputError
from trialsieve.output.json_result import SCHEMA_VERSION, to_json
from trialsieve.protocol import Protocol
from trialsieve.record import PatientRecord, Warning
from trialsieve.window import Window, eligibility_window


def _documents(path: Path) -> list[dict[str, Any]] | None:
    """The result documents in a .json/.ndjson file, or None when it holds FHIR."""
    try:
        text = path.read_text(encoding="utf-8")
        docs = ([json.loads(line) for line in text.splitlines() if line.strip()]
                if path.suffix == ".ndjson" else [json.loads(text)])
    except (OSError, ValueError):
        return None  # the FHIR reader says what is wrong with it
    found: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict) or "schema" not in doc:
            return None
        if doc["schema"] != SCHEMA_VERSION:
            raise InputError(str(path), f"result schema {doc['schema']!r}, expected "
                             f"{SCHEMA_VERSION!r}: screen it again", "", "schema")
        found += doc["results"] if "results" in doc else [doc]
    return found


def results(path: str, protocol: Protocol, as_of: date | None, inclusion: date | None,
            d0: date | None, policy: str, mapping: ConceptMapping = concept_map.EMPTY,
            strict: bool = False) -> tuple[list[dict[str, Any]], list[Warning], int]:
    """The result documents, the warnings on the input, and how many damaged inputs
    (files, lines, entries) were skipped: each is among the warnings (the exit status of
    `screen`). `strict`: stop at the first (InputError). `as_of` None: today, for FHIR
    input; for saved results, a date given must be the one they were screened at."""
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.suffix in (".json", ".ndjson")) \
        if p.is_dir() else [p]
    kept = [_documents(f) for f in files] if p.exists() else [None]
    if files and all(k is not None for k in kept):
        for f, docs in zip(files, kept, strict=True):
            for doc in docs or []:
                _as_decided(f, doc, {"as_of": as_of, "inclusion": inclusion, "d0": d0})
        return [d for k in kept for d in k or []], [], 0
    from trialsieve.fhir.reader import read

    data = read(path, mapping, strict)
    pairs = screened(protocol, data.records,
                     Dates.resolve(as_of or date.today(), inclusion, d0), policy)
    return [to_json(r, w) for r, w in pairs], data.warnings, len(data.skipped)


OPTION = {"as_of": "--as-of", "inclusion": "--inclusion", "d0": "--d0"}
SAID = {"as_of": "as of", "inclusion": "with inclusion on", "d0": "with D0 on"}


def _as_decided(path: Path, doc: dict[str, Any], given: dict[str, date | None]) -> None:
    """A saved result is filed as it was decided: one that was changed since, or dates
    asked for that are not its own, stop the command (exit 2) rather than being filed
    or ignored unseen."""
    from trialsieve.output.integrity import problem

    where = f"Patient/{doc.get('patient')}"
    found = problem(doc)
    if found:
        raise InputError(str(path), found[1], where, found[0])
    for key, value in given.items():
        saved = (doc.get("dates") or {}).get(key)
        if value is not None and value.isoformat() != saved:
            raise InputError(str(path), f"{OPTION[key]} {value}, but this saved result was "
                             f"screened {SAID[key]} {saved}: a saved result "
                             f"is filed as it was decided; leave {OPTION[key]} out, or screen "
                             "the FHIR input again", where, f"dates.{key}")


def screened(protocol: Protocol, records: list[PatientRecord], dates: Dates, policy: str,
             with_window: bool = True) -> list[tuple[ScreeningResult, Window | None]]:
    """Each record screened at the dates, with its D0 window from the screening date
    (keeping the inclusion-to-D0 gap of the dates), which says from when it would work.
    The window screens every D0 of the horizon (about 180 screenings a patient), so a
    population run in JSON with its dates given goes without it."""
    offset = (dates.d0 - dates.inclusion).days
    return [(screen(protocol, rec, dates, policy),
             eligibility_window(protocol, rec, dates.as_of, max(180, offset), offset, policy)
             if with_window else None)
            for rec in records]
