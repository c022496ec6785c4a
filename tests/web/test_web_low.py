"""The low findings of issue 19: no text from a query string on any page, FHIR ids that
cannot split a patient, sessions that end (idle, absolute, a cap on live ones), a form
posted twice stores one entry, the app's own error pages (JSON under /api), and the
HTML checklist styled under the app's Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from conftest import (
    AS_OF,
    PASSWORD,
    client,
    confirm_imported,
    csrf,
    example,
    loc,
    login,
    page_of,
    seen,
    upload,
)
from sqlalchemy import text

from trialsieve.web import auth
from trialsieve.web.app import create_app
from trialsieve.web.db import PatientRow, ResourceRow

P = page_of("ex01")
LURE = "Your session expired: call 0800 555 0100 with your password"


def test_no_text_from_the_query_string_is_shown(app, users):
    assert "0800 555" not in client(app).get(f"/login?msg={LURE}").text
    c = login(app, "coordinator")
    assert "0800 555" not in c.get(f"/?msg={LURE}").text
    upload(c, example("01-eligible-woman-cbp"))
    assert "0800 555" not in c.get(f"{P}?msg={LURE}").text
    # the app's own messages still show, once, on the page the form leads to
    r = c.post(f"{P}/dates", data={"inclusion": "2026-12-01", "d0": "2026-12-01",
                                   "csrf": csrf(c, P)})
    assert "msg" not in r.headers["location"]
    assert "planned dates saved" in c.get(P).text
    assert "planned dates saved" not in c.get(P).text


def _with_id(new: str) -> bytes:
    bundle = json.loads(example("01-eligible-woman-cbp"))
    text = json.dumps(bundle).replace('"Patient/ex01"', f'"Patient/{new}"')
    return text.replace('"id": "ex01"', f'"id": "{new}"').encode()


def test_an_id_with_a_slash_is_refused_and_does_not_split_a_patient(app, users, db):
    c = login(app, "coordinator")
    r = upload(c, _with_id("ex01/a"))
    assert "not imported" in loc(r) and "'ex01/a' is not a FHIR id" in loc(r)
    with db.read() as s:
        assert s.query(PatientRow).count() == 0 and s.query(ResourceRow).count() == 0
    assert upload(c, _with_id("ex01.a-2")).status_code == 303  # '.' and '-' are allowed
    with db.read() as s:
        assert s.query(PatientRow).count() == 1


def test_a_session_ends_idle_after_15_minutes_and_after_12_hours_whatever(app, users, clock):
    c = login(app, "monitor")
    clock.advance(minutes=15, seconds=1)
    r = c.get("/")
    assert r.status_code == 303 and "session expired" in loc(r)
    c = login(app, "monitor")
    for _ in range(51):  # busy all day: a request every 14 minutes, 11 h 54 min
        clock.advance(minutes=14)
        assert c.get("/").status_code == 200
    clock.advance(minutes=14)  # 12 h 08 min after the login
    r = c.get("/")
    assert r.status_code == 303 and "session expired" in loc(r)


def test_a_session_read_without_a_write_is_refused_past_its_lifetime_or_user(app, db, users,
                                                                           clock):
    # A request less than a minute after the session's last touch writes nothing (its
    # row is read in plain SQL, auth.live_session): every check must hold there too.
    c = login(app, "monitor")
    for _ in range(51):  # 11 h 54 min, touched on each request
        clock.advance(minutes=14)
        assert c.get("/").status_code == 200
    clock.advance(minutes=5, seconds=30)  # 11 h 59 min 30 s: touched
    assert c.get("/").status_code == 200
    clock.advance(seconds=40)  # 12 h 00 min 10 s after the login, 40 s after the touch
    r = c.get("/")
    assert r.status_code == 303 and "session expired" in loc(r)
    c = login(app, "monitor")
    assert c.get("/").status_code == 200
    with db.owner_engine.begin() as conn:  # deactivated in the database, sessions left
        conn.execute(text("UPDATE users SET active = false WHERE username = 'monitor'"))
    r = c.get("/")
    assert r.status_code == 303 and loc(r).startswith("/login")
    c2 = login(app, "coordinator")
    assert c2.get("/").status_code == 200
    with db.owner_engine.begin() as conn:  # ended (revoked) in the database
        conn.execute(text("UPDATE sessions SET ended_at = last_seen"))
    r = c2.get("/")
    assert r.status_code == 303 and loc(r).startswith("/login")


def test_a_fourth_login_ends_the_oldest_of_three_live_sessions(db, clock, users):
    app = create_app(db, clock=clock, as_of=AS_OF)  # the default policy: three at most
    first = login(app, "investigator")
    others = [login(app, "investigator") for _ in range(3)]
    r = first.get("/")
    assert r.status_code == 303 and loc(r).startswith("/login")
    assert all(o.get("/").status_code == 200 for o in others)
    assert auth.Policy().max_sessions == 3


def test_a_form_posted_twice_stores_one_entry(app, users, db):
    c = login(app, "coordinator")
    upload(c, example("01-eligible-woman-cbp"))
    form = c.get(f"{P}/entry/lab").text
    data = {"test": "platelets", "date": "2026-11-24", "value": "210", "unit": "10*9/L",
            "csrf": csrf(c, P),
            "once": re.search(r'name="once" value="([^"]+)"', form).group(1)}
    first = c.post(f"{P}/entry/lab", data=data)
    assert "saved" in loc(first)
    again = c.post(f"{P}/entry/lab", data=data)
    assert again.status_code == 303 and "sent already" in loc(again)
    with db.read() as s:
        labs = [r for r in s.query(ResourceRow).filter(ResourceRow.origin == "entry")]
    assert len(labs) == 1
    # another form of the same page is another token: it saves
    form = c.get(f"{P}/entry/lab").text
    data["once"] = re.search(r'name="once" value="([^"]+)"', form).group(1)
    assert "saved" in loc(c.post(f"{P}/entry/lab", data=data))


def test_unknown_urls_answer_the_apps_page_or_json_under_api(app, users):
    c = login(app, "monitor")
    r = c.get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no such page" in r.text and '"detail"' not in r.text
    r = c.get("/api/patients")
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert r.json() == {"error": "no such page", "path": "/api/patients"}
    r = c.get("/?page=-1")  # a value the route refuses
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")


def test_the_html_checklist_is_styled_under_the_csp(app, users):
    inv = login(app, "investigator")
    upload(inv, example("01-eligible-woman-cbp"))
    confirm_imported(inv, P)
    inv.post(f"{P}/sign", data={"meaning": "eligible", "password": PASSWORD,
                                "csrf": csrf(inv, P), **seen(inv, P)})
    sig = re.search(r"/signatures/(\d+)/checklist", inv.get(P).text).group(1)
    r = inv.get(f"{P}/signatures/{sig}/checklist.html")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    styles = re.findall(r"<style[^>]*>(.*?)</style>", r.text, re.S)
    assert styles
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp and "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "<script" not in r.text and not re.search(r"\sstyle=", r.text)
