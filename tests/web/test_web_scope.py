"""Who reads which patient (issue 19, item 7): an admin manages accounts, not patients,
so the audit trail shows them no clinical value; every read and export of patient data
is in the tamper-evident trail; a user sees the patients of their own site(s) only, and
an import belongs to a site."""

from __future__ import annotations

import json

import pytest
from conftest import PASSWORD, csrf, example, loc, login, page_of, upload

from trialsieve.cli import main
from trialsieve.web import auth
from trialsieve.web.db import AuditRow, PatientRow

P = page_of("ex01")
NUMBER = P.rsplit("/", 1)[1]


def _named_example() -> bytes:
    bundle = json.loads(example("01-eligible-woman-cbp"))
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            e["resource"]["name"] = [{"given": ["Zenobia"], "family": "Quartermaine"}]
    return json.dumps(bundle).encode()


def _hemoglobin(c, value: str = "13.7") -> None:
    r = c.post(f"{P}/entry/lab", data={"test": "hemoglobin", "date": "2026-11-24",
                                       "value": value, "unit": "g/dL", "csrf": csrf(c)})
    assert r.status_code == 303, r.text[:300]


def test_an_admin_sees_who_did_what_in_the_audit_trail_but_no_clinical_value(app, users):
    inv = login(app, "investigator")
    upload(inv, _named_example(), "quartermaine-zenobia.json")
    _hemoglobin(inv)
    clinical = inv.get("/audit.csv").text
    assert "13.7" in clinical and "quartermaine-zenobia.json" in clinical
    admin = login(app, "admin")
    for body in (admin.get("/audit").text, admin.get("/audit.csv").text):
        assert "13.7" not in body and "g/dL" not in body
        assert "quartermaine" not in body.lower() and "Zenobia" not in body
        assert "enter-lab" in body and NUMBER in body  # who did what, to which number
        assert "not shown to admins" in body
        assert "monitor" in body.split("user/monitor")[1][:300]  # account rows in full


def _audit(db) -> list[AuditRow]:
    with db.read() as s:
        return list(s.query(AuditRow).order_by(AuditRow.id))


def test_every_read_and_export_of_a_patient_is_in_the_chain(app, users, db, db_url):
    coord = login(app, "coordinator")
    upload(coord, example("01-eligible-woman-cbp"))
    mon = login(app, "monitor")
    before = len(_audit(db))
    assert mon.get(P).status_code == 200
    assert mon.get(f"{P}/resources/Patient/ex01").status_code == 200
    assert mon.get(f"{P}/export").status_code == 200
    assert mon.get("/log.csv").status_code == 200
    rows = _audit(db)[before:]
    assert [(r.username, r.action, r.entity) for r in rows] == [
        ("monitor", "read", NUMBER), ("monitor", "read", f"{NUMBER}/Patient/ex01"),
        ("monitor", "export", NUMBER), ("monitor", "export", "screening-log")]
    assert NUMBER in rows[-1].new
    assert all(r.at.startswith("2026-11-25T09:00") for r in rows)  # when, from the clock
    # in the same chain as the changes: it verifies, and a deleted read row is found
    url = str(db.engine.url.render_as_string(hide_password=False))
    assert main(["audit", "verify", "--database-url", url]) == 0


def _user(db, clock, name: str, sites: str, role: str = auth.COORDINATOR) -> None:
    with db.write() as s:
        auth.add_user(s, clock(), "test-setup", name, PASSWORD, role, name, sites=sites)


@pytest.fixture
def two_sites(db, clock, users):
    _user(db, clock, "north-nurse", "north")
    _user(db, clock, "south-nurse", "south")
    _user(db, clock, "south-monitor", "south", auth.MONITOR)
    _user(db, clock, "roaming-nurse", "north, south")


def test_a_user_sees_only_the_patients_of_their_sites(app, db, two_sites):
    north = login(app, "north-nurse")
    r = upload(north, example("01-eligible-woman-cbp"))
    assert r.status_code == 303 and r.headers["location"].startswith(P)
    with db.read() as s:
        assert s.query(PatientRow).one().site == "north"
    assert NUMBER in north.get("/").text and NUMBER in north.get("/log").text
    for name in ("south-nurse", "south-monitor"):
        south = login(app, name)
        assert NUMBER not in south.get("/").text
        assert "No patient matches" in south.get(f"/?q={NUMBER}").text
        assert NUMBER not in south.get("/log").text
        entry = (f"{P}/entry/lab",) if name == "south-nurse" else ()  # monitors enter none
        for path in (P, f"{P}/export", f"{P}/resources/Patient/ex01", *entry):
            r = south.get(path)
            assert r.status_code == 404 and "no patient" in r.text, (name, path)
    south = login(app, "south-nurse")
    r = south.post(f"{P}/entry/lab", data={"test": "hemoglobin", "date": "2026-11-24",
                                           "value": "12", "unit": "g/dL",
                                           "csrf": csrf(south)})
    assert r.status_code == 404
    assert NUMBER not in login(app, "south-monitor").get("/audit").text
    assert NUMBER not in login(app, "monitor").get("/").text  # the default site's
    roaming = login(app, "roaming-nurse")
    assert NUMBER in roaming.get("/").text


