"""Issue 21 in the workbench: a report's sentence suggested under a criterion; an
investigator confirms it in one click; the coded fact is stored as FHIR (pointing to the
document and the span), audited, and decides like any entry. Others cannot confirm.
The browser test leaves its screenshots in build/test-output/web/."""

from __future__ import annotations

import json
import re

from conftest import PASSWORD, confirm_imported, csrf, example, login, page_of, statuses, upload
from test_web_browser import SHOTS, browser, server  # noqa: F401  (fixtures)

from trialsieve.fhir.confirmation import TEXT_SPAN
from trialsieve.web import store
from trialsieve.web.db import PatientRow

ECOG_LETTER = "83-ecog-only-in-clinic-letter"
SENTENCE = "He remains fully active apart from strenuous work: ECOG 1."


def _confirmations(db) -> list[dict]:
    """The entries a text confirmation recorded (those carrying a sentence's span)."""
    with db.read() as s:
        pt = s.query(PatientRow).one()
        rows = [json.loads(r.content) for r in store.resources(s, pt) if r.origin == "entry"]
    return [r for r in rows if any(e.get("url") == TEXT_SPAN for e in r.get("extension", []))]


def _source(html: str) -> str:
    return re.search(r'name="source" value="([^"]+)"', html).group(1)


def test_an_investigator_confirms_a_suggestion_and_it_decides(app, db, users):
    c = login(app, "investigator")
    assert upload(c, example(ECOG_LETTER)).status_code == 303
    path = page_of("ex83")
    confirm_imported(c, path)
    html = c.get(path).text
    assert statuses(html)["INCL09"] == "unknown"
    assert SENTENCE in html and "Confirm</button>" in html
    source = _source(html)
    r = c.post(f"{path}/confirm-text", data={"source": source, "csrf": csrf(c, path)})
    assert r.status_code == 303
    html = c.get(path).text
    assert statuses(html)["INCL09"] == "met" and statuses(html)["INCL12"] == "met"
    assert 'class="confirmed">confirmed' in html
    (ecog,) = _confirmations(db)
    assert ecog["resourceType"] == "Observation"
    assert ecog["code"]["coding"][0]["code"] == "89247-1"
    assert ecog["valueCodeableConcept"]["coding"][0]["code"] == "LA9623-5"  # ECOG 1
    assert ecog["derivedFrom"] == [{"reference": "DocumentReference/ex83-letter"}]
    (span,) = [e for e in ecog["extension"] if e["url"] == TEXT_SPAN]
    parts = {e["url"]: next(v for k, v in e.items() if k.startswith("value"))
             for e in span["extension"]}
    assert parts["sentence"] == SENTENCE
    assert ecog["effectiveDateTime"] == "2026-11-20"  # the letter's date
    assert "Test investigator" in ecog["performer"][0]["display"]
    audit = c.get("/audit").text
    assert "confirm-text" in audit
    # a second click records nothing more
    c.post(f"{path}/confirm-text", data={"source": source, "csrf": csrf(c, path)})
    assert len(_confirmations(db)) == 1


def test_a_coordinator_sees_the_suggestion_but_cannot_confirm_it(app, db, users):
    inv = login(app, "investigator")
    upload(inv, example(ECOG_LETTER))
    path = page_of("ex83")
    c = login(app, "coordinator")
    html = c.get(path).text
    assert SENTENCE in html and "to confirm by an investigator" in html
    r = c.post(f"{path}/confirm-text", data={"source": _source(inv.get(path).text),
                                              "csrf": csrf(c, path)})
    assert r.status_code == 403
    assert not _confirmations(db)


def test_an_unknown_sentence_is_refused(app, users):
    c = login(app, "investigator")
    upload(c, example(ECOG_LETTER))
    path = page_of("ex83")
    r = c.post(f"{path}/confirm-text", data={"source": "DocumentReference/x#text:0-1",
                                              "csrf": csrf(c, path)})
    assert r.status_code == 404


def test_confirm_a_suggestion_in_a_browser(server, browser, tmp_path):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    bundle = tmp_path / "83.json"
    bundle.write_bytes(example(ECOG_LETTER))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/login")
    page.fill("input[name=username]", "inv")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.set_input_files("input[type=file]", str(bundle))
    with page.expect_navigation():
        page.click("button:has-text('Import')")
    while page.locator("#imported button:has-text('Confirm as my answer')").count():
        with page.expect_navigation():
            page.locator("#imported button:has-text('Confirm as my answer')").first.click()
    banner = page.locator("#verdict .big")
    assert banner.inner_text() == "INCOMPLETE"
    suggestion = page.locator("#INCL09 li.suggestion")
    assert SENTENCE in suggestion.inner_text()
    suggestion.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "21-suggestion.png")
    with page.expect_navigation():
        suggestion.locator("button:has-text('Confirm')").click()
    assert banner.inner_text() == "ELIGIBLE"
    assert page.locator("#INCL09 .status").inner_text() == "MET"
    assert "confirmed" in page.locator("#INCL09 li.suggestion").inner_text()
    page.locator("#INCL09").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "22-confirmed.png")
    assert errors == []


def _with_letter(stem: str, drop: tuple[str, ...], pid: str, text: str) -> bytes:
    import base64

    bundle = json.loads(example(stem, drop))
    bundle["entry"].append({"resource": {
        "resourceType": "DocumentReference", "id": f"{pid}-letter", "status": "current",
        "subject": {"reference": f"Patient/{pid}"}, "date": "2026-11-20T10:00:00Z",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
        "content": [{"attachment": {"contentType": "text/plain",
                                    "data": base64.b64encode(text.encode()).decode()}}]}})
    return json.dumps(bundle).encode()


def test_an_operation_in_a_letter_is_confirmed_in_one_click_and_excludes(app, db, users):
    """A major operation 41 days before D0 (2026-12-01), 35 before the screening date:
    within E2's 42 days either way, so once confirmed E2 is met (excluded)."""
    c = login(app, "investigator")
    data = _with_letter("02-eligible-man", ("ex02-att-recent-major-surgery",), "ex02",
                        "Right hemicolectomy on 21 October 2026.")
    assert upload(c, data).status_code == 303
    path = page_of("ex02")
    confirm_imported(c, path)
    html = c.get(path).text
    assert statuses(html)["EXCL02"] == "unknown" and "Confirm</button>" in html
    r = c.post(f"{path}/confirm-text", data={"source": _source(html), "csrf": csrf(c, path)})
    assert r.status_code == 303
    html = c.get(path).text
    assert statuses(html)["EXCL02"] == "met"
    (proc,) = _confirmations(db)
    assert proc["resourceType"] == "Procedure" and proc["performedDateTime"] == "2026-10-21"
    assert 'class="confirmed">confirmed' in html and proc["id"] in html
