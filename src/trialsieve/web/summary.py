"""A patient's row of the patient list, kept in the database (table `summaries`): who the
patient is (name, MRN) and the verdict on a screening date with the record hash it was
computed from. A list page is then one query; no record is loaded, hashed or screened
for it unless its row is stale.

A row is a cache, never a source: it is used only when its key (record, protocol hash,
screening date, planned dates) is the one asked for and its MAC (keyed by the seal, a
key the database does not hold) matches. Any write to a patient's resources or planned
dates, through the app or by hand in the database, marks its row stale in the same
transaction and bumps its version (database triggers, migration 0006), so that a verdict
computed from the record as it was before that write is never stored over it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialsieve.engine import ScreeningResult
from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION
from trialsieve.protocols.lumen import LUMEN
from trialsieve.web.db import PatientRow, ResourceRow, Summary

_MR = "MR"  # identifier type of a medical record number (HL7 v2 table 0203)


@dataclass(frozen=True)
class Identity:
    name: str
    mrn: str


def identity(res: dict) -> Identity:
    """The name and MRN a Patient resource gives, "" where it gives none."""
    name = ""
    for n in res.get("name") or []:
        if isinstance(n, dict):
            given = " ".join(g for g in n.get("given") or [] if isinstance(g, str))
            name = n.get("text") or " ".join(p for p in (given, n.get("family")) if
                                             isinstance(p, str) and p)
            if name:
                break
    ids = [i for i in res.get("identifier") or [] if isinstance(i, dict)
           and isinstance(i.get("value"), str)]
    mr = [i for i in ids if any(isinstance(c, dict) and c.get("code") == _MR for c in
                                ((i.get("type") or {}).get("coding") or []))]
    return Identity(str(name), (mr or ids or [{"value": ""}])[0]["value"])


# -- rows -----------------------------------------------------------------------------------

def ensure(s: Session, sites: tuple[str, ...]) -> int:
    """Add the missing rows of `sites`' patients (imported before summaries existed, or
    just now), with name and MRN from their Patient resource; how many. In a write."""
    missing = [pid for pid, in s.execute(
        select(PatientRow.id).outerjoin(Summary, Summary.patient_id == PatientRow.id)
        .where(PatientRow.site.in_(sites), Summary.patient_id.is_(None)))]
    if not missing:
        return 0
    who = identities(s, missing)
    for pid in missing:
        ident = who.get(pid, Identity("", ""))
        s.add(Summary(patient_id=pid, version=0, name=ident.name[:2000],
                      mrn=ident.mrn[:128]))
    s.flush()
    return len(missing)


def identities(s: Session, patient_ids: Iterable[int]) -> dict[int, Identity]:
    """Name and MRN of each patient, from its own Patient resource (not a copy of
    another patient's)."""
    rows = s.execute(select(ResourceRow.patient_id, ResourceRow.content, PatientRow.fhir_id)
                     .join(PatientRow, PatientRow.id == ResourceRow.patient_id)
                     .where(ResourceRow.resource_type == "Patient",
                            ResourceRow.patient_id.in_(list(patient_ids))))
    out = {}
    for pid, content, fhir_id in rows:
        res = json.loads(content)
        if res.get("id") == fhir_id:
            out[pid] = identity(res)
    return out


def _fields(row: Any) -> tuple:
    return (row.patient_id, row.version, row.name, row.mrn, row.record_hash,
            row.protocol_hash, str(row.as_of), str(row.inclusion), str(row.d0), row.verdict,
            row.unknown, row.blocking, row.reasons, row.asks)


def _blob(fields: tuple) -> bytes:
    # repr of each field: unambiguous (quoted strings)
    return "\x1f".join(map(repr, fields)).encode()


def fits(s: Session, row: Any, patient: Any, today: date) -> bool:
    """(`row`: a Summary or a row of its columns; `patient`: with planned dates.)
    Whether the cached verdict is the one asked for: same protocol, screening date and
    planned dates, computed by this app (MAC), and not marked stale."""
    return (row.verdict is not None and row.record_hash is not None
            and row.protocol_hash == LUMEN.hash and row.as_of == today
            and row.inclusion == patient.planned_inclusion and row.d0 == patient.planned_d0
            and _mac_ok(s.info["seal"], _fields(row), row.mac))


def stored_ok(seal: Any, stored: tuple, mac: str | None) -> bool:
    """The MAC check of `fits` on a row's fields as a plain cursor gives them, in
    `_fields`' order (dates: a date, or SQLite's ISO text, whose str() is the same)."""
    return _mac_ok(seal, stored[:6] + (str(stored[6]), str(stored[7]), str(stored[8]))
                   + stored[9:], mac)


@lru_cache(maxsize=50_000)
def _mac_ok(seal: Any, fields: tuple, mac: str | None) -> bool:
    """A row's MAC checked once per process for the same content (the same fields and
    MAC read again are the same answer): an HMAC per row on every list load was an
    eighth of the list's time."""
    return mac == seal.mac(_blob(fields))


@dataclass(frozen=True)
class Computed:
    """A verdict computed from the record as it was at `version`."""

    patient_id: int
    version: int
    name: str
    mrn: str
    record_hash: str
    as_of: date
    inclusion: date | None
    d0: date | None
    result: ScreeningResult
    reasons: str  # for the screening log
    asks: str  # for the worklist (web.worklist.stored)


def counts(result: ScreeningResult) -> tuple[int, int]:
    """(unknown, blocking) criteria of a result."""
    unknown = sum(r.status is Tri.UNKNOWN for r in result.results)
    blocking = sum((r.criterion.category == INCLUSION and r.status is Tri.NOT_MET)
                   or (r.criterion.category == EXCLUSION and r.status is Tri.MET)
                   for r in result.results)
    return unknown, blocking


def keep(s: Session, c: Computed) -> bool:
    """Store a computed verdict, unless the patient was written to since (its version
    moved on): then the row stays stale. In a write."""
    row = s.get(Summary, c.patient_id)
    if row is None or row.version != c.version:
        return False
    unknown, blocking = counts(c.result)
    row.name, row.mrn = c.name[:2000], c.mrn[:128]
    row.record_hash, row.protocol_hash = c.record_hash, LUMEN.hash
    row.as_of, row.inclusion, row.d0 = c.as_of, c.inclusion, c.d0
    row.verdict, row.unknown, row.blocking = c.result.verdict, unknown, blocking
    row.reasons, row.asks = c.reasons, c.asks
    row.mac = s.info["seal"].mac(_blob(_fields(row)))
    return True
