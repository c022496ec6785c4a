"""One patient, one record, one version of each resource (protocol notes, "Real records:
placing each fact in time, and trusting it", bullet "One patient, one record").

Every case is the eligible man of examples/patients/02 (eligible at inclusion = D0 = the
screening date 2026-11-25) with the one change a real record makes, written as FHIR in
files and read through `trialsieve.fhir.reader.read`, `trialsieve screen` and
`trialsieve prescreen`. Expected results worked out from the notes:

- his Hb is 12.4 g/dL on 2026-11-20 (INCL07 met); a newer Hb of 8.0 g/dL on 2026-11-22
  (under the 9 g/dL bound) makes INCL07 not met, so he is not eligible, whatever form
  the reference to him takes;
- a newest version entered-in-error withdraws his Hb: INCL07 then has no Hb in the 28
  days, unknown (incomplete); a Consent made inactive leaves INCL11 without consent;
- a linked duplicate record holding a death (2026-10-02) makes him deceased: not eligible
  (as examples/patients/56);
- spread over two files he is still one eligible patient, in `screen` and `prescreen`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from populations import AS_OF, run_cli, screen_json

from trialsieve.fhir.reader import read

REPO = Path(__file__).resolve().parent.parent
EX02 = REPO / "examples" / "patients" / "02-eligible-man.json"
MRN = {"system": "urn:oid:1.2.250.1.999.1", "value": "MRN-0042"}


def bundle(entries: list[dict], bid: str = "b") -> dict:
    return {"resourceType": "Bundle", "id": bid, "type": "collection", "entry": entries}


def ex02() -> list[dict]:
    """The entries of the eligible man's bundle (fullUrl and resource)."""
    return copy.deepcopy(json.loads(EX02.read_text())["entry"])


def resource(entries: list[dict], rid: str) -> dict:
    return next(e["resource"] for e in entries if e["resource"].get("id") == rid)


def low_hb(subject: dict, rid: str = "ex02-hb-new", when: str = "2026-11-22") -> dict:
    hb = copy.deepcopy(resource(ex02(), "ex02-hb"))
    hb.update(id=rid, subject=subject, effectiveDateTime=when)
    hb["valueQuantity"] = {**hb["valueQuantity"], "value": 8.0}
    return hb


def write(folder: Path, name: str, entries: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / name
    f.write_text(json.dumps(bundle(entries, name)))
    return f


def screened(path: Path, status: int = 0) -> dict[str, dict]:
    return screen_json(path, "screening", False, status=status)


def statuses(doc: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in doc["criteria"]}


def test_ex02_is_eligible_at_the_screening_date(tmp_path):
    got = screened(write(tmp_path, "p.json", ex02()))
    assert [d["verdict"] for d in got.values()] == ["eligible"]


# --- references, whatever their form ------------------------------------------------------
@pytest.mark.parametrize("reference", [
    "Patient/ex02/_history/3",
    "https://fhir.example.org/r4/Patient/ex02",
    "https://fhir.example.org/r4/Patient/ex02/_history/2",
    "urn:uuid:6f1c2a40-0d55-4b55-9a0e-2f0c3d8e1b7a",
])
def test_a_reference_in_any_form_is_the_patient_and_brings_his_newest_hb(tmp_path, reference):
    entries = ex02()
    entries[0]["fullUrl"] = "urn:uuid:6f1c2a40-0d55-4b55-9a0e-2f0c3d8e1b7a"
    entries.append({"resource": low_hb({"reference": reference})})
    data = read(write(tmp_path, "p.json", entries))
    assert [r.patient.id for r in data.records] == ["ex02"]  # no phantom patient "3"
    assert not data.skipped
    got = screened(tmp_path / "p.json")
    assert list(got) == ["ex02"]
    assert statuses(got["ex02"])["INCL07"] == "not_met"
    assert got["ex02"]["verdict"] == "not_eligible"


def test_a_subject_given_by_identifier_only_is_the_patient_holding_that_mrn(tmp_path):
    entries = ex02()
    entries[0]["resource"]["identifier"] = [{
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                             "code": "MR"}]}, **MRN}]
    entries.append({"resource": low_hb({"identifier": MRN})})
    got = screened(write(tmp_path, "p.json", entries))
    assert list(got) == ["ex02"]
    assert statuses(got["ex02"])["INCL07"] == "not_met"
    # an identifier given without its system is matched on the value
    entries[-1]["resource"]["subject"] = {"identifier": {"value": MRN["value"]}}
    got = screened(write(tmp_path, "p.json", entries))
    assert statuses(got["ex02"])["INCL07"] == "not_met"


