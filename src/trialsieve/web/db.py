"""Tables of the workbench (SQLAlchemy 2), the engine for a database URL, and migrations.

Times are naive UTC datetimes. Patient data is kept as FHIR resources (JSON text), so
the engine reads a stored patient exactly as it reads a file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from trialsieve.web.seal import Seal

# The site of a workbench that names none: every user and patient (migration 0004).
DEFAULT_SITE = "main"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    must_change: Mapped[bool] = mapped_column(Boolean, default=False)  # at next login
    reset_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reset_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # failed logins before this do not count (an admin's unlock)
    unlocked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # the sites whose patients the user sees, comma-separated (web.sites)
    sites: Mapped[str] = mapped_column(String(256), default=DEFAULT_SITE)


class WebSession(Base):
    """A login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginAttempt(Base):
    """Every login attempt, for throttling by client address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("login_attempts_who", "username", "ip", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class PatientRow(Base):
    """A patient under screening, shown by its screening number (no name needed)."""

    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_number: Mapped[str] = mapped_column(String(16), unique=True)
    fhir_id: Mapped[str] = mapped_column(String(64), unique=True)
    planned_inclusion: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_d0: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(32), default=DEFAULT_SITE)  # the importer's


class Submission(Base):
    """A form's one-time token, once posted: the same form posted again stores nothing."""

    __tablename__ = "submissions"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)


class ResourceRow(Base):
    """One FHIR resource of a patient's record, imported or entered; order = id."""

    __tablename__ = "resources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    full_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    content: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16))  # "import" or "entry"
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Signature(Base):
    """An investigator's signed screening, frozen: the database refuses to change it."""

    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    meaning: Mapped[str] = mapped_column(String(16))  # eligible / not_eligible
    statement: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime)
    as_of: Mapped[date] = mapped_column(Date)
    inclusion: Mapped[date] = mapped_column(Date)
    d0: Mapped[date] = mapped_column(Date)
    policy: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))
    protocol_id: Mapped[str] = mapped_column(String(64))
    protocol_version: Mapped[str] = mapped_column(String(32))
    protocol_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(80))
    result_json: Mapped[str] = mapped_column(Text)


