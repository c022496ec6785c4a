"""The patient list: who each patient is (name and MRN, to the roles allowed to see
them), a search, pages, and verdicts cached by what decides them (the record hash, the
protocol hash and the dates), so that a list is not the whole population re-screened on
every load."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialsieve.protocols.lumen import LUMEN
from trialsieve.web import signature, store, worklist
from trialsieve.web.db import PatientRow, ResourceRow
from trialsieve.web.screening import screen_record

PAGE = 50
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


def identities(s: Session) -> dict[int, Identity]:
    rows = s.execute(select(ResourceRow.patient_id, ResourceRow.content, PatientRow.fhir_id)
                     .join(PatientRow, PatientRow.id == ResourceRow.patient_id)
                     .where(ResourceRow.resource_type == "Patient"))
    out = {}
    for pid, content, fhir_id in rows:
        res = json.loads(content)
        if res.get("id") == fhir_id:
            out[pid] = identity(res)
    return out


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


def page_of(s: Session, cache: VerdictCache, today: date, query: str, page: int,
            identify: bool, sites: tuple[str, ...]) -> tuple[list[tuple], int]:
    """The rows of one page (patient, identity or None, result, newest signature view),
    and how many patients of `sites` match. The search reads names and MRNs only for a
    role that may see them."""
    who = identities(s)
    q = query.strip().lower()
    patients = list(s.scalars(select(PatientRow).where(PatientRow.site.in_(sites))
                              .order_by(PatientRow.id)))
    if q:
        def hit(p: PatientRow) -> bool:
            fields = [p.screening_number, p.fhir_id]
            if identify and p.id in who:
                fields += [who[p.id].name, who[p.id].mrn]
            return any(q in f.lower() for f in fields if f)
        patients = [p for p in patients if hit(p)]
    total = len(patients)
    rows = []
    for p in patients[page * PAGE:(page + 1) * PAGE]:
        res = store.resources(s, p)
        record_hash = store.record_hash(res)
        result = cache.get(p, res, record_hash, today)
        sigs = signature.signatures(s, p, record_hash)
        rows.append((p, who.get(p.id) if identify else None, result,
                     sigs[0] if sigs else None))
    return rows, total


def waiting(s: Session, cache: VerdictCache, today: date, identify: bool,
            sites: tuple[str, ...]) -> list[tuple]:
    """(patient, identity or None, result, asks) of each patient of `sites` that waits on
    an investigator, in the list's order."""
    who = identities(s) if identify else {}
    out = []
    for p in s.scalars(select(PatientRow).where(PatientRow.site.in_(sites))
                       .order_by(PatientRow.id)):
        res = store.resources(s, p)
        record_hash = store.record_hash(res)
        signed = any(v.superseded is None for v in signature.signatures(s, p, record_hash))
        todo = cache.asks(p, res, record_hash, today, signed)
        if todo:
            out.append((p, who.get(p.id), cache.get(p, res, record_hash, today), todo))
    return out
