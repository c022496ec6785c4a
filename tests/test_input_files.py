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
