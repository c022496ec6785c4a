"""The audit trail: who did what, when (UTC), old -> new, and why when correcting.

Rows are append-only (database triggers) and chained: each row's hash, an HMAC whose key
the database does not hold (web.seal), covers its own fields and the previous row's hash.
Each row also names the rows its change wrote with their content hashes (`covers`), so
that a patient's resource, planned dates, a signature or a user edited in the database
no longer matches the trail. The head of the chain is kept outside the database too, so
a trail cut short is found. `verify` names the first row that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialsieve.web import csvout
from trialsieve.web.db import (
    DEFAULT_SITE,
    AuditRow,
    Database,
    PatientRow,
    ResourceRow,
    Signature,
    User,
)
from trialsieve.web.seal import Seal

GENESIS = "0" * 64
HEAD = "audit_head"  # Session.info: the newest row this unit of work appended
FIELDS = ("id", "at", "username", "action", "entity", "old", "new", "reason", "covers",
          "prev_hash", "hash")
# The rows whose content changes a verdict, who may act, or what was signed, and the
# columns of each that count (a user's failed-login count does not).
COVERED: dict[type, tuple[str, tuple[str, ...]]] = {
    PatientRow: ("patients", ("screening_number", "fhir_id", "planned_inclusion",
                              "planned_d0", "created_by")),
    ResourceRow: ("resources", ("patient_id", "resource_type", "resource_id", "full_url",
                                "content", "origin", "created_at", "created_by")),
    Signature: ("signatures", ("patient_id", "username", "display_name", "meaning",
                               "statement", "signed_at", "as_of", "inclusion", "d0",
                               "policy", "verdict", "protocol_id", "protocol_version",
                               "protocol_hash", "record_hash", "result_json")),
    User: ("users", ("username", "display_name", "role", "password_hash", "active")),
}
# Columns added since (migration 0004), with their default: hashed only when they differ
# from it, so that rows written before the column existed still match their audit entry.
LATER: dict[type, tuple[tuple[str, str], ...]] = {
    PatientRow: (("site", DEFAULT_SITE),),
    User: (("sites", DEFAULT_SITE),),
}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _seal(s: Session) -> Seal:
    return s.info["seal"]


def content_hash(obj: Any) -> tuple[str, str]:
    """("resources/12", sha256 of the columns that count) of a covered row."""
    table, cols = COVERED[type(obj)]
    values = [getattr(obj, c) for c in cols]
    values += [[c, getattr(obj, c)] for c, default in LATER.get(type(obj), ())
               if getattr(obj, c) not in (None, default)]
    blob = json.dumps(values, ensure_ascii=False, default=str)
    return f"{table}/{obj.id}", hashlib.sha256(blob.encode()).hexdigest()


def digest(seal: Seal, prev: str, at: str, username: str, action: str, entity: str,
           old: str | None, new: str | None, reason: str | None,
           covers: str | None) -> str:
    blob = json.dumps([prev, at, username, action, entity, old, new, reason, covers],
                      ensure_ascii=False, separators=(",", ":"))
    return seal.mac(blob.encode())


def _stamp(now: datetime) -> str:
    """A row's time as the chain's digest reads it."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(s: Session, now: datetime, username: str, action: str, entity: str,
           old: Any = None, new: Any = None, reason: str | None = None,
           covers: Sequence[Any] = ()) -> AuditRow:
    """Append one row. Call inside Database.write(), which serialises writers; `covers`:
    the covered rows this change wrote, as they now are."""
    s.flush()  # ids and contents of the covered rows
    prev = s.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
    at = _stamp(now)
    cov = json.dumps(dict(content_hash(o) for o in covers), sort_keys=True) if covers \
        else None
    row = AuditRow(at=at, username=username, action=action, entity=entity, old=_text(old),
                   new=_text(new), reason=reason, covers=cov, prev_hash=prev)
    row.hash = digest(_seal(s), prev, at, username, action, entity, row.old, row.new,
                      reason, cov)
    s.add(row)
    s.flush()
    s.info[HEAD] = (row.id, row.hash)  # for Database.write: the head once committed
    return row


