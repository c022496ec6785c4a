"""One form, one change: each form carries a one-time token, kept when posted, so that
the same form posted twice (a double click, a reload, a retry) is refused the second
time instead of storing a second entry. Kept in the database, so that it holds across
processes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from trialsieve.web.db import Submission


def token() -> str:
    """A fresh token for one form on a page."""
    return secrets.token_urlsafe(24)


def use(s: Session, now: datetime, session_id: str, once: str) -> bool:
    """Keep `once` as used; False when it was used already. Call inside
    Database.write(), which serialises writers."""
    key = hashlib.sha256(once.encode()).hexdigest()
    if s.get(Submission, key) is not None:
        return False
    s.add(Submission(token=key, session_id=session_id, at=now))
    return True
