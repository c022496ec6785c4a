"""After an investigator confirms a report's sentence (issue 21), every output shows the
suggestion as confirmed, by whom, when and in which resource, instead of "(confirm)":
the terminal, the JSON (valid against the schema) and the checklist PDF. Examples 82-84,
each confirmed as the workbench records it (fhir/confirmation.py)."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from trialsieve.cli import main
from trialsieve.fhir import confirmation
from trialsieve.fhir.reader import read
from trialsieve.record.from_text import text_source

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "patients"
WHO = "Dr A. Investigator (investigator)"
WHEN = datetime(2026, 11, 25, 9, 30)
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]
# example -> (its patient id, the criteria whose sentence is confirmed)
CASES = {"82-net-only-in-french-pathology-report": ("ex82", ["INCL02"]),
         "83-ecog-only-in-clinic-letter": ("ex83", ["INCL09"]),
         "84-brain-and-breastfeeding-only-in-clinic-letter": ("ex84", ["EXCL06", "EXCL08"])}


def _confirmed(name: str, folder: Path) -> tuple[Path, dict[str, str]]:
    """The example with each of its sentences confirmed; sentence span -> the resource
    that confirms it."""
    pid, _ = CASES[name]
    path = EXAMPLES / f"{name}.json"
    (rec,) = read(path).records
    bundle = json.loads(path.read_text(encoding="utf-8"))
    by_span: dict[str, str] = {}
    for source in sorted({text_source(m) for m in rec.mentions}):
        built = confirmation.resources([m for m in rec.mentions if text_source(m) == source],
                                       pid, WHO, date(2026, 11, 25), WHEN)
        if built:
            by_span[source] = f"{built[0]['resourceType']}/{built[0]['id']}"
            bundle["entry"] += [{"resource": r} for r in built]
    out = folder / f"{name}-confirmed.json"
    out.write_text(json.dumps(bundle), encoding="utf-8")
    return out, by_span


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_confirmed_sentence_is_shown_confirmed_in_the_terminal(name, tmp_path, capsys):
    path, by_span = _confirmed(name, tmp_path)
    assert by_span
    assert main(["screen", str(path), *DATES, "--verbose"]) == 0  # eligible
    out = " ".join(capsys.readouterr().out.split())
    assert "(confirm)" not in out
    for resource in by_span.values():
        # written on the day of the click, the issued or recorded time as stored
        assert f"(confirmed by {WHO} on 2026-11-25" in out
        assert f": {resource})" in out


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_confirmed_sentence_is_confirmed_in_the_json(name, tmp_path, capsys):
    path, by_span = _confirmed(name, tmp_path)
    _, criteria = CASES[name]
    main(["screen", str(path), *DATES, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    schema = json.loads((REPO / "docs" / "screening-result.schema.json").read_text())
    (result,) = doc["results"]
    Draft202012Validator(schema).validate(result)
    results = {c["id"]: c for c in result["criteria"]}
    for cid in criteria:
        texts = [e["text"] for e in results[cid]["evidence"] if "text" in e]
        assert texts and all(t["use"] == "confirmed" for t in texts), cid
        for t in texts:
            span = f"{t['document']}#text:{t['start']}-{t['end']}"
            assert t["confirmed"]["resource"] == by_span[span]
            assert t["confirmed"]["by"] == WHO
            assert t["confirmed"]["on"].startswith("2026-11-25")


def test_a_confirmed_sentence_is_shown_confirmed_in_the_checklist_pdf(tmp_path):
    name = "82-net-only-in-french-pathology-report"
    path, by_span = _confirmed(name, tmp_path)
    pdf = tmp_path / "c.pdf"
    assert main(["report", str(path), *DATES, "--out", str(pdf)]) == 0
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "(confirm)" not in text
    (resource,) = by_span.values()
    assert f"confirmed by {WHO}" in text and resource.split("/")[1][:8] in text


def test_before_confirmation_the_terminal_still_asks_to_confirm(capsys):
    main(["screen", str(EXAMPLES / "83-ecog-only-in-clinic-letter.json"), *DATES, "--verbose"])
    assert "(confirm)" in capsys.readouterr().out


def test_a_confirmation_entered_in_error_confirms_nothing(tmp_path, capsys):
    path, _ = _confirmed("83-ecog-only-in-clinic-letter", tmp_path)
    bundle = json.loads(path.read_text())
    for e in bundle["entry"]:
        if confirmation.confirmed_span(e["resource"]):
            e["resource"]["status"] = "entered-in-error"
    path.write_text(json.dumps(bundle))
    main(["screen", str(path), *DATES, "--verbose"])
    out = capsys.readouterr().out
    assert "(confirm)" in out and "(confirmed by" not in out
