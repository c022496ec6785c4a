"""docs/screening-result.schema.json (draft 2020-12) describes what report.to_json produces."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest
from builders import AS_OF, BAD, REPO, SHARED_DATA, answer, lab, record, surgery
from jsonschema import Draft202012Validator, ValidationError

from trialsieve.cli import main
from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.protocols.lumen import LUMEN
from trialsieve.report import to_json
from trialsieve.rules.base import PRE_SCREENING

SCHEMA_PATH = REPO / "docs" / "screening-result.schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_schema_file_and_output_have_one_version(validator) -> None:
    from trialsieve.output.json_result import SCHEMA_VERSION

    assert validator.schema["properties"]["schema"]["const"] == SCHEMA_VERSION
    assert validator.schema["$defs"]["document"]["properties"]["schema"]["const"] == \
        SCHEMA_VERSION


def valid(validator: Draft202012Validator, doc: dict) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_built_records_validate(validator) -> None:
    d0 = AS_OF + timedelta(days=10)
    facts = [lab("hemoglobin", 12, AS_OF - timedelta(days=2), uln=17),
             lab("bilirubin", 40, AS_OF - timedelta(days=2), "umol/L", uln=17.1),
             surgery(AS_OF - timedelta(days=10)), answer("recent-anticancer-therapy", False)]
    for policy in ("screening", PRE_SCREENING):
        for dates in (Dates.resolve(AS_OF), Dates.resolve(AS_OF, d0=d0),
                      Dates.resolve(AS_OF, AS_OF + timedelta(days=3), d0)):
            for rec in (record(), record(*facts, sex="female", born=date(1990, 2, 28))):
                doc = to_json(screen(LUMEN, rec, dates, policy))
                valid(validator, doc)
                assert doc["policy"] == policy


@pytest.mark.parametrize("name", ["valid.json", "unknown_type.json", "wrong_type.json",
                                  "bad_unit.json", "future_date.json",
                                  "same_day_conflict.json", "folder_with_log"])
def test_cli_output_validates(validator, capsys, name: str) -> None:
    code = main(["screen", str(BAD / name), "--as-of", "2026-11-25", "--format", "json"])
    # a bulk export's log.ndjson is input not read: exit 1 (issue 18, item 10)
    assert code == (1 if name == "folder_with_log" else 0)
    doc = json.loads(capsys.readouterr().out)
    document_validator(validator).validate(doc)
    for result in doc["results"]:
        valid(validator, result)


def document_validator(validator: Draft202012Validator) -> Draft202012Validator:
    """The one object `screen --format json` prints ($defs/document)."""
    from referencing import Registry, Resource

    schema = validator.schema
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator(schema["$defs"]["document"], registry=registry)


def test_json_has_one_shape_for_one_patient_or_many(validator, capsys, tmp_path) -> None:
    # The top level is the same object for one patient and for a folder: a script reads
    # doc["results"] either way; ndjson gives the same results one per line.
    examples = REPO / "examples" / "patients"
    for name in ("02-eligible-man", "22-lanreotide-20-days-before-d0", "28-neuroendocrine-"
                 "carcinoma"):
        (tmp_path / f"{name}.json").write_text((examples / f"{name}.json").read_text())
    for path in (examples / "02-eligible-man.json", BAD / "folder_with_log", tmp_path):
        paths = [str(path)]
        status = 1 if path == BAD / "folder_with_log" else 0  # its log.ndjson: not read
        assert main(["screen", *paths, "--as-of", "2026-11-25", "--format", "json"]) == status
        doc = json.loads(capsys.readouterr().out)
        assert set(doc) == {"schema", "generator", "warnings", "results"}
        document_validator(validator).validate(doc)
        assert main(["screen", *paths, "--as-of", "2026-11-25", "--format", "ndjson"]) == \
            status
        lines = capsys.readouterr().out.splitlines()
        assert [json.loads(line) for line in lines] == doc["results"]
        assert len(lines) == (3 if path == tmp_path else 1)


def test_numbers_are_numbers_with_their_ucum_unit(validator) -> None:
    # examples/patients/README.md: the eligible man's 51Cr-EDTA GFR is 78 mL/min/1.73 m2,
    # bilirubin 0.7 mg/dL with ULN 1.2; the woman's serum hCG is coded negative.
    man = read(REPO / "examples" / "patients" / "02-eligible-man.json").records[0]
    doc = to_json(screen(LUMEN, man, Dates.resolve(AS_OF, d0=date(2026, 12, 1))))
    ev = {e["what"]: e for c in doc["criteria"] if c["id"] in ("INCL06", "INCL08")
          for e in c["evidence"]}
    assert ev["GFR by 51Cr-EDTA"]["quantity"] == {"value": 78, "unit": "mL/min/{1.73_m2}",
                                                  "comparator": None}
    assert ev["total bilirubin"]["quantity"]["value"] == 0.7
    assert ev["total bilirubin"]["uln"] == {"value": 1.2, "unit": "mg/dL", "comparator": None}
    woman = read(REPO / "examples" / "patients" / "01-eligible-woman-cbp.json").records[0]
    doc = to_json(screen(LUMEN, woman, Dates.resolve(AS_OF, d0=date(2026, 12, 1))))
    hcg = next(e for c in doc["criteria"] for e in c["evidence"] if e["what"] == "serum hCG")
    assert hcg["code"]["display"].startswith("negative")
    assert "negative" in hcg["value"]


def test_example_patients_validate(validator) -> None:
    folder = REPO / "examples" / "patients"
    if not any(folder.glob("*.json")):
        pytest.skip("no example patients")
    dates = Dates.resolve(date(2026, 11, 25))
    for rec in read(folder).records:
        valid(validator, to_json(screen(LUMEN, rec, dates)))


def test_real_data_validates(validator) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} absent")
    dates = Dates.resolve(date(2026, 11, 25))
    for path in (SHARED_DATA / "fhir-r4-spec-examples",
                 SHARED_DATA / "synthea-bulk-ndjson" / "10-patients"):
        for rec in read(path).records:
            valid(validator, to_json(screen(LUMEN, rec, dates)))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["verdict"], "maybe"),
        (["criteria", 0, "status"], "probably"),
        (["criteria", 0, "category"], "other"),
        (["protocol", "hash"], "md5:1234"),
        (["dates", "d0"], "1 Dec 2026"),
        (["resources", "Patient", "read"], -1),
    ],
)
def test_schema_rejects_what_to_json_never_produces(validator, path, value) -> None:
    doc = to_json(screen(LUMEN, record(), Dates.resolve(AS_OF)))
    bad = copy.deepcopy(doc)
    if "resources" in path:
        bad["resources"] = {"Patient": {"read": 1, "used": 1, "ignored": 0}}
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        validator.validate(bad)


def test_prescreen_documents_of_patients_set_aside_validate(validator, tmp_path) -> None:
    from trialsieve.population.synth import generate

    generate(40, seed=3, out=tmp_path / "in")
    assert main(["prescreen", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--as-of", "2026-11-25"]) == 0
    docs = [json.loads(x) for x in (tmp_path / "out" / "results.ndjson").read_text()
            .splitlines()]
    aside = [d for d in docs if "set_aside" in d]
    assert aside and len(aside) < len(docs)
    for doc in docs:
        valid(validator, doc)
    bad = copy.deepcopy(aside[0])
    bad["set_aside"]["not_evaluated"] = ["I3"]
    with pytest.raises(ValidationError):
        validator.validate(bad)
