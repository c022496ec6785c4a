"""Lines that read as what is true (issue 18, item 11), on the example patients as a
coordinator prints them at 80 columns (screening date 2026-11-25, D0 2026-12-01)."""

from __future__ import annotations

from pathlib import Path

from trialsieve.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "patients"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


def table(capsys, name: str) -> str:
    assert main(["screen", str(EXAMPLES / f"{name}.json"), *DATES]) in (0, 1)
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines())
    return " ".join(out.split())  # wrapped lines read as one text


def test_a_converted_value_is_shown_as_compared(capsys) -> None:
    # 5.5 mmol/L of haemoglobin x 1.6114 = 8.863 g/dL: below 9 g/dL (notes I7); the
    # headline said "5.5 mmol/L ... fails >= 9 g/dL" and left the reader to convert
    text = table(capsys, "05-hb-5-5-mmol-per-l-fails")
    blocking = text.split("Blocking:")[1].split("Next steps")[0]
    assert "haemoglobin 5.5 mmol/L (= 8.863 g/dL) on 2026-11-20 fails >= 9 g/dL" in blocking
    # at the bound: 90 g/L is 9 g/dL, met
    assert "haemoglobin 90 g/L (= 9 g/dL) on 2026-11-20 meets >= 9 g/dL" in table(
        capsys, "04-hb-90-g-per-l-at-bound")
    # in the limit's own unit nothing is added
    assert "haemoglobin 12.4 g/dL on 2026-11-20 meets" in table(capsys, "02-eligible-man")


def test_an_answer_quotes_the_question_it_answers(capsys) -> None:
    text = table(capsys, "02-eligible-man")
    # "attested no: resectable tumour, surgery with curative intent intended" read as if
    # the tumour were resectable; "attested [1]" (EXCL05) said nothing of what
    assert ('EXCL01 absent resectable, curative intent: attested "no" to "Resectable '
            'tumour, surgery with curative intent intended?"') in text
    assert 'EXCL05 absent prior EBRT kidneys or >25 % marrow: attested "no" to "Prior' \
        in text
    assert "attested no:" not in text and "marrow: attested [1]" not in text


def test_the_expiry_of_the_baseline_takes_three_lines(capsys) -> None:
    """The baseline results of 2026-11-20 and scans of 2026-11-12/13 expire 28 days on
    (notes I12): one step names each date once, the results by their short names."""
    assert main(["screen", str(EXAMPLES / "02-eligible-man.json"), *DATES]) == 0
    out = capsys.readouterr().out
    step = out.split("Next steps:")[1].split("----")[0].split("\n  - ")[2]
    assert len(step.splitlines()) <= 3, step
    text = " ".join(step.split())
    assert text.endswith("a later D0 needs them repeated, by: 2026-12-10 MRI/CT; "
                         "2026-12-11 68Ga PET/CT; 2026-12-18 GFR, Hb, ANC, platelets, "
                         "bilirubin, ALT, AST, albumin, PT, ECOG")


def test_a_past_reference_scan_is_never_told_to_be_repeated(capsys) -> None:
    """Example 02's window said "lesion ex02-liver-1 reference scan of 2026-02-10 is
    within 12 months of inclusion up to 2027-02-10: repeat it for a later inclusion": a
    scan of ten months ago cannot be done again. It is the reference the I13 growth is
    measured from (notes I13: growth between two scans within the 12 months); a later
    inclusion needs that growth shown on scans within the 12 months before it."""
    assert main(["window", str(EXAMPLES / "02-eligible-man.json"),
                 "--as-of", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines())
    steps = " ".join(out.split("Next steps:")[1].split("What if")[0].split())
    step = steps.split("2027-02-10 INCL13: ")[1]
    assert step == ("lesion ex02-liver-1 reference scan of 2026-02-10 is within 12 months "
                    "of inclusion up to 2027-02-10: it is the reference the growth is "
                    "measured from, not a scan to repeat: a later inclusion needs its "
                    "growth shown on two scans within the 12 months before it")
    # the results of 2026-11-20, still to come again, are the ones repeated
    assert ("2026-12-18 INCL07, INCL12: haemoglobin of 2026-11-20 is valid for D0 up to "
            "2026-12-18: repeat it for a later D0") in steps


def test_no_past_evidence_of_any_example_is_told_to_be_repeated(capsys) -> None:
    """The same for every example: a step about a scan or an event within the 12 months
    (I3's progression, I13's scans) never says "repeat it"."""
    said = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        main(["window", str(path), "--as-of", "2026-11-25"])
        out = capsys.readouterr().out
        if "Next steps:" not in out:
            continue
        steps: list[str] = []
        for line in out.split("Next steps:")[1].split("What if")[0].splitlines():
            if line.startswith("  20"):  # "  2027-02-10 INCL13: ..." starts a step
                steps.append(line)
            elif steps:
                steps[-1] += " " + line.strip()
        for step in steps:
            if "months of inclusion" in step:
                said += 1
                assert "repeat it" not in step, (path.name, step)
    assert said >= 40  # the examples' I3 and I13 evidence


def test_a_patient_with_no_tumour_gets_the_diagnosis_first(capsys, tmp_path) -> None:
    """A 33-year-old woman with nothing on record but herself, under screening: the
    headline listed 34 items to obtain (a 51Cr-EDTA GFR, a 68Ga PET/CT, a serum hCG...)
    where the one that matters is the diagnosis (notes I2): without a GEP-NET the rest
    is moot. It is said alone; the others are counted on one line, listed by --verbose."""
    import json

    path = tmp_path / "no-tumour.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p33", "gender": "female",
                      "birthDate": "1993-06-01"}}]}))
    assert main(["screen", str(path), *DATES]) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines())
    head = " ".join(out.split("-" * 80)[0].split())
    assert ("Unknown, and what settles it first: INCL02: a diagnosis of GEP-NET with its "
            "pathology report (no neuroendocrine tumour on record) other criteria are moot "
            "until the diagnosis is established:") in head
    assert "51Cr-EDTA" not in head and "68Ga PET/CT" not in head
    moot = int(head.split("until the diagnosis is established: ")[1].split()[0])
    assert main(["screen", str(path), *DATES, "--verbose"]) == 0
    head = capsys.readouterr().out.split("-" * 80)[0]
    listed = head.split("Unknown, and what settles it:\n")[1].split("\nNo D0")[0]
    items = [x for x in listed.splitlines() if not x.startswith("    ")]
    assert len(items) == moot + 1 and "GFR by 51Cr-EDTA" in listed
    # a record with a NET whose details are missing lists every item as before
    assert main(["screen", str(EXAMPLES / "20-egfr-only-renal-unknown.json"), *DATES]) == 0
    assert "settles it first" not in capsys.readouterr().out


def test_the_criteria_readings_are_clinical_english(capsys) -> None:
    """`trialsieve criteria` read "makes it unknown: never not met on the rest", "a
    partial birth date is an interval of days", "E2 is not met only on an explicit
    negative": a developer's words for what a monitor reads as a rule of the trial."""
    from trialsieve.protocols.lumen import LUMEN

    assert main(["criteria"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("on the rest", "never not met", "interval of days", "is not met only",
                   "not met only on", "others: not met", "met only with both"):
        assert phrase not in text, phrase
    for c in LUMEN.criteria:
        assert "on the rest" not in c.reading and "never not met" not in c.reading
    assert ("If a record this criterion needs cannot be read (it is set aside with a "
            "warning), the criterion is unknown: the rest of the record alone never makes "
            "it met.") in LUMEN.criteria[1].reading  # INCL02
    assert "the rest of the record alone never rules it out." in LUMEN.criteria[13].reading