def test_a_subject_that_cannot_be_resolved_is_a_warning_naming_file_resource_field(tmp_path):
    entries = ex02()
    entries.append({"resource": low_hb({"identifier": {"system": MRN["system"],
                                                       "value": "MRN-9999"}})})
    f = write(tmp_path, "p.json", entries)
    data = read(f)
    assert [r.patient.id for r in data.records] == ["ex02"]
    [w] = data.skipped
    assert (w.file, w.source, w.field) == (str(f), "Observation/ex02-hb-new", "subject")
    assert w.message.startswith("reference cannot be resolved: identifier "
                                f"{MRN['system']}|MRN-9999 matches no Patient resource")
    got = screened(f, status=1)  # exit 1: damaged input skipped, named
    assert got["ex02"]["verdict"] == "eligible"


def test_an_identifier_held_by_two_patients_resolves_to_neither(tmp_path):
    entries = ex02()
    entries[0]["resource"]["identifier"] = [MRN]
    other = {"resourceType": "Patient", "id": "other", "gender": "female",
             "birthDate": "1970-01-01", "identifier": [MRN]}
    entries += [{"resource": other}, {"resource": low_hb({"identifier": MRN})}]
    data = read(write(tmp_path, "p.json", entries))
    assert sorted(r.patient.id for r in data.records) == ["ex02", "other"]
    [w] = data.skipped
    assert "held by several patients" in w.message


# --- versions ------------------------------------------------------------------------------
def _version(res: dict, version: str | None = None, updated: str | None = None,
             **change) -> dict:
    out = {**copy.deepcopy(res), **change}
    meta = {**({"versionId": version} if version else {}),
            **({"lastUpdated": updated} if updated else {})}
    if meta:
        out["meta"] = meta
    return out


@pytest.mark.parametrize("order", ["old first", "new first"])
def test_an_entered_in_error_newest_version_withdraws_the_hb(tmp_path, order):
    entries = ex02()
    hb = resource(entries, "ex02-hb")
    versions = [_version(hb, "1"), _version(hb, "2", status="entered-in-error")]
    entries = [e for e in entries if e["resource"].get("id") != "ex02-hb"]
    entries += [{"resource": v} for v in (versions if order == "old first" else versions[::-1])]
    got = screened(write(tmp_path, "p.json", entries))
    assert statuses(got["ex02"])["INCL07"] == "unknown"  # no Hb left in the 28 days
    assert got["ex02"]["verdict"] == "incomplete"


def test_a_consent_made_inactive_by_its_newest_version_is_withdrawn(tmp_path):
    entries = ex02()
    consent = resource(entries, "ex02-consent")
    entries.append({"resource": _version(consent, updated="2026-11-23T09:00:00+01:00",
                                         status="inactive")})
    consent["meta"] = {"lastUpdated": "2026-11-18T10:00:00+01:00"}
    got = screened(write(tmp_path, "p.json", entries))
    assert statuses(got["ex02"])["INCL11"] != "met"
    assert got["ex02"]["verdict"] != "eligible"


def test_the_newest_version_replaces_the_older_whatever_the_file_order(tmp_path):
    """Version 2 corrects the Hb to 8.0 g/dL: read alone, in either order."""
    entries = ex02()
    hb = resource(entries, "ex02-hb")
    newer = _version(hb, "2", valueQuantity={**hb["valueQuantity"], "value": 8.0})
    hb["meta"] = {"versionId": "1"}
    entries.insert(1, {"resource": newer})
    got = screened(write(tmp_path, "p.json", entries))
    assert statuses(got["ex02"])["INCL07"] == "not_met"


def test_exact_duplicates_are_one_and_differing_unordered_versions_favour_nobody(tmp_path):
    entries = ex02()
    hb = resource(entries, "ex02-hb")
    same = screened(write(tmp_path, "same.json", entries + [{"resource": copy.deepcopy(hb)}]))
    assert same["ex02"]["verdict"] == "eligible" and not same["ex02"]["warnings"]
    other = _version(hb, valueQuantity={**hb["valueQuantity"], "value": 12.9})
    f = write(tmp_path / "two", "p.json", entries + [{"resource": other}])
    data = read(f)
    [w] = [w for w in data.records[0].warnings if w.field == "meta"]
    assert w.source == "Observation/ex02-hb" and "2 differing versions" in w.message
    got = screened(f)
    # both say Hb >= 9 g/dL, yet neither is read: INCL07 cannot be met on the rest
    assert statuses(got["ex02"])["INCL07"] == "unknown"
    assert got["ex02"]["verdict"] == "incomplete"


def test_versions_ordered_by_version_id_then_last_updated():
    from trialsieve.record.identity import current

    a = {"resourceType": "Observation", "id": "o", "status": "final"}
    v = [("f", {**a, "meta": {"versionId": "10", "lastUpdated": "2026-01-01T00:00:00Z"}}),
         ("f", {**a, "status": "amended", "meta": {"versionId": "9",
                                                    "lastUpdated": "2026-02-01T00:00:00Z"}})]
    assert current(v)[0] == [v[0]]  # 10 > 9 (numbers, not text)
    w = [("f", {**a, "meta": {"lastUpdated": "2026-01-01T12:00:00+02:00"}}),
         ("f", {**a, "status": "amended", "meta": {"lastUpdated": "2026-01-01T11:00:00Z"}})]
    assert current(w)[0] == [w[1]]  # 11:00Z is after 10:00Z
    x = [("f", a), ("f", {**a, "status": "amended"})]
    kept, unordered = current(x)
    assert kept == [] and unordered[0].source == "Observation/o"


