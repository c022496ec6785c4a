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

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from trialsieve.protocols.lumen import LUMEN
from trialsieve.web import signature, store, summary, worklist
from trialsieve.web.db import Database, PatientRow, ResourceRow, Summary
from trialsieve.web.screening import Screening, screen_record

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

    def screening(self, p: PatientRow, rows: list[ResourceRow], record_hash: str,
                  today: date) -> Screening:
        """The patient page's screening with its eligibility window, under the same key:
        the window is computed once per record, not on every view."""
        key = ("page", record_hash, LUMEN.hash, today, p.planned_inclusion, p.planned_d0)
        return self._memo(key, lambda: screen_record(
            store.record_of(p, rows), today, p.planned_inclusion, p.planned_d0))

    def asks(self, p: PatientRow, rows: list[ResourceRow], record_hash: str, today: date,
             signed: bool) -> tuple[worklist.Ask, ...]:
        """The patient's questions for an investigator, under the same key."""
        key = ("asks", record_hash, LUMEN.hash, today, p.planned_inclusion, p.planned_d0,
               signed)
        return self._memo(key, lambda: worklist.asks(
            p, rows, self.get(p, rows, record_hash, today), signed))

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
    with db.read() as s:  # one count for both: patients of the sites, and those with a row
        patients, summarised = s.execute(
            select(func.count(PatientRow.id), func.count(Summary.patient_id))
            .outerjoin(Summary, Summary.patient_id == PatientRow.id)
            .where(PatientRow.site.in_(sites))).one()
    if patients != summarised:  # once per patient imported before summaries (or just now)
        with db.write() as s:
            summary.ensure(s, sites)
    where: list[ColumnElement[bool]] = [PatientRow.site.in_(sites)]
    q = query.strip().lower()
    if q:
        fields = [PatientRow.screening_number, PatientRow.fhir_id]
        if identify:
            fields += [Summary.name, Summary.mrn]
        where.append(or_(*(func.lower(f).contains(q, autoescape=True) for f in fields)))
    computed = []
    with db.read() as s:
        total = patients if not q else s.scalar(  # a search counts its own matches
            select(func.count()).select_from(PatientRow)
            .join(Summary, Summary.patient_id == PatientRow.id).where(*where))
        # columns, not ORM objects: a page is 50 light rows (patient fields and summary)
        found = list(s.execute(select(*LISTED, *Summary.__table__.columns)
                               .join(Summary, Summary.patient_id == PatientRow.id)
                               .where(*where).order_by(PatientRow.id)
                               .offset(page * PAGE).limit(PAGE)))
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
    rows = []
    for row in found:
        new = fresh.get(row.id)
        shown = (summary.Identity(new.name, new.mrn) if new
                 else summary.Identity(row.name, row.mrn))
        rows.append((row, shown if identify else None, new.result if new else row,
                     sigs.get(row.id)))
    return rows, total or 0


def _compute(s: Session, cache: VerdictCache, p: PatientRow, version: int,
             today: date) -> summary.Computed:
    """The verdict of the record as it is now. The version was read before the record,
    so a write in between leaves the version behind and the result is not kept."""
    res = store.resources(s, p)
    record_hash = store.record_hash(res)
    ident = next((identity(json.loads(r.content)) for r in res
                  if r.resource_type == "Patient" and r.resource_id == p.fhir_id),
                 summary.Identity("", ""))
    return summary.Computed(p.id, version, ident.name, ident.mrn, record_hash, today,
                            p.planned_inclusion, p.planned_d0,
                            cache.get(p, res, record_hash, today))


def waiting(s: Session, cache: VerdictCache, today: date, identify: bool,
            sites: tuple[str, ...]) -> list[tuple]:
    """(patient, identity or None, result, asks) of each patient of `sites` that waits on
    an investigator, in the list's order."""
    patients = list(s.scalars(select(PatientRow).where(PatientRow.site.in_(sites))
                              .order_by(PatientRow.id)))
    who = summary.identities(s, [p.id for p in patients]) if identify else {}
    out = []
    for p in patients:
        res = store.resources(s, p)
        record_hash = store.record_hash(res)
        signed = any(v.superseded is None for v in signature.signatures(s, p, record_hash))
        todo = cache.asks(p, res, record_hash, today, signed)
        if todo:
            out.append((p, who.get(p.id), cache.get(p, res, record_hash, today), todo))
    return out
