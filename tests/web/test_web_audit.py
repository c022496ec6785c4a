"""The audit trail: one row per state-changing request, a chain that verifies, a database
that refuses to change or delete a row, and tampering found by `trialsieve audit verify`."""

from __future__ import annotations

import pytest
from conftest import (
    PASSWORD,
    client,
    csrf,
    csrf_of_login,
    example,
    login,
    page_of,
    upload,
)
from sqlalchemy import text

from trialsieve.cli import main
from trialsieve.web import audit
from trialsieve.web.db import AuditRow

P = page_of("ex01")  # the first example, imported first


def _rows(db) -> list[AuditRow]:
    with db.read() as s:
        return sorted(audit.rows(s), key=lambda r: r.id)


def _withdrawable(c) -> str:
    import re

    return re.search(r'action="(' + P + r'/withdraw/[^"]+)"', c.get(P).text).group(1)


def test_each_state_changing_request_writes_exactly_one_audit_row(app, db, users):
    inv = login(app, "investigator")
    admin = login(app, "admin")
    steps = [
        ("import", lambda: upload(inv, example("01-eligible-woman-cbp",
                                               drop=("ex01-att-recent-major-surgery",)))),
        ("enter-attestation", lambda: inv.post(f"{P}/entry/attestation", data={
            "question": "recent-major-surgery", "answer": "yes", "date": "2026-11-24",
            "csrf": csrf(inv)})),
        ("withdraw", lambda: inv.post(_withdrawable(inv), data={
            "reason": "answered for the wrong patient", "csrf": csrf(inv)})),
        ("enter-attestation", lambda: inv.post(f"{P}/entry/attestation", data={
            "question": "recent-major-surgery", "answer": "no", "date": "2026-11-24",
            "csrf": csrf(inv)})),
        ("enter-lab", lambda: inv.post(f"{P}/entry/lab", data={
            "test": "platelets", "date": "2026-11-24", "value": "210", "unit": "10*9/L",
            "csrf": csrf(inv)})),
        ("planned-dates", lambda: inv.post(f"{P}/dates", data={
            "inclusion": "2026-12-01", "d0": "2026-12-01", "csrf": csrf(inv)})),
        ("sign-refused", lambda: inv.post(f"{P}/sign", data={
            "meaning": "eligible", "password": "not my password", "csrf": csrf(inv)})),
        ("sign", lambda: inv.post(f"{P}/sign", data={
            "meaning": "eligible", "password": PASSWORD, "csrf": csrf(inv)})),
        ("user-add", lambda: admin.post("/users", data={
            "username": "m2", "display_name": "M 2", "role": "monitor",
            "password": "twelve chars+", "csrf": csrf(admin, "/users")})),
        ("login-failed", lambda: _failed_login(app)),
        ("logout", lambda: inv.post("/logout", data={"csrf": csrf(inv)})),
    ]
    for action, step in steps:
        before = len(_rows(db))
        r = step()
        assert r.status_code == 303, (action, r.status_code, r.text[:300])
        rows = _rows(db)
        assert len(rows) == before + 1, action
        assert rows[-1].action == action
    withdraw = next(r for r in _rows(db) if r.action == "withdraw")
    assert withdraw.reason == "answered for the wrong patient"
    assert '"final"' in withdraw.old and '"entered-in-error"' in withdraw.new
    # Reading changes nothing: no row.
    before = len(_rows(db))
    for path in ("/", P, "/log", f"{P}/export"):
        login(app, "monitor").get(path)
    assert len(_rows(db)) == before + 4  # the four logins only


def _failed_login(app):
    c = client(app)
    return c.post("/login", data={"username": "monitor", "password": "wrong password",
                                  "csrf": csrf_of_login(c)})


@pytest.fixture
def trail(app, db, users, db_url):
    c = login(app, "investigator")
    upload(c, example("01-eligible-woman-cbp"))
    c.post(f"{P}/sign", data={"meaning": "eligible", "password": PASSWORD,
                              "csrf": csrf(c)})
    return db_url


def _verify(db_url, capsys) -> tuple[int, str]:
    code = main(["audit", "verify", "--database-url", db_url])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_chain_verifies(db, trail, capsys):
    rows = _rows(db)
    assert [r.action for r in rows][-3:] == ["login", "import", "sign"]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    code, out = _verify(trail, capsys)
    assert code == 0 and f"{len(rows)} rows, chain intact" in out


def test_the_database_refuses_to_change_or_delete_audit_rows_and_signatures(db, trail):
    for sql in ("UPDATE audit SET username = 'someone else'", "DELETE FROM audit",
                "UPDATE signatures SET meaning = 'not_eligible'", "DELETE FROM signatures"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert _rows(db)[-1].action == "sign"


def _drop_guard(db) -> None:
    """What only someone with the database owner's rights could do."""
    with db.engine.begin() as conn:
        if db.sqlite:
            conn.execute(text("DROP TRIGGER audit_no_update"))
            conn.execute(text("DROP TRIGGER audit_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_no_change ON audit"))


def test_a_row_altered_in_the_database_is_detected(db, trail, capsys):
    _drop_guard(db)
    target = _rows(db)[1]
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET username = 'nobody' WHERE id = :id"),
                     {"id": target.id})
    code, out = _verify(trail, capsys)
    assert code == 1
    assert f"row {target.id}: its content no longer matches its hash" in out


def test_a_row_removed_from_the_database_is_detected(db, trail, capsys):
    _drop_guard(db)
    target = _rows(db)[1]
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE id = :id"), {"id": target.id})
    code, out = _verify(trail, capsys)
    assert code == 1 and f"row {target.id + 1}: does not follow the row before it" in out


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted():
    from trialsieve.web.csvout import table

    assert table(["a", "b"], [["=HYPERLINK(1)", "-3.5"], ["@x", "fine"]]).splitlines() == [
        "a,b", "'=HYPERLINK(1),-3.5", "'@x,fine"]


def test_audit_page_and_csv(app, trail):
    m = login(app, "monitor")
    page = m.get("/audit").text
    assert "Chain verified" in page and "sign" in page
    body = m.get("/audit.csv").text.splitlines()
    assert body[0] == "id,at,username,action,entity,old,new,reason,prev_hash,hash"
    assert any(",investigator,sign," in line for line in body)
