"""E-signature of a screening: password again, a stated meaning, the result frozen with the
protocol hash and the hash of the record it was computed from. A signature row is never
changed (database triggers); a later change to the record makes it superseded, which is
computed by comparing hashes, not written into it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from trialsieve.engine import ELIGIBLE, NOT_ELIGIBLE, Dates, ScreeningResult
from trialsieve.protocols.lumen import LUMEN
from trialsieve.report import to_json
from trialsieve.web import audit
from trialsieve.web.db import PatientRow, Signature, User

MEANINGS = {ELIGIBLE: "eligible", NOT_ELIGIBLE: "not eligible"}


class SignError(ValueError):
    pass


def statement(meaning: str, result: ScreeningResult) -> str:
    return (f"I confirm this patient is {MEANINGS[meaning]} for "
            f"{result.protocol.id} on {result.dates.as_of}")


def sign(s: Session, now: datetime, user: User, patient: PatientRow, meaning: str,
         result: ScreeningResult, record_hash: str) -> Signature:
    """The meaning must be the verdict computed now: an investigator confirms the
    screening, and cannot sign "eligible" over a record that does not back it."""
    if result.verdict not in MEANINGS:
        raise SignError("the screening is incomplete: settle the unknown criteria first")
    if meaning != result.verdict:
        raise SignError(f"the screening says {MEANINGS[result.verdict]}: that is the only "
                        "meaning that can be signed")
    d = result.dates
    sig = Signature(patient_id=patient.id, username=user.username,
                    display_name=user.display_name, meaning=meaning,
                    statement=statement(meaning, result), signed_at=now, as_of=d.as_of,
                    inclusion=d.inclusion, d0=d.d0, policy=result.policy,
                    verdict=result.verdict, protocol_id=result.protocol.id,
                    protocol_version=result.protocol.version,
                    protocol_hash=result.protocol.hash, record_hash=record_hash,
                    result_json=json.dumps(to_json(result), ensure_ascii=False))
    s.add(sig)
    s.flush()
    audit.record(s, now, user.username, "sign", f"{patient.screening_number}/signature/"
                 f"{sig.id}", new={"statement": sig.statement, "record": record_hash,
                                   "protocol": sig.protocol_hash}, covers=[sig])
    return sig


def _planned(patient: Any, sig: Signature) -> tuple[date, date] | None:
    """The planned (inclusion, D0) as the screening resolves them, None if not planned."""
    if patient.planned_inclusion is None and patient.planned_d0 is None:
        return None
    d = Dates.resolve(sig.as_of, patient.planned_inclusion, patient.planned_d0)
    return d.inclusion, d.d0


@dataclass(frozen=True)
class SignatureView:
    sig: Signature
    superseded: str | None  # why, or None while it still stands


def signatures(s: Session, patient: PatientRow, record_hash: str) -> list[SignatureView]:
    return views(patient, s.scalars(select(Signature).where(
        Signature.patient_id == patient.id).order_by(Signature.id.desc())), record_hash)


# what the patient list reads of a signature (web.listing)
LISTED = (Signature.id, Signature.patient_id, Signature.statement, Signature.as_of,
          Signature.inclusion, Signature.d0, Signature.protocol_hash, Signature.record_hash)


def newest(s: Session, patients: list[tuple[Any, str]]) -> dict[int, SignatureView]:
    """The newest signature of each patient with any, given each one's record hash
    ((patient or a row with its id and planned dates, hash)): one query for a whole
    list page."""
    by: dict[int, list[Any]] = {}
    ids = [p.id for p, _ in patients]
    if not ids:
        return {}
    # a range, not a list of 50 ids to compile: a page is consecutive patient ids (of
    # its sites; the others in the range are not looked up below). Rows of the columns
    # a list shows and a standing depends on, not ORM objects: a tenth of a list's time.
    for sig in s.execute(select(*LISTED)
                         .where(Signature.patient_id.between(min(ids), max(ids)))
                         .order_by(Signature.id.desc())):
        by.setdefault(sig.patient_id, []).append(sig)
    out = {}
    for p, record_hash in patients:
        if p.id in by:
            out[p.id] = views(p, by[p.id], record_hash)[0]
    return out


def standing(s: Session, patients: list[tuple[Any, str]],
             frozen: bool = False) -> dict[int, SignatureView]:
    """The signature that stands over each patient's record (given as (patient or a row
    with its id and planned dates, record hash)), for those with one; `frozen`: with the
    result frozen at signing. One query for all."""
    ids = [p.id for p, _ in patients]
    if not ids:
        return {}
    q = select(Signature) if frozen else select(Signature).options(
        defer(Signature.result_json))
    by: dict[int, list[Signature]] = {}
    for sig in s.scalars(q.where(Signature.patient_id.between(min(ids), max(ids)))
                         .order_by(Signature.id.desc())):
        by.setdefault(sig.patient_id, []).append(sig)
    out = {}
    for p, record_hash in patients:
        stands = [v for v in views(p, by.get(p.id, ()), record_hash) if v.superseded is None]
        if stands:
            out[p.id] = stands[0]
    return out


def views(patient: Any, sigs: Iterable[Any], record_hash: str) -> list[SignatureView]:
    """Each signature (newest first; Signature objects, or rows of at least the columns
    of LISTED) and whether it still stands over `record_hash`."""
    out = []
    for sig in sigs:
        why = None
        if sig.record_hash != record_hash:
            why = "the record changed after this signature"
        elif sig.protocol_hash != LUMEN.hash:
            why = "the protocol encoding changed after this signature"
        elif _planned(patient, sig) not in (None, (sig.inclusion, sig.d0)):
            why = "the planned inclusion date or D0 changed after this signature"
        out.append(SignatureView(sig, why))
    # A newer signature on the same record supersedes an older one too.
    standing = [v for v in out if v.superseded is None]
    return [v if v is standing[0] or v.superseded else
            SignatureView(v.sig, "signed again later") for v in out] if standing else out


def filed(patient: PatientRow, view: SignatureView) -> dict:
    """The signed result as the checklist renders it (output.checklist): the result frozen
    at signing, the site's screening number and the recorded e-signature."""
    sig = view.sig
    return json.loads(sig.result_json) | {
        "screening_number": patient.screening_number,
        "signature": {"by": f"{sig.display_name} ({sig.username})",
                      "at": f"{sig.signed_at:%Y-%m-%d %H:%M:%S} UTC",
                      "meaning": sig.statement, "superseded": view.superseded,
                      "record_hash": sig.record_hash}}
