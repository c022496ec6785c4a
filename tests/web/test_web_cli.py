"""The workbench's commands and its database schema: `users add` creates the first admin
(no default account), the demo seeds one user per role once, and the Alembic migrations
build exactly the tables the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import D0, EXAMPLES

from trialsieve.cli import main
from trialsieve.web.cli import _demo
from trialsieve.web.db import Base, Database, PatientRow, User


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_users_add_creates_the_first_admin_and_refuses_short_passwords(tmp_path, capsys,
                                                                         monkeypatch):
    data = str(tmp_path / "data")
    monkeypatch.setattr("sys.stdin", io.StringIO("too short\n"))
    assert main(["users", "add", "boss", "--role", "admin", "--password-stdin",
                 "--data", data]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin password\n"))
    assert main(["users", "add", "boss", "--role", "admin", "--name", "The Admin",
                 "--password-stdin", "--data", data]) == 0
    assert main(["users", "list", "--data", data]) == 0
    assert "boss" in capsys.readouterr().out
    assert main(["audit", "verify", "--data", data]) == 0
    assert "1 rows, chain intact" in capsys.readouterr().out


def test_demo_seeds_users_once_and_imports_the_examples(tmp_path, capsys):
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    db.migrate()
    _demo(db, EXAMPLES, D0)
    first = capsys.readouterr().out
    assert "DEMO ONLY" in first and first.count("demo-") == 4
    _demo(db, EXAMPLES, D0)
    again = capsys.readouterr().out
    assert "no demo user created" in again and "0 patient(s) imported" in again
    with db.read() as s:
        assert s.query(User).count() == 4
        patients = s.query(PatientRow).all()
    assert len(patients) == len(list(EXAMPLES.glob("*.json")))
    assert {p.planned_d0 for p in patients} == {D0}


def test_read_commands_do_not_create_what_they_read(tmp_path, capsys, monkeypatch):
    """`audit verify` without --data created an empty database and printed "0 rows, chain
    intact"; `users list` printed nothing, for the same reason."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIALSIEVE_DATABASE_URL", raising=False)
    for argv in (["audit", "verify"], ["users", "list"],
                 ["audit", "verify", "--data", "elsewhere"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "trialsieve.db: no workbench database here: give --data" in err, err
        assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no folder, no database made


def test_users_lifecycle_from_the_command_line(tmp_path, capsys, monkeypatch):
    data = str(tmp_path / "data")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin password\n"))
    assert main(["users", "add", "inv", "--role", "investigator", "--password-stdin",
                 "--data", data]) == 0
    for command in ("deactivate", "activate", "unlock"):
        assert main(["users", command, "inv", "--data", data]) == 0
        assert f"user inv: {command} done" in capsys.readouterr().out
    assert main(["users", "reset", "inv", "--data", data]) == 0
    assert "/reset/" in capsys.readouterr().out
    assert main(["users", "reset", "nobody", "--data", data]) == 2
    assert main(["audit", "verify", "--data", data]) == 0
    assert "5 rows, chain intact" in capsys.readouterr().out


def test_the_demo_verifies(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TRIALSIEVE_AUDIT_DIR")  # the demo's own: the data folder
    db = Database(f"sqlite:///{tmp_path / 'trialsieve.db'}")
    db.migrate()
    _demo(db, EXAMPLES, D0)
    capsys.readouterr()
    assert main(["audit", "verify", "--data", str(tmp_path)]) == 0
    assert "chain intact" in capsys.readouterr().out
