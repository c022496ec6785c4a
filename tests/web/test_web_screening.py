"""The screening page, data entry, export and e-signature through the web app.

Expected statuses come from examples/patients/README.md and the protocol notes: example
01 is eligible with all its attestations; without the "recent major surgery" answer, E2
has no explicit negative, so under the screening policy it is unknown and the verdict
incomplete. Example 20 is the eligible patient with an eGFR only (I6, I12 unknown)."""

from __future__ import annotations

import json
import re

from conftest import (
    EXAMPLES,
    PASSWORD,
    confirm_imported,
    csrf,
    example,
    loc,
    login,
    page_of,
    seen,
    statuses,
    upload,
    verdict,
)

from trialsieve.cli import main
from trialsieve.protocols.lumen import LUMEN
from trialsieve.web import store
from trialsieve.web.db import ResourceRow, Signature

NO_E2 = ("ex01-att-recent-major-surgery",)


def _investigator_with(app, stem: str, drop: tuple[str, ...] = ()):
    """An investigator's client, `c.page` the screening page of the example imported
    (patient exNN: numbered by the rule `export` uses)."""
    c = login(app, "investigator")
    r = upload(c, example(stem, drop))
    c.page = page_of(f"ex{stem[:2]}")
    assert loc(r).startswith(c.page), loc(r)
    confirm_imported(c, c.page)  # the investigator's review of the answers the file carried
    c.post(f"{c.page}/dates", data={"inclusion": "2026-12-01", "d0": "2026-12-01",
                               "csrf": csrf(c)})
    return c


def _enter(c, kind: str, **values):
    return c.post(f"{c.page}/entry/{kind}", data={**values, "csrf": csrf(c)})


def _count(db) -> int:
    with db.read() as s:
        return s.query(ResourceRow).count()


