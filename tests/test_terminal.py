"""The screening table a coordinator reads: first block, 80 columns, units, evidence.

Expected facts come from examples/patients/README.md (screening date 2026-11-25,
D0 2026-12-01), not from the program's own output.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
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
    assert steps.count("ECOG") == 1 and steps.count("Hb") == 1  # short names (issue 18)
    # the E2/E3 answers of 2026-11-24 speak up to 7 days after them (notes, "An answer
    # speaks up to its date"), before the MRI of 2026-11-12 + 28 days
    assert "D0 no later than 2026-12-01" in steps and "2026-12-10 MRI/CT" in steps


def test_a_wait_shows_the_earliest_d0_in_the_first_block(capsys) -> None:
    # README: last LAR 2026-11-11, 20 days before D0; I5 holds from D0 2026-12-09.
    head = first_block(table(capsys, "22-lanreotide-20-days-before-d0"))
    assert "NOT ELIGIBLE at D0 2026-12-01" in head
    assert "INCL05" in head.split("Blocking:")[1] and "20 days" in head
    # from then on the E2/E3 answers of 2026-11-24 are to be given again at inclusion
    assert "D0 2026-12-09 to 2027-05-24 could be, with new results" in " ".join(head.split())
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


def block_of(text: str, cid: str) -> str:
    """The rows of one criterion in the table."""
    return text.split(f"\n{cid} ")[1].split("\nINCL")[0].split("\nEXCL")[0]


def test_a_short_evidence_list_is_shown_whole_without_a_negative_count(capsys) -> None:
    # README: NEC of the pancreas; I2 rests on the Condition and the pathology report only
    # (two records): both listed, no "+N more" (it said "+-1 more records").
    i2 = block_of(table(capsys, "28-neuroendocrine-carcinoma"), "INCL02")
    assert "Condition/ex28-nec" in i2 and "Observation/ex28-pathology" in i2
    assert "more record" not in i2 and "+-" not in i2


def without(name: str, tmp_path: Path, *ids: str, filename: str = "patient.json") -> Path:
    """An example with some of its resources taken out."""
    bundle = json.loads((EXAMPLES / f"{name}.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in ids]
    path = tmp_path / filename
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return path


def test_unknown_criteria_without_records_show_no_record_count(capsys, tmp_path) -> None:
    # 02 without its ECOG: I9 and I12 are unknown and rest on no ECOG record.
    path = without("02-eligible-man", tmp_path, "ex02-ecog")
    assert main(["screen", str(path), *DATES]) == 0
    out = capsys.readouterr().out
    assert "more record" not in block_of(out, "INCL09")
    assert "+-" not in out


def test_ecog_missing_for_i9_and_i12_is_asked_once(capsys, tmp_path) -> None:
    # I9 asks for "an ECOG performance status assessed from ...", I12 for "ECOG
    # performance status dated from ...": one assessment settles both.
    path = without("02-eligible-man", tmp_path, "ex02-ecog")
    assert main(["screen", str(path), *DATES]) == 0
    head = first_block(capsys.readouterr().out)
    unknown = head.split("Unknown, and what settles it:")[1]
    assert unknown.count("ECOG") == 1 and "INCL09, INCL12: " in unknown


@pytest.mark.parametrize("name, cid, asked, not_asked", [
    # a failing lab is repeated; no scan asked (README: Hb 5.5 mmol/L = 8.86 g/dL)
    ("05-hb-5-5-mmol-per-l-fails", "INCL07", "a newer result", "scan"),
    ("19-gfr-51cr-49-fails", "INCL06", "a newer result", "scan"),
    # an attested recent major surgery: a newer attestation, not a result or a scan
    ("53-recent-major-surgery-attested-yes", "EXCL02", "a newer attestation", "scan"),
    # I13 fails on the lesion read: a new scan is what can change it
    ("41-recist-20-percent-4-mm-no-pd", "INCL13", "a newer scan", "result"),
])
def test_a_next_step_asks_for_what_the_criterion_reads(capsys, name, cid, asked,
                                                       not_asked) -> None:
    steps = first_block(table(capsys, name)).split("Next steps")[1]
    step = [s for s in steps.split("\n  - ") if s.startswith(cid)][0]
    assert asked in step and not_asked not in step, step


def test_expiry_of_an_answer_reads_as_a_sentence(capsys) -> None:
    # 02: the EXCL02 answer of 2026-11-24 speaks up to 7 days after it (notes): stale for
    # an inclusion after 2026-12-01. The step names it as an attestation, once.
    steps = first_block(table(capsys, "02-eligible-man")).split("Next steps")[1]
    text = " ".join(steps.split())
    assert ("D0 no later than 2026-12-01: after it the recent major surgery attestation of "
            "2026-11-24") in text and "(confirm at inclusion)" in text
    assert text.count("recent major surgery attestation") == 1
    assert "stale after" not in text and "up to this date" not in text


def test_a_progression_arm_without_scans_says_which_months(capsys, tmp_path) -> None:
    # 02 without its follow-up MRI: no CT/MRI within the 12 months of I3.
    path = without("02-eligible-man", tmp_path, "ex02-mri-2")
    assert main(["screen", str(path), *DATES, "--verbose"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "within the months" not in out and "CT/MRI within 12 months" in out


def run_ascii(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env |= {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "ascii", "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "trialsieve", *args], env=env,
                          capture_output=True)


def test_a_terminal_that_is_not_utf8_gets_every_format_without_a_traceback(tmp_path) -> None:
    # A file name and a record text with letters outside ASCII, and the published texts
    # (the middle dot of I7): every output still prints, in ASCII.
    path = without("02-eligible-man", tmp_path, filename="pätient é.json")
    bundle = json.loads(path.read_text(encoding="utf-8"))
    for e in bundle["entry"]:
        if e["resource"]["id"] == "ex02-consent":
            e["resource"].setdefault("text", {"status": "generated", "div": "<div>Bé</div>"})
    for fmt in ("table", "json", "ndjson"):
        run = run_ascii("screen", str(path), *DATES, "--format", fmt)
        assert run.returncode == 0 and b"Traceback" not in run.stderr, run.stderr[-300:]
        run.stdout.decode("ascii")
        if fmt == "table":
            assert b"ELIGIBLE at D0 2026-12-01" in run.stdout and b"mL/min/1.73 m2" in run.stdout
            assert b"patiente.json" in b"".join(run.stdout.split())  # the path may wrap
        else:  # JSON stays lossless: non-ASCII letters as \u escapes
            doc = json.loads(run.stdout.splitlines()[0] if fmt == "ndjson" else run.stdout)
            first = doc if fmt == "ndjson" else doc["results"][0]
            assert first["source_file"] == str(path)
    for command in (["window", str(path), "--as-of", "2026-11-25"], ["criteria"]):
        run = run_ascii(*command)
        assert run.returncode == 0 and b"Traceback" not in run.stderr, run.stderr[-300:]


@pytest.mark.parametrize("name, cause", [
    ("56-deceased-before-screening", "deceased on 2026-10-02"),  # README: died before
    ("28-neuroendocrine-carcinoma", "INCL02"),  # README: a NEC is never a NET
])
def test_nothing_is_asked_for_a_patient_who_cannot_become_eligible(capsys, tmp_path, name,
                                                                   cause) -> None:
    # The same record without its ECOG: I9 and I12 are unknown, but no ECOG can make
    # the patient eligible, so none is asked for; the unknown criteria are still named.
    stem = name.split("-")[0]
    path = without(name, tmp_path, f"ex{stem}-ecog")
    assert main(["screen", str(path), *DATES]) == 0
    out = capsys.readouterr().out
    head = first_block(out)
    assert "NOT ELIGIBLE" in head and cause in head and "Next steps: none" in head
    assert "ECOG" not in head and "what settles it" not in head
    assert "INCL09" in head and "INCL12" in head  # named, not asked for
    assert main(["screen", str(path), *DATES, "--format", "json"]) == 0
    guidance = json.loads(capsys.readouterr().out)["results"][0]["guidance"]
    assert guidance["final"] and guidance["needed"] == [] and guidance["next_steps"] == []


@pytest.mark.parametrize("name, verdict_line", [
    # README: Hb 5.5 mmol/L fails I7; urine hCG only leaves I10 and I12 unknown; 02 is
    # eligible; 56 died before screening.
    ("05-hb-5-5-mmol-per-l-fails", "NOT ELIGIBLE at D0 2026-12-01: blocked by INCL07"),
    ("21-urine-pregnancy-test-only", "INCOMPLETE at D0 2026-12-01: unknown INCL10, INCL12"),
    ("02-eligible-man", "ELIGIBLE at D0 2026-12-01: every criterion holds"),
    ("56-deceased-before-screening", "NOT ELIGIBLE at D0 2026-12-01: deceased"),
])
def test_the_verdict_line_names_the_criteria_that_decide_it(capsys, name,
                                                            verdict_line) -> None:
    lines = table(capsys, name).splitlines()
    verdict = next(ln for ln in lines if "at D0 2026-12-01" in ln)
    assert verdict == verdict_line


def test_a_wait_past_the_baseline_says_when_new_results_could_make_it(capsys) -> None:
    # README 63: a liver radiotherapy course ends 2026-12-10; E3 holds 84 days after,
    # from inclusion 2027-03-04, when the baseline of November is too old (I12 unknown):
    # the window says so rather than only "no D0 is eligible".
    head = first_block(table(capsys, "63-radiotherapy-course-in-progress"))
    window = " ".join(head.split("No D0 up to")[1].split("Next steps")[0].split())
    assert "D0 2027-03-04 to 2027-05-24" in window and "new results" in window
    # a NEC never: nothing "could be"
    head = first_block(table(capsys, "28-neuroendocrine-carcinoma"))
    assert "could be" not in head and "once" not in head


def test_the_window_names_the_patient_by_mrn_and_source_file(capsys, with_mrn: Path) -> None:
    assert main(["window", str(with_mrn), "--as-of", "2026-11-25", "--horizon", "30"]) == 0
    head = " ".join(capsys.readouterr().out.split("\n\n")[0].split()[:12])
    assert "MRN MRN-4711" in head and "Patient/ex02" in head and "patient.json" in head


def test_recist_names_the_patient_by_mrn_and_source_file(capsys, tmp_path) -> None:
    bundle = json.loads((EXAMPLES / "40-recist-pd-20-percent-5-mm-at-bound.json").read_text())
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            e["resource"]["identifier"] = [{"type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "value": "MRN-40"}]
    path = tmp_path / "recist.json"
    path.write_text(json.dumps(bundle))
    assert main(["recist", str(path)]) == 0
    head = " ".join(capsys.readouterr().out.split("\ndate")[0].split())
    assert "MRN MRN-40" in head and "Patient/ex40" in head and "recist.json" in head
    assert "MRI" in head  # README 40: the MRI series


def test_deceased_table_is_marked_and_unused_resources_are_named(capsys) -> None:
    """Example 56's table read all met/absent with no mark (then: one line above rows
    still reading "INCL01 met"), and "Resources: 33 read, 32 used, 1 not used" said not
    which: its BodyStructure, which no criterion reads on its own."""
    text = table(capsys, "56-deceased-before-screening")
    flat = " ".join(text.split())
    assert "(patient deceased on 2026-10-02: no criterion is assessed" in flat
    rows = [line for line in text.splitlines() if line[:4] in ("INCL", "EXCL")]
    assert len(rows) == 22  # every row marked, none reads met or absent
    assert all(row[7:9] == "\u2014 " and row.endswith(": not assessed (deceased)")
               for row in rows), rows
    assert "Resources: 33 read, 32 used, 1 not used" in flat
    assert "Not used, by type: BodyStructure 1 (--verbose: each, with why)" in flat
    assert max(len(line) for line in text.splitlines()) <= 80
    # --verbose: what the record gives, still under the mark; each resource not used
    text = table(capsys, "56-deceased-before-screening", "--verbose")
    flat = " ".join(text.split())
    assert "INCL01 \u2014 age >= 18: not assessed; the record gives met: age 67" in flat
    assert ("- BodyStructure/ex56-liver-1: no fact of its own: read as the site of a "
            "measurement that names it") in flat
    assert max(len(line) for line in text.splitlines()) <= 80


def test_verbose_names_each_resource_not_used_and_why(capsys) -> None:
    """Example 31: 34 read, 32 used, 2 not used; `--verbose` names both: the
    BodyStructure, and the Hb entered in error (set aside with its reason)."""
    text = table(capsys, "31-entered-in-error-low-hb-ignored", "--verbose")
    tail = " ".join(text.split("Resources:")[1].split())
    assert tail.startswith("34 read, 32 used, 2 not used (1 set aside with a reason)")
    listed = [x.split(":")[0] for x in tail.split(" - ")[1:]]
    assert listed == ["BodyStructure/ex31-liver-1", "Observation/ex31-hb-error"]
    assert "Observation/ex31-hb-error: status entered-in-error" in tail


@pytest.mark.parametrize("command", [["screen", "--d0", "2026-12-01"], ["window"]])
def test_a_long_source_path_breaks_after_a_separator_never_mid_name(capsys, tmp_path,
                                                                    command) -> None:
    """The path of a file in a site's export folder was cut at column 80 wherever it fell
    ("a-hospital-exp" / "ort-folder", "05-h" / "b-5-5-..."): a line ends after a "/"
    (or the path is whole), so each name reads as it is on disk."""
    folder = (tmp_path / "a-hospital-export-folder" / "screening-2026-11"
              / "patients-of-the-neuroendocrine-tumour-clinic")
    folder.mkdir(parents=True)
    path = folder / "05-hb-5-5-mmol-per-l-fails.json"
    path.write_bytes((EXAMPLES / path.name).read_bytes())
    assert main([command[0], str(path), "--as-of", "2026-11-25", *command[1:]]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert all(len(x) <= 80 for x in lines)
    start = next(i for i, x in enumerate(lines) if "file /" in x)
    end = next(i for i, x in enumerate(lines) if path.name in x)
    held = lines[start:end + 1]  # the lines holding the path
    assert "".join([held[0].split("file ")[1], *(x.strip() for x in held[1:])]
                   ).startswith(str(path))
    assert len(held) > 1 and all(x.endswith("/") for x in held[:-1]), held