# --- linked patients -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["replaced-by", "replaces", "refer", "seealso"])
def test_a_linked_duplicate_holding_a_death_is_one_deceased_patient(tmp_path, kind):
    entries = ex02()
    dup = {"resourceType": "Patient", "id": "ex02-old", "gender": "male",
           "birthDate": "1959-02-03", "deceasedDateTime": "2026-10-02"}
    if kind == "replaces":  # said from the surviving record
        entries[0]["resource"]["link"] = [{"other": {"reference": "Patient/ex02-old"},
                                           "type": kind}]
    else:
        dup["link"] = [{"other": {"reference": "Patient/ex02"}, "type": kind}]
    write(tmp_path, "a.json", entries)
    write(tmp_path, "b.json", [{"resource": dup}])
    got = screened(tmp_path)
    assert len(got) == 1, "screened once"
    [doc] = got.values()
    assert doc["deceased"] == "deceased on 2026-10-02"
    assert doc["verdict"] == "not_eligible"
    if kind in ("replaced-by", "replaces"):
        assert doc["patient"] == "ex02"  # named by the record that is not replaced


# --- one patient over several files --------------------------------------------------------
def prescreen(path: Path, out: Path, *more: str, policy: str = "screening"
              ) -> dict[str, dict]:
    code, _ = run_cli("prescreen", str(path), "--out", str(out), "--as-of", AS_OF,
                      "--policy", policy, *more)
    assert code == 0
    docs = [json.loads(x) for x in (out / "results.ndjson").read_text().splitlines()]
    return {d["patient"]: d for d in docs}


def split(folder: Path) -> Path:
    entries = ex02()
    write(folder, "1.json", entries[:12])
    write(folder, "2.json", entries[12:])
    return folder


@pytest.mark.parametrize("policy", ["screening", "pre-screening"])
def test_a_patient_in_two_bundle_files_is_one_patient_in_screen_and_prescreen(tmp_path,
                                                                             policy):
    """Under pre-screening the triage set aside the half holding no NET code and left the
    other half incomplete: the candidate was lost."""
    folder = split(tmp_path / "in")
    expected = screen_json(folder, policy)
    assert [d["verdict"] for d in expected.values()] == ["eligible"]
    got = prescreen(folder, tmp_path / "out", policy=policy)
    assert got == expected


def every_reference_form(folder: Path) -> None:
    """Example 02 as a bulk export in `folder`: the Patient in one file (with an MRN, and a
    linked record holding nothing), his resources referring to him by history, absolute
    URL, identifier and the linked record's id."""
    folder.mkdir()
    entries = ex02()
    patient = entries[0]["resource"]
    patient["identifier"] = [MRN]
    old = {"resourceType": "Patient", "id": "ex02-old", "gender": "male",
           "birthDate": "1959-02-03",
           "link": [{"other": {"reference": "Patient/ex02"}, "type": "replaced-by"}]}
    forms = [{"reference": "Patient/ex02/_history/4"}, {"identifier": MRN},
             {"reference": "https://fhir.example.org/Patient/ex02"},
             {"reference": "Patient/ex02-old"}]
    by_type: dict[str, list[dict]] = {"Patient": [patient, old]}
    for n, e in enumerate(entries[1:]):
        res = e["resource"]
        for f in ("subject", "patient"):
            if isinstance(res.get(f), dict):
                res[f] = forms[n % len(forms)]
        by_type.setdefault(res["resourceType"], []).append(res)
    for rtype, items in by_type.items():
        (folder / f"{rtype}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in items))


def test_a_patient_in_ndjson_files_with_every_reference_form_is_one_patient(tmp_path):
    """A bulk export: the Patient in one file (with an MRN, and a linked record holding
    nothing), his resources referring to him by history, absolute URL and identifier."""
    folder = tmp_path / "in"
    every_reference_form(folder)
    expected = screened(folder)
    assert list(expected) == ["ex02"] and expected["ex02"]["verdict"] == "eligible"
    assert prescreen(folder, tmp_path / "out") == expected
    assert prescreen(folder, tmp_path / "full", "--full") == expected


def test_reference_key_and_subject_key():
    from trialsieve.record.identity import Identities, reference_key, subject_key

    assert reference_key("Patient/x") == "x"
    assert reference_key("Patient/x/_history/2") == "x"
    assert reference_key("https://h/fhir/Patient/x/_history/2/") == "x"
    assert reference_key("urn:uuid:abc") == "abc"
    assert subject_key({"resourceType": "Observation",
                        "subject": {"identifier": {"value": "1"}}}) == ("identifier||1",
                                                                         "subject")
    assert Identities.of([{"resourceType": "Patient", "id": "p", "identifier": [MRN]}]).pid(
        f"identifier|{MRN['system']}|{MRN['value']}") == "p"
