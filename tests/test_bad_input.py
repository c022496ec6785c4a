"""Bad input through the command line: a clear message naming file, resource and field,
the right exit status, never a traceback. Inputs are in tests/data/bad/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import BAD

from trialsieve.cli import main

AS_OF = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["screen", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def screen_json(capsys, name: str) -> tuple[dict, str]:
    code, out, err = cli(capsys, str(BAD / name), *AS_OF, "--format", "json")
    assert code == 0, err
    return json.loads(out)["results"][0], err


def warning(doc: dict, resource: str) -> dict:
    found = [w for w in doc["warnings"] if w["resource"] == resource]
    assert len(found) == 1, doc["warnings"]
    return found[0]


def criterion(doc: dict, cid: str) -> dict:
    return next(c for c in doc["criteria"] if c["id"] == cid)


# --- input that cannot be read at all: exit 2 ---------------------------------------
def test_valid_input_screens(capsys) -> None:
    code, out, err = cli(capsys, str(BAD / "valid.json"), *AS_OF)
    assert code == 0 and err == ""
    assert "Patient/p1" in out


def test_truncated_json(capsys) -> None:
    code, out, err = cli(capsys, str(BAD / "truncated.json"), *AS_OF)
    assert code == 2 and out == ""
    assert str(BAD / "truncated.json") in err
    assert "not valid JSON" in err and "line" in err and "column" in err


def test_not_json(capsys) -> None:
    code, _, err = cli(capsys, str(BAD / "not_json.json"), *AS_OF)
    assert code == 2
    assert err.startswith("trialsieve: error: ")
    assert str(BAD / "not_json.json") in err and "not valid JSON" in err


def test_json_that_is_not_fhir(capsys) -> None:
    code, _, err = cli(capsys, str(BAD / "not_fhir.json"), *AS_OF)
    assert code == 2
    assert str(BAD / "not_fhir.json") in err and "resourceType" in err


def test_bundle_entry_not_a_list(capsys) -> None:
    code, _, err = cli(capsys, str(BAD / "entry_not_a_list.json"), *AS_OF)
    assert code == 2
    assert str(BAD / "entry_not_a_list.json") in err
    assert "Bundle/b2" in err and ": entry:" in err


def test_bundle_entry_without_resource(capsys) -> None:
    code, _, err = cli(capsys, str(BAD / "entry_without_resource.json"), *AS_OF)
    assert code == 2
    assert "Bundle/b3" in err and "entry[0].resource" in err


def test_nonexistent_path(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    code, out, err = cli(capsys, str(missing), *AS_OF)
    assert code == 2 and out == ""
    assert str(missing) in err and "no such file" in err


def test_empty_folder(capsys, tmp_path: Path) -> None:
    code, _, err = cli(capsys, str(tmp_path), *AS_OF)
    assert code == 2 and str(tmp_path) in err


def test_bad_d0_date(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["screen", str(BAD / "valid.json"), "--d0", "2026-13-01"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--d0" in err and "2026-13-01" in err and "Traceback" not in err


def test_inclusion_after_d0(capsys) -> None:
    code, out, err = cli(capsys, str(BAD / "valid.json"), "--as-of", "2026-11-25",
                         "--inclusion", "2026-12-05", "--d0", "2026-12-01")
    assert code == 2 and out == ""
    assert "inclusion date 2026-12-05 is after D0 2026-12-01" in err


# --- a problem in one resource: a warning, the rest screened, exit 0 -----------------------
def test_unknown_resource_type(capsys) -> None:
    doc, err = screen_json(capsys, "unknown_type.json")
    w = warning(doc, "Spaceship/s1")
    assert w["file"] == str(BAD / "unknown_type.json") and w["field"] == "resourceType"
    assert "Spaceship" in w["message"]
    # the rest is still screened: the haemoglobin was read and used
    assert doc["resources"]["Observation"] == {"read": 1, "used": 1, "ignored": 0}
    assert "meets >= 9 g/dL" in criterion(doc, "INCL07")["summary"]


def test_wrong_type_in_a_field(capsys) -> None:
    doc, _ = screen_json(capsys, "wrong_type.json")
    w = warning(doc, "Observation/hb-bad")
    assert w["file"] == str(BAD / "wrong_type.json")
    assert w["field"] == "valueQuantity.value"
    assert "expected a number" in w["message"] and "'12.5'" in w["message"]
    # The newest Hb (2026-11-20) cannot be read: it is kept and named, and the older one
    # (2026-11-19) does not decide in its place (issue 8: damage never turns into met).
    inc7 = criterion(doc, "INCL07")
    assert inc7["status"] == "unknown"
    assert "Observation/hb-bad" in {i["resource"] for i in inc7["ignored"]}
    assert "12.5 g/dL on 2026-11-19 meets" not in inc7["summary"]


def test_wrong_type_in_a_reference_range(capsys) -> None:
    doc, _ = screen_json(capsys, "wrong_type_reference_range.json")
    assert warning(doc, "Observation/hb-rr")["field"] == "referenceRange.high.value"


def test_unconvertible_unit(capsys) -> None:
    doc, _ = screen_json(capsys, "bad_unit.json")
    w = warning(doc, "Observation/hb-kg")
    assert w["field"] == "valueQuantity.code"
    assert "'kg'" in w["message"] and "g/dL" in w["message"]
    assert criterion(doc, "INCL07")["status"] == "unknown"


def test_date_after_the_screening_date(capsys) -> None:
    doc, _ = screen_json(capsys, "future_date.json")
    w = warning(doc, "Observation/hb-future")
    assert w["file"] == str(BAD / "future_date.json") and w["field"] == "date"
    assert "2027-01-10" in w["message"] and "2026-11-25" in w["message"]
    # not used: the result of 2026-11-19 decides, the future one is counted as ignored
    inc7 = criterion(doc, "INCL07")
    assert "Observation/hb-future" not in {e["resource"] for e in inc7["evidence"]}
    assert doc["resources"]["Observation"] == {"read": 2, "used": 1, "ignored": 1}


def test_two_results_on_the_same_day_that_disagree(capsys) -> None:
    doc, _ = screen_json(capsys, "same_day_conflict.json")
    w = warning(doc, "Observation/hb-a")
    assert w["field"] == "value" and "Observation/hb-b" in w["message"]
    inc7 = criterion(doc, "INCL07")
    assert inc7["status"] == "unknown"
    assert any("which haemoglobin of 2026-11-20 is valid" in m for m in inc7["missing"])


def test_warnings_are_in_the_table_too(capsys) -> None:
    code, out, _ = cli(capsys, str(BAD / "bad_unit.json"), *AS_OF)
    assert code == 0
    assert "Warnings:" in out
    warnings = out.split("Warnings:")[1]
    assert "Observation/hb-kg" in warnings and "valueQuantity.code" in warnings


def test_folder_with_a_file_that_is_not_fhir(capsys) -> None:
    folder = BAD / "folder_with_log"
    code, out, err = cli(capsys, str(folder), *AS_OF, "--format", "json")
    # exit 1 as in prescreen (issue 18, item 10): the results do not cover a file not read
    assert code == 1
    assert [r["patient"] for r in json.loads(out)["results"]] == ["p1"]
    log = str(folder / "log.ndjson")
    assert f"warning: {log}: resourceType:" in err
    assert err.count(log) == 1  # named once, not repeated in the message
    assert "file skipped" in err
