"""`trialsieve serve`, `trialsieve users`, `trialsieve audit`: the workbench's commands."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from datetime import date
from pathlib import Path

DEMO_ROLES = ("coordinator", "investigator", "monitor", "admin")


def add_commands(sub, date_type) -> None:
    """Register the subcommands on the main parser's subparsers."""
    s = sub.add_parser("serve", help="run the screening workbench (web app)")
    _db_options(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--trusted-proxy", metavar="ADDR", default=None,
                   help="the reverse proxy's address: only its X-Forwarded-For is believed "
                   "(default: none, the client address is the connection's)")
    s.add_argument("--as-of", type=date_type, default=None,
                   help="fixed screening date (default: today, UTC)")
    s.add_argument("--workers", type=_positive, default=None, metavar="N",
                   help="worker processes (default: 2, or the number of cores when more)")
    s.add_argument("--demo", metavar="PATH", default=None,
                   help="demo only: import the FHIR files of PATH and create one demo user "
                   "per role, passwords printed once")
    s.add_argument("--d0", type=date_type, default=None,
                   help="with --demo: planned inclusion = D0 of the imported patients")
    u = sub.add_parser("users", help="manage workbench users")
    us = u.add_subparsers(dest="users_command", required=True)
    add = us.add_parser("add", help="add a user (the first one: --role admin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=DEMO_ROLES)
    add.add_argument("--name", default=None, help="full name shown with entries")
    add.add_argument("--site", action="append", default=[], metavar="SITE",
                     help="a site whose patients the user sees (repeat for several; "
                     "default: the one site of a workbench that names none, 'main')")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of asking")
    _db_options(add)
    _db_options(us.add_parser("list", help="list users"))
    for name, what in (("deactivate", "end a user's sessions and refuse their logins"),
                       ("activate", "let a deactivated user log in again"),
                       ("unlock", "forget a user's failed logins (every address)"),
                       ("reset", "print a one-time link for the user to choose a new "
                        "password (the old one stops working)")):
        life = us.add_parser(name, help=what)
        life.add_argument("username")
        _db_options(life)
    where = us.add_parser("sites", help="change the sites whose patients a user sees")
    where.add_argument("username")
    where.add_argument("--site", action="append", required=True, metavar="SITE",
                       help="a site of the user (repeat for several); replaces their sites")
    _db_options(where)
    a = sub.add_parser("audit", help="the workbench's audit trail")
    as_ = a.add_subparsers(dest="audit_command", required=True)
    _db_options(as_.add_parser("verify", help="check the hash chain of the audit trail"))


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return n


def _db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="trialsieve-data",
                   help="data folder (the SQLite database lives there)")
    p.add_argument("--database-url", default=os.environ.get("TRIALSIEVE_DATABASE_URL"),
                   help="e.g. postgresql://user@host/db (default: SQLite under --data)")
    p.add_argument("--owner-url", default=os.environ.get("TRIALSIEVE_OWNER_URL"),
                   help="PostgreSQL: the tables' owner, who runs the migrations and grants "
                   "--database-url's role what the app needs (the app's role owns nothing)")
    p.add_argument("--audit-dir", default=os.environ.get("TRIALSIEVE_AUDIT_DIR"),
                   help="the audit trail's key and head, kept out of the database "
                   "(default: --data)")


def _database(args: argparse.Namespace, read_only: bool = False):
    """The workbench's database. A command that only reads (users list, audit verify)
    never creates one: an empty new database would answer "no users", "0 rows, chain
    intact" about a folder that holds no workbench at all."""
    from trialsieve.fhir.errors import InputError
    from trialsieve.web.db import Database, database_url

    if read_only and not args.database_url:
        path = Path(args.data) / "trialsieve.db"
        if not path.is_file():
            raise InputError(str(path), "no workbench database here: give --data, the "
                             "folder `trialsieve serve` keeps its data in")
    url = database_url(args.database_url, args.data)
    db = Database(url, args.audit_dir or args.data)
    if args.owner_url:
        owner = Database(database_url(args.owner_url, args.data), args.audit_dir or args.data)
        owner.migrate()
        owner.grant_to(db.engine.url.username or "")
        owner.dispose()
    else:
        db.migrate()
    return db


