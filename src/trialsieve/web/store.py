"""Patients kept as FHIR resources: import, read back as the engine's record, export.

The record of a stored patient is built by the same reader as a file's
(`fhir.reader.assemble`), so a patient screens the same on the web and from its export.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trialsieve.fhir.errors import InputError
from trialsieve.fhir.reader import Loaded, assemble, group, load
from trialsieve.output.identifiers import derived
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import PatientRecord
from trialsieve.web import audit, provenance, summary
from trialsieve.web.db import DEFAULT_SITE, PatientRow, ResourceRow, Summary

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # FHIR R4 datatype "id"


class ImportError_(ValueError):
    """An upload that cannot be imported, with a message naming file, resource, field."""


def _safe_name(filename: str) -> str:
    name = Path(filename or "upload.json").name
    suffix = ".ndjson" if name.endswith(".ndjson") else ".json"
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).stem)[:80]
    return (stem or "upload") + suffix


def parse_upload(files: list[tuple[str, bytes]]) -> tuple[Loaded, str]:
    """The resources of uploaded files (Bundles, resources, or the NDJSON files of a bulk
    export), read by the reader as the files of one folder."""
    names = []
    with tempfile.TemporaryDirectory() as tmp:
        for filename, data in files:
            name = _safe_name(filename)
            while name in names:  # two files of the same name: keep both
                name = "_" + name
            names.append(name)
            (Path(tmp) / name).write_bytes(data)
        try:
            loaded = load(Path(tmp) / names[0] if len(names) == 1 else tmp)
        except InputError as exc:
            raise ImportError_(str(exc).replace(tmp + "/", "")) from exc
        loaded.resources = [(str(Path(f).name), r) for f, r in loaded.resources]
    skipped = "; ".join(f"{Path(w.file).name}: {w.message}" for w in loaded.warnings)
    if skipped and not loaded.resources:
        raise ImportError_(skipped)
    return loaded, ", ".join(names)


def import_upload(s: Session, now: datetime, username: str,
                  files: list[tuple[str, bytes]], site: str = DEFAULT_SITE) -> list[PatientRow]:
    """Each patient in the upload becomes a screening number of `site`; nothing is kept
    on error."""
    loaded, name = parse_upload(files)
    for where, res in loaded.resources:
        rid = res.get("id")
        if rid is not None and not (isinstance(rid, str) and FHIR_ID.fullmatch(rid)):
            # "a/b" would read as a reference to another resource, and split a patient
            raise ImportError_(f"{where}: {res.get('resourceType')} id {rid!r} is not a "
                               "FHIR id (1-64 letters, digits, '-' or '.'): not imported")
    by_patient = group(loaded)
    if not by_patient:
        raise ImportError_(f"{name}: no patient here (no Patient resource and no "
                           "resource with a subject)")
    # Resources of no patient (Medication, Practitioner...) resolve references: each
    # patient keeps a copy, so that its record reads alone.
    owned = {id(r) for items in by_patient.values() for _, r in items}
    shared = [(f, r) for f, r in loaded.resources if id(r) not in owned]
    rows, written = [], []
    for pid, items in by_patient.items():
        if s.scalar(select(PatientRow).where(PatientRow.fhir_id == pid)):
            raise ImportError_(f"{name}: patient {pid} is already imported")
        assemble(Loaded(items + shared), name)  # reads, or says why not, before keeping
        row, resources_ = _add_patient(s, now, username, pid, items + shared, site)
        rows.append(row)
        written += [row, *resources_]
    audit.record(s, now, username, "import", f"files/{name}"[:200],
                 new={"patients": [p.screening_number for p in rows], "site": site,
                      "resources": sum(len(by_patient[p.fhir_id]) for p in rows),
                      "sha256": {f: hashlib.sha256(d).hexdigest() for f, d in files}},
                 covers=written)
    return rows


def _add_patient(s: Session, now: datetime, username: str, pid: str,
                 items: list[tuple[str, dict]], site: str
                 ) -> tuple[PatientRow, list[ResourceRow]]:
    # the rule `trialsieve export` numbers the same patient by (output/identifiers.py):
    # the workbench's log and the exported one name each patient alike
    number = derived(LUMEN.id, pid)
    if s.scalar(select(PatientRow).where(PatientRow.screening_number == number)):
        raise ImportError_(f"patient {pid}: screening number {number} is already another "
                           "patient's (two FHIR ids with the same 32-bit hash): not imported")
    row = PatientRow(screening_number=number, fhir_id=pid, created_at=now,
                     created_by=username, site=site)
    s.add(row)
    s.flush()  # a database trigger adds its summary row (migration 0006): who it is, here
    written = [add_resource(s, now, username, row, res, "import") for _, res in items]
    own = next((res for _, res in items if res.get("resourceType") == "Patient"
                and res.get("id") == pid), None)
    if own is not None:
        who = summary.identity(own)
        s.execute(update(Summary).where(Summary.patient_id == row.id)
                  .values(name=who.name[:2000], mrn=who.mrn[:128]))
    return row, written


def add_resource(s: Session, now: datetime, username: str, patient: PatientRow, res: dict,
                 origin: str) -> ResourceRow:
    res = dict(res)
    full_url = res.pop("_fullUrl", None)
    row = ResourceRow(patient_id=patient.id, resource_type=res["resourceType"],
                      resource_id=res.get("id"), full_url=full_url,
                      content=json.dumps(res, ensure_ascii=False), origin=origin,
                      created_at=now, created_by=username)
    s.add(row)
    s.flush()
    return row


def resources(s: Session, patient: PatientRow) -> list[ResourceRow]:
    return list(s.scalars(select(ResourceRow).where(ResourceRow.patient_id == patient.id)
                          .order_by(ResourceRow.id)))


def record_of(patient: PatientRow, rows: list[ResourceRow]) -> PatientRecord:
    """The record the engine screens: imported answers to judgement questions held back
    until confirmed here (web.provenance)."""
    return provenance.screened(rows, patient.screening_number, patient.fhir_id)[0]


def imported_answers(patient: PatientRow,
                     rows: list[ResourceRow]) -> list[provenance.ImportedAnswer]:
    return provenance.screened(rows, patient.screening_number, patient.fhir_id)[1]


def bundle(rows: list[ResourceRow]) -> dict:
    """A collection Bundle of the record, resources in their stored order."""
    entries = []
    for r in rows:
        entry: dict = {"resource": json.loads(r.content)}
        if r.full_url:
            entry = {"fullUrl": r.full_url, **entry}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def record_hash(rows: list[ResourceRow]) -> str:
    """What a signature was computed from: any added or changed resource changes it."""
    blob = json.dumps(bundle(rows), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def patient_by_number(s: Session, number: str) -> PatientRow | None:
    return s.scalar(select(PatientRow).where(PatientRow.screening_number == number))


def find_resource(s: Session, patient: PatientRow, rtype: str, rid: str) -> ResourceRow | None:
    return s.scalar(select(ResourceRow).where(
        ResourceRow.patient_id == patient.id, ResourceRow.resource_type == rtype,
        ResourceRow.resource_id == rid))


def withdraw(s: Session, now: datetime, username: str, patient: PatientRow, row: ResourceRow,
             reason: str) -> None:
    """Mark an entry entered-in-error (the reader then sets it aside), with the reason;
    the resource stays, its old and new content in the audit trail."""
    if not reason.strip():
        raise ValueError("a reason is needed to withdraw an entry")
    res = json.loads(row.content)
    old_status = res.get("status")
    if old_status == "entered-in-error":
        raise ValueError("this entry is already withdrawn")
    res["status"] = "entered-in-error"
    row.content = json.dumps(res, ensure_ascii=False)
    audit.record(s, now, username, "withdraw",
                 f"{patient.screening_number}/{row.resource_type}/{row.resource_id}",
                 old={"status": old_status}, new={"status": "entered-in-error"},
                 reason=reason.strip(), covers=[row])
