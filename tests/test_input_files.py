"""The files of an input folder as a site hands them over (issue 18, items 8 and 10):
every warning names the file (and, in NDJSON, the line) of what it is about; every file
that is not read is named with why, counted, and gives exit status 1 (--strict: 2)."""

from __future__ import annotations

import json
from pathlib import Path

from trialsieve.cli import main

AS_OF = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]
LOINC = "http://loinc.org"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "patients"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _hb(oid: str, value: object, unit: str, when: str = "2026-11-01") -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when,
            "code": {"coding": [{"system": LOINC, "code": "718-7"}]},
            "valueQuantity": {"value": value, "unit": unit, "code": unit,
                              "system": "http://unitsofmeasure.org"}}


def _ndjson(path: Path, *resources: dict) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")


# --- item 8: a warning about an NDJSON line names its file and line -------------------
def test_a_warning_about_an_ndjson_resource_names_its_own_file_and_line(tmp_path, capsys):
    _ndjson(tmp_path / "Patient.ndjson", {"resourceType": "Patient", "id": "p1",
                                          "birthDate": "1960-01-01", "gender": "male"})
    _ndjson(tmp_path / "Observation.ndjson", _hb("o1", 12, "g/dL"), _hb("o2", 13, "g/dL"),
            _hb("o3", 5, "furlongs"))
    code, _, err = run(capsys, "screen", str(tmp_path), *AS_OF)
    assert code == 0
    obs = tmp_path / "Observation.ndjson"
    # line 3 holds the unreadable unit; the same-day disagreement is about line 1's result
    assert f"warning: {obs}: line 3: Observation/o3: valueQuantity.code: unit 'furlongs'" \
        in err
    assert f"warning: {obs}: line 1: Observation/o1: value: hemoglobin results of " \
        "2026-11-01 disagree" in err
    assert "Patient.ndjson: Observation/" not in err


def test_a_bundle_warning_names_the_bundle_file_without_a_line(capsys):
    # control: a Bundle has no lines to name; its warnings read as before
    from trialsieve.fhir.reader import read

    data = read(EXAMPLES / "05-hb-5-5-mmol-per-l-fails.json")
    assert all(w.line is None for r in data.records for w in r.warnings)


# --- item 10: no file dropped in silence, each counted ---------------------------------
def _folder_beside_a_patient(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "02.json").write_bytes((EXAMPLES / "02-eligible-man.json").read_bytes())
    (folder / "patient.xml").write_text('<?xml version="1.0"?>\n<Patient xmlns="http://'
                                        'hl7.org/fhir"><id value="x"/></Patient>\n')
    (folder / "labs.csv").write_text("mrn,hb\n1,9.1\n")
    (folder / "notes.txt").write_text("to screen\n")
    return folder


def test_xml_csv_and_text_files_in_a_folder_are_named(tmp_path, capsys):
    folder = _folder_beside_a_patient(tmp_path)
    code, out, err = run(capsys, "screen", str(folder), *AS_OF, "--format", "json")
    assert code == 1  # the results do not cover the FHIR XML
    assert [r["patient"] for r in json.loads(out)["results"]] == ["ex02"]
    assert (f"{folder / 'patient.xml'}: FHIR XML is not read; trialsieve reads FHIR R4 "
            "JSON, in .json and .ndjson files: file skipped") in err
    # not input: named, not counted (a README beside the examples is no damage)
    assert f"{folder / 'labs.csv'}: a .csv file, not FHIR: not read" in err
    assert f"{folder / 'notes.txt'}: a .txt file, not FHIR: not read" in err
    assert "1 input not read (named above)" in err
    code, _, err = run(capsys, "screen", str(folder), *AS_OF, "--strict")
    assert code == 2 and "patient.xml" in err and "strict: stopped here" in err
    (folder / "patient.xml").unlink()
    code, _, err = run(capsys, "screen", str(folder), *AS_OF)
    assert code == 0 and "labs.csv" in err and "notes.txt" in err


def test_every_skipped_file_is_counted_the_log_of_a_bulk_export_too(tmp_path, capsys):
    """Two files said "file skipped" and the count said 1: the export's log was only a
    warning (exit 0 in screen, 1 in prescreen). Every file not read counts alike."""
    folder = tmp_path / "bulk"
    folder.mkdir()
    _ndjson(folder / "Patient.ndjson", {"resourceType": "Patient", "id": "p1",
                                        "birthDate": "1960-01-01", "gender": "male"})
    (folder / "Observation.json").write_text('{"resourceType": "Observation", ')
    _ndjson(folder / "log.ndjson", {"exportId": "e1", "eventId": "kickoff"})
    code, _, err = run(capsys, "screen", str(folder), *AS_OF)
    assert code == 1
    assert err.count("file skipped") == 2 and "2 inputs not read (named above)" in err
    assert f"{folder / 'log.ndjson'}: resourceType: JSON but not FHIR" in err
    code, _, err = run(capsys, "screen", str(folder), *AS_OF, "--strict")
    assert code == 2


