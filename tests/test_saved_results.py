"""`report` and `export` file a result saved by `screen --format json` as it was decided:
one edited by hand, or asked for at other dates, is refused (exit 2, naming the
criterion or the option), never filed or silently re-dated. Example 02 (the eligible man)
at screening date 2026-11-25, D0 2026-12-01: eligible, INCL01 met (age 67)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import REPO

from trialsieve.cli import main

MAN = REPO / "examples" / "patients" / "02-eligible-man.json"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("saved") / "result.json"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["screen", str(MAN), *DATES, "--format", "json"]) == 0
    out.write_text(buf.getvalue())
    return json.loads(buf.getvalue())


def edited(saved: dict, tmp_path: Path, verdict: str | None = None) -> Path:
    """INCL01 made "not met, age 12" by hand (the reported case)."""
    doc = json.loads(json.dumps(saved))
    result = doc["results"][0]
    i1 = next(c for c in result["criteria"] if c["id"] == "INCL01")
    i1["status"], i1["summary"] = "not_met", "age 12"
    if verdict:
        result["verdict"] = verdict
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_verdict_that_disagrees_with_its_criteria_is_refused(saved, tmp_path, capsys):
    """It gave a PDF reading "Verdict: ELIGIBLE" above "INCL01 NOT MET / age 12", exit 0."""
    pdf = tmp_path / "c.pdf"
    assert main(["report", str(edited(saved, tmp_path)), "--out", str(pdf)]) == 2
    err = capsys.readouterr().err
    assert "Patient/ex02: verdict: 'eligible', but its criteria give 'not_eligible' " \
           "(INCL01 not met)" in err
    assert not pdf.exists()


def test_a_criterion_edited_with_its_verdict_is_named_by_the_seal(saved, tmp_path, capsys):
    path = edited(saved, tmp_path, verdict="not_eligible")  # consistent, yet not decided
    for command in (["report", str(path), "--out", str(tmp_path / "c.pdf")],
                    ["export", str(path), "--out", str(tmp_path / "filing")]):
        assert main(command) == 2
        assert "criteria: INCL01 changed after screening" in capsys.readouterr().err
    assert not (tmp_path / "c.pdf").exists() and not (tmp_path / "filing").exists()


def test_dates_other_than_the_results_own_are_refused_not_ignored(saved, tmp_path, capsys):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(saved))
    assert main(["report", str(path), "--as-of", "2026-12-01",
                 "--out", str(tmp_path / "c.html")]) == 2
    assert "dates.as_of: --as-of 2026-12-01, but this saved result was screened as of " \
           "2026-11-25" in capsys.readouterr().err
    assert not (tmp_path / "c.html").exists()
    # its own dates, or none: filed as decided
    assert main(["report", str(path), *DATES, "--out", str(tmp_path / "c.html")]) == 0
    assert main(["report", str(path), "--out", str(tmp_path / "d.html")]) == 0
    assert "ELIGIBLE" in (tmp_path / "d.html").read_text()
