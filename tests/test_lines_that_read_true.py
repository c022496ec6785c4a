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
