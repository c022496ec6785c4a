"""A nurse's day (issue 19): who the patient is, a search, pages; a met exclusion shown
as blocking; monitors see no direct identifiers."""

from __future__ import annotations

import json

from conftest import confirm_imported, example, login, page_of, upload


def _named(stem: str, fhir_id: str, name: tuple[str, str], mrn: str) -> bytes:
    bundle = json.loads(example(stem))
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Patient":
            old = r["id"]
            r["name"] = [{"given": [name[0]], "family": name[1]}]
            r["identifier"] = [{"type": {"coding": [{"code": "MR"}]}, "value": mrn}]
    text = json.dumps(bundle).replace(f'"Patient/{old}"', f'"Patient/{fhir_id}"')
    text = text.replace(f'"id": "{old}"', f'"id": "{fhir_id}"')
    return text.encode()


def test_names_and_mrns_search_and_pages(app, users, monkeypatch):
    from trialsieve.web import listing

    monkeypatch.setattr(listing, "PAGE", 2)
    c = login(app, "coordinator")
    for i, (given, family) in enumerate((("Ada", "Lovelace"), ("Grace", "Hopper"),
                                         ("Marie", "Curie"))):
        upload(c, _named("02-eligible-man", f"p{i}", (given, family), f"MRN-00{i}"))
    page = c.get("/").text
    assert "Ada Lovelace" in page and "MRN-001" in page and "Marie Curie" not in page
    assert "Patients 1–2 of 3" in page and 'href="/?q=&amp;page=1"' in page
    assert "Marie Curie" in c.get("/?page=1").text
    found = c.get("/?q=hopper").text
    assert "Grace Hopper" in found and "Ada Lovelace" not in found
    assert page_of("p2").rsplit("/", 1)[1] in c.get("/?q=mrn-002").text
    assert "Ada Lovelace" in c.get(page_of("p0")).text
    m = login(app, "monitor")
    for path in ("/", page_of("p0"), "/?q=hopper"):
        body = m.get(path).text
        assert "Lovelace" not in body and "Hopper" not in body and "MRN-00" not in body
    assert page_of("p1").rsplit("/", 1)[1] not in m.get("/?q=hopper").text  # nor found by them


def test_a_met_exclusion_is_shown_as_blocking(app, users):
    # examples/patients/README: 30 has brain metastases attested not controlled (E6 met).
    c = login(app, "investigator")
    upload(c, example("30-brain-metastases-uncontrolled"))
    confirm_imported(c, page_of("ex30"))
    page = c.get(page_of("ex30")).text
    assert '<article class="criterion met blocks" id="EXCL06">' in page
    assert "blocks inclusion" in page.split('id="EXCL06"')[1].split("</h3>")[0]
    assert '<article class="criterion met clears" id="INCL01">' in page
    assert '<article class="criterion not_met clears" id="EXCL02">' in page