def test_answer_export_and_cli_screen_agree_with_the_page(app, users, tmp_path, capsys):
    c = _investigator_with(app, "01-eligible-woman-cbp", NO_E2)
    page = c.get(c.page).text
    assert verdict(page) == "incomplete"
    assert statuses(page)["EXCL02"] == "unknown"
    unknown = page.split('class="card unknown"')[1].split("</section>")[0]
    assert f'href="{c.page}/entry/attestation?preset=recent-major-surgery"' in unknown
    assert "entry/lab" not in unknown  # "the last major surgery" does not name AST
    r = _enter(c, "attestation", question="recent-major-surgery", answer="no",
               date="2026-11-24")
    assert r.status_code == 303
    page = c.get(c.page).text
    assert verdict(page) == "eligible"
    assert statuses(page)["EXCL02"] == "not_met"
    exported = c.get(f"{c.page}/export")
    assert exported.headers["content-type"].startswith("application/fhir+json")
    path = tmp_path / "SCR-0001.json"
    path.write_bytes(exported.content)
    capsys.readouterr()
    assert main(["screen", str(path), "--as-of", "2026-11-25", "--d0", "2026-12-01",
                 "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)["results"][0]  # one object, results inside
    assert cli["verdict"] == verdict(page)
    assert {c["id"]: c["status"] for c in cli["criteria"]} == statuses(page)
    answer = next(c for c in cli["criteria"] if c["id"] == "EXCL02")["evidence"][0]
    assert "Test investigator (investigator)" in answer["note"]  # the author is kept


def test_the_page_shows_every_criterion_with_text_reading_and_evidence_links(app, users):
    c = _investigator_with(app, "47-target-lesions-two-qualify-three-fail")
    page = c.get(c.page).text
    for crit in LUMEN.criteria:
        assert f'id="{crit.id}"' in page
    assert page.count("Published text:") == len(LUMEN.criteria)
    assert page.count("Reading applied") == len(LUMEN.criteria)
    assert re.search(r'href="' + c.page + r'/resources/Observation/[^"]+"', page)
    # I13 lesion table (README: L1 and L2 qualify; L3 Krenning 2, L4 19 mm, L5 irradiated)
    table = page.split('id="lesions"')[1].split("</table>")[0]
    rows = {lesion: cls for cls, lesion in re.findall(
        r'<tr class="(qualifies|)"><td>(L\d)</td>', table)}
    assert rows == {"L1": "qualifies", "L2": "qualifies", "L3": "", "L4": "", "L5": ""}
    resource = c.get(f"{c.page}/resources/Patient/ex47")
    assert resource.status_code == 200 and "&#34;resourceType&#34;" in resource.text


def test_a_lab_result_entered_settles_i6(app, users):
    c = _investigator_with(app, "20-egfr-only-renal-unknown")
    assert statuses(c.get(c.page).text)["INCL06"] == "unknown"
    _enter(c, "lab", test="gfr_51cr", date="2026-11-20", value="78",
           unit="mL/min/{1.73_m2}")
    page = c.get(c.page).text
    assert statuses(page)["INCL06"] == "met" and statuses(page)["INCL12"] == "met"
    assert verdict(page) == "eligible"


def test_haemoglobin_in_si_units_at_the_bound(app, users):
    c = _investigator_with(app, "01-eligible-woman-cbp")
    _enter(c, "lab", test="hemoglobin", date="2026-11-24", value="89", unit="g/L")
    assert statuses(c.get(c.page).text)["INCL07"] == "not_met"  # 8.9 g/dL, the newest
    _enter(c, "lab", test="hemoglobin", date="2026-11-25", value="90", unit="g/L")
    assert statuses(c.get(c.page).text)["INCL07"] == "met"  # 9.0 g/dL passes (>=)


def test_bad_values_get_a_message_on_the_form_and_nothing_is_saved(app, db, users):
    c = _investigator_with(app, "01-eligible-woman-cbp")
    before = _count(db)
    cases = [
        ({"test": "platelets", "date": "2026-11-24", "value": "150", "unit": "mmol/L"},
         "cannot be converted"),
        ({"test": "platelets", "date": "2026-11-26", "value": "150", "unit": "10*9/L"},
         "date in the future"),
        ({"test": "platelets", "date": "2026-11-24", "value": "-3", "unit": "10*9/L"},
         "impossible value"),
        ({"test": "platelets", "date": "2026-11-24", "value": "abc", "unit": "10*9/L"},
         "not a number"),
        ({"test": "bilirubin", "date": "2026-11-24", "value": "0.8", "unit": "mg/dL",
          "ref_high": "1.2", "ref_unit": "kg"}, "cannot be converted"),
    ]
    for values, message in cases:
        r = _enter(c, "lab", **values)
        assert r.status_code == 422 and message in r.text, (values, r.text[:200])
        assert f'value="{values["value"]}"' in r.text  # what was typed is kept
    r = _enter(c, "attestation", question="pregnant", answer="maybe", date="2026-11-24")
    assert r.status_code == 422 and "choose one of" in r.text
    assert _count(db) == before


def test_a_bad_upload_says_what_is_wrong_and_imports_nothing(app, db, users):
    c = login(app, "coordinator")
    r = upload(c, b'{"resourceType": "Bundle", "entry": [', "broken.json")
    assert "not imported" in loc(r) and "broken.json" in loc(r) and "not valid JSON" in loc(r)
    r = upload(c, example("01-eligible-woman-cbp"))
    r = upload(c, example("01-eligible-woman-cbp"))
    assert "already imported" in loc(r)
    assert _count(db) == len(json.loads(example("01-eligible-woman-cbp"))["entry"])


def test_bulk_ndjson_upload_one_file_per_resource_type(app, users):
    c = login(app, "coordinator")
    by_type: dict[str, list[str]] = {}
    for e in json.loads(example("02-eligible-man"))["entry"]:
        by_type.setdefault(e["resource"]["resourceType"], []).append(json.dumps(e["resource"]))
    files = [("file", (f"{t}.ndjson", "\n".join(lines).encode(), "application/fhir+ndjson"))
             for t, lines in by_type.items()]
    assert len(files) > 5
    r = c.post("/import", data={"csrf": csrf(c)}, files=files)
    c.page = page_of("ex02")
    assert loc(r).startswith(c.page), loc(r)
    c.post(f"{c.page}/dates", data={"inclusion": "2026-12-01", "d0": "2026-12-01",
                               "csrf": csrf(c)})
    assert verdict(c.get(c.page).text) == "incomplete"  # its answers await an investigator
    assert confirm_imported(login(app, "investigator"), c.page) > 0
    assert verdict(c.get(c.page).text) == "eligible"


def _sign(c, meaning: str, password: str = PASSWORD):
    return loc(c.post(f"{c.page}/sign", data={"meaning": meaning, "password": password,
                                              "csrf": csrf(c), **seen(c, c.page)}))


def test_signature_frozen_then_superseded_by_a_later_change(app, db, users):
    c = _investigator_with(app, "01-eligible-woman-cbp")
    assert "wrong password" in _sign(c, "eligible", "not my password!")
    assert "only meaning" in _sign(c, "not_eligible")
    assert _sign(c, "eligible").endswith("signed")
    page = c.get(c.page).text
    assert "I confirm this patient is eligible for NCT01842165 on 2026-11-25" in page
    assert "stands" in page and "SUPERSEDED" not in page
    assert 'name="password"' not in page.split('id="signature"')[1].split("</section>")[0]
    with db.read() as s:
        sig = s.query(Signature).one()
        p = store.patient_by_number(s, c.page.rsplit("/", 1)[1])
        assert sig.record_hash == store.record_hash(store.resources(s, p))
    frozen = json.loads(sig.result_json)
    assert sig.protocol_hash == LUMEN.hash == frozen["protocol"]["hash"]
    assert frozen["verdict"] == "eligible" and frozen["dates"]["d0"] == "2026-12-01"
    _enter(c, "ecog", score="1", date="2026-11-25")
    page = c.get(c.page).text
    assert "SUPERSEDED: the record changed after this signature" in page
    with db.read() as s:
        assert s.query(Signature).one().result_json == sig.result_json  # never edited


def test_a_new_planned_d0_supersedes_the_signature(app, users):
    c = _investigator_with(app, "01-eligible-woman-cbp")
    _sign(c, "eligible")
    c.post(f"{c.page}/dates", data={"inclusion": "2026-12-01", "d0": "2026-12-08",
                               "csrf": csrf(c)})
    assert "SUPERSEDED: the planned inclusion date or D0 changed" in c.get(c.page).text


def test_only_the_computed_verdict_can_be_signed(app, users):
    c = _investigator_with(app, "05-hb-5-5-mmol-per-l-fails")
    assert "only meaning" in _sign(c, "eligible")
    assert _sign(c, "not_eligible").endswith("signed")
    assert "I confirm this patient is not eligible" in c.get(c.page).text


def test_an_incomplete_screening_cannot_be_signed(app, users):
    c = _investigator_with(app, "01-eligible-woman-cbp", NO_E2)
    assert "incomplete" in _sign(c, "eligible")
    assert "Incomplete screenings cannot be signed" in c.get(c.page).text


def test_screening_log_has_no_identifier_and_gives_reasons(app, users):
    c = _investigator_with(app, "05-hb-5-5-mmol-per-l-fails")
    upload(c, example("01-eligible-woman-cbp", NO_E2))
    confirm_imported(c, page_of("ex01"))
    _sign(c, "not_eligible")
    m = login(app, "monitor")
    body = m.get("/log.csv").text.splitlines()
    assert body[0] == "screening_number,screening_date,outcome,reasons"
    # one number per patient, the one `export` gives (issue 18): ex05 is S13868BD1
    assert body[1].startswith("S13868BD1,2026-11-25,not eligible (signed 2026-11-25")
    assert "INCL07" in body[1]
    assert body[2].startswith(page_of("ex01").rsplit("/", 1)[1]
                              + ",2026-11-25,\"pending: incomplete") and "EXCL02" in body[2]
    assert "ex05" not in m.get("/log").text and "ex01" not in "".join(body)


def test_a_scan_and_lesion_measurement_entered_show_progression(app, users):
    # Example 41: MRI target L1 20 -> 24 mm (+20 %, +4 mm: no RECIST PD), I3 unknown.
    # A new MRI with L1 at 30 mm: +50 % and +10 mm over the nadir of 20 mm, within the
    # 12 months before inclusion: RECIST progression, so I3 is met (protocol notes, I3 a).
    c = _investigator_with(app, "41-recist-20-percent-4-mm-no-pd")
    assert statuses(c.get(c.page).text)["INCL03"] == "unknown"
    assert _enter(c, "scan", modality="mri", date="2026-11-24").status_code == 303
    form = c.get(f"{c.page}/entry/lesion").text
    ref = re.search(r'<option value="([^"]+)" >MRI 2026-11-24</option>', form).group(1)
    r = _enter(c, "lesion", scan=ref, lesion="L1", longest="30", target="yes")
    assert r.status_code == 303, r.text[:300]
    page = c.get(c.page).text
    assert statuses(page)["INCL03"] == "met"
    assert "<th>MRI 2026-11-24</th>" in page and "30 mm, target" in page
    r = _enter(c, "lesion", scan=ref, lesion="L1")
    assert r.status_code == 422 and "at least one measurement" in r.text


def test_symptom_diary_and_tumour_marker_entries(app, db, users, tmp_path):
    c = _investigator_with(app, "01-eligible-woman-cbp")
    r = _enter(c, "symptom", symptom="diarrhoea", date="2026-11-20")
    assert r.status_code == 422 and "episodes per day, the grade, or both" in r.text
    assert _enter(c, "symptom", symptom="diarrhoea", date="2026-11-20", frequency="6",
                  grade="2").status_code == 303
    r = _enter(c, "marker", test="hemoglobin", date="2026-11-20", value="12", unit="g/dL")
    assert r.status_code == 422  # the marker form takes NET markers only
    assert _enter(c, "marker", test="chromogranin_a", date="2026-11-20", value="180",
                  unit="ng/mL").status_code == 303
    bundle = json.loads(c.get(f"{c.page}/export").content)
    entered = [e["resource"] for e in bundle["entry"]
               if e["resource"]["id"].startswith(("sym-", "lab-"))]
    assert [r["code"].get("text") or r["code"]["coding"][0]["code"] for r in entered] == [
        "diarrhoea", "9811-1"]
    assert entered[0]["category"][0]["coding"][0]["code"] == "net-symptom"
    assert entered[1]["valueQuantity"] == {"value": 180.0, "unit": "ng/mL",
                                           "system": "http://unitsofmeasure.org",
                                           "code": "ng/mL"}


def test_a_deceased_patient_is_shown_not_eligible_with_the_reason(app, users):
    # examples/patients/56: the eligible man, deceased on 2026-10-02 (protocol notes)
    c = _investigator_with(app, "56-deceased-before-screening")
    page = c.get(c.page).text
    assert verdict(page) == "not_eligible"
    assert "deceased on 2026-10-02" in page
    assert statuses(page)["INCL01"] == "met"  # the criteria are still shown


def test_a_signed_screening_files_as_a_checklist_with_its_e_signature(app, db, users,
                                                                      tmp_path, capsys):
    # The TMF checklist of a signed screening shows the recorded e-signature (who, when,
    # the statement) and the site's screening number, from the frozen result; `trialsieve
    # report` renders the same from the downloaded signed result.
    c = _investigator_with(app, "01-eligible-woman-cbp")
    assert _sign(c, "eligible").endswith("signed")
    with db.read() as s:
        sig = s.query(Signature).one()
    base = f"{c.page}/signatures/{sig.id}/checklist"
    assert f'href="{base}.pdf"' in c.get(c.page).text  # linked from the signature
    html = c.get(f"{base}.html")
    assert html.status_code == 200 and c.page.rsplit("/", 1)[1] in html.text
    assert (f"Signed electronically by {sig.display_name} ({sig.username}) on "
            f"{sig.signed_at:%Y-%m-%d %H:%M:%S} UTC") in html.text
    assert "I confirm this patient is eligible for NCT01842165 on 2026-11-25" in html.text
    assert "Investigator (name)" not in html.text  # no blank block under a signature
    pdf = c.get(f"{base}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    saved = tmp_path / "signed.json"
    saved.write_bytes(c.get(f"{base}.json").content)
    out = tmp_path / "checklist.html"
    assert main(["report", str(saved), "--format", "html", "--out", str(out)]) == 0
    assert f"Signed electronically by {sig.display_name}" in out.read_text()
    assert c.get(f"{c.page}/signatures/999/checklist.pdf").status_code == 404


def test_one_screening_number_in_the_workbench_and_in_export(app, users, tmp_path, capsys):
    """The workbench called example 05 SCR-0005 and `export` S13868BD1: the two screening
    logs could not be reconciled. Now both number it by one rule (identifiers.derived)."""
    c = _investigator_with(app, "05-hb-5-5-mmol-per-l-fails")
    assert c.page == "/patients/S13868BD1"
    out = tmp_path / "filing"
    assert main(["export", str(EXAMPLES / "05-hb-5-5-mmol-per-l-fails.json"), "--as-of",
                 "2026-11-25", "--d0", "2026-12-01", "--out", str(out)]) == 0
    exported = (out / "screening-log.csv").read_text().splitlines()[1].split(",")[0]
    m = login(app, "monitor")
    in_workbench = m.get("/log.csv").text.splitlines()[1].split(",")[0]
    assert exported == in_workbench == "S13868BD1"


def test_a_patient_in_two_uploaded_files_with_a_versioned_reference_is_one_patient(
        app, users):
    """Protocol notes, "One patient, one record": example 01's bundle uploaded as two
    files, the second referring to her as Patient/ex01/_history/2, is one patient (one
    screening number), eligible as example 01 is; before, the second file made a second
    patient "2"."""
    c = login(app, "investigator")
    entries = json.loads(example("01-eligible-woman-cbp"))["entry"]
    for e in entries[12:]:
        for f in ("subject", "patient"):
            if isinstance(e["resource"].get(f), dict):
                e["resource"][f] = {"reference": "Patient/ex01/_history/2"}
    files = [(name, json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": part}).encode(), "application/fhir+json")
             for name, part in (("a.json", entries[:12]), ("b.json", entries[12:]))]
    r = c.post("/import", data={"csrf": csrf(c)}, files=[("file", f) for f in files])
    page = page_of("ex01")
    assert loc(r).startswith(page), loc(r)
    assert c.get(page_of("2")).status_code == 404  # no second, phantom patient "2"
    c.post(f"{page}/dates", data={"inclusion": "2026-12-01", "d0": "2026-12-01",
                                  "csrf": csrf(c)})
    confirm_imported(c, page)
    assert verdict(c.get(page).text) == "eligible"


def test_the_signature_covers_the_record_the_investigator_saw(app, db, users):
    """Issue 19, item 6: a lab added by a coordinator between the page and the Sign
    button is not signed unseen; the page is shown again to review."""
    inv = _investigator_with(app, "01-eligible-woman-cbp")
    shown = seen(inv, inv.page)
    coord = login(app, "coordinator")
    coord.page = inv.page
    _enter(coord, "lab", test="platelets", date="2026-11-25", value="210", unit="10*9/L")
    r = inv.post(f"{inv.page}/sign", data={"meaning": "eligible", "password": PASSWORD,
                                    "csrf": csrf(inv), **shown})
    assert "the record changed since the page was shown" in loc(r)
    assert loc(r).startswith(inv.page)
    with db.read() as s:
        assert s.query(Signature).count() == 0
    assert _sign(inv, "eligible").endswith("signed")  # after a fresh look


def test_a_second_signature_while_one_stands_is_refused(app, db, users):
    c = _investigator_with(app, "01-eligible-woman-cbp")
    assert _sign(c, "eligible").endswith("signed")
    assert "stands already" in _sign(c, "eligible")
    with db.read() as s:
        assert s.query(Signature).count() == 1


def test_a_patient_page_assembles_the_record_once(app, users, monkeypatch):
    # example 02 without its answers to judgement questions: nothing imported is held
    # back, so one assembly gives both the screening's record and the imported answers
    from trialsieve.web import provenance

    bundle = json.loads(example("02-eligible-man"))
    drop = tuple(e["resource"]["id"] for e in bundle["entry"]
                 if e["resource"]["id"].startswith("ex02-att-"))
    assert len(drop) == 10
    c = login(app, "coordinator")
    upload(c, example("02-eligible-man", drop=drop))
    made = []
    real = provenance.assemble
    monkeypatch.setattr(provenance, "assemble", lambda *a, **k: made.append(1) or real(*a, **k))
    html = c.get(page_of("ex02")).text  # the first view: nothing cached
    assert verdict(html) == "incomplete"  # E1-E3... unanswered (README: answers needed)
    assert len(made) == 1
