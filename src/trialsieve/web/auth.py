"""Users, roles, passwords (argon2id), logins with throttling, sessions.

Failed logins pause a user name from one address, with a pause that doubles each time:
the same answer whether the account exists or not (no user enumeration), and no one can
lock the investigator out of signing from elsewhere. Lifecycle (deactivate, unlock,
reset, change): web.accounts."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialsieve.web import audit, passwords
from trialsieve.web import sites as site_rules
from trialsieve.web.db import Database, LoginAttempt, User, WebSession, as_datetime

COORDINATOR, INVESTIGATOR, MONITOR, ADMIN = "coordinator", "investigator", "monitor", "admin"
ROLES = (COORDINATOR, INVESTIGATOR, MONITOR, ADMIN)
# What each permission allows, and to whom. Admins manage users only: they see no
# patient data. Monitors read and export; they change nothing.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({COORDINATOR, INVESTIGATOR, MONITOR}),
    "export": frozenset({COORDINATOR, INVESTIGATOR, MONITOR}),
    "import": frozenset({COORDINATOR, INVESTIGATOR}),
    "enter": frozenset({COORDINATOR, INVESTIGATOR}),
    "attest": frozenset({INVESTIGATOR}),
    "sign": frozenset({INVESTIGATOR}),
    "audit": frozenset({MONITOR, INVESTIGATOR, ADMIN}),
    "users": frozenset({ADMIN}),
    "logout": frozenset(ROLES),
    "account": frozenset(ROLES),  # one's own password
    # names and MRNs: the staff who screen; monitors verify by screening number
    "identify": frozenset({COORDINATOR, INVESTIGATOR}),
}
MIN_PASSWORD = passwords.MIN_PASSWORD
_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 defaults


class AuthError(ValueError):
    """A refusal to show the user as it is."""


@dataclass(frozen=True)
class Policy:
    idle: timedelta = timedelta(minutes=15)
    lifetime: timedelta = timedelta(hours=12)
    max_failures: int = 5  # failures of a user name from one address before a pause
    lockout: timedelta = timedelta(minutes=15)  # the first pause; each next one doubles
    max_pause: timedelta = timedelta(hours=24)
    ip_failures: int = 20  # failures from one address within ip_window: refused
    ip_window: timedelta = timedelta(minutes=5)
    max_sessions: int = 3  # live sessions of one user: a new login ends the oldest


def can(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def hash_password(password: str, username: str = "") -> str:
    try:
        passwords.check(password, username)
    except passwords.PasswordError as exc:
        raise AuthError(str(exc)) from None
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no such user: same work as a real check")


def password_ok(user: User | None, password: str) -> bool:
    """Checked against a dummy hash when there is no such user, so that the time taken
    does not tell which user names exist."""
    if user is None:
        with suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(s: Session, now: datetime, by: str, username: str, password: str, role: str,
             display_name: str | None = None, must_change: bool = False,
             sites: str = "") -> User:
    """`must_change`: the password was chosen by someone else (an admin), so its owner
    replaces it at first login. `sites`: the sites whose patients the user sees (names
    separated by commas; none: the default site)."""
    username = username.strip()
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64 or not username.replace(".", "").replace(
            "-", "").replace("_", "").isalnum():
        raise AuthError("a user name has 1-64 letters, digits, '.', '-' or '_'")
    if s.scalar(select(User).where(User.username == username)):
        raise AuthError(f"user {username!r} already exists")
    try:
        site_names = ",".join(site_rules.parse(sites))
    except site_rules.SiteError as exc:
        raise AuthError(str(exc)) from None
    user = User(username=username, display_name=(display_name or username).strip()[:128],
                role=role, password_hash=hash_password(password, username),
                failed_logins=0, active=True, created_at=now, must_change=must_change,
                sites=site_names)
    s.add(user)
    s.flush()
    audit.record(s, now, by, "user-add", f"user/{username}",
                 new={"role": role, "display_name": user.display_name, "sites": site_names},
                 covers=[user])
    return user


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(s: Session, now: datetime, policy: Policy, username: str, password: str,
          ip: str) -> tuple[User, str]:
    """(user, session token) or AuthError. Every attempt writes one audit row."""
    username = username.strip()[:64]
    since = now - policy.ip_window
    recent = s.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.ip == ip, LoginAttempt.at >= since, LoginAttempt.ok.is_(False))) or 0
    if recent >= policy.ip_failures:
        audit.record(s, now, username or "-", "login-throttled", f"user/{username}",
                     new={"ip": ip})
        raise AuthError("too many failed logins from this address: wait a few minutes")
    user = s.scalar(select(User).where(User.username == username))
    until = paused_until(s, now, policy, username, ip, user)
    if until is not None:
        audit.record(s, now, username or "-", "login-paused", f"user/{username}",
                     new={"ip": ip, "until": until})
        raise AuthError(_paused(until))
    attempt = LoginAttempt(username=username, ip=ip, at=now, ok=False)
    s.add(attempt)
    if not password_ok(user, password) or user is None or not user.active:
        audit.record(s, now, username or "-", "login-failed", f"user/{username}",
                     new={"ip": ip})
        raise AuthError("wrong user name or password")
    attempt.ok = True
    token = secrets.token_urlsafe(32)
    live = list(s.scalars(select(WebSession).where(
        WebSession.user_id == user.id, WebSession.ended_at.is_(None),
        WebSession.last_seen >= now - policy.idle,
        WebSession.created_at >= now - policy.lifetime).order_by(WebSession.created_at)))
    for old in live[:max(0, len(live) - policy.max_sessions + 1)]:
        old.ended_at = now  # a forgotten browser elsewhere does not stay logged in
    s.add(WebSession(id=_token_id(token), user_id=user.id, csrf=secrets.token_urlsafe(32),
                     created_at=now, last_seen=now))
    audit.record(s, now, username, "login", f"user/{username}", new={"ip": ip})
    return user, token


def session_for(s: Session, now: datetime, policy: Policy, token: str | None,
                touch: bool = True) -> tuple[WebSession, User] | str:
    """The live session of a cookie token (touched, unless `touch` is False), or why
    there is none."""
    if not token:
        return "not logged in"
    ws = s.get(WebSession, _token_id(token))
    if ws is None or ws.ended_at is not None:
        return "not logged in"
    if now - ws.last_seen > policy.idle or now - ws.created_at > policy.lifetime:
        ws.ended_at = now
        return "session expired: log in again"
    user = s.get(User, ws.user_id)
    if user is None or not user.active:
        return "not logged in"
    if touch and needs_touch(ws, now):
        ws.last_seen = now
    return ws, user


_LIVE = ("SELECT s.id, s.csrf, s.created_at, s.last_seen, s.ended_at, u.id, u.username, "
         "u.display_name, u.role, u.active, u.must_change, u.sites "
         "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?")


def live_session(db: Database, now: datetime, policy: Policy,
                 token: str | None) -> tuple[WebSession, User] | None:
    """The session of a cookie token and its user, read as one row in plain SQL, when
    nothing is to be written: the session not ended, neither idle nor past its lifetime,
    its user active, and touched less than a minute ago (most requests). None in every
    other case, which `session_for` then decides in a write, as before (an expiry is
    kept, a touch recorded, a refusal said)."""
    if not token:
        return None
    with db.cursor() as c:
        found = c.execute(_LIVE, (_token_id(token),)).fetchone()
    if found is None:
        return None
    (sid, csrf, created_at, last_seen, ended_at, uid, username, display_name, role, active,
     must_change, sites) = found
    created_at, last_seen = as_datetime(created_at), as_datetime(last_seen)
    assert created_at is not None and last_seen is not None  # NOT NULL columns
    if (ended_at is not None or not active or now - last_seen > policy.idle
            or now - created_at > policy.lifetime or now - last_seen >= TOUCH):
        return None
    ws = WebSession(id=sid, user_id=uid, csrf=csrf, created_at=created_at,
                    last_seen=last_seen, ended_at=None)
    user = User(id=uid, username=username, display_name=display_name, role=role,
                active=True, must_change=bool(must_change), sites=sites)
    return ws, user


# Activity is recorded at most once a minute: a read is then no write of the session row
# under the one write lock. A session may end up to a minute early, never late.
TOUCH = timedelta(minutes=1)


def needs_touch(ws: WebSession, now: datetime) -> bool:
    return now - ws.last_seen >= TOUCH


def logout(s: Session, now: datetime, ws: WebSession, user: User) -> None:
    ws.ended_at = now
    audit.record(s, now, user.username, "logout", f"user/{user.username}")


def reauthenticate(s: Session, now: datetime, policy: Policy, user: User,
                   password: str, ip: str = "?") -> bool:
    """The password again (e-signature). A wrong one counts like a failed login from
    this address, and pauses it alike; failures elsewhere do not stop the signer."""
    if paused_until(s, now, policy, user.username, ip, user) is not None:
        return False
    ok = password_ok(user, password)
    s.add(LoginAttempt(username=user.username, ip=ip, at=now, ok=ok))
    return ok


def _paused(until: datetime) -> str:
    return ("too many failed attempts with this user name from this address: try again "
            f"after {until:%H:%M} UTC")


def paused_until(s: Session, now: datetime, policy: Policy, username: str, ip: str,
                 user: User | None) -> datetime | None:
    """When attempts of `username` from `ip` may resume, or None if they may now. Counted
    from the name typed, so an unknown name pauses exactly as a real one does."""
    last_ok = s.scalar(select(func.max(LoginAttempt.id)).where(
        LoginAttempt.username == username, LoginAttempt.ip == ip,
        LoginAttempt.ok.is_(True))) or 0
    q = select(LoginAttempt.at).where(
        LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.id > last_ok,
        LoginAttempt.ok.is_(False), LoginAttempt.at >= now - policy.max_pause)
    if user is not None and user.unlocked_at is not None:
        q = q.where(LoginAttempt.at > user.unlocked_at)
    fails = list(s.scalars(q.order_by(LoginAttempt.id)))
    pauses = len(fails) // policy.max_failures
    if not pauses:
        return None
    until = fails[pauses * policy.max_failures - 1] + min(
        policy.lockout * 2 ** (pauses - 1), policy.max_pause)
    return until if until > now else None