def record_read(db: Database, now: datetime, username: str, action: str, entity: str,
                new: Any = None) -> None:
    """Append the row of a read (or an export) of patient data, as `record` would, in
    plain SQL: no ORM session for a row that every page view writes (it was an eighth of
    a list page's time). Committed without waiting for the disk (Database.write_plain,
    durable=False): a power cut may lose the newest read rows, never a clinical write,
    never the chain (what is kept is a prefix)."""
    at = _stamp(now)
    text = _text(new)
    with db.write_plain(durable=False) as w:
        found = w.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        prev = found[0] if found else GENESIS
        h = digest(db.seal, prev, at, username, action, entity, None, text, None, None)
        row_id = w.execute(
            "INSERT INTO audit (at, username, action, entity, old, new, reason, covers, "
            "prev_hash, hash) VALUES (?, ?, ?, ?, NULL, ?, NULL, NULL, ?, ?) RETURNING id",
            (at, username, action, entity, text, prev, h)).fetchone()[0]
        w.head = (row_id, h)  # the chain's head outside the database, once committed


@dataclass(frozen=True)
class Verification:
    rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(s: Session) -> Verification:
    """The chain row by row, the head kept outside the database, then every covered row
    against the content hash its latest audit row recorded."""
    seal = _seal(s)
    prev, n, problems = GENESIS, 0, []
    latest: dict[str, str] = {}
    hashes: dict[int, str] = {}
    for row in s.scalars(select(AuditRow).order_by(AuditRow.id)):
        n += 1
        if row.prev_hash != prev:
            problems.append(f"row {row.id}: does not follow the row before it (a row was "
                            "removed or inserted)")
        if digest(seal, row.prev_hash, row.at, row.username, row.action, row.entity,
                  row.old, row.new, row.reason, row.covers) != row.hash:
            problems.append(f"row {row.id}: its content no longer matches its hash (altered "
                            "or rewritten)")
        latest.update(json.loads(row.covers) if row.covers else {})
        hashes[row.id] = row.hash
        prev = row.hash
    head = seal.head()
    if head is not None and hashes.get(head[0]) != head[1]:
        problems.append(f"row {head[0]}: the newest row the app wrote is "
                        f"{'missing' if head[0] not in hashes else 'not the same'} "
                        "(the trail was cut short or rewritten)")
    for model in COVERED:
        obj: Any
        for obj in s.scalars(select(model).order_by(model.id)):  # type: ignore[attr-defined]
            key, h = content_hash(obj)
            if key not in latest:
                problems.append(f"{key}: not in the audit trail (added behind the app's back)")
            elif latest.pop(key) != h:
                problems.append(f"{key}: changed since its audit row (edited in the "
                                "database)")
    problems += [f"{key}: in the audit trail but no longer in the database (deleted)"
                 for key in latest]
    return Verification(n, tuple(problems))


@dataclass(frozen=True)
class Shown:
    """An audit row as one user may see it (the row itself is never changed)."""

    id: int
    at: str
    username: str
    action: str
    entity: str
    old: str | None
    new: str | None
    reason: str | None
    covers: str | None
    prev_hash: str
    hash: str


HIDDEN_FROM_ADMINS = "(patient data: not shown to admins)"


def _patients_named(row: AuditRow) -> list[str]:
    """The screening numbers a row is about: its entity's, or those an import or a list
    read names."""
    head = row.entity.split("/")[0]
    if head not in ("files", "patients", "screening-log", "user"):
        return [head]
    try:
        named = json.loads(row.new or "null")
    except ValueError:
        return []
    return [n for n in (named.get("patients") or []) if isinstance(n, str)] \
        if isinstance(named, dict) else []


def shown(items: list[AuditRow], clinical: bool,
          hidden: set[str] = frozenset(),  # type: ignore[assignment]
          accounts: set[str] | None = None) -> list[Shown]:
    """The rows a user may see. Without `clinical` (an admin), rows about patients keep
    who, when, what action and the screening number, not values or file names. Rows
    naming only `hidden` patients (another site's) are left out, and so are, when
    `accounts` is given, the rows about an account not in it (another site's staff, or
    a user name that names no account)."""
    out = []
    for r in items:
        named = _patients_named(r)
        if named and all(n in hidden for n in named):
            continue
        if accounts is not None and r.entity.startswith("user/") \
                and r.entity.removeprefix("user/") not in accounts:
            continue
        fields = {f: getattr(r, f) for f in FIELDS}
        if not clinical and not r.entity.startswith("user/"):
            fields.update(entity=r.entity.split("/")[0], old=None, new=HIDDEN_FROM_ADMINS,
                          reason=None)
        out.append(Shown(**fields))
    return out


def rows(s: Session, limit: int | None = None) -> list[AuditRow]:
    q = select(AuditRow).order_by(AuditRow.id.desc())
    return list(s.scalars(q.limit(limit) if limit else q))


def to_csv(items: list[Shown]) -> str:
    return csvout.table(FIELDS, ([getattr(r, f) for f in FIELDS]
                                 for r in sorted(items, key=lambda r: r.id)))
