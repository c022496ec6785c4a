"""A user's life after creation: deactivate and reactivate, unlock, a one-time reset
token, a password changed by its owner (and at first login when an admin chose it).
Each change is one audit row covering the user row as it now is."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialsieve.web import audit, auth, sites
from trialsieve.web.db import User, WebSession

RESET_VALID = timedelta(hours=24)


def find(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise auth.AuthError(f"no user {username!r}")
    return user


def _end_sessions(s: Session, now: datetime, user: User) -> None:
    for ws in s.scalars(select(WebSession).where(WebSession.user_id == user.id,
                                                 WebSession.ended_at.is_(None))):
        ws.ended_at = now


def set_active(s: Session, now: datetime, by: str, user: User, active: bool) -> None:
    if by == user.username and not active:
        raise auth.AuthError("you cannot deactivate your own account")
    user.active = active
    if not active:
        _end_sessions(s, now, user)
    audit.record(s, now, by, "user-activate" if active else "user-deactivate",
                 f"user/{user.username}", new={"active": active}, covers=[user])


def set_sites(s: Session, now: datetime, by: str, user: User, typed: str) -> None:
    """The sites whose patients the user sees from their next request on (web.sites):
    one audit row, old and new, covering the user row."""
    try:
        names = sites.parse(typed)
    except sites.SiteError as exc:
        raise auth.AuthError(str(exc)) from None
    old, user.sites = user.sites, ",".join(names)
    if old == user.sites:
        raise auth.AuthError(f"{user.username} has these sites already")
    audit.record(s, now, by, "user-sites", f"user/{user.username}",
                 old={"sites": old.split(",")}, new={"sites": list(names)}, covers=[user])


def unlock(s: Session, now: datetime, by: str, user: User) -> None:
    """Failed attempts before now no longer pause this user name, from any address."""
    user.unlocked_at = now
    audit.record(s, now, by, "user-unlock", f"user/{user.username}", covers=[user])


def issue_reset(s: Session, now: datetime, by: str, user: User) -> str:
    """A one-time token for the user to choose a new password; only its hash is kept.
    The old password stops working and the user's sessions end."""
    token = secrets.token_urlsafe(32)
    user.reset_hash = hashlib.sha256(token.encode()).hexdigest()
    user.reset_until = now + RESET_VALID
    user.password_hash = "!reset"  # no password verifies against it
    _end_sessions(s, now, user)
    audit.record(s, now, by, "user-reset", f"user/{user.username}",
                 new={"valid_until": user.reset_until}, covers=[user])
    return token


def redeem_reset(s: Session, now: datetime, token: str, password: str) -> User:
    digest = hashlib.sha256(token.encode()).hexdigest()
    user = s.scalar(select(User).where(User.reset_hash == digest))
    if user is None or user.reset_until is None or user.reset_until < now:
        raise auth.AuthError("this reset link is not valid (used, expired or mistyped): "
                             "ask an administrator for a new one")
    _set(s, now, user.username, user, password, "password-reset-used")
    return user


def change_own(s: Session, now: datetime, policy: auth.Policy, user: User, current: str,
               new: str, again: str, ip: str) -> None:
    if new != again:
        raise auth.AuthError("the two new passwords differ")
    if not auth.reauthenticate(s, now, policy, user, current, ip):
        raise auth.AuthError("the current password is wrong")
    if secrets.compare_digest(current, new):
        raise auth.AuthError("choose a password different from the current one")
    _set(s, now, user.username, user, new, "password-change")


def _set(s: Session, now: datetime, by: str, user: User, password: str,
         action: str) -> None:
    user.password_hash = auth.hash_password(password, user.username)
    user.must_change = False
    user.reset_hash = user.reset_until = None
    audit.record(s, now, by, action, f"user/{user.username}", covers=[user])
