"""Fixtures of the workbench tests: an app on SQLite or on a PostgreSQL 15 that the tests
start themselves, a settable clock, users of every role, example patients as uploads."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from trialsieve.web import auth
from trialsieve.web.app import create_app
from trialsieve.web.db import Database

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patients"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
AS_OF = date(2026, 11, 25)
D0 = date(2026, 12, 1)
PASSWORD = "correct horse battery staple"
ROLES = auth.ROLES


@pytest.fixture(autouse=True)
def audit_dir(monkeypatch, tmp_path):
    """The audit key and head of the test's app and of its `trialsieve audit verify`."""
    folder = tmp_path / "audit-keys"
    monkeypatch.setenv("TRIALSIEVE_AUDIT_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """Still argon2id, with a small cost: the suite hashes and checks hundreds of passwords
    (the default cost is for production, about 0.1-0.4 s each on a loaded machine)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                         parallelism=1))


class Clock:
    """The app's clock, moved by the tests (idle timeout, lockout)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


# -- PostgreSQL 15, started by the tests (as the postgres user when run as root, as CI is)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres():
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 is missing: scripts/system-deps.sh installs it")
        pytest.skip("PostgreSQL 15 binaries not installed (scripts/system-deps.sh)")
    # Not under pytest's temporary folder: the postgres user cannot enter root's.
    base = Path(tempfile.mkdtemp(prefix="trialsieve-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    port = _free_port()
    data = base / "data"
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                                 "-U", "app"]), check=True, capture_output=True)
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o",
                                 f"-p {port} -k {base} -c listen_addresses=127.0.0.1 "
                                 "-c fsync=off", "-w", "start", "-l", str(base / "log")]),
                   check=True, capture_output=True)
    yield f"postgresql+psycopg://app@127.0.0.1:{port}"
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "stop"]), capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trialsieve.db'}"
    server = request.getfixturevalue("postgres")
    import psycopg

    name = "t" + uuid.uuid4().hex[:12]
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


APP_ROLE = "webapp"


@pytest.fixture
def db(db_url):
    """The app's database. On PostgreSQL, as in production: migrated by the owner, used
    by a role that owns nothing; `owner_engine` is what a database administrator holds."""
    owner = Database(db_url)
    owner.migrate()
    if owner.sqlite:
        owner.owner_engine = owner.engine  # type: ignore[attr-defined]
        yield owner
        owner.dispose()
        return
    with owner.engine.begin() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                           {"r": APP_ROLE}):
            conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN"))
    owner.grant_to(APP_ROLE)
    database = Database(db_url.replace("://app@", f"://{APP_ROLE}@"))
    database.owner_engine = owner.engine  # type: ignore[attr-defined]
    yield database
    database.dispose()
    owner.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(db, clock):
    # many logins of one user name in a test: the cap on live sessions has a test of its own
    return create_app(db, clock=clock, as_of=AS_OF, policy=auth.Policy(max_sessions=100))


@pytest.fixture
def users(db, clock):
    """One user per role, password PASSWORD; user name = role."""
    with db.write() as s:
        for role in ROLES:
            auth.add_user(s, clock(), "test-setup", role, PASSWORD, role, f"Test {role}")


def client(app) -> TestClient:
    # https: the session cookie is Secure, and a client sends it only over https.
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def login(app, username: str, password: str = PASSWORD) -> TestClient:
    c = client(app)
    r = c.post("/login", data={"username": username, "password": password,
                               "csrf": csrf_of_login(c)})
    assert r.status_code == 303, r.text
    assert not loc(r).startswith("/login"), loc(r)  # refused: back to the login form
    return c


def loc(r) -> str:
    """Where a response redirects, and the message it carries (a cookie the server sets,
    never the URL), unquoted: "/patients/S1?msg=signed"."""
    where = unquote(r.headers.get("location", ""))
    for header in r.headers.get_list("set-cookie"):
        name, value = header.split(";", 1)[0].split("=", 1)
        if name == "trialsieve_flash" and value:
            where += "?msg=" + unquote(value.strip('"'))
    return where


def csrf_of_login(c: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)


def csrf(c: TestClient, path: str = "/") -> str:
    """The CSRF token in the forms of a page (the logout form is on every page)."""
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


def example(stem: str, drop: tuple[str, ...] = ()) -> bytes:
    """An example patient's Bundle, minus the resources whose ids are in `drop`."""
    bundle = json.loads((EXAMPLES / f"{stem}.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") not in drop]
    return json.dumps(bundle).encode()


def page_of(pid: str) -> str:
    """A patient's screening page: the workbench numbers patients by the rule `export`
    uses (output/identifiers.py), from the protocol and the FHIR patient id."""
    from trialsieve.output.identifiers import derived
    from trialsieve.protocols.lumen import LUMEN

    return f"/patients/{derived(LUMEN.id, pid)}"


def upload(c: TestClient, data: bytes, name: str = "patient.json"):
    return c.post("/import", data={"csrf": csrf(c)},
                  files={"file": (name, data, "application/fhir+json")})


CONFIRM_FORM = re.compile(r'action="(/patients/[^/"]+/confirm/[^"]+)"[^>]*>\s*<input type="hidden"'
                          r' name="csrf" value="[^"]+">\s*<input type="hidden" '
                          r'name="question" value="([^"]+)"')


def confirm_forms(html: str) -> list[tuple[str, str]]:
    """(action, question) of each imported answer awaiting an investigator's confirmation."""
    return CONFIRM_FORM.findall(html)


def confirm_imported(c: TestClient, path: str) -> int:
    """An investigator's review of the answers an upload carried, each confirmed as theirs:
    until then they settle nothing (web.provenance). How many were confirmed."""
    forms = confirm_forms(c.get(path).text)
    for action, question in forms:
        r = c.post(action, data={"question": question, "csrf": csrf(c, path)})
        assert r.status_code == 303, r.text[:300]
    return len(forms)


def seen(c: TestClient, path: str) -> dict[str, str]:
    """The record and protocol hashes the screening page shows: a signature covers them."""
    from trialsieve.protocols.lumen import LUMEN

    record_hash = re.search(r"Record hash (sha256:[0-9a-f]+)", c.get(path).text).group(1)
    return {"record_hash": record_hash, "protocol_hash": LUMEN.hash}


def statuses(html: str) -> dict[str, str]:
    """Criterion id -> status as the screening page shows it."""
    return dict((m[1], m[0]) for m in re.findall(
        r'<article class="criterion (met|not_met|unknown) \w+" id="(\w+)"', html))


def verdict(html: str) -> str:
    return re.search(r'<section class="verdict-banner (\w+)"', html).group(1)