def _as_stu3(bundle: dict) -> dict:
    """A Bundle as an STU3 server writes it: Condition statuses are codes, and the
    recorded date is assertedDate."""
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Condition":
            for status in ("clinicalStatus", "verificationStatus"):
                if status in res:
                    res[status] = res[status]["coding"][0]["code"]
            if "recordedDate" in res:
                res["assertedDate"] = res.pop("recordedDate")
    return bundle


def test_an_stu3_bundle_is_named_as_stu3_and_not_read(tmp_path, capsys):
    stu3 = tmp_path / "stu3.json"
    stu3.write_text(json.dumps(_as_stu3(json.loads(
        (EXAMPLES / "02-eligible-man.json").read_text()))))
    code, out, err = run(capsys, "screen", str(stu3), *AS_OF)
    assert code == 2 and out == ""
    assert (f"{stu3}: Condition/ex02-net: clinicalStatus: FHIR STU3 is not read; "
            "trialsieve reads R4") in err
    # in a folder: the file is skipped whole (its Conditions are not "a correction" of
    # criteria, the rest of the patient is not screened as if complete)
    folder = _folder_beside_a_patient(tmp_path)
    (folder / "stu3.json").write_bytes(stu3.read_bytes())
    code, out, err = run(capsys, "screen", str(folder), *AS_OF, "--format", "json")
    assert code == 1 and "2 inputs not read" in err
    assert [r["patient"] for r in json.loads(out)["results"]] == ["ex02"]
    assert "a correction" not in out and "FHIR STU3 is not read" in err


def test_an_stu3_ndjson_line_names_its_line_and_a_dstu2_one_is_told_apart(tmp_path,
                                                                            capsys):
    base = {"resourceType": "Condition", "code": {"text": "midgut NET"}}
    _ndjson(tmp_path / "Patient.ndjson", {"resourceType": "Patient", "id": "p1",
                                          "birthDate": "1960-01-01", "gender": "male"})
    _ndjson(tmp_path / "Condition.ndjson",
            {**base, "id": "c0", "subject": {"reference": "Patient/p1"}},
            {**base, "id": "c1", "subject": {"reference": "Patient/p1"},
             "clinicalStatus": "active"})
    code, _, err = run(capsys, "screen", str(tmp_path), *AS_OF)
    assert code == 1
    assert (f"{tmp_path / 'Condition.ndjson'}: line 2: Condition/c1: clinicalStatus: "
            "FHIR STU3 is not read; trialsieve reads R4") in err
    _ndjson(tmp_path / "Condition.ndjson",
            {**base, "id": "c2", "patient": {"reference": "Patient/p1"},
             "clinicalStatus": "active"})
    code, _, err = run(capsys, "screen", str(tmp_path), *AS_OF)
    assert code == 1 and "Condition/c2: patient: FHIR DSTU2 is not read" in err


def test_r4_inputs_carry_no_mark_of_an_earlier_release() -> None:
    """The marks are ones R4 cannot have: none in the 72 examples, the R4 specification's
    own examples or Synthea's R4 output (when the shared data is beside the repo)."""
    from trialsieve.fhir.versions import earlier

    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    files = [*EXAMPLES.glob("*.json"), *shared.glob("fhir-r4-spec-examples/*.json"),
             *shared.glob("synthea-openmrs-bundles/*.json"),
             *shared.glob("synthea-bulk-ndjson/10-patients/*.000.ndjson")]
    assert len(files) >= 72
    for f in files:
        text = f.read_text(encoding="utf-8")
        docs = ([json.loads(x) for x in text.splitlines() if x.strip()]
                if f.suffix == ".ndjson" else [json.loads(text)])
        for doc in docs:
            for res in [doc] + [e["resource"] for e in doc.get("entry", [])]:
                assert earlier(res) is None, (f, res.get("id"))


# --- prescreen lists a folder as screen does (one listing for both commands) ----------
def _prescreen(capsys, folder: Path, out: Path, *more: str) -> tuple[int, str, dict]:
    code, _, err = run(capsys, "prescreen", str(folder), "--out", str(out),
                       "--as-of", "2026-11-25", *more)
    run_json = out / "run.json"
    return code, err, json.loads(run_json.read_text()) if run_json.exists() else {}


