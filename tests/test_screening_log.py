"""The screening log a site files (ICH E6(R2) 8.3.20) and the population run's account
of each patient: a reason for every not-eligible row (a death included), the consent
date, enrolment or why none, site and investigator; in the XLSX, titles a person reads
and dates that are dates. Expected values worked out from examples/patients/README.md
(screening date 2026-11-25, D0 2026-12-01)."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from builders import REPO

from trialsieve.cli import main

EXAMPLES = REPO / "examples" / "patients"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]
NAMES = ["02-eligible-man", "21-urine-pregnancy-test-only",
         "22-lanreotide-20-days-before-d0", "56-deceased-before-screening"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("log")
    src = tmp / "in"
    src.mkdir()
    for name in NAMES:
        shutil.copy(EXAMPLES / f"{name}.json", src)
    out = tmp / "out"
    assert main(["export", str(src), *DATES, "--out", str(out), "--site",
                 "Institut Jules Bordet", "--investigator", "Dr A. Lemaire"]) == 0
    return out


def by_outcome(out: Path) -> dict[str, list[dict[str, str]]]:
    with (out / "screening-log.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    grouped: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        grouped.setdefault(r["outcome"], []).append(r)
    return grouped


def test_every_not_eligible_row_has_a_reason_the_deceased_included(exported):
    """A deceased patient read `not eligible,,,`: no reason at all."""
    rows = by_outcome(exported)
    reasons = sorted(r["reason_not_eligible"] for r in rows["not eligible"])
    assert reasons == [
        "INCL05 SSA wash-out: Lanreotide autogel 120 mg (Somatuline Autogel) last dose "
        "2026-11-11: only 20 days before D0, 28 needed",
        "deceased on 2026-10-02"]
    for r in rows["not eligible"]:
        assert (r["enrolled"], r["reason_not_enrolled"]) == ("no", "not eligible")


def test_consent_date_enrolment_site_and_investigator(exported):
    rows = by_outcome(exported)
    [eligible] = rows["eligible"]
    # ex02's research consent (Consent/ex02-consent) is dated 2026-11-18
    assert eligible["consent_date"] == "2026-11-18"
    assert (eligible["enrolled"], eligible["reason_not_enrolled"]) == ("pending", "")
    [pending] = rows["incomplete: pending data"]
    assert pending["enrolled"] == "no"
    assert pending["reason_not_enrolled"] == "screening not complete: INCL10, INCL12"
    for group in rows.values():
        for r in group:
            assert (r["site"], r["investigator"]) == ("Institut Jules Bordet",
                                                      "Dr A. Lemaire")


def test_xlsx_has_titles_and_real_dates(exported):
    from openpyxl import load_workbook

    sheet = load_workbook(exported / "screening-log.xlsx").active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Screening number", "Site", "Investigator", "Screening date"]
    assert "Reason not eligible" in header and "Consent date" in header
    assert "Enrolled" in header and "Reason not enrolled" in header
    assert not any("_" in h for h in header)
    col = {h: i for i, h in enumerate(header)}
    for row in sheet.iter_rows(min_row=2):
        screened = row[col["Screening date"]]
        assert screened.value == datetime(2026, 11, 25)
        assert screened.number_format == "yyyy-mm-dd"
        assert row[col["Consent date"]].value == datetime(2026, 11, 18)


def test_prescreen_counts_the_deceased_as_their_own_step_with_a_reason(tmp_path):
    """The funnel counted the deceased under INCL01/INCL02 and patients.csv had no
    reason: ex56 (deceased 2026-10-02, every criterion as ex02's) leaves at the first
    step; ex02 goes on."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("02-eligible-man", "56-deceased-before-screening"):
        shutil.copy(EXAMPLES / f"{name}.json", src)
    out = tmp_path / "out"
    assert main(["prescreen", str(src), "--out", str(out), "--as-of", "2026-11-25",
                 "--policy", "screening"]) == 0
    with (out / "funnel.csv").open() as f:
        funnel = list(csv.DictReader(f))
    assert [(s["criterion"], s["entering"], s["removed"]) for s in funnel[:2]] == [
        ("DECEASED", "2", "1"), ("INCL01", "1", "0")]
    with (out / "patients.csv").open() as f:
        patients = {r["patient"]: r for r in csv.DictReader(f)}
    assert patients["ex56"]["reason"] == "deceased on 2026-10-02"
    assert patients["ex56"]["verdict"] == "not_eligible"
