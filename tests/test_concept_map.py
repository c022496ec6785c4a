"""A site's own codes read through a FHIR R4 ConceptMap (--concept-map): validated on load
(exit 2 naming the file and the element), applied by the reader, and listed in the report
when a mapped code was used."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from builders import REPO

from trialsieve import codes as C
from trialsieve.cli import main
from trialsieve.fhir import concept_map
from trialsieve.fhir.errors import InputError
from trialsieve.fhir.reader import read

LOCAL = "https://hospital.example/lab"
OPENMRS_MAP = REPO / "docs" / "examples" / "openmrs-concept-map.json"
OPENMRS_EXCERPT = Path(__file__).parent / "data" / "openmrs" / "openmrs-style-labs.json"


def _map(*elements: dict, source: str = LOCAL, target: str = C.LOINC, cid: str = "site") -> dict:
    return {"resourceType": "ConceptMap", "id": cid, "status": "active",
            "group": [{"source": source, "target": target, "element": list(elements)}]}


def _el(code: str, target: str | None, equivalence: str = "equivalent") -> dict:
    t = {"equivalence": equivalence}
    if target is not None:
        t["code"] = target
    return {"code": code, "target": [t]}


def _write(tmp_path: Path, doc: dict, name: str = "map.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def _patient_with(tmp_path: Path, *resources: dict) -> Path:
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "gender": "male",
                             "birthDate": "1960-01-01"}}]
    entries += [{"resource": {**r, "subject": {"reference": "Patient/p1"}}} for r in resources]
    return _write(tmp_path, {"resourceType": "Bundle", "type": "collection", "entry": entries},
                  "patient.json")


HB_LOCAL = {"resourceType": "Observation", "id": "hb", "status": "final",
            "code": {"coding": [{"system": LOCAL, "code": "HGB"}]},
            "effectiveDateTime": "2026-11-20",
            "valueQuantity": {"value": 11.2, "unit": "g/dL", "code": "g/dL"}}
GFR_LOCAL = {"resourceType": "Observation", "id": "gfr", "status": "final",
             "code": {"coding": [{"system": LOCAL, "code": "EDTA-GFR"}]},
             "effectiveDateTime": "2026-11-20",
             "valueQuantity": {"value": 72, "unit": "mL/min/1.73m2"}}


# --- applied by the reader ------------------------------------------------------------
def test_a_local_lab_code_is_read_with_the_map_and_not_without(tmp_path: Path) -> None:
    data = _patient_with(tmp_path, HB_LOCAL, GFR_LOCAL)
    cmap = _write(tmp_path, _map(_el("HGB", "718-7")))
    gfr_map = _write(tmp_path, _map(_el("EDTA-GFR", "gfr-51cr-edta"), target=C.PROJECT,
                                     cid="gfr"), "gfr.json")
    [plain] = read(data).records
    assert plain.labs == []
    [rec] = read(data, concept_map.load([cmap, gfr_map])).records
    assert {(lab.test, lab.std_value) for lab in rec.labs} == {("hemoglobin", 11.2),
                                                               ("gfr_51cr", 72)}
    used = [w for w in rec.warnings if "concept map" in w.message]
    assert len(used) == 2 and any("718-7" in w.message and "HGB" in w.message for w in used)
    assert all(str(cmap) in w.message or str(gfr_map) in w.message for w in used)


def test_a_bundle_of_concept_maps_is_one_map(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": _map(_el("HGB", "718-7"), cid="a")},
        {"resource": _map(_el("EDTA-GFR", "gfr-51cr-edta"), target=C.PROJECT, cid="b")}]}
    m = concept_map.load([_write(tmp_path, bundle)])
    assert set(m.targets) == {(LOCAL, "HGB"), (LOCAL, "EDTA-GFR")}


def test_a_local_drug_code_is_an_exposure(tmp_path: Path) -> None:
    med = {"resourceType": "MedicationStatement", "id": "m", "status": "completed",
           "effectivePeriod": {"start": "2026-08-01", "end": "2026-09-01"},
           "medicationCodeableConcept": {"coding": [{"system": LOCAL, "code": "CAPOX"}],
                                         "text": "capecitabine"}}
    cmap = _write(tmp_path, _map(_el("CAPOX", "L01BC06"), target=C.ATC))
    [rec] = read(_patient_with(tmp_path, med), concept_map.load([cmap])).records
    assert [e.drug_class for e in rec.exposures] == ["chemotherapy"]


def test_the_map_is_pure_and_keeps_the_original_coding() -> None:
    m = concept_map.ConceptMapping({(LOCAL, "HGB"): concept_map.Target(C.LOINC, "718-7", "",
                                                                       "map.json")}, {})
    res = {"resourceType": "Observation", "code": {"coding": [{"system": LOCAL,
                                                               "code": "HGB"}]}}
    out, used = concept_map.apply(m, res)
    assert res["code"]["coding"] == [{"system": LOCAL, "code": "HGB"}]  # input untouched
    assert [(c["system"], c["code"]) for c in out["code"]["coding"]] == [
        (LOCAL, "HGB"), (C.LOINC, "718-7")]
    assert [u[0] for u in used] == [(LOCAL, "HGB")]


# --- validated on load ----------------------------------------------------------------
@pytest.mark.parametrize(("doc", "where", "why"), [
    (_map(_el("HGB", "99999-9")), "group[0].element[0].target[0].code", "not a code"),
    (_map(_el("X", "no-such-fact"), target=C.PROJECT), "element[0].target[0].code", "not a"),
    (_map(_el("X", "718-7"), target="http://unknown.example/cs"), "group[0].target",
     "code system"),
    (_map(_el("HGB", "718-7"), _el("HGB", "777-3")), "group[0].element[1]", "two targets"),
    (_map(_el("HGB", "718-7", "narrower")), "target[0].equivalence", "narrower"),
    (_map({"display": "no code", "target": [{"code": "718-7", "equivalence": "equal"}]}),
     "group[0].element[0].code", "missing"),
    (_map(_el("HGB", None)), "target[0].code", "missing"),
    ({"resourceType": "ConceptMap", "id": "x", "group": [{"element": []}]}, "group[0].source",
     "missing"),
    ({"resourceType": "Patient", "id": "x"}, "resourceType", "ConceptMap"),
    (_map(_el("718-7", "777-3"), source=C.LOINC), "group[0].element[0].code",
     "trialsieve already reads"),
])
def test_a_bad_map_is_refused_naming_file_and_element(tmp_path: Path, doc: dict, where: str,
                                                      why: str) -> None:
    path = _write(tmp_path, doc)
    with pytest.raises(InputError) as exc:
        concept_map.load([path])
    assert str(path) in str(exc.value) and where in str(exc.value) and why in str(exc.value)


def test_the_same_source_in_two_files_with_two_targets_is_refused(tmp_path: Path) -> None:
    a = _write(tmp_path, _map(_el("HGB", "718-7"), cid="a"), "a.json")
    b = _write(tmp_path, _map(_el("HGB", "777-3"), cid="b"), "b.json")
    with pytest.raises(InputError, match="two targets") as exc:
        concept_map.load([a, b])
    assert "a.json" in str(exc.value) and "b.json" in str(exc.value)


def test_not_json_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "map.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        concept_map.load([p])


@pytest.mark.parametrize("command", ["screen", "window", "recist", "report", "export"])
def test_every_patient_command_takes_the_map_and_exits_2_on_a_bad_one(
        tmp_path: Path, capsys, command: str) -> None:
    bad = _write(tmp_path, _map(_el("HGB", "99999-9")), "bad-map.json")
    data = _patient_with(tmp_path, HB_LOCAL)
    assert main([command, str(data), "--concept-map", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad-map.json" in err and "element[0]" in err and "Traceback" not in err


def test_screen_with_the_map_reads_the_local_code(tmp_path: Path, capsys) -> None:
    data = _patient_with(tmp_path, HB_LOCAL)
    good = _write(tmp_path, _map(_el("HGB", "718-7")))
    assert main(["screen", str(data), "--as-of", "2026-11-25", "--format", "json",
                 "--concept-map", str(good)]) == 0
    [doc] = json.loads(capsys.readouterr().out)["results"]
    i7 = next(c for c in doc["criteria"] if c["id"] == "INCL07")
    assert any(e["resource"] == "Observation/hb" for e in i7["evidence"])
    assert any("718-7" in w["message"] for w in doc["warnings"])


def test_the_helper_is_reusable_by_other_commands(tmp_path: Path) -> None:
    p = argparse.ArgumentParser()
    concept_map.add_argument(p)
    good = _write(tmp_path, _map(_el("HGB", "718-7")))
    args = p.parse_args(["--concept-map", str(good), "--concept-map", str(good)])
    assert (LOCAL, "HGB") in concept_map.from_args(args).targets
    assert concept_map.from_args(p.parse_args([])) == concept_map.EMPTY


# --- the shipped OpenMRS map ------------------------------------------------------------
def test_openmrs_labs_are_read_with_the_shipped_map_and_not_without() -> None:
    [plain] = read(OPENMRS_EXCERPT).records
    assert plain.labs == []
    [warn] = [w for w in plain.warnings if "not LOINC codes" in w.message]
    assert "21AAAA" in warn.message and "--concept-map" in warn.message
    [rec] = read(OPENMRS_EXCERPT, concept_map.load([OPENMRS_MAP])).records
    assert {lab.test: lab.std_value for lab in rec.labs} == {
        "hemoglobin": 12.1, "platelets": 250, "creatinine": pytest.approx(0.905, abs=1e-3),
        "alt": 22}
    assert not [w for w in rec.warnings if "not LOINC codes" in w.message]


def test_the_shipped_map_is_valid_and_declares_every_openmrs_code_of_the_shared_data() -> None:
    m = concept_map.load([OPENMRS_MAP])
    assert len(m.targets) == 5 and len(m.unmatched) == 21


def test_in_a_bulk_export_code_warnings_name_the_observation_file(tmp_path: Path) -> None:
    """A bulk export spreads a patient over one file per type: the warning about a code
    must point at the file that holds the Observation, not at the first file read."""
    (tmp_path / "Claim.ndjson").write_text(json.dumps(
        {"resourceType": "Claim", "id": "c1", "patient": {"reference": "Patient/p1"}}) + "\n")
    (tmp_path / "Patient.ndjson").write_text(json.dumps(
        {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}) + "\n")
    obs = [{"resourceType": "Observation", "id": oid, "status": "final",
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-11-01",
            "code": {"coding": [{"system": sys, "code": code}]},
            "valueQuantity": {"value": 12.0, "unit": "g/dL", "code": "g/dL",
                              "system": "http://unitsofmeasure.org"}}
           for oid, sys, code in (("o1", C.LOINC, "21AAAA"), ("o2", LOCAL, "HGB"))]
    (tmp_path / "Observation.ndjson").write_text("".join(json.dumps(o) + "\n" for o in obs))
    good = _write(tmp_path / "..", _map(_el("HGB", "718-7")), "bulk-map.json")
    [rec] = read(tmp_path, concept_map.load([good])).records
    [odd] = [w for w in rec.warnings if "not LOINC codes" in w.message]
    [mapped] = [w for w in rec.warnings if "read as 718-7" in w.message]
    assert (odd.file, odd.source) == (str(tmp_path / "Observation.ndjson"), "Observation/o1")
    assert (mapped.file, mapped.source) == (str(tmp_path / "Observation.ndjson"),
                                              "Observation/o2")
