"""Limits on every body (issue 19, item 4): an upload over 20 MB is refused while it
streams, whether or not it announces its length; a login form is small, so a large POST
to /login is refused before the app reads it."""

from __future__ import annotations

import json

from conftest import client, csrf, example, login

from trialsieve.web.limits import FORM_LIMIT, UPLOAD_LIMIT


def _big_bundle(size: int) -> bytes:
    bundle = json.loads(example("01-eligible-woman-cbp"))
    pad = "x" * size
    bundle["entry"][0]["resource"]["text"] = {"status": "generated", "div": pad}
    return json.dumps(bundle).encode()


def test_an_upload_over_the_limit_is_refused_and_nothing_is_imported(app, users):
    c = login(app, "coordinator")
    r = c.post("/import", data={"csrf": csrf(c)},
               files={"file": ("big.json", _big_bundle(UPLOAD_LIMIT + 1024),
                               "application/fhir+json")})
    assert r.status_code == 413 and "at most 20 MB" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert "No patient yet" in c.get("/").text


def test_a_body_without_a_length_is_counted_as_it_streams(app, users):
    c = login(app, "coordinator")

    def chunks():  # chunked: no Content-Length for the server to refuse up front
        for _ in range(UPLOAD_LIMIT // (1024 * 1024) + 2):
            yield b"x" * (1024 * 1024)

    r = c.post("/import", content=chunks(),
               headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert r.status_code == 413


def test_a_large_anonymous_post_to_login_is_refused(app):
    c = client(app)
    r = c.post("/login", content=b"username=" + b"a" * (FORM_LIMIT + 1),
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert c.get("/login").status_code == 200  # the server is still there