def test_an_import_belongs_to_a_site_chosen_among_the_importers(app, db, two_sites):
    roaming = login(app, "roaming-nurse")
    assert '<select name="site"' in roaming.get("/").text
    r = upload(roaming, example("01-eligible-woman-cbp"))
    assert "choose the site" in loc(r)
    with db.read() as s:
        assert s.query(PatientRow).count() == 0
    r = roaming.post("/import", data={"csrf": csrf(roaming), "site": "west"},
                     files={"file": ("p.json", example("01-eligible-woman-cbp"))})
    with db.read() as s:
        assert s.query(PatientRow).count() == 0  # not one of theirs
    r = roaming.post("/import", data={"csrf": csrf(roaming), "site": "south"},
                     files={"file": ("p.json", example("01-eligible-woman-cbp"))})
    assert r.status_code == 303
    with db.read() as s:
        assert s.query(PatientRow).one().site == "south"
    assert NUMBER in login(app, "south-nurse").get("/").text
    assert login(app, "north-nurse").get(P).status_code == 404


def test_opening_an_entry_form_is_a_read_in_the_chain(app, users, db):
    # the form shows the patient's scans and lesions: patient data, read
    coord = login(app, "coordinator")
    upload(coord, example("01-eligible-woman-cbp"))
    before = len(_audit(db))
    assert coord.get(f"{P}/entry/lesion").status_code == 200
    rows = _audit(db)[before:]
    assert [(r.username, r.action, r.entity) for r in rows] == [
        ("coordinator", "read", f"{NUMBER}/entry/lesion")]


def test_the_audit_trail_shows_the_accounts_of_ones_own_sites(app, two_sites):
    # Reading: a non-admin sees the account rows (logins, changes) of the accounts that
    # share a site with them, not another site's staff nor names that are no account;
    # an admin manages every site's accounts, and the users page holds no patient data.
    north = login(app, "north-nurse")
    upload(north, _named_example())
    login(app, "south-nurse")
    r = client_login_failure(app, "nobody-here")
    assert r.status_code == 303
    seen = login(app, "south-monitor").get("/audit").text
    assert "user/south-nurse" in seen
    assert "user/north-nurse" not in seen and "nobody-here" not in seen
    admin = login(app, "admin")
    trail = admin.get("/audit").text
    assert "user/north-nurse" in trail and "user/south-nurse" in trail
    listed = admin.get("/users").text
    assert "north-nurse" in listed and "south-nurse" in listed
    assert NUMBER not in listed and "Quartermaine" not in listed


def client_login_failure(app, username: str):
    from conftest import client, csrf_of_login

    c = client(app)
    return c.post("/login", data={"username": username, "password": "not the password",
                                  "csrf": csrf_of_login(c)})


def test_an_admin_changes_a_users_sites_audited(app, db, two_sites):
    north = login(app, "north-nurse")
    upload(north, example("01-eligible-woman-cbp"))
    assert north.get(P).status_code == 200
    admin = login(app, "admin")
    r = admin.post("/users/north-nurse/sites", data={"sites": "South Pole!",
                                                     "csrf": csrf(admin, "/users")})
    assert "not done" in loc(r) and "site name" in loc(r)
    r = admin.post("/users/north-nurse/sites", data={"sites": "south",
                                                     "csrf": csrf(admin, "/users")})
    assert "north-nurse: sites done" in loc(r)
    assert north.get(P).status_code == 404  # from the next request on
    assert NUMBER not in north.get("/").text
    row = _audit(db)[-1]
    assert (row.username, row.action, row.entity) == ("admin", "user-sites",
                                                      "user/north-nurse")
    assert json.loads(row.old) == {"sites": ["north"]}
    assert json.loads(row.new) == {"sites": ["south"]}
    url = str(db.engine.url.render_as_string(hide_password=False))
    assert main(["audit", "verify", "--database-url", url]) == 0


def test_the_users_command_changes_a_users_sites_audited(app, db, two_sites, capsys):
    north = login(app, "north-nurse")
    upload(north, example("01-eligible-woman-cbp"))
    url = str(db.engine.url.render_as_string(hide_password=False))
    assert main(["users", "sites", "south-nurse", "--site", "south", "--site", "north",
                 "--database-url", url]) == 0
    assert "south-nurse: sites done" in capsys.readouterr().out
    assert login(app, "south-nurse").get(P).status_code == 200
    row = [r for r in _audit(db) if r.action == "user-sites"][-1]
    assert row.entity == "user/south-nurse" and row.username.startswith("cli:")
    assert json.loads(row.new) == {"sites": ["south", "north"]}
    assert main(["users", "sites", "south-nurse", "--site", "south!", "--database-url",
                 url]) == 2
    assert "site name" in capsys.readouterr().err
    assert main(["audit", "verify", "--database-url", url]) == 0
