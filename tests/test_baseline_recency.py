"""Recency and absence (issue 7): the newest statement decides E6, E4's confirming MRI is
a baseline one, a missing I12 assessment is unknown. By hand from protocol-notes.md."""

from __future__ import annotations

from datetime import date

import pytest
from builders import ctx, record

from trialsieve.logic import Tri
from trialsieve.record import Finding, Study
from trialsieve.rules.baseline import BaselineWithin
from trialsieve.rules.disease import UncontrolledBrainMetastases
from trialsieve.rules.imaging_criteria import DiffuseMarrowInfiltration

D0 = date(2026, 12, 1)
C = ctx(d0=D0, as_of=date(2026, 11, 25))


# --- E6: the newest statement decides --------------------------------------------------

def _brain(day: date, controlled: bool | None, sid: str) -> Finding:
    return Finding(f"Condition/{sid}", "brain_metastases", True, day, controlled)


@pytest.mark.parametrize(("findings", "status"), [
    # uncontrolled in 2025, treated and controlled since 2026-10: not excluded
    ([_brain(date(2025, 6, 1), False, "old"), _brain(date(2026, 10, 1), True, "new")],
     Tri.NOT_MET),
    # controlled in 2025, uncontrolled again in 2026-10: excluded
    ([_brain(date(2025, 6, 1), True, "old"), _brain(date(2026, 10, 1), False, "new")],
     Tri.MET),
])
def test_the_newest_brain_metastases_statement_decides(findings, status):
    r = record(*findings)
    out = UncontrolledBrainMetastases().evaluate(r, C)
    assert out.status is status
    assert "Condition/old" in {i.source for i in out.ignored}


# --- E4: the confirming MRI is a baseline one -------------------------------------------

def _pet(day: date = date(2026, 11, 13)) -> Study:
    return Study("DiagnosticReport/pet", day, "SSTR_PET", None, (), True)


@pytest.mark.parametrize(("mri_day", "status"), [
    (date(2023, 5, 2), Tri.UNKNOWN),  # years older than the PET: not a baseline MRI
    (date(2026, 11, 2), Tri.UNKNOWN),  # 29 days before D0: too old
    (date(2026, 11, 3), Tri.MET),  # 28 days before D0: baseline (bound included)
])
def test_e4_confirming_mri_must_be_within_28_days_before_d0(mri_day, status):
    r = record()
    # a spine MRI: one that covers the marrow (notes, E4)
    r.imaging += [_pet(), Study("DiagnosticReport/mri", mri_day, "MRI", None, (), True,
                                regions=("spine",))]
    out = DiffuseMarrowInfiltration().evaluate(r, C)
    assert out.status is status
    if status is Tri.UNKNOWN:
        assert any("MRI" in m for m in out.missing)


# --- I12: absence is not evidence of absence --------------------------------------------

def test_a_missing_baseline_assessment_is_unknown_even_once_d0_has_passed():
    # screening on 2026-12-10 for a D0 of 2026-12-01 (already past): no ECOG on record
    past = ctx(d0=D0, as_of=date(2026, 12, 10))
    out = BaselineWithin(()).evaluate(record(), past)
    assert out.status is Tri.UNKNOWN
    assert any("ECOG" in m for m in out.missing)