class Summary(Base):
    """A patient's row of the patient list, cached (web.summary): stale when `verdict` is
    None or its key (record, protocol, dates) is not the one asked for; `version` counts
    the writes to the patient (database triggers, migration 0006: any change to its
    resources or to the patient row), so that a result computed from an older record is
    never stored over a newer one. `mac` (keyed by the seal) finds a row edited in the
    database, which is then computed again."""

    __tablename__ = "summaries"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(Text, default="")
    mrn: Mapped[str] = mapped_column(String(128), default="")
    record_hash: Mapped[str | None] = mapped_column(String(80), nullable=True)
    protocol_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    inclusion: Mapped[date | None] = mapped_column(Date, nullable=True)
    d0: Mapped[date | None] = mapped_column(Date, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    unknown: Mapped[int | None] = mapped_column(Integer, nullable=True)
    blocking: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # what the screening log and the worklist show of the verdict (migration 0006): the
    # reasons for non-inclusion, "; "-joined, and the questions for an investigator
    # other than a signature (JSON [[kind, text, href], ...])
    reasons: Mapped[str | None] = mapped_column(Text, nullable=True)
    asks: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditRow(Base):
    """Append-only (database triggers), each row chained to the previous by its hash."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, as hashed
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(200))
    old: Mapped[str | None] = mapped_column(Text, nullable=True)
    new: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # {"resources/12": content hash, ...}: the rows this change wrote, as written
    covers: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def database_url(url: str | None, data_dir: str | Path) -> str:
    """The URL given (postgresql:// uses psycopg 3), or SQLite under the data folder."""
    if not url:
        folder = Path(data_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'trialsieve.db'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


POOL = 20  # connections kept per process (and as many more at a peak)


class Database:
    """The engine, and units of work: one transaction each, serialised for writes so that
    the audit chain never forks (a process lock for SQLite, an advisory lock for
    PostgreSQL, which may serve several processes)."""

    def __init__(self, url: str, audit_dir: str | Path | None = None) -> None:
        sqlite = url.startswith("sqlite")
        self.seal = Seal(_audit_dir(url, audit_dir))
        # As many pooled connections as requests a process serves at once (the thread
        # pool's 40): the default 5 made busy lists open and close connections all along
        # (on PostgreSQL a server process each).
        self.engine: Engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30} if sqlite else {},
            pool_size=POOL, max_overflow=POOL)
        self.sqlite = sqlite
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "checkin", _sqlite_durable_again)
        self._lock = threading.Lock()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False,
                                      info={"seal": self.seal})

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as s:
            yield s

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[Session]:
        """One unit of work, serialised against every other writer of this database, in
        this process (a lock, so that threads do not queue inside the database) and across
        processes (`serve --workers`): SQLite's BEGIN IMMEDIATE takes the database's write
        lock before the audit chain's head is read, PostgreSQL's advisory lock likewise,
        so two processes never append to the same head (the chain never forks).

        `durable=False` only for the audit row of a read: its commit does not wait for
        the disk (SQLite in WAL mode: synchronous=NORMAL; PostgreSQL: synchronous_commit
        off). A power cut may then lose the last fraction of a second of read-audit rows,
        never a clinical write (answers, entries, imports, users and signatures commit
        with FULL, and each FULL commit flushes the earlier rows with it, in order), and
        never breaks the chain: the rows kept are a prefix of the chain."""
        with self._lock, self._sessions() as s:
            with s.begin():
                conn = s.connection()
                for sql in self._begin_write(conn.info, durable):
                    conn.exec_driver_sql(sql)
                yield s
                s.flush()
            # committed: the head moves only past rows that exist (web.audit.record says
            # which row it appended last; no query for it)
            last = s.info.pop("audit_head", None)
            if last is not None:
                self.seal.advance(last[0], last[1])

    def _begin_write(self, info: dict, durable: bool) -> list[str]:
        """What begins a write (`write`, `write_plain`), in order: SQLite's durability for
        this commit (set back when the connection returns to the pool: `info`) and its
        write lock, or PostgreSQL's advisory lock and durability."""
        if self.sqlite:
            info[_RELAXED] = not durable
            return [f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}", "BEGIN IMMEDIATE"]
        return ["SELECT pg_advisory_xact_lock(7212012)",
                *([] if durable else ["SET LOCAL synchronous_commit = off"])]

    @contextmanager
    def cursor(self) -> Iterator[Plain]:
        """Plain SQL on a pooled DB-API connection, outside any ORM session: no object
        built, no identity map, no autoflush; rows are tuples. For the paths every request
        takes (the session's lookup, a list page): the ORM's own work was a third of a list
        page's time. Nothing is written; the connection goes back to the pool rolled back."""
        conn = self.engine.raw_connection()
        if not self.sqlite:
            # each statement its own snapshot, no BEGIN and ROLLBACK around it (two round
            # trips less; SQLite's driver begins nothing for a SELECT anyway)
            conn.driver_connection.autocommit = True  # type: ignore[union-attr]
        try:
            cur = conn.cursor()
            try:
                yield Plain(cur, self.sqlite)
            finally:
                cur.close()
        finally:
            if not self.sqlite:
                conn.driver_connection.autocommit = False  # type: ignore[union-attr]
            conn.close()

    @contextmanager
    def write_plain(self, durable: bool = True) -> Iterator[Plain]:
        """`write` on a DB-API cursor: the same serialisation (the process lock, then
        SQLite's BEGIN IMMEDIATE or PostgreSQL's advisory lock, before anything is read)
        and the same durability choice, one transaction; the chain's head outside the
        database moves once committed to the row the caller names in `Plain.head`."""
        with self._lock:
            conn = self.engine.raw_connection()
            try:
                cur = conn.cursor()
                plain = Plain(cur, self.sqlite)
                try:
                    begin = self._begin_write(conn.info, durable)
                    for sql in begin if self.sqlite else ["; ".join(begin)]:
                        cur.execute(sql)  # psycopg: one round trip (no parameters)
                    yield plain
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
                finally:
                    cur.close()
            finally:
                conn.close()
            if plain.head is not None:
                self.seal.advance(*plain.head)

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def grant_to(self, role: str) -> None:
        """PostgreSQL, run as the tables' owner: what the app's role may do, and no more.
        It owns nothing, so it cannot drop or disable the append-only triggers; it never
        deletes, and the audit trail and signatures it may only read and add to."""
        if self.sqlite:
            return
        q = self.engine.dialect.identifier_preparer.quote(role)
        with self.engine.begin() as conn:
            for sql in (f"GRANT USAGE ON SCHEMA public TO {q}",
                        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {q}",
                        f"GRANT UPDATE ON {', '.join(UPDATED)} TO {q}",
                        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}"):
                conn.execute(text(sql))

    def owns_tables(self) -> bool:
        """Whether this connection's role owns any table (PostgreSQL; SQLite: False)."""
        if self.sqlite:
            return False
        with self.engine.connect() as conn:
            return bool(conn.scalar(text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                "AND tableowner = current_user")))

    def dispose(self) -> None:
        self.engine.dispose()


