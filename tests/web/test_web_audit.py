"""The audit trail: one row per state-changing request, a chain that verifies, a database
that refuses to change or delete a row, and tampering found by `trialsieve audit verify`."""

from __future__ import annotations

import pytest
from conftest import (
    PASSWORD,
    client,
    confirm_forms,
    confirm_imported,
    csrf,
    csrf_of_login,
    example,
    login,
    page_of,
    seen,
    upload,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from trialsieve.cli import main
from trialsieve.web import audit
from trialsieve.web.db import AuditRow

P = page_of("ex01")  # the first example, imported first


READS = ("read", "read-list", "export")  # reads of patient data: audited too (item 7)


def _rows(db, reads: bool = False) -> list[AuditRow]:
    """The audit rows, those of reads left out unless asked for."""
    with db.read() as s:
        return sorted((r for r in audit.rows(s) if reads or r.action not in READS),
                      key=lambda r: r.id)


def _withdrawable(c) -> str:
    import re

    return re.search(r'action="(' + P + r'/withdraw/[^"]+)"', c.get(P).text).group(1)


def test_each_state_changing_request_writes_exactly_one_audit_row(app, db, users):
    inv = login(app, "investigator")
    admin = login(app, "admin")
    def confirm_one():
        action, question = confirm_forms(inv.get(P).text)[0]
        return inv.post(action, data={"question": question, "csrf": csrf(inv)})

    steps = [
        ("import", lambda: upload(inv, example("01-eligible-woman-cbp",
                                               drop=("ex01-att-recent-major-surgery",)))),
        *[("confirm-attestation", confirm_one)] * 9,  # the file's other answers
        ("enter-attestation", lambda: inv.post(f"{P}/entry/attestation", data={
            "question": "recent-major-surgery", "answer": "yes", "date": "2026-11-24",
            "csrf": csrf(inv)})),
        ("withdraw", lambda: inv.post(_withdrawable(inv), data={
            "reason": "answered for the wrong patient", "csrf": csrf(inv)})),
        # the next day: two answers of one day that disagree leave E2 unknown (notes,
        # "Same day"), and the withdrawal above is of another entry
        ("enter-attestation", lambda: inv.post(f"{P}/entry/attestation", data={
            "question": "recent-major-surgery", "answer": "no", "date": "2026-11-25",
            "csrf": csrf(inv)})),
        ("enter-lab", lambda: inv.post(f"{P}/entry/lab", data={
            "test": "platelets", "date": "2026-11-24", "value": "210", "unit": "10*9/L",
            "csrf": csrf(inv)})),
        ("planned-dates", lambda: inv.post(f"{P}/dates", data={
            "inclusion": "2026-12-01", "d0": "2026-12-01", "csrf": csrf(inv)})),
        ("sign-refused", lambda: inv.post(f"{P}/sign", data={
            "meaning": "eligible", "password": "not my password", "csrf": csrf(inv),
            **seen(inv, P)})),
        ("sign", lambda: inv.post(f"{P}/sign", data={
            "meaning": "eligible", "password": PASSWORD, "csrf": csrf(inv), **seen(inv, P)})),
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
    # Reading changes nothing but the trail: one row per read, naming the patient.
    before = len(_rows(db, reads=True))
    for path in ("/", P, "/log", f"{P}/export"):
        login(app, "monitor").get(path)
    new = _rows(db, reads=True)[before:]
    assert [r.action for r in new] == ["login", "read-list", "login", "read", "login",
                                       "read-list", "login", "export"]
    number = P.rsplit("/", 1)[1]
    assert all(r.username == "monitor" for r in new)
    assert [r.entity for r in new if r.action != "login"] == [
        "patients", number, "screening-log", number]
    assert all(number in (r.new or "") for r in new if r.action == "read-list")


def _failed_login(app):
    c = client(app)
    return c.post("/login", data={"username": "monitor", "password": "wrong password",
                                  "csrf": csrf_of_login(c)})


@pytest.fixture
def trail(app, db, users, db_url):
    c = login(app, "investigator")
    upload(c, example("01-eligible-woman-cbp"))
    confirm_imported(c, P)
    c.post(f"{P}/sign", data={"meaning": "eligible", "password": PASSWORD,
                              "csrf": csrf(c), **seen(c, P)})
    return db_url


def _verify(db_url, capsys) -> tuple[int, str]:
    code = main(["audit", "verify", "--database-url", db_url])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_chain_verifies(db, trail, capsys):
    rows = _rows(db)
    assert [r.action for r in rows][-2:] == ["confirm-attestation", "sign"]
    assert [r.action for r in rows][:6] == ["user-add"] * 4 + ["login", "import"]
    assert rows[0].prev_hash == audit.GENESIS
    every = _rows(db, reads=True)
    assert all(b.prev_hash == a.hash for a, b in zip(every, every[1:], strict=False))
    code, out = _verify(trail, capsys)
    assert code == 0 and f"{len(every)} rows, chain intact" in out


def test_the_database_refuses_to_change_or_delete_audit_rows_and_signatures(db, trail):
    for sql in ("UPDATE audit SET username = 'someone else'", "DELETE FROM audit",
                "UPDATE signatures SET meaning = 'not_eligible'", "DELETE FROM signatures"):
        with pytest.raises(Exception, match="append-only"), db.owner_engine.begin() as conn:
            conn.execute(text(sql))
    assert _rows(db)[-1].action == "sign"


def _drop_guard(db) -> None:
    """What only someone with the database owner's rights could do."""
    with db.owner_engine.begin() as conn:
        if db.sqlite:
            conn.execute(text("DROP TRIGGER audit_no_update"))
            conn.execute(text("DROP TRIGGER audit_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_no_change ON audit"))


def test_a_row_altered_in_the_database_is_detected(db, trail, capsys):
    _drop_guard(db)
    target = _rows(db)[1]
    with db.owner_engine.begin() as conn:
        conn.execute(text("UPDATE audit SET username = 'nobody' WHERE id = :id"),
                     {"id": target.id})
    code, out = _verify(trail, capsys)
    assert code == 1
    assert f"row {target.id}: its content no longer matches its hash" in out


def test_a_row_removed_from_the_database_is_detected(db, trail, capsys):
    _drop_guard(db)
    target = _rows(db)[1]
    with db.owner_engine.begin() as conn:
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
    assert body[0] == "id,at,username,action,entity,old,new,reason,covers,prev_hash,hash"
    assert any(",investigator,sign," in line for line in body)


# -- tampering with what the trail covers (issue 19): every edit is found ----------------

def _sql(db, *statements: str) -> None:
    with db.owner_engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))