def serve(args: argparse.Namespace) -> int:
    from trialsieve.web.serving import default_workers, run

    db = _database(args)
    if db.owns_tables():
        print("trialsieve: error: the app's database role owns the tables, so it could drop "
              "the audit trail's guards: run it as a role that owns nothing, with the owner "
              "in --owner-url (migrations and grants)", file=sys.stderr)
        return 2
    if args.demo:
        _demo(db, Path(args.demo), args.d0)
    workers = args.workers or default_workers()
    url = db.engine.url.render_as_string(hide_password=False)
    db.dispose()  # each worker process opens its own
    print(f"trialsieve workbench on http://{args.host}:{args.port}/ ({workers} worker "
          f"process{'es' if workers > 1 else ''})", file=sys.stderr)
    run(url, args.audit_dir or args.data, host=args.host, port=args.port, as_of=args.as_of,
        trusted_proxy=args.trusted_proxy, workers=workers)
    return 0


def _demo(db, folder: Path, d0: date | None) -> None:
    """Demo users (printed once, when created) and the example patients."""
    from sqlalchemy import select

    from trialsieve.web import audit, auth, store
    from trialsieve.web.app import utcnow
    from trialsieve.web.db import User

    with db.write() as s:
        if s.scalar(select(User).limit(1)) is None:
            print("Demo users (DEMO ONLY; these passwords are shown this once):")
            for role in DEMO_ROLES:
                password = secrets.token_urlsafe(12)
                auth.add_user(s, utcnow(), "demo-setup", f"demo-{role}", password, role,
                              f"Demo {role.capitalize()}")
                print(f"  demo-{role:<13} {password}")
        else:
            print("Users exist already: no demo user created.")
    files = sorted(folder.glob("*.json")) + sorted(folder.glob("*.ndjson"))
    imported = 0
    for f in files:
        try:
            with db.write() as s:
                for p in store.import_upload(s, utcnow(), "demo-setup",
                                             [(f.name, f.read_bytes())]):
                    p.planned_inclusion = p.planned_d0 = d0
                    audit.record(s, utcnow(), "demo-setup", "planned-dates",
                                 p.screening_number, new={"inclusion": d0, "d0": d0},
                                 covers=[p])
                    imported += 1
        except store.ImportError_:
            continue  # already imported, or not a patient file
    print(f"Demo: {imported} patient(s) imported from {folder}.")


def users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from trialsieve.web import auth
    from trialsieve.web.app import utcnow
    from trialsieve.web.db import User

    db = _database(args, read_only=args.users_command == "list")
    if args.users_command in ("deactivate", "activate", "unlock", "reset", "sites"):
        return _lifecycle(db, args)
    if args.users_command == "list":
        with db.read() as s:
            for u in s.scalars(select(User).order_by(User.username)):
                print(f"{u.username:<24} {u.role:<13} {u.sites:<16} {u.display_name}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Again: ")
        except EOFError:  # no terminal and nothing on stdin (a script)
            print("trialsieve: error: no password typed: type it at the prompt, or give "
                  "it on one line of stdin with --password-stdin", file=sys.stderr)
            return 2
        if again != password:
            print("trialsieve: error: the passwords differ", file=sys.stderr)
            return 2
    try:
        with db.write() as s:
            auth.add_user(s, utcnow(), f"cli:{getpass.getuser()}", args.username, password,
                          args.role, args.name, sites=",".join(args.site))
    except auth.AuthError as exc:
        print(f"trialsieve: error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username} added ({args.role})")
    return 0


def _lifecycle(db, args: argparse.Namespace) -> int:
    from trialsieve.web import accounts, auth
    from trialsieve.web.app import utcnow

    by = f"cli:{getpass.getuser()}"
    try:
        with db.write() as s:
            user = accounts.find(s, args.username)
            if args.users_command == "reset":
                token = accounts.issue_reset(s, utcnow(), by, user)
            elif args.users_command == "unlock":
                accounts.unlock(s, utcnow(), by, user)
            elif args.users_command == "sites":
                accounts.set_sites(s, utcnow(), by, user, ",".join(args.site))
            else:
                accounts.set_active(s, utcnow(), by, user, args.users_command == "activate")
    except auth.AuthError as exc:
        print(f"trialsieve: error: {exc}", file=sys.stderr)
        return 2
    if args.users_command == "reset":
        print(f"one-time link for {args.username} (valid 24 hours; append to the "
              f"workbench's address): /reset/{token}")
    else:
        print(f"user {args.username}: {args.users_command} done")
    return 0


def audit(args: argparse.Namespace) -> int:
    from trialsieve.web import audit as trail

    db = _database(args, read_only=True)
    with db.read() as s:
        check = trail.verify(s)
    if check.ok:
        print(f"audit trail verified: {check.rows} rows, chain intact")
        return 0
    for p in check.problems:
        print(f"trialsieve: audit: {p}", file=sys.stderr)
    print(f"audit trail BROKEN: {len(check.problems)} problem(s) in {check.rows} rows")
    return 1


COMMANDS = {"serve": serve, "users": users, "audit": audit}
