"""Issue 19, items 3 and 5: a user's life after creation, and failed logins that reveal
nothing and cannot keep the investigator from signing."""

from __future__ import annotations

import re

from conftest import (
    PASSWORD,
    client,
    confirm_imported,
    csrf,
    csrf_of_login,
    example,
    loc,
    login,
    page_of,
    seen,
    upload,
)
from fastapi.testclient import TestClient

NEW = "a fresh password of mine"


def _try(app, username, password, ip="10.0.0.9"):
    c = TestClient(app, base_url="https://testserver", follow_redirects=False,
                   client=(ip, 50000))
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf": csrf_of_login(c)})


def _admin_does(app, action: str, username: str):
    a = login(app, "admin")
    return a.post(f"/users/{username}/{action}", data={"csrf": csrf(a, "/users")})


def test_a_paused_name_says_the_same_whether_the_account_exists_or_not(app, users):
    for name in ("investigator", "no-such-user"):
        for _ in range(5):
            assert "wrong user name or password" in loc(_try(app, name, "bad guess here"))
    answers = {name: loc(_try(app, name, "bad guess here")) for name in
               ("investigator", "no-such-user")}
    assert answers["investigator"] == answers["no-such-user"]
    assert "too many failed attempts" in answers["investigator"]


def test_failures_from_elsewhere_do_not_stop_the_investigator_logging_in_or_signing(
        app, users):
    inv = login(app, "investigator")  # at work, address "testclient"
    upload(inv, example("02-eligible-man"))
    page = page_of("ex02")
    confirm_imported(inv, page)
    for _ in range(15):  # someone else, elsewhere, types the investigator's name
        _try(app, "investigator", "guessing away", ip="203.0.113.7")
    assert "too many" in loc(_try(app, "investigator", PASSWORD, ip="203.0.113.7"))
    assert loc(_try(app, "investigator", PASSWORD, ip="10.1.1.1")) == "/"
    r = inv.post(f"{page}/sign", data={
        "meaning": "eligible", "password": PASSWORD, "csrf": csrf(inv), **seen(inv, page)})
    assert loc(r).endswith("signed"), loc(r)


def test_each_pause_doubles(app, users, clock):
    for _ in range(5):
        _try(app, "monitor", "bad guess here")
    clock.advance(minutes=15, seconds=1)
    for _ in range(5):
        _try(app, "monitor", "bad guess here")
    clock.advance(minutes=29)
    assert "too many" in loc(_try(app, "monitor", PASSWORD))
    clock.advance(minutes=1, seconds=1)
    assert loc(_try(app, "monitor", PASSWORD)) == "/"


def test_an_admin_unlocks_a_paused_name(app, users):
    for _ in range(5):
        _try(app, "monitor", "bad guess here")
    assert "too many" in loc(_try(app, "monitor", PASSWORD))
    r = _admin_does(app, "unlock", "monitor")
    assert "unlock done" in loc(r), (r.status_code, loc(r), r.text[:300])
    assert loc(_try(app, "monitor", PASSWORD)) == "/"


def test_a_deactivated_user_is_logged_out_and_cannot_log_in_until_reactivated(app, users):
    m = login(app, "monitor")
    assert m.get("/").status_code == 200
    assert _admin_does(app, "deactivate", "monitor").status_code == 303
    assert m.get("/").status_code == 303  # the session ended
    assert "wrong user name or password" in loc(_try(app, "monitor", PASSWORD))
    _admin_does(app, "activate", "monitor")
    assert loc(_try(app, "monitor", PASSWORD)) == "/"


def test_a_reset_link_works_once_and_the_old_password_stops(app, users):
    r = _admin_does(app, "reset", "investigator")
    assert r.status_code == 200
    link = re.search(r"https://testserver(/reset/[\w-]+)", r.text).group(1)
    assert "wrong" in loc(_try(app, "investigator", PASSWORD))
    c = client(app)
    assert c.get(link).status_code == 200
    r = c.post(link, data={"new": "password1234", "again": "password1234"})
    assert "too common" in loc(r)
    r = c.post(link, data={"new": NEW, "again": NEW})
    assert "password set" in loc(r)
    assert loc(_try(app, "investigator", NEW)) == "/"
    assert "not valid" in loc(c.post(link, data={"new": NEW + "!", "again": NEW + "!"}))


def test_a_user_an_admin_created_chooses_a_password_at_first_login(app, users):
    a = login(app, "admin")
    r = a.post("/users", data={"username": "nurse2", "display_name": "Nurse Two",
                               "role": "coordinator", "password": "chosen by the admin",
                               "csrf": csrf(a, "/users")})
    assert "added" in loc(r)
    c = client(app)
    r = c.post("/login", data={"username": "nurse2", "password": "chosen by the admin",
                               "csrf": csrf_of_login(c)})
    assert loc(r) == "/password"
    assert loc(c.get("/")).startswith("/password")  # nothing else until then
    r = c.post("/password", data={"current": "chosen by the admin", "new": NEW,
                                  "again": NEW, "csrf": csrf(c, "/password")})
    assert "password changed" in loc(r)
    assert c.get("/").status_code == 200


def test_weak_passwords_are_refused(app, users):
    c = login(app, "admin")
    for password in ("password1234", "Password!2024", "qwertyuiop12", "aaaaaaaaaaaaaa",
                     "admin1-admin1-admin1"):
        r = c.post("/users", data={"username": "u1", "display_name": "U",
                                   "role": "monitor", "password": password,
                                   "csrf": csrf(c, "/users")})
        assert "not added" in loc(r), password
