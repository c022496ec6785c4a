"""The patient list: who each patient is (name and MRN, to the roles allowed to see
them), a search, pages, and verdicts cached by what decides them (the record hash, the
protocol hash and the dates), so that a list is not the whole population re-screened on
every load: a page reads the summary rows of its 50 patients in one query (web.summary),
and screens only the patients written to since their row was computed."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import PatientRecord
from trialsieve.web import signature, store, summary, worklist
from trialsieve.web.db import Database, PatientRow, ResourceRow, Summary
from trialsieve.web.screening import Screening, reasons, screen_record

PAGE = 50
# what a list row shows of a patient, and what its signature's standing depends on
LISTED = (PatientRow.id, PatientRow.screening_number, PatientRow.fhir_id, PatientRow.created_at,
          PatientRow.created_by, PatientRow.planned_inclusion, PatientRow.planned_d0)
# who a patient is: kept with the list's summary rows (web.summary)
Identity = summary.Identity
identity = summary.identity


class VerdictCache:
    """(record hash, protocol hash, as-of, inclusion, D0) -> the screening result. Any
    change to what decides a verdict changes the key; nothing needs invalidating."""

    def __init__(self, size: int = 20000) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, p: PatientRow, rows: list[ResourceRow], record_hash: str, today: date):
        key = (record_hash, LUMEN.hash, today, p.planned_inclusion, p.planned_d0)
        return self._memo(key, lambda: screen_record(
            store.record_of(p, rows), today, p.planned_inclusion, p.planned_d0,
            with_window=False).result)

    def screening(self, p: PatientRow, record: Callable[[], PatientRecord],
                  record_hash: str, today: date) -> Screening:
        """The patient page's screening with its eligibility window, under the same key:
        the window is computed once per record, not on every view. `record`: the record
        the engine screens, asked for only when not cached (the page assembles it once
        for its imported answers too)."""
        key = ("page", record_hash, LUMEN.hash, today, p.planned_inclusion, p.planned_d0)
        return self._memo(key, lambda: screen_record(
            record(), today, p.planned_inclusion, p.planned_d0))

    def asks(self, p: PatientRow, rows: list[ResourceRow], record_hash: str,
             today: date) -> tuple[worklist.Ask, ...]:
        """The patient's questions for an investigator before any signature, under the
        same key."""
        key = ("asks", record_hash, LUMEN.hash, today, p.planned_inclusion, p.planned_d0)
        return self._memo(key, lambda: worklist.before_signing(
            p, rows, self.get(p, rows, record_hash, today)))

    def _memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def page_of(db: Database, cache: VerdictCache, today: date, query: str, page: int,
            identify: bool, sites: tuple[str, ...]) -> tuple[list[tuple], int]:
    """The rows of one page (patient, identity or None, summary, newest signature view),
    and how many patients of `sites` match. The search reads names and MRNs only for a
    role that may see them. Reads the page's summary rows in one query; a stale row is
    computed from its record and stored, unless the patient was written to meanwhile."""
    where: list[ColumnElement[bool]] = [PatientRow.site.in_(sites)]
    q = query.strip().lower()
    if q:
        fields = [PatientRow.screening_number, PatientRow.fhir_id]
        if identify:
            fields += [Summary.name, Summary.mrn]
        where.append(or_(*(func.lower(f).contains(q, autoescape=True) for f in fields)))
    # Each patient has its summary row (a database trigger adds it with the patient,
    # migration 0006): the patients are counted without a join, unless a search asks.
    count = select(func.count(PatientRow.id)).where(PatientRow.site.in_(sites)) if not q \
        else select(func.count()).select_from(PatientRow).join(
            Summary, Summary.patient_id == PatientRow.id).where(*where)
    listed, sigs, total = summaries(db, cache, today, where, page * PAGE, PAGE, count)
    return [(row.patient, row.identity if identify else None, row, sigs.get(row.id))
            for row in listed], total


class Listed:
    """A patient's summary row as read (or computed just now): the patient's columns of
    LISTED, who it is, and what its verdict gives the list, the log and the worklist."""

    __slots__ = ("patient", "id", "identity", "verdict", "record_hash", "reasons", "asks")

    def __init__(self, row: Any, c: summary.Computed | None) -> None:
        self.patient, self.id = row, row.id
        if c is None:
            self.identity = summary.Identity(row.name, row.mrn)
            self.verdict, self.record_hash = row.verdict, row.record_hash or ""
            self.reasons, self.asks = row.reasons or "", row.asks
        else:
            self.identity = summary.Identity(c.name, c.mrn)
            self.verdict, self.record_hash = c.result.verdict, c.record_hash
            self.reasons, self.asks = c.reasons, c.asks


def summaries(db: Database, cache: VerdictCache, today: date,
              where: list[ColumnElement[bool]], offset: int = 0, limit: int | None = None,
              count: Select | None = None
              ) -> tuple[list[Listed], dict[int, signature.SignatureView], int]:
    """The summary rows that match `where` (in the list's order), each computed again
    from its record if stale, the newest signature of each (one query each), and what
    `count` counts (in the same read)."""
    computed = []
    with db.read() as s:
        total = (s.scalar(count) or 0) if count is not None else 0
        # columns, not ORM objects: a page is 50 light rows (patient fields and summary)
        found = list(s.execute(select(*LISTED, *Summary.__table__.columns)
                               .join(Summary, Summary.patient_id == PatientRow.id)
                               .where(*where).order_by(PatientRow.id)
                               .offset(offset).limit(limit)))
        hashes = []
        for row in found:
            if not summary.fits(s, row, row, today):
                p = s.get(PatientRow, row.id)
                assert p is not None  # patients are never deleted
                c = _compute(s, cache, p, row.version, today)
                computed.append(c)
                hashes.append((row, c.record_hash))
            else:
                hashes.append((row, row.record_hash or ""))
        sigs = signature.newest(s, hashes)
    if computed:
        with db.write() as s:
            for c in computed:
                summary.keep(s, c)
    fresh = {c.patient_id: c for c in computed}
    return [Listed(row, fresh.get(row.id)) for row in found], sigs, total


def _compute(s: Session, cache: VerdictCache, p: PatientRow, version: int,
             today: date) -> summary.Computed:
    """The verdict of the record as it is now. The version was read before the record,
    so a write in between leaves the version behind and the result is not kept."""
    res = store.resources(s, p)
    record_hash = store.record_hash(res)
    ident = next((identity(json.loads(r.content)) for r in res
                  if r.resource_type == "Patient" and r.resource_id == p.fhir_id),
                 summary.Identity("", ""))
    result = cache.get(p, res, record_hash, today)
    return summary.Computed(p.id, version, ident.name, ident.mrn, record_hash, today,
                            p.planned_inclusion, p.planned_d0, result,
                            "; ".join(reasons(result)),
                            worklist.stored(cache.asks(p, res, record_hash, today)))


def waiting(db: Database, cache: VerdictCache, today: date, identify: bool,
            sites: tuple[str, ...]) -> list[tuple]:
    """(patient, identity or None, summary, asks) of each patient of `sites` that waits
    on an investigator, in the list's order: read from the summary rows, a signature
    asked for where none stands."""
    listed, _, _ = summaries(db, cache, today, [PatientRow.site.in_(sites)])
    with db.read() as s:
        standing = signature.standing(s, [(row.patient, row.record_hash) for row in listed])
    out = []
    for row in listed:
        todo = worklist.with_signature(worklist.from_stored(row.asks),
                                       row.patient.screening_number, row.verdict,
                                       row.id in standing)
        if todo:
            out.append((row.patient, row.identity if identify else None, row, todo))
    return out


def log(db: Database, cache: VerdictCache, today: date,
        sites: tuple[str, ...]) -> list[tuple[Listed, signature.SignatureView | None]]:
    """Each patient of `sites` (the list's order), from its summary row, with the
    signature that stands over its record, if any (its frozen result loaded)."""
    listed, _, _ = summaries(db, cache, today, [PatientRow.site.in_(sites)])
    with db.read() as s:
        standing = signature.standing(s, [(row.patient, row.record_hash) for row in listed],
                                      frozen=True)
    return [(row, standing.get(row.id)) for row in listed]
