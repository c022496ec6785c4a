"""The screening table a coordinator reads: first block, 80 columns, units, evidence.

Expected facts come from examples/patients/README.md (screening date 2026-11-25,
D0 2026-12-01), not from the program's own output.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from builders import REPO

from trialsieve.cli import main
from trialsieve.output.terminal import Style

EXAMPLES = REPO / "examples" / "patients"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


def table(capsys, name: str, *extra: str) -> str:
    assert main(["screen", str(EXAMPLES / f"{name}.json"), *DATES, *extra]) == 0
    return capsys.readouterr().out


def first_block(text: str) -> str:
    return text.split("-" * 80)[0]


def test_eligible_patient_fits_one_screen_at_80_columns(capsys) -> None:
    out = table(capsys, "02-eligible-man")
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert len(lines) <= 60
    head = first_block(out)
    assert "ELIGIBLE at D0 2026-12-01" in head and "Blocking" not in head
    # exclusions read as the condition: absent, never "NOT MET"
    assert [ln.split()[1] for ln in lines if ln.startswith("EXCL")] == ["absent"] * 9
    assert "\033[" not in out  # not a TTY: no colour
    # each record that expires is named once, though ECOG bounds both I9 and I12
    steps = head.split("Next steps")[1]
    assert steps.count("ECOG") == 1 and steps.count("haemoglobin") == 1
    assert "D0 no later than 2026-12-10" in steps  # README: MRI of 2026-11-12 + 28 days


def test_a_wait_shows_the_earliest_d0_in_the_first_block(capsys) -> None:
    # README: last LAR 2026-11-11, 20 days before D0; I5 holds from D0 2026-12-09.
    head = first_block(table(capsys, "22-lanreotide-20-days-before-d0"))
    assert "NOT ELIGIBLE at D0 2026-12-01" in head
    assert "INCL05" in head.split("Blocking:")[1] and "20 days" in head
    assert "earliest D0 2026-12-09" in head
    assert "D0 on or after 2026-12-09" in head.split("Next steps")[1]


def test_no_next_steps_for_a_patient_who_cannot_become_eligible(capsys) -> None:
    # README: a NEC is never a NET (I2 not met); nothing to repeat or wait for.
    head = first_block(table(capsys, "28-neuroendocrine-carcinoma"))
    assert "INCL02" in head.split("Blocking:")[1]
    assert "Next steps: none" in head
    assert "MRI" not in head and "repeat" not in head


def test_failing_haemoglobin_asks_for_haemoglobin_not_for_scans(capsys) -> None:
    head = first_block(table(capsys, "05-hb-5-5-mmol-per-l-fails"))
    blocking = head.split("Blocking:")[1].split("Next steps")[0]
    # the reason names what fails (Hb 5.5 mmol/L = 8.86 g/dL), not the counts that pass
    assert "haemoglobin 5.5 mmol/L" in blocking and "214" not in blocking
    steps = head.split("Next steps")[1]
    assert "haemoglobin" in steps
    assert "PET" not in steps and "MRI" not in steps


def test_an_item_several_criteria_wait_for_is_asked_once(capsys) -> None:
    # README: urine hCG only: a serum hCG is missing for I10 and I12.
    head = first_block(table(capsys, "21-urine-pregnancy-test-only"))
    assert "INCOMPLETE" in head
    assert head.count("serum hCG") == 1 and "INCL10, INCL12" in head


def test_units_are_readable_with_an_ascii_fallback(capsys) -> None:
    out = table(capsys, "02-eligible-man", "--verbose")
    assert "78 mL/min/1.73 m²" in out and "3.1 ×10³/µL" in out
    assert "{1.73_m2}" not in out and "10*3/uL" not in out
    from trialsieve.engine import Dates, screen
    from trialsieve.fhir.reader import read
    from trialsieve.output.terminal import render
    from trialsieve.protocols.lumen import LUMEN

    rec = read(EXAMPLES / "02-eligible-man.json").records[0]
    from datetime import date

    r = screen(LUMEN, rec, Dates.resolve(date(2026, 11, 25), d0=date(2026, 12, 1)))
    text = render(r, style=Style(ascii_only=True), verbose=True)
    text.encode("ascii")  # no UnicodeEncodeError on a non-UTF-8 terminal
    assert "78 mL/min/1.73 m2" in text and "3.1 x10^3/uL" in text


def test_evidence_is_never_cut_silently(capsys) -> None:
    # INCL12 rests on every baseline assessment: 9 labs, ECOG, PET/CT, MRI (README).
    out = table(capsys, "02-eligible-man")
    assert "[12]" in out.split("\nINCL12 ")[1].split("\nINCL13 ")[0]
    verbose = table(capsys, "02-eligible-man", "--verbose")
    block = verbose.split("\nINCL12 ")[1].split("\nINCL13 ")[0]
    for source in ("Observation/ex02-gfr", "Observation/ex02-pt", "Observation/ex02-ecog",
                   "DiagnosticReport/ex02-pet", "DiagnosticReport/ex02-mri-2"):
        assert source in block
    assert "[12]" not in block


def test_coded_values_show_their_display(capsys) -> None:
    out = table(capsys, "01-eligible-woman-cbp", "--verbose")
    assert "serum hCG: negative (SNOMED CT 260385009)" in out
    assert "serum hCG: 260385009" not in out


def test_colour_only_on_a_terminal(monkeypatch) -> None:
    class Tty(io.StringIO):
        encoding = "utf-8"

        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Style.of(Tty()).colour and not Style.of(io.StringIO()).colour
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.of(Tty()).colour
    assert Style.of(io.TextIOWrapper(io.BytesIO(), encoding="latin-1")).ascii_only


@pytest.fixture
def with_mrn(tmp_path: Path) -> Path:
    bundle = json.loads((EXAMPLES / "02-eligible-man.json").read_text())
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient["identifier"] = [
        {"system": "urn:oid:1.2.3", "value": "NAT-1"},
        {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                              "code": "MR"}]}, "system": "https://site01/mrn", "value": "MRN-4711"},
    ]
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(bundle))
    return path


def test_patient_named_by_mrn_and_source_file(capsys, with_mrn: Path) -> None:
    assert main(["screen", str(with_mrn), *DATES]) == 0
    head = first_block(capsys.readouterr().out)
    assert "Patient MRN MRN-4711" in head and "NAT-1" not in head and "patient.json" in head
    assert main(["screen", str(with_mrn), *DATES, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)["results"][0]
    assert doc["identifier"] == {"system": "https://site01/mrn", "value": "MRN-4711",
                                 "mrn": True}
    assert doc["source_file"] == str(with_mrn)