def _flip_surgery_answer(db) -> str:
    """The investigator's "no recent major surgery" turned into "yes", in the database."""
    with db.owner_engine.begin() as conn:
        rid, content = conn.execute(text(
            "SELECT id, content FROM resources WHERE origin = 'entry' AND content LIKE "
            "'%recent-major-surgery%'")).first()
        conn.execute(text("UPDATE resources SET content = :c WHERE id = :id"), {
            "c": content.replace('"valueBoolean": false', '"valueBoolean": true'), "id": rid})
    return f"resources/{rid}"


def test_a_clinical_answer_edited_in_the_database_is_detected(db, trail, capsys):
    key = _flip_surgery_answer(db)
    code, out = _verify(trail, capsys)
    assert code == 1 and f"{key}: changed since its audit row" in out
    assert "BROKEN" in out


# The rows the app itself updates, and their columns the chain covers that hold text: an
# edit behind the app to any of them, whatever the value, must be found.
_EDITABLE = {"patients": ("screening_number", "fhir_id", "created_by"),
             "resources": ("resource_type", "resource_id", "content", "origin", "created_by"),
             "users": ("username", "display_name", "role", "password_hash")}


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_of_a_covered_value_behind_the_app_is_detected(db, trail, capsys, data):
    """The principle (tamper evidence over everything that changes a verdict): any covered
    value of any row edited in the database makes `audit verify` fail naming that row;
    put back as it was, the chain verifies again."""
    table = data.draw(st.sampled_from(sorted(_EDITABLE)))
    column = data.draw(st.sampled_from(_EDITABLE[table]))
    with db.owner_engine.begin() as conn:
        rid = data.draw(st.sampled_from(
            [i for (i,) in conn.execute(text(f"SELECT id FROM {table} ORDER BY id"))]))
        old = conn.execute(text(f"SELECT {column} FROM {table} WHERE id = :i"),
                           {"i": rid}).scalar()
    new = data.draw(st.text(st.characters(blacklist_characters="\x00"), min_size=1,
                            max_size=12).filter(lambda v: v != old))
    for value, broken in ((new, True), (old, False)):
        with db.owner_engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET {column} = :v WHERE id = :i"),
                         {"v": value, "i": rid})
        code, out = _verify(trail, capsys)
        if broken:
            assert code == 1 and f"{table}/{rid}: changed since its audit row" in out, out
        else:
            assert code == 0, out


