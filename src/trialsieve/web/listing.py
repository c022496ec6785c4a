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
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import PatientRecord
from trialsieve.web import signature, store, summary, worklist
from trialsieve.web.db import (
    Database,
    PatientRow,
    ResourceRow,
    Summary,
    as_date,
    as_datetime,
)
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


class RowHtml:
    """Each list row's HTML, per process, under the exact values stored for it (the
    patient's columns, its summary row with its MAC, its newest signature), the screening
    date and whether names are shown. A row is kept only once its summary passed every
    check (web.summary.fits: key, MAC); a changed value is another key, so nothing needs
    invalidating, and a row edited in the database misses and is checked again."""

    def __init__(self, size: int = 20000) -> None:
        self._items: dict[tuple, str] = {}
        self._size = size

    def get(self, key: tuple) -> str | None:
        return self._items.get(key)

    def put(self, key: tuple, html: str) -> None:
        if len(self._items) >= self._size:
            self._items.clear()  # a bound, not an eviction policy: it refills at once
        self._items[key] = html


# One list row as the page shows it: (patient, identity or None, summary, newest
# signature view or None) -> its HTML (the row's template, web/templates/patient_row.html)
Render = Callable[[tuple], str]


@dataclass(frozen=True)
class Page:
    numbers: list[str]  # the screening numbers shown (the read's audit row names them)
    rows: list[str]  # their rows' HTML
    total: int  # how many patients match, on every page


def page_of(db: Database, cache: VerdictCache, shown: RowHtml, render: Render, today: date,
            query: str, page: int, identify: bool, sites: tuple[str, ...]) -> Page:
    """One page of the list, rendered, and how many patients of `sites` match. The
    search reads names and MRNs only for a role that may see them. Read in one plain
    SQL query while every row on the page is fresh (most loads); otherwise the page's
    stale rows are computed from their records and stored, unless the patient was written
    to meanwhile (`summaries`)."""
    fast = _page_plain(db, shown, render, today, query.strip().lower(), page, identify,
                       sites)
    if fast is not None:
        return fast
    rows, total = _page_computed(db, cache, today, query, page, identify, sites)
    return Page([r[0].screening_number for r in rows], [render(r) for r in rows], total)


def _like(q: str) -> str:
    """`q` anywhere in a text, its LIKE wildcards taken literally (ESCAPE '/')."""
    return "%" + q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _page_plain(db: Database, shown: RowHtml, render: Render, today: date, q: str,
                page: int, identify: bool, sites: tuple[str, ...]) -> Page | None:
    """The page in one query of plain SQL (rows as tuples: the page's patients, their
    summary rows, each one's newest signature, and the count), each row's HTML from
    `shown` under its exact stored values. None when the page is empty or a row on it is
    not fresh: the general path then decides."""
    where = f"p.site IN ({', '.join('?' * len(sites))})"
    params: list[Any] = list(sites)
    matched = "patients p"
    if q:
        fields = ["p.screening_number", "p.fhir_id"] + (["m.name", "m.mrn"] if identify
                                                         else [])
        where += " AND (" + " OR ".join(f"lower({f}) LIKE ? ESCAPE '/'" for f in fields) \
            + ")"
        params += [_like(q)] * len(fields)
        matched += " JOIN summaries m ON m.patient_id = p.id"
    sql = _PAGE.format(matched=matched, where=where)
    with db.cursor() as c:
        found = c.execute(sql, params + params + [PAGE, page * PAGE]).fetchall()
    if not found:
        return None
    numbers, rows = [], []
    for r in found:
        key = (today, identify, r[:_TOTAL])
        html = shown.get(key)
        if html is None:
            if not _fresh(db, r, today):
                return None
            html = render(_entry(r, identify))
            shown.put(key, html)
        numbers.append(r[1])
        rows.append(html)
    return Page(numbers, rows, int(found[0][_TOTAL]))


# The page's patient ids first (paged), then their columns, summary rows and newest
# signatures: a signature is looked up for the 50 rows shown only. Columns by position:
# patient 0-5, summary 6-20 (web.summary's MAC'd fields in their order, then the MAC),
# newest signature 21-27, the count 28.
_PAGE = (
    "SELECT p.id, p.screening_number, p.created_at, p.created_by, p.planned_inclusion, "
    "p.planned_d0, m.patient_id, m.version, m.name, m.mrn, m.record_hash, m.protocol_hash, "
    "m.as_of, m.inclusion, m.d0, m.verdict, m.unknown, m.blocking, m.reasons, m.asks, m.mac, "
    "g.id, g.statement, g.as_of, g.inclusion, g.d0, g.protocol_hash, g.record_hash, "
    "(SELECT count(*) FROM {matched} WHERE {where}) "
    "FROM (SELECT p.id FROM {matched} WHERE {where} ORDER BY p.id LIMIT ? OFFSET ?) k "
    "JOIN patients p ON p.id = k.id JOIN summaries m ON m.patient_id = p.id "
    "LEFT JOIN signatures g ON g.id = "
    "(SELECT max(id) FROM signatures WHERE patient_id = p.id) ORDER BY p.id")
_TOTAL = 28


def _fresh(db: Database, r: tuple, today: date) -> bool:
    """web.summary.fits on a row of _PAGE: the verdict is the one asked for (protocol,
    screening date, planned dates), computed by this app (MAC)."""
    return (r[15] is not None and r[10] is not None and r[11] == LUMEN.hash
            and as_date(r[12]) == today and as_date(r[13]) == as_date(r[4])
            and as_date(r[14]) == as_date(r[5]) and summary.stored_ok(db.seal, r[6:20], r[20]))


def _entry(r: tuple, identify: bool) -> tuple:
    """A row of _PAGE as the row's template reads it."""
    patient = SimpleNamespace(id=r[0], screening_number=r[1], created_at=as_datetime(r[2]),
                              created_by=r[3], planned_inclusion=as_date(r[4]),
                              planned_d0=as_date(r[5]))
    sig = None
    if r[21] is not None:
        sig = signature.views(patient, [SimpleNamespace(
            id=r[21], statement=r[22], as_of=as_date(r[23]), inclusion=as_date(r[24]),
            d0=as_date(r[25]), protocol_hash=r[26], record_hash=r[27])], r[10])[0]
    return (patient, summary.Identity(r[8], r[9]) if identify else None,
            SimpleNamespace(verdict=r[15]), sig)


def _page_computed(db: Database, cache: VerdictCache, today: date, query: str, page: int,
                   identify: bool, sites: tuple[str, ...]) -> tuple[list[tuple], int]:
    """The rows of one page (patient, identity or None, summary, newest signature view),
    and how many patients of `sites` match, each stale row computed from its record and
    stored, unless the patient was written to meanwhile."""
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
