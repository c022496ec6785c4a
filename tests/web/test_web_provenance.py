"""Provenance decides authority: an answer to a judgement question settles a criterion only
when an investigator gave it here, or confirmed here the one an upload carried. A
coordinator importing a file whose performer says "investigator" settles nothing."""

from __future__ import annotations

import json
import re

from conftest import (
    confirm_forms,
    confirm_imported,
    csrf,
    example,
    login,
    page_of,
    statuses,
    upload,
    verdict,
)

P = page_of("ex01")  # the example every test imports
E2 = "ex01-att-recent-major-surgery"


def _claims_investigator(stem: str = "01-eligible-woman-cbp") -> bytes:
    """The bundle, every attestation naming the site's investigator as its performer."""
    bundle = json.loads(example(stem))
    for e in bundle["entry"]:
        if "-att-" in e["resource"].get("id", ""):
            e["resource"]["performer"] = [{"display": "Dr Demo Investigator (investigator)"}]
    return json.dumps(bundle).encode()


def test_a_coordinator_importing_investigator_answers_settles_nothing(app, users):
    coord = login(app, "coordinator")
    upload(coord, _claims_investigator())
    page = coord.get(P).text
    assert verdict(page) == "incomplete"
    assert statuses(page)["EXCL02"] == "unknown"
    imported = page.split('id="imported"')[1].split("</section>")[0]
    assert "by coordinator" in imported and "awaiting an investigator" in imported
    assert "Dr Demo Investigator (investigator)" in imported  # shown as the file's claim
    assert "Confirm as my answer" not in imported
    # Nor may the coordinator confirm them by posting the form.
    r = coord.post(f"{P}/confirm/Observation/{E2}",
                   data={"question": "recent-major-surgery", "csrf": csrf(coord)})
    assert r.status_code == 403
    assert verdict(coord.get(P).text) == "incomplete"


def test_an_investigator_confirms_each_imported_answer_and_then_it_settles(app, users):
    coord = login(app, "coordinator")
    upload(coord, _claims_investigator())
    inv = login(app, "investigator")
    forms = confirm_forms(inv.get(P).text)
    assert (f"{P}/confirm/Observation/" + E2, "recent-major-surgery") in forms
    for action, question in forms:
        r = inv.post(action, data={"question": question, "csrf": csrf(inv)})
        assert r.status_code == 303
    page = inv.get(P).text
    assert verdict(page) == "eligible"
    assert confirm_forms(page) == []
    entries = page.split('id="entries"')[1]
    assert entries.count("by investigator") == len(forms)
    # The answer the engine read is the investigator's, not the file's performer.
    assert "Test investigator (investigator)" in page.split('id="EXCL02"')[1].split(
        "</article>")[0]


def test_answers_in_a_questionnaire_response_are_held_back_too(app, users):
    bundle = json.loads(example("01-eligible-woman-cbp", (E2,)))
    bundle["entry"].append({"resource": {
        "resourceType": "QuestionnaireResponse", "id": "qr-1", "status": "completed",
        "subject": {"reference": "Patient/ex01"}, "authored": "2026-11-24",
        "author": {"display": "Dr Demo Investigator (investigator)"},
        "item": [{"linkId": "recent-major-surgery", "answer": [{"valueBoolean": False}]}]}})
    coord = login(app, "coordinator")
    upload(coord, json.dumps(bundle).encode())
    assert statuses(coord.get(P).text)["EXCL02"] == "unknown"
    inv = login(app, "investigator")
    assert confirm_imported(inv, P) == 10  # the nine Observations and the one item
    assert statuses(inv.get(P).text)["EXCL02"] == "not_met"


def test_withdrawing_a_confirmation_holds_the_imported_answer_back_again(app, users):
    inv = login(app, "investigator")
    upload(inv, example("01-eligible-woman-cbp"))
    inv.post(f"{P}/confirm/Observation/{E2}",
             data={"question": "recent-major-surgery", "csrf": csrf(inv)})
    assert statuses(inv.get(P).text)["EXCL02"] == "not_met"
    page = inv.get(P).text
    withdraw = re.search(r'action="(' + P + r'/withdraw/Observation/att-[^"]+)"',
                         page).group(1)
    inv.post(withdraw, data={"reason": "confirmed by mistake", "csrf": csrf(inv)})
    page = inv.get(P).text
    assert statuses(page)["EXCL02"] == "unknown"
    assert (f"{P}/confirm/Observation/" + E2,
            "recent-major-surgery") in confirm_forms(page)