def test_prescreen_names_xml_csv_and_text_files_as_screen_does(tmp_path, capsys):
    folder = _folder_beside_a_patient(tmp_path)
    code, err, run_json = _prescreen(capsys, folder, tmp_path / "out")
    assert code == 1  # the results do not cover the FHIR XML
    assert run_json["counts"]["patients"] == 1
    xml = ("FHIR XML is not read; trialsieve reads FHIR R4 JSON, in .json and .ndjson "
           "files: file skipped")
    assert run_json["skipped"] == [{"file": str(folder / "patient.xml"), "line": None,
                                    "resource": None, "reason": xml}]
    assert f"{folder / 'patient.xml'}: {xml}" in err
    # not input: named with the words `screen` uses, not counted
    assert f"{folder / 'labs.csv'}: a .csv file, not FHIR: not read" in err
    assert f"{folder / 'notes.txt'}: a .txt file, not FHIR: not read" in err
    code, err, _ = _prescreen(capsys, folder, tmp_path / "strict", "--strict")
    assert code == 2 and "patient.xml" in err and not (tmp_path / "strict").exists()
    (folder / "patient.xml").unlink()
    code, err, run_json = _prescreen(capsys, folder, tmp_path / "out")
    assert code == 0 and run_json["skipped"] == []
    assert "labs.csv" in err and "notes.txt" in err


def earlier_release_cases() -> list[tuple[str, dict, dict, str, str]]:
    """(file, its R4 first line, its second line of an earlier release, the resource and
    element named, why), for Patient/p1: the marks of fhir/versions.py, one of each kind."""
    who = {"reference": "Patient/p1"}
    net = {"resourceType": "Condition", "code": {"text": "midgut NET"}, "subject": who}
    imm = {"resourceType": "Immunization", "status": "completed", "patient": who,
           "vaccineCode": {"text": "influenza"}, "occurrenceDateTime": "2026-01-01"}
    order = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
             "subject": who}
    return [
        ("Condition", {**net, "id": "r4"}, {**net, "id": "c1", "clinicalStatus": "active"},
         "Condition/c1: clinicalStatus", "FHIR STU3 is not read; trialsieve reads R4 "
         "(a code here, a CodeableConcept in R4)"),
        ("Condition", {**net, "id": "r4"},
         {"resourceType": "Condition", "id": "c1", "patient": who, "code": net["code"]},
         "Condition/c1: patient", "FHIR DSTU2 is not read; trialsieve reads R4 "
         "(Condition.patient is not an R4 element)"),
        ("Immunization", {**imm, "id": "r4"}, {**imm, "id": "i1", "notGiven": False},
         "Immunization/i1: notGiven", "FHIR STU3 is not read; trialsieve reads R4 "
         "(Immunization.notGiven is not an R4 element)"),
        ("ServiceRequest", {**order, "id": "r4"},
         {**order, "resourceType": "ProcedureRequest", "id": "q1"},
         "ProcedureRequest/q1: resourceType", "FHIR STU3 or DSTU2 is not read; "
         "trialsieve reads R4 (ProcedureRequest is not an R4 resource type)")]


def test_prescreen_names_an_stu3_ndjson_file_and_does_not_read_it(tmp_path, capsys):
    """The DuckDB scan finds the marks `screen` finds (fhir/versions.py), in a file kept
    line by line and in one projected (a type no rule reads); the whole file is not read,
    its R4 first line included, and it is named by its first marked line."""
    cases = earlier_release_cases()
    for i, (name, r4, marked, resource, why) in enumerate(cases):
        folder = tmp_path / f"in{i}"
        folder.mkdir()
        _ndjson(folder / "Patient.ndjson", {"resourceType": "Patient", "id": "p1",
                                            "birthDate": "1960-01-01", "gender": "male"})
        _ndjson(folder / f"{name}.ndjson", r4, marked)
        code, err, run_json = _prescreen(capsys, folder, tmp_path / f"out{i}", "--full")
        assert code == 1, (name, err)
        assert run_json["skipped"] == [{"file": str(folder / f"{name}.ndjson"), "line": 2,
                                        "resource": resource,
                                        "reason": f"{why}: file skipped"}], resource
        assert f"{why}: file skipped" in err  # named on stderr too
        assert run_json["counts"]["patients"] == 1
        doc = json.loads((tmp_path / f"out{i}" / "results.ndjson").read_text())
        assert "/r4" not in json.dumps(doc), resource  # nothing of the file was read
        if name == "Condition":  # the NET of the first line is not the patient's
            assert doc["criteria"][1]["status"] != "met"
        code, err, _ = _prescreen(capsys, folder, tmp_path / f"strict{i}", "--strict")
        assert code == 2 and why in err
