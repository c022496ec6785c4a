"""End to end in a real browser: Playwright driving Debian's Chromium (installed by
scripts/system-deps.sh; never `playwright install`). Log in, import an example, answer an
unknown criterion, watch the verdict change, sign, see the audit row. Screenshots are kept
in build/test-output/web/."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from conftest import AS_OF, PASSWORD, REPO, _free_port, example, page_of

from trialsieve.web import auth
from trialsieve.web.app import create_app
from trialsieve.web.db import Database

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = REPO / "build" / "test-output" / "web"


@pytest.fixture
def server(tmp_path):
    import uvicorn

    db = Database(f"sqlite:///{tmp_path / 'trialsieve.db'}")
    db.migrate()
    with db.write() as s:
        auth.add_user(s, auth_now(), "test-setup", "inv", PASSWORD, "investigator",
                      "Dr Test Investigator")
        auth.add_user(s, auth_now(), "test-setup", "nurse", PASSWORD, "coordinator",
                      "Test Research Nurse")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(db, as_of=AS_OF), host="127.0.0.1",
                                        port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    db.dispose()


def auth_now():
    from trialsieve.web.app import utcnow

    return utcnow()


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: scripts/system-deps.sh installs it")
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_screen_answer_sign_and_audit_in_a_browser(server, browser, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    bundle = tmp_path / "01-without-e2-answer.json"
    bundle.write_bytes(example("01-eligible-woman-cbp", ("ex01-att-recent-major-surgery",)))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(server + "/login")
    page.fill("input[name=username]", "inv")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=SHOTS / "01-login.png")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == server + "/"

    page.set_input_files("input[type=file]", str(bundle))
    with page.expect_navigation():
        page.click("button:has-text('Import')")
    assert page_of("ex01") in page.url
    banner = page.locator("#verdict .big")
    assert banner.inner_text() == "INCOMPLETE"
    assert "EXCL02" in page.locator("section.unknown").inner_text()
    page.screenshot(path=SHOTS / "02-incomplete.png")

    # The file's answers settle nothing until the investigator confirms each one here.
    imported = page.locator("#imported")
    assert "awaiting" not in imported.inner_text()  # an investigator sees buttons instead
    imported.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "02b-imported-answers.png")
    while page.locator("#imported button:has-text('Confirm as my answer')").count():
        with page.expect_navigation():
            page.locator("#imported button:has-text('Confirm as my answer')").first.click()
    assert imported.inner_text().count("confirmed") == 9

    with page.expect_navigation():
        page.click("section.unknown >> text=attest: major surgery in the 6 weeks before "
                   "inclusion")
    assert page.locator("select[name=question]").input_value() == "recent-major-surgery"
    assert page.locator("input[name=date]").input_value() == str(AS_OF)
    page.select_option("select[name=answer]", "no")
    page.screenshot(path=SHOTS / "03-attestation-form.png")
    with page.expect_navigation():
        page.click("button:has-text('Save')")
    assert banner.inner_text() == "ELIGIBLE"
    assert page.locator("section.unknown").count() == 0
    assert page.locator("#EXCL02 .status").inner_text() == "NOT MET"
    page.screenshot(path=SHOTS / "04-eligible.png")

    page.check("input[name=meaning][value=eligible]")
    page.fill("#signature input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#signature button:has-text('Sign')")
    sig = page.locator("#signature")
    assert "I confirm this patient is eligible for NCT01842165 on 2026-11-25" in sig.inner_text()
    assert "stands" in sig.inner_text()
    sig.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "05-signed.png")

    # The checklist for the trial master file, as HTML: styled under the app's CSP (its
    # style block let in by hash; a blocked one would log a console error, checked below)
    pdf = page.locator("#signature a:has-text('PDF')").get_attribute("href")
    page.goto(server + pdf.replace(".pdf", ".html"))
    assert page.evaluate("[...document.querySelectorAll('style')].every("
                         "s => s.sheet && s.sheet.cssRules.length > 0)")
    page.screenshot(path=SHOTS / "05b-checklist.png", full_page=True)
    page.goto(server + "/")

    with page.expect_navigation():
        page.click("nav >> text=Audit trail")
    rows = page.locator("table.audit tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(min(rows.count(), 12))]
    reads = [t for t in texts if re.search(r"\t(read|read-list|export)\t", t)]
    assert reads  # the reads of the patient are in the trail too
    changes = [t for t in texts if t not in reads]  # newest first
    number = page_of("ex01").rsplit("/", 1)[1]
    assert "sign" in changes[0] and f"{number}/signature" in changes[0] and "inv" in changes[0]
    assert "enter-attestation" in changes[1]
    assert "Chain verified" in page.inner_text("main")
    page.screenshot(path=SHOTS / "06-audit.png")
    assert errors == []  # no CSP violation, no failed resource


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(server, browser, tmp_path):
    """Issue 19: 18 of 30 pages scrolled sideways at 390 px. Every page of the day, at
    both widths the nurses use, fits; wide tables scroll inside their own box."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    bundle = tmp_path / "47.json"
    bundle.write_bytes(example("47-target-lesions-two-qualify-three-fail"))
    for width, height in ((390, 844), (1366, 768)):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(server + "/login")
        _no_sideways_scroll(page)
        page.fill("input[name=username]", "inv")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if width == 390:
            page.set_input_files("input[type=file]", str(bundle))
            with page.expect_navigation():
                page.click("button:has-text('Import')")
        p = page_of("ex47")
        for path in ("/", p, f"{p}/entry/lab", f"{p}/entry/attestation", f"{p}/entry/lesion",
                     f"{p}/resources/Patient/ex47", "/log", "/audit", "/worklist",
                     "/password", "/?q=nobody"):
            page.goto(server + path)
            _no_sideways_scroll(page)
            page.screenshot(path=SHOTS / f"w{width}{path.replace('/', '_') or '_'}.png")
        page.close()


