"""What the site files: eligibility checklist (PDF/HTML), SDTM TI/IE, screening log,
FHIR ResearchSubjects. Expected outcomes are those of examples/patients/README.md
(screening date 2026-11-25, D0 2026-12-01)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from builders import REPO

from trialsieve.cli import main
from trialsieve.output import sdtm
from trialsieve.output.identifiers import screening_number
from trialsieve.output.load import results
from trialsieve.protocols.lumen import LUMEN

EXAMPLES = REPO / "examples" / "patients"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


def docs_of(*names: str) -> dict[str, dict]:
    from datetime import date

    out = {}
    for name in names:
        docs, _, _ = results(str(EXAMPLES / f"{name}.json"), LUMEN, date(2026, 11, 25), None,
                          date(2026, 12, 1), "screening")
        out[name] = docs[0]
    return out


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "checklist.pdf"
    assert main(["report", str(EXAMPLES / "22-lanreotide-20-days-before-d0.json"), *DATES,
                 "--format", "pdf", "--out", str(out)]) == 0
    return out


def test_checklist_pdf_renders_and_says_what_the_tmf_needs(pdf: Path, tmp_path) -> None:
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages and all(p.stat().st_size > 5000 for p in pages)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    number = screening_number(docs_of("22-lanreotide-20-days-before-d0")
                              ["22-lanreotide-20-days-before-d0"])
    for expected in ("Eligibility checklist", "NCT01842165", LUMEN.version, LUMEN.hash,
                     number, "Patient/ex22",
                     "2026-11-25", "2026-12-01", "NOT ELIGIBLE",
                     "Long-acting SSAs should be discontinued",  # published text of I5
                     "Reading applied", "I13 target lesions", "ex22-liver-1",
                     "Investigator", "Signature", "page 1 of"):
        assert expected in text, expected
    # the source file's path may wrap in its table cell, wherever the clone lies
    assert "22-lanreotide-20-days-before-d0.json" in "".join(text.split())
    # README: last LAR 20 days before D0; eligible from D0 2026-12-09
    assert "2026-12-09" in text and "mL/min/1.73 m²" in text


def test_checklist_from_a_saved_result_is_the_same_decision(tmp_path, capsys) -> None:
    saved = tmp_path / "result.json"
    assert main(["screen", str(EXAMPLES / "02-eligible-man.json"), *DATES,
                 "--format", "json"]) == 0
    saved.write_text(capsys.readouterr().out)
    out = tmp_path / "c.html"
    # a later date on the command line does not change a saved decision; it was ignored
    # without a word, it is now refused (issue 18: say so, do not ignore it)
    assert main(["report", str(saved), "--as-of", "2027-06-01", "--format", "html",
                 "--out", str(out)]) == 2
    assert "--as-of 2027-06-01, but this saved result" in capsys.readouterr().err
    assert main(["report", str(saved), "--format", "html", "--out", str(out)]) == 0
    html = out.read_text()
    assert "Verdict: ELIGIBLE" in html and "2026-11-25" in html and "2027-06-01" not in html


def test_ti_has_every_criterion_and_meets_the_sdtmig() -> None:
    ti = sdtm.ti(LUMEN)
    assert [r["IETESTCD"] for r in ti.rows] == [f"INCL{i:02}" for i in range(1, 14)] + \
        [f"EXCL{i:02}" for i in range(1, 10)]
    assert all(len(r["IETEST"]) <= 200 for r in ti.rows)
    assert ti.rows[0]["IETEST"] == "Age above or equal to 18 years."
    assert sdtm.check(ti) == []


def test_no_ietest_is_a_cut_text() -> None:
    """IETEST holds 200 characters: a longer published text is written short with every
    condition kept, never cut mid-phrase with "..." (4 TI and, through them, 12 IE texts
    were). The short texts, checked against the published criteria by hand."""
    ti = {r["IETESTCD"]: r["IETEST"] for r in sdtm.ti(LUMEN).rows}
    assert not any("..." in t for t in ti.values())
    for cid, conditions in {
        "INCL03": ("12 months", "RECIST 1.1", "MRI or CT", ">30%", "SSTR",
                   "clinical", "biochemical"),
        "INCL10": ("childbearing potential", "contraception", "6 months",
                   "serum pregnancy test", "4 weeks"),
        "INCL13": ("68Ga-octreotate PET/CT", "liver", "III-IV", ">= 20 mm", "RECIST 1.1",
                   "progressive", "MRI (or CT)", "not previously irradiated"),
        "EXCL03": ("Radiotherapy", "chemotherapy", "embolization", "mTOR", "tyrosine-kinase",
                   "interferon", "investigational", "12 weeks before inclusion"),
    }.items():
        assert len(ti[cid]) <= 200 and all(c in ti[cid] for c in conditions), cid
    # the criteria whose text fits are the published text, whole
    published = {c.id: " ".join((c.restored or c.text).split()) for c in LUMEN.criteria}
    assert all(published[cid].endswith(t) for cid, t in ti.items()
               if cid not in ("INCL03", "INCL10", "INCL13", "EXCL03"))
    ie = sdtm.ie(list(docs_of("02-eligible-man", "05-hb-5-5-mmol-per-l-fails").values()),
                 LUMEN)
    assert all(r["IETEST"] == ti[r["IETESTCD"]] for r in ie.rows)


EXPECTED_IE = {  # README: the criteria each patient fails, "N" inclusion / "Y" exclusion
    "02-eligible-man": [],
    "05-hb-5-5-mmol-per-l-fails": [("INCL07", "N")],
    "17-prothrombin-70-percent-fails-strict": [("INCL08", "N")],
    "22-lanreotide-20-days-before-d0": [("INCL05", "N")],
    "24-major-surgery-5-weeks-before": [("EXCL02", "Y")],
    "28-neuroendocrine-carcinoma": [("INCL02", "N")],
    "30-brain-metastases-uncontrolled": [("EXCL06", "Y")],
    "21-urine-pregnancy-test-only": [],  # unknown is not "not met"
}


def test_ie_rows_are_the_criteria_not_met(tmp_path) -> None:
    docs = docs_of(*EXPECTED_IE)
    ie = sdtm.ie(list(docs.values()), LUMEN)
    assert sdtm.check(ie, {r["IETESTCD"] for r in sdtm.ti(LUMEN).rows}) == []
    for name, expected in EXPECTED_IE.items():
        sub = screening_number(docs[name])
        # SUBJID is a DM variable, not an IE one (SDTMIG): the subject by its USUBJID
        rows = [r for r in ie.rows if r["USUBJID"] == f"NCT01842165-{sub}"]
        assert [(r["IETESTCD"], r["IEORRES"]) for r in rows] == expected, name
        assert all(r["IESTRESC"] == r["IEORRES"] and r["IEDTC"] == "2026-11-25" and
                   r["USUBJID"] == f"NCT01842165-{sub}" for r in rows)


def test_sdtm_check_catches_what_the_sdtmig_forbids() -> None:
    ie = sdtm.ie(list(docs_of("05-hb-5-5-mmol-per-l-fails").values()), LUMEN)
    bad = sdtm.Dataset("IE", {**ie.labels, "TOOLONGNAME": "x" * 41},
                       [{**ie.rows[0], "IEORRES": "Y", "IETEST": "x" * 201,
                         "TOOLONGNAME": ""}, {**ie.rows[0], "IECAT": "OTHER"},
                        {**ie.rows[0], "IESEQ": 2, "IEDTC": "25/11/2026"}])
    problems = "\n".join(sdtm.check(bad, {"INCL01"}))
    for expected in ("TOOLONGNAME: variable name", "label longer than 40",
                     "IEORRES must be N", "IETEST not <= 200", "IECAT 'OTHER'",
                     "IESEQ 1 repeated", "not in TI", "IEDTC '25/11/2026' not ISO 8601"):
        assert expected in problems, expected


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    folder = out / "in"
    folder.mkdir()
    for name in ("02-eligible-man", "21-urine-pregnancy-test-only",
                 "22-lanreotide-20-days-before-d0"):
        bundle = json.loads((EXAMPLES / f"{name}.json").read_text())
        for e in bundle["entry"]:
            if e["resource"]["resourceType"] == "Patient":
                e["resource"]["identifier"] = [{"system": "https://site01/mrn",
                                                "value": f"MRN-{name[:2]}"}]
        (folder / f"{name}.json").write_text(json.dumps(bundle))
    assert main(["export", str(folder), *DATES, "--out", str(out / "files")]) == 0
    return out / "files"


def test_xpt_v5_reads_back_as_written(exported: Path) -> None:
    import pyreadstat

    for name in ("ti", "ie"):
        frame, meta = pyreadstat.read_xport(str(exported / f"{name}.xpt"))
        with (exported / f"{name}.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert list(frame.columns) == list(rows[0]) and len(frame) == len(rows)
        assert all(len(c) <= 8 for c in frame.columns)
        assert all(len(label) <= 40 for label in meta.column_labels)
        assert meta.table_name == name.upper()
        head = (exported / f"{name}.xpt").read_bytes()[:80]
        assert head.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!")  # v5
        assert b"LIBV8" not in head
    frame, _ = pyreadstat.read_xport(str(exported / "ie.xpt"))
    assert list(frame["IETESTCD"]) == ["INCL05"]


def test_screening_log_has_no_direct_identifier(exported: Path) -> None:
    from openpyxl import load_workbook

    text = (exported / "screening-log.csv").read_text()
    sheet = load_workbook(exported / "screening-log.xlsx").active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    for content in (text, cells):
        for identifying in ("MRN-", "ex02", "ex21", "ex22", "1959-02-03", ".json"):
            assert identifying not in content
    rows = list(csv.DictReader(text.splitlines()))
    assert sorted(r["outcome"] for r in rows) == ["eligible", "incomplete: pending data",
                                                  "not eligible"]
    lanreotide = next(r for r in rows if r["outcome"] == "not eligible")
    assert lanreotide["criteria_not_met"].startswith("INCL05")
    # eligible from the wash-out (D0 2026-12-09) only with fresh E2/E3 answers: those of
    # 2026-11-24 speak up to 2026-12-01 (notes, "An answer speaks up to its date")
    assert lanreotide["earliest_eligible_d0"] == ""


def test_research_subjects_bundle_is_valid_r4(exported: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    doc = json.loads((exported / "research-subjects.json").read_text())
    Bundle.model_validate(doc)
    kinds = [e["resource"]["resourceType"] for e in doc["entry"]]
    assert kinds[:2] == ["ResearchStudy", "Group"] and kinds.count("ResearchSubject") == 3
    group = doc["entry"][1]["resource"]
    assert [c["exclude"] for c in group["characteristic"]] == [False] * 13 + [True] * 9
    entries = {e["fullUrl"]: e["resource"] for e in doc["entry"]}
    status = {entries[e["resource"]["individual"]["reference"]]["id"]: e["resource"]["status"]
              for e in doc["entry"] if e["resource"]["resourceType"] == "ResearchSubject"}
    assert status == {"ex02": "eligible", "ex21": "candidate", "ex22": "ineligible"}


def _references(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return own + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_every_reference_in_the_exported_bundle_resolves_inside_it(exported: Path) -> None:
    """Entries are named by urn:uuid: a relative reference ("Patient/ex02") resolves
    against no base and names nothing in the Bundle (FHIR R4, Bundle "Resolving
    references"). Every one must be the fullUrl of an entry, of the type it names."""
    doc = json.loads((exported / "research-subjects.json").read_text())
    entries = {e["fullUrl"]: e["resource"] for e in doc["entry"]}
    assert all(url.startswith("urn:uuid:") for url in entries)
    refs = _references([e["resource"] for e in doc["entry"]])
    assert len(refs) == 1 + 3 * 2  # the study's Group; each subject's study and patient
    assert all(ref in entries for ref in refs), refs
    for e in doc["entry"]:
        res = e["resource"]
        if res["resourceType"] == "ResearchSubject":
            assert entries[res["study"]["reference"]]["resourceType"] == "ResearchStudy"
            patient = entries[res["individual"]["reference"]]
            # the Patient entry names the patient by the input's id only: no direct
            # identifier (the screening log's rule), no demographics
            assert patient == {"resourceType": "Patient", "id": patient["id"]}


def test_version_and_python_m(capsys) -> None:
    run = subprocess.run([sys.executable, "-m", "trialsieve", "--version"],
                         capture_output=True, text=True, check=True)
    assert run.stdout.startswith("trialsieve ")


def test_the_version_said_is_the_installed_one() -> None:
    """--version and the JSON's "generator" give trialsieve.__version__ (no
    importlib.metadata at each command); it must be what pyproject.toml installed."""
    from importlib.metadata import version

    import trialsieve

    assert trialsieve.__version__ == version("trialsieve")
    run = subprocess.run([sys.executable, "-m", "trialsieve", "--version"],
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == f"trialsieve {version('trialsieve')}"


@pytest.mark.parametrize("command", ["report", "export"])
def test_bad_input_is_named_not_a_traceback(command, tmp_path, capsys) -> None:
    missing = tmp_path / "nowhere.json"
    assert main([command, str(missing), "--out", str(tmp_path / "o")]) == 2
    assert str(missing) in capsys.readouterr().err
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"schema": "1", "patient": "p1", "criteria": []}))
    assert main([command, str(old), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(old) in err and "schema" in err and "Traceback" not in err
    assert main([command, str(EXAMPLES / "02-eligible-man.json"), "--inclusion", "2026-12-02",
                 "--d0", "2026-12-01", "--out", str(tmp_path / "o")]) == 2
    assert "after D0" in capsys.readouterr().err


def test_checklist_shows_a_recorded_signature_and_the_sites_number() -> None:
    from trialsieve.output.checklist import checklist_html

    doc = docs_of("02-eligible-man")["02-eligible-man"]
    blank = checklist_html(doc)
    assert "Investigator (name)" in blank and "Signed electronically" not in blank
    signed = checklist_html(doc | {"screening_number": "SCR-0007", "signature": {
        "by": "Dr A. Investigator", "at": "2026-11-26T10:00:00Z",
        "meaning": "I confirm this patient is eligible for NCT01842165 on 2026-11-25"}})
    assert "Signed electronically by Dr A. Investigator on 2026-11-26T10:00:00Z" in signed
    assert "Investigator (name)" not in signed and "SCR-0007" in signed


@pytest.fixture
def damaged_folder(tmp_path: Path) -> Path:
    """One readable patient and one file that is not JSON."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "02.json").write_text((EXAMPLES / "02-eligible-man.json").read_text())
    (folder / "broken.json").write_text("{not json")
    return folder


@pytest.mark.parametrize("command", ["report", "export"])
def test_damaged_input_follows_the_exit_status_table(command, damaged_folder, tmp_path,
                                                     capsys) -> None:
    # README: 1 when damaged input was skipped (named on stderr), the rest filed;
    # 2 with --strict, at the first damaged file.
    out = tmp_path / "out"
    extra = ["--format", "html"] if command == "report" else []
    assert main([command, str(damaged_folder), *DATES, *extra, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "broken.json" in err and "skipped" in err
    filed = [p.name for p in out.iterdir()]
    assert (len(filed) == 1 and filed[0].startswith("checklist-")) if command == "report" \
        else "ie.csv" in filed
    strict = tmp_path / "strict"
    assert main([command, str(damaged_folder), *DATES, *extra, "--strict",
                 "--out", str(strict)]) == 2
    assert "broken.json" in capsys.readouterr().err and not strict.exists()


@pytest.mark.parametrize("command", ["report", "export"])
def test_an_output_folder_that_is_a_file_is_named_not_a_traceback(command, tmp_path,
                                                                   capsys) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert main([command, str(EXAMPLES / "02-eligible-man.json"), *DATES,
                 "--out", str(taken / "sub")]) == 2
    err = capsys.readouterr().err
    assert str(taken) in err and "Traceback" not in err


def test_ti_gives_the_sponsor_the_thresholds_with_their_signs() -> None:
    # protocol-notes "The lost symbols": the published "=" of I6-I9 is >= or <=; an
    # IETEST saying "GFR = 50" or "1.5.103/uL" tells the sponsor another criterion.
    text = {r["IETESTCD"]: r["IETEST"] for r in sdtm.ti(LUMEN).rows}
    assert "GFR >= 50 mL/min/1.73m2" in text["INCL06"]
    assert ("hemoglobin >= 9 g/dL; neutrophil >= 1.5x10^3/uL; platelet count >= "
            "100x10^3/uL") in text["INCL07"]
    assert "total bilirubin <= 2 x ULN and transaminases <= 5 x ULN" in text["INCL08"]
    assert "serum albumin > 3 g/dL" in text["INCL08"]  # strict bounds stay strict
    assert text["INCL09"] == "ECOG Performance Status <= 1."
    import re

    assert not any(re.search(r" = ?\d|\d\.10\d", t) for t in text.values()), text
    assert all(len(t) <= 200 and t.isascii() for t in text.values())


def test_the_lesion_table_shows_the_lesions_that_do_not_qualify_and_why() -> None:
    # README 47: L1 (K3, 36 mm) and L2 (K4, 29 mm) qualify; L3 Krenning 2, L4 transaxial
    # 19 mm, L5 previously irradiated do not. The TMF table shows all five.
    import re
    from html import unescape

    from trialsieve.output.checklist import checklist_html

    html = checklist_html(docs_of("47-target-lesions-two-qualify-three-fail")
                          ["47-target-lesions-two-qualify-three-fail"])
    table = re.sub(r"<[^>]+>", " ", html.split("I13 target lesions")[1].split("<h2>")[0])
    table = " ".join(unescape(table).split())
    for lesion, why in (("L3", "Krenning grade 3-4"), ("L4", "transaxial >= 20 mm"),
                        ("L5", "not previously irradiated")):
        assert re.search(rf"lesion {lesion} does not qualify [^|]*{re.escape(why)}", table), \
            (lesion, table[:600])
    assert "lesion L1 Krenning 3, transaxial 36.0 mm" in table
    assert "lesion L1 does not qualify" not in table and "lesion L2 does not" not in table


@pytest.mark.parametrize("command", ["report", "export"])
def test_an_empty_results_file_files_nothing_and_says_so(command, tmp_path, capsys) -> None:
    # README exit status 2: nothing could be screened (an empty saved result file, as
    # left by a failed `screen --format ndjson > results.ndjson`).
    empty = tmp_path / "results.ndjson"
    empty.write_text("")
    out = tmp_path / "out"
    assert main([command, str(empty), "--out", str(out)]) == 2
    assert str(empty) in capsys.readouterr().err and not out.exists()


def test_the_package_carries_its_licence_and_a_changelog() -> None:
    """Issue 18, item 12: a site files what it runs under; the licence travels with the
    package (pyproject names the file, so its metadata carries it), and the changes are
    written down."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"file": "LICENSE"}
    assert "Apache License" in (REPO / "LICENSE").read_text()[:200]
    assert (REPO / "CHANGELOG.md").read_text().startswith("# Changelog")
