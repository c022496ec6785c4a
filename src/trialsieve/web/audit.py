"""The audit trail: who did what, when (UTC), old -> new, and why when correcting.

Rows are append-only (database triggers) and chained: each row's hash covers its own
fields and the previous row's hash, so a row altered, inserted or removed behind the
application's back breaks the chain, and `verify` names the first row that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialsieve.web import csvout
from trialsieve.web.db import AuditRow

GENESIS = "0" * 64
FIELDS = ("id", "at", "username", "action", "entity", "old", "new", "reason", "prev_hash",
          "hash")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def digest(prev: str, at: str, username: str, action: str, entity: str, old: str | None,
           new: str | None, reason: str | None) -> str:
    blob = json.dumps([prev, at, username, action, entity, old, new, reason],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def record(s: Session, now: datetime, username: str, action: str, entity: str,
           old: Any = None, new: Any = None, reason: str | None = None) -> AuditRow:
    """Append one row. Call inside Database.write(), which serialises writers."""
    prev = s.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    row = AuditRow(at=at, username=username, action=action, entity=entity, old=_text(old),
                   new=_text(new), reason=reason, prev_hash=prev)
    row.hash = digest(prev, at, username, action, entity, row.old, row.new, reason)
    s.add(row)
    s.flush()
    return row


@dataclass(frozen=True)
class Verification:
    rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(s: Session) -> Verification:
    prev, n, problems = GENESIS, 0, []
    for row in s.scalars(select(AuditRow).order_by(AuditRow.id)):
        n += 1
        if row.prev_hash != prev:
            problems.append(f"row {row.id}: does not follow the row before it (a row was "
                            "removed or inserted)")
        if digest(row.prev_hash, row.at, row.username, row.action, row.entity, row.old,
                  row.new, row.reason) != row.hash:
            problems.append(f"row {row.id}: its content no longer matches its hash (altered)")
        prev = row.hash
    return Verification(n, tuple(problems))


def rows(s: Session, limit: int | None = None) -> list[AuditRow]:
    q = select(AuditRow).order_by(AuditRow.id.desc())
    return list(s.scalars(q.limit(limit) if limit else q))


def to_csv(items: list[AuditRow]) -> str:
    return csvout.table(FIELDS, ([getattr(r, f) for f in FIELDS]
                                 for r in sorted(items, key=lambda r: r.id)))