def _fits(page) -> None:
    """No sideways scroll: the page's scrolling box is no wider than the window."""
    wide, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert wide <= inner, (page.url, wide, inner)


def _named_patient(pid: str, tmp_path: Path) -> Path:
    """Example 01 as an import of a named patient with an MRN, without its answer on
    recent surgery (so that E2 waits on the investigator)."""
    import json

    bundle = json.loads(example("01-eligible-woman-cbp", ("ex01-att-recent-major-surgery",)))
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            e["resource"]["name"] = [{"given": ["Zenobia"], "family": "Quartermaine"}]
            e["resource"]["identifier"] = [{"type": {"coding": [{"code": "MR"}]},
                                            "value": f"MRN-{pid}"}]
    text = json.dumps(bundle).replace('"Patient/ex01"', f'"Patient/{pid}"')
    path = tmp_path / f"{pid}.json"
    path.write_text(text.replace('"id": "ex01"', f'"id": "{pid}"'))
    return path


def _log_in(browser, server: str, username: str, size: tuple[int, int]):
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def test_a_nurses_and_an_investigators_day_at_both_widths(server, browser, tmp_path):
    """Issue 19, a nurse's day: find the patient by name, see what only the investigator
    can answer and ask them (the worklist); the investigator confirms the imported
    answers, answers the last question and signs what the page showed: a lab the nurse
    adds meanwhile refuses the signature until it has been seen. No page scrolls
    sideways; each step is kept as a screenshot."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in ((1366, 768), (390, 844)):
        shot = f"day-{size[0]}"
        pid = f"day{size[0]}"
        number = page_of(pid).rsplit("/", 1)[1]

        def look(page, step: str, shot: str = shot) -> None:
            _fits(page)
            page.screenshot(path=SHOTS / f"{shot}-{step}.png", full_page=True)

        nurse = _log_in(browser, server, "nurse", size)
        nurse.set_input_files("input[type=file]", str(_named_patient(pid, tmp_path)))
        with nurse.expect_navigation():
            nurse.click("button:has-text('Import')")
        nurse.goto(server + "/")
        nurse.fill("input[name=q]", "quartermaine")
        with nurse.expect_navigation():
            nurse.click("button:has-text('Search')")
        row = nurse.locator(f"table.patients tr:has-text('MRN-{pid}')")
        assert "Zenobia Quartermaine" in row.inner_text()
        look(nurse, "1-nurse-search")
        with nurse.expect_navigation():
            row.locator(f"a:has-text('{number}')").click()
        assert nurse.locator("#verdict .big").inner_text() == "INCOMPLETE"
        look(nurse, "2-nurse-patient")
        with nurse.expect_navigation():  # what only the investigator can answer
            nurse.click("text=their worklist (ask the investigator)")
        asked = nurse.locator(f"#ask-{number}")
        assert "EXCL02" in asked.inner_text() or "confirm the imported answer" in \
            asked.inner_text()
        look(nurse, "3-nurse-asks")

        inv = _log_in(browser, server, "inv", size)
        inv.goto(server + "/worklist")
        mine = inv.locator(f"#ask-{number}")
        assert "Zenobia Quartermaine" in mine.inner_text()
        assert "confirm the imported answer" in mine.inner_text()
        look(inv, "4-investigator-worklist")
        with inv.expect_navigation():
            mine.locator(f"a:has-text('{number}')").click()
        confirm = inv.locator("#imported button:has-text('Confirm as my answer')")
        assert confirm.count() == 9
        while confirm.count():
            with inv.expect_navigation():
                confirm.first.click()
        look(inv, "5-investigator-confirmed")
        with inv.expect_navigation():
            inv.click("section.unknown >> text=attest: major surgery in the 6 weeks before "
                      "inclusion")
        inv.select_option("select[name=answer]", "no")
        look(inv, "6-investigator-answers")
        with inv.expect_navigation():
            inv.click("button:has-text('Save')")
        assert inv.locator("#verdict .big").inner_text() == "ELIGIBLE"

        # the nurse adds a lab while the investigator's page is open
        nurse.goto(server + f"/patients/{number}/entry/lab?preset=platelets")
        nurse.fill("input[name=date]", "2026-11-24")
        nurse.fill("input[name=value]", "210")
        with nurse.expect_navigation():
            nurse.click("button:has-text('Save')")
        inv.check("input[name=meaning][value=eligible]")
        inv.fill("#signature input[name=password]", PASSWORD)
        with inv.expect_navigation():
            inv.click("#signature button:has-text('Sign')")
        assert "the record changed since the page was shown" in inv.inner_text("main")
        assert "210" in inv.inner_text("main")  # the page shown again holds the lab
        look(inv, "7-investigator-sign-refused")
        inv.check("input[name=meaning][value=eligible]")
        inv.fill("#signature input[name=password]", PASSWORD)
        with inv.expect_navigation():
            inv.click("#signature button:has-text('Sign')")
        sig = inv.locator("#signature")
        assert "I confirm this patient is eligible" in sig.inner_text()
        assert "stands" in sig.inner_text()
        look(inv, "8-investigator-signed")
        nurse.goto(server + f"/?q=MRN-{pid}")
        assert "I confirm this patient is eligible" in nurse.locator(
            "table.patients").inner_text()
        look(nurse, "9-nurse-list-signed")
        nurse.context.close()
        inv.context.close()
