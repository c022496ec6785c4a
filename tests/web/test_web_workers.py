"""Several server processes (`serve --workers N`) share one database and one audit chain:
appends from two processes at once must never fork the chain, and a read's audit row is
the only write committed without waiting for the disk."""

from __future__ import annotations

import multiprocessing
import os
from datetime import datetime

from conftest import example, login, upload
from sqlalchemy import text

from trialsieve.web import audit
from trialsieve.web.db import AuditRow, Database

APPENDS = 40


def _append(url: str, audit_dir: str, who: str, start, n: int) -> None:
    """One process: its own engine, `n` audit rows, each in a unit of work of its own,
    released at the same moment as the other process's."""
    db = Database(url, audit_dir)
    start.wait()
    for i in range(n):
        if i % 3 == 2:  # a read's row, as the app appends it (plain SQL)
            audit.record_read(db, datetime(2026, 11, 25, 9), who, "read", f"test/{i}")
            continue
        with db.write(durable=i % 3 == 0) as s:  # reads' and clinical writes' alike
            audit.record(s, datetime(2026, 11, 25, 9), who, "read", f"test/{i}")
    db.dispose()


def test_two_processes_appending_at_once_never_fork_the_chain(db, audit_dir):
    url = db.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_append, args=(url, str(audit_dir), f"worker{k}", start,
                                               APPENDS)) for k in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    with db.read() as s:
        check = audit.verify(s)
        by = [u for u, in s.execute(text("SELECT username FROM audit ORDER BY id"))]
    assert check.ok, check.problems
    assert check.rows == 2 * APPENDS
    assert by.count("worker1") == by.count("worker2") == APPENDS
    # (the two start together at the barrier; whether their rows interleave is up to
    # the database's lock: the old code's deferred transactions forked the chain here)
    # the head kept outside the database is the newest row (never moved back)
    with db.read() as s:
        newest = s.execute(text("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")).one()
    assert db.seal.head() == (newest[0], newest[1])


def _durability(db: Database, durable: bool) -> str:
    with db.write(durable=durable) as s:
        if db.sqlite:
            return {0: "off", 1: "normal", 2: "full", 3: "extra"}[
                s.execute(text("PRAGMA synchronous")).scalar_one()]
        return s.execute(text("SHOW synchronous_commit")).scalar_one()


def _durability_plain(db: Database, durable: bool) -> str:
    with db.write_plain(durable=durable) as w:
        return str(w.execute("PRAGMA synchronous" if db.sqlite else
                             "SHOW synchronous_commit").fetchone()[0])


def test_only_a_reads_audit_row_is_committed_without_waiting_for_the_disk(db):
    if db.sqlite:
        names = {"0": "off", "1": "normal", "2": "full", "3": "extra"}
        assert _durability(db, True) == "full"
        assert _durability(db, False) == "normal"
        assert _durability(db, True) == "full"  # set back: the same pooled connection
        # the plain-SQL unit of work of a read's row (audit.record_read) alike
        assert names[_durability_plain(db, False)] == "normal"
        assert _durability(db, True) == "full"
        assert names[_durability_plain(db, True)] == "full"
    else:
        assert _durability(db, True) == "on"
        assert _durability(db, False) == "off"
        assert _durability(db, True) == "on"  # SET LOCAL: this transaction only
        assert _durability_plain(db, False) == "off"
        assert _durability(db, True) == "on"
        assert _durability_plain(db, True) == "on"


def test_reads_through_the_app_are_still_each_one_row_of_an_intact_chain(app, db, users):
    c = login(app, "coordinator")
    upload(c, example("02-eligible-man"))
    with db.read() as s:
        before = s.query(AuditRow).count()
    for _ in range(3):
        assert c.get("/").status_code == 200
    with db.read() as s:
        assert s.query(AuditRow).count() == before + 3
        assert audit.verify(s).ok


def test_serve_takes_a_number_of_worker_processes(capsys):
    import pytest

    from trialsieve.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["serve", "--workers", "0"])
    assert exc.value.code == 2
    assert "--workers" in capsys.readouterr().err
    from trialsieve.web.serving import default_workers

    assert default_workers() == max(2, os.cpu_count() or 1)