class Plain:
    """A DB-API cursor with the SQL written once for both databases: `?` placeholders
    (psycopg's are `%s`; no literal `%` in the SQL given here)."""

    __slots__ = ("cur", "sqlite", "head")
    _pg: dict[str, str] = {}

    def __init__(self, cur: Any, sqlite: bool) -> None:
        self.cur, self.sqlite = cur, sqlite
        self.head: tuple[int, str] | None = None  # the audit row appended, once committed

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if not self.sqlite:
            sql = self._pg.get(sql) or self._pg.setdefault(sql, sql.replace("?", "%s"))
        self.cur.execute(sql, params)
        return self.cur


def as_date(value: Any) -> date | None:
    """A DATE column's value as a plain cursor gives it (SQLite: ISO text) as a date."""
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def as_datetime(value: Any) -> datetime | None:
    """A DATETIME column's value as a plain cursor gives it (SQLite: ISO text)."""
    return value if value is None or isinstance(value, datetime) \
        else datetime.fromisoformat(value)


# The tables whose rows the app changes (a session ends, a user is unlocked, planned dates,
# an entry withdrawn, a cached summary); every other table it only reads and appends to.
UPDATED = ("users", "sessions", "patients", "resources", "summaries")
# submissions: inserted only (a token used), never changed


def _audit_dir(url: str, given: str | Path | None) -> Path:
    """Where the audit key and head live: as given, else $TRIALSIEVE_AUDIT_DIR, else the
    SQLite database's folder."""
    if given:
        return Path(given)
    if os.environ.get("TRIALSIEVE_AUDIT_DIR"):
        return Path(os.environ["TRIALSIEVE_AUDIT_DIR"])
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).resolve().parent
    raise ValueError("the audit key's folder is needed (--audit-dir or TRIALSIEVE_AUDIT_DIR)"
                     ": it must not live in the database")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # every write of Database.write says its own level; anything else writes durably
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


_RELAXED = "trialsieve_synchronous_normal"


def _sqlite_durable_again(dbapi_conn, record) -> None:
    """A connection that committed a read's audit row without waiting for the disk goes
    back to the pool durable: whatever writes on it next (outside Database.write too)."""
    if record.info.pop(_RELAXED, False) and dbapi_conn is not None:
        dbapi_conn.execute("PRAGMA synchronous=FULL")
