"""Which stored resources the workbench hands the engine.

An answer to a judgement question (an attestation: an Observation or a
QuestionnaireResponse item the reader turns into one) settles a criterion only when it was
given here by a role allowed to give it. One that came in an upload says nothing about who
really answered (its performer is whatever the file says), so it is shown as imported, by
whoever imported it, and handed to the engine only once an investigator confirms it here,
which records a new answer in the investigator's name. The engine is unchanged: this only
chooses its input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from trialsieve.fhir.reader import Loaded, assemble
from trialsieve.record import PatientRecord
from trialsieve.web.db import ResourceRow

IMPORTED = "import"


def source_key(row: ResourceRow) -> str:
    return f"{row.resource_type}/{row.resource_id or '?'}"


def _items(rows: list[ResourceRow], where: str) -> list[tuple[str, dict]]:
    out = []
    for r in rows:
        res = json.loads(r.content)
        if r.full_url:
            res["_fullUrl"] = r.full_url
        out.append((where, res))
    return out


@dataclass(frozen=True)
class ImportedAnswer:
    row: ResourceRow
    question: str
    answer: bool
    by: str | None  # the performer the file names: a claim, not an author
    date: date | None
    confirmed: bool  # an answer entered here derives from it
    time: str | None = None  # the time of day the file gives with `date`


def screened(rows: list[ResourceRow], where: str, patient_id: str
             ) -> tuple[PatientRecord, list[ImportedAnswer]]:
    """(the record the engine screens, the imported answers held back from it). The
    reader itself says which resources are answers, so every form it accepts is held back
    alike. Assembled once when nothing is held back (most patients), else again without
    the answers held back."""
    record = _record(rows, where, patient_id)
    keep, held = _split(rows, record)
    if len(keep) < len(rows):
        record = _record(keep, where, patient_id)
    return record, held


def _record(rows: list[ResourceRow], where: str, patient_id: str) -> PatientRecord:
    data = assemble(Loaded(_items(rows, where)), where)
    return next(r for r in data.records if r.patient.id == patient_id)


def _split(rows: list[ResourceRow], record: PatientRecord
           ) -> tuple[list[ResourceRow], list[ImportedAnswer]]:
    """(the rows the engine may read, the imported answers held back), the answers being
    those the record assembled from all `rows` read."""
    sources: dict[str, list] = {}
    for a in record.attestations:
        sources.setdefault(a.source.split("#")[0], []).append(a)
    confirmed = _confirmed(rows)
    held: list[ImportedAnswer] = []
    keep = []
    for r in rows:
        answers = sources.get(source_key(r), []) if r.origin == IMPORTED else []
        if not answers:
            keep.append(r)
            continue
        for a in answers:
            held.append(ImportedAnswer(r, a.question, a.answer, a.by, a.date,
                                       (source_key(r), a.question) in confirmed, a.time))
    return keep, held


def _confirmed(rows: list[ResourceRow]) -> set[tuple[str, str]]:
    """(imported resource, question) that a standing answer entered here confirms
    (derivedFrom): a withdrawn confirmation confirms nothing."""
    out: set[tuple[str, str]] = set()
    for r in rows:
        if r.origin == IMPORTED:
            continue
        res = json.loads(r.content)
        if res.get("status") == "entered-in-error":
            continue
        codes = [c.get("code") for c in (res.get("code") or {}).get("coding") or []
                 if isinstance(c, dict)]
        for d in res.get("derivedFrom") or []:
            if isinstance(d, dict) and isinstance(d.get("reference"), str):
                out.update((d["reference"], q) for q in codes if isinstance(q, str))
    return out