@pytest.mark.parametrize("sql, key", [
    ("UPDATE patients SET planned_d0 = '2026-12-24'", "patients/1"),
    ("UPDATE users SET role = 'investigator' WHERE username = 'monitor'", "users/"),
    ("INSERT INTO resources (patient_id, resource_type, resource_id, content, origin, "
     "created_at, created_by) VALUES (1, 'Observation', 'x', '{}', 'entry', "
     "'2026-11-25 09:00:00', 'investigator')", "resources/"),
])
def test_patients_users_and_rows_added_behind_the_app_are_detected(db, trail, capsys, sql,
                                                                   key):
    _sql(db, sql)
    code, out = _verify(trail, capsys)
    assert code == 1 and key in out


def test_a_signature_edited_with_the_guard_dropped_is_detected(db, trail, capsys):
    with db.owner_engine.begin() as conn:
        conn.execute(text("DROP TRIGGER signatures_no_update" if db.sqlite else
                          "DROP TRIGGER signatures_no_change ON signatures"))
        conn.execute(text("UPDATE signatures SET meaning = 'not_eligible'"))
    code, out = _verify(trail, capsys)
    assert code == 1 and "signatures/1: changed since its audit row" in out


def test_an_emptied_or_shortened_trail_is_detected(db, trail, capsys):
    _drop_guard(db)
    last = _rows(db)[-1]
    _sql(db, f"DELETE FROM audit WHERE id = {last.id}")
    code, out = _verify(trail, capsys)
    assert code == 1 and f"row {last.id}: the newest row the app wrote is missing" in out
    _sql(db, "DELETE FROM audit")
    code, out = _verify(trail, capsys)
    assert code == 1 and "0 rows" in out and "missing" in out


def test_a_chain_rewritten_with_recomputed_hashes_is_detected(db, trail, capsys):
    """Whoever can edit the database can recompute SHA-256 hashes, not the HMAC: its key
    is not in the database."""
    import hashlib
    import json

    key = _flip_surgery_answer(db)
    _drop_guard(db)
    prev = audit.GENESIS
    for row in _rows(db):
        covers = row.covers
        if covers and key in covers:  # make the trail agree with the edited row
            with db.read() as s:
                from trialsieve.web.db import ResourceRow

                live = s.get(ResourceRow, int(key.split("/")[1]))
                covers = json.dumps(json.loads(covers) | dict([audit.content_hash(live)]),
                                    sort_keys=True)
        blob = json.dumps([prev, row.at, row.username, row.action, row.entity, row.old,
                           row.new, row.reason, covers], ensure_ascii=False,
                          separators=(",", ":"))
        new_hash = hashlib.sha256(blob.encode()).hexdigest()
        with db.owner_engine.begin() as conn:
            conn.execute(text("UPDATE audit SET covers = :c, prev_hash = :p, hash = :h "
                              "WHERE id = :id"),
                         {"c": covers, "p": prev, "h": new_hash, "id": row.id})
        prev = new_hash
    code, out = _verify(trail, capsys)
    assert code == 1
    assert f"row {_rows(db)[0].id}: its content no longer matches its hash" in out


def test_on_postgresql_the_app_role_owns_nothing_and_cannot_drop_the_guard(db, trail):
    """Issue 19, item 8: the role the app connects as cannot disable the append-only
    triggers, nor edit or delete the trail (no grant), only read and append."""
    if db.sqlite:
        pytest.skip("PostgreSQL roles (SQLite has none; the file's owner is the owner)")
    assert not db.owns_tables()
    for sql in ("DROP TRIGGER audit_no_change ON audit",
                "ALTER TABLE audit DISABLE TRIGGER audit_no_change",
                "UPDATE audit SET username = 'x'", "DELETE FROM audit",
                "DELETE FROM resources", "UPDATE signatures SET meaning = 'x'"):
        with pytest.raises(Exception, match="must be owner|permission denied"), \
                db.engine.begin() as conn:
            conn.execute(text(sql))
