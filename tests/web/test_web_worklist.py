"""A nurse's day with the investigator (issue 19): "ask the investigator" gathers, per
patient, what only an investigator can settle; answers entered here carry a time of day,
so two contrary answers of one day are ordered (notes, "Same day": the later decides)."""

from __future__ import annotations

import re

from conftest import (
    PASSWORD,
    confirm_forms,
    confirm_imported,
    csrf,
    example,
    login,
    page_of,
    seen,
    statuses,
    upload,
    verdict,
)

P1, P2 = page_of("ex01"), page_of("ex02")
N1, N2 = P1.rsplit("/", 1)[1], P2.rsplit("/", 1)[1]


def _asks(html: str, number: str) -> list[tuple[str, str]]:
    """(kind, text) of each ask listed for a patient on the worklist."""
    block = html.split(f'id="ask-{number}"')[1].split("</section>")[0] \
        if f'id="ask-{number}"' in html else ""
    return [(k, re.sub(r"<[^>]+>", "", t).strip()) for k, t in
            re.findall(r'<li class="ask (\w+)">(.*?)</li>', block, re.S)]


def test_the_worklist_gathers_what_only_the_investigator_can_settle(app, users):
    coord = login(app, "coordinator")
    upload(coord, example("01-eligible-woman-cbp"))
    # example 02 without its answer on recent major surgery (E2)
    upload(coord, example("02-eligible-man", drop=("ex02-att-recent-major-surgery",)))
    imported = len(confirm_forms(login(app, "investigator").get(P1).text))
    assert imported == 10  # the ten attestations the file carries, none confirmed
    work = coord.get("/worklist").text
    asks1 = _asks(work, N1)
    assert [k for k, _ in asks1] == ["confirm"] * 10  # no sign: nothing settled yet
    assert any("Major surgery in the 6 weeks" in t for _, t in asks1)
    # the nurse, on the patient page, is pointed to the worklist where E2 is unknown
    inv = login(app, "investigator")
    confirm_imported(inv, P2)
    page2 = coord.get(P2).text
    assert statuses(page2)["EXCL02"] == "unknown"
    assert f'href="/worklist#ask-{N2}"' in page2.split('id="EXCL02"')[1].split("</article>")[0]
    asks2 = _asks(coord.get("/worklist").text, N2)
    assert [k for k, _ in asks2] == ["answer"]
    assert asks2[0][1].startswith("EXCL02") and "major surgery" in asks2[0][1].lower()
    # the investigator sees the same, linked to the form with the question chosen
    assert '/entry/attestation?preset=recent-major-surgery"' in inv.get("/worklist").text
    # ex01 confirmed: eligible (examples/patients/README.md), then only the signature
    confirm_imported(inv, P1)
    assert verdict(inv.get(P1).text) == "eligible"
    assert _asks(inv.get("/worklist").text, N1) == [
        ("sign", "sign the screening: eligible")]
    r = inv.post(f"{P1}/sign", data={"meaning": "eligible", "password": PASSWORD,
                                     "csrf": csrf(inv), **seen(inv, P1)})
    assert r.status_code == 303
    work = inv.get("/worklist").text
    assert f'id="ask-{N1}"' not in work and f'id="ask-{N2}"' in work


def _answer(c, answer: str, on: str = "2026-11-25", at: str = ""):
    return c.post(f"{P1}/entry/attestation", data={
        "question": "recent-major-surgery", "answer": answer, "date": on, "time": at,
        "csrf": csrf(c)})


def test_two_contrary_answers_entered_the_same_day_are_ordered_by_their_time(app, users,
                                                                              clock):
    inv = login(app, "investigator")
    upload(inv, example("01-eligible-woman-cbp"))
    confirm_imported(inv, P1)
    assert _answer(inv, "yes").status_code == 303  # 09:00 UTC, the moment of entry
    assert statuses(inv.get(P1).text)["EXCL02"] == "met"
    clock.advance(minutes=5)
    assert _answer(inv, "no").status_code == 303  # 09:05: the later one decides
    assert statuses(inv.get(P1).text)["EXCL02"] == "not_met"


def test_a_time_typed_orders_answers_whatever_order_they_were_entered_in(app, users):
    inv = login(app, "investigator")
    upload(inv, example("01-eligible-woman-cbp"))
    confirm_imported(inv, P1)
    # today (the confirmed answer of the file is of the day before, without a time)
    assert _answer(inv, "no", "2026-11-25", "08:30").status_code == 303
    assert _answer(inv, "yes", "2026-11-25", "08:00").status_code == 303  # earlier
    assert statuses(inv.get(P1).text)["EXCL02"] == "not_met"
    r = _answer(inv, "yes", "2026-11-25", "23:00")  # today, after now (09:00)
    assert r.status_code == 422 and "time in the future" in r.text
