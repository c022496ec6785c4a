"""Every row of the two RECIST 1.1 overall-response tables (Eisenhauer 2009,
tables 1 and 2, as copied in the domain reference), "any" rows expanded."""

from __future__ import annotations

import pytest

from trialsieve.clinical.recist import Response, overall_response

CR, PR, SD, PD, NE, NN, NA = (
    Response.CR,
    Response.PR,
    Response.SD,
    Response.PD,
    Response.NE,
    Response.NON_CR_NON_PD,
    Response.NA,
)
TARGETS = [CR, PR, SD, PD, NE]
NONTARGETS = [CR, NN, NE, PD, NA]  # NA: no non-target disease at baseline

# Table 1: patients with target disease (+/- non-target disease).
TABLE_1 = [
    # target, non-target, new lesion, overall
    (CR, CR, False, CR),
    (CR, NA, False, CR),  # no non-target disease: targets decide
    (CR, NN, False, PR),
    (CR, NE, False, PR),
    (PR, NN, False, PR),
    (PR, CR, False, PR),
    (PR, NE, False, PR),
    (PR, NA, False, PR),
    (SD, NN, False, SD),
    (SD, CR, False, SD),
    (SD, NE, False, SD),
    (SD, NA, False, SD),
    (NE, NN, False, NE),
    (NE, CR, False, NE),
    (NE, NA, False, NE),
    (NE, NE, False, NE),
]
TABLE_1 += [(PD, nt, new, PD) for nt in NONTARGETS for new in (False, True)]
TABLE_1 += [(t, PD, new, PD) for t in TARGETS for new in (False, True)]
TABLE_1 += [(t, nt, True, PD) for t in TARGETS for nt in NONTARGETS]

# Table 2: non-target disease only (target response NA).
TABLE_2 = [
    (NA, CR, False, CR),
    (NA, NN, False, NN),
    (NA, NE, False, NE),
    (NA, PD, False, PD),
    (NA, PD, True, PD),
    (NA, CR, True, PD),
    (NA, NN, True, PD),
    (NA, NE, True, PD),
]


@pytest.mark.parametrize(("target", "nontarget", "new", "expected"), TABLE_1)
def test_table_1_target_disease(target, nontarget, new, expected):
    assert overall_response(target, nontarget, new) is expected


@pytest.mark.parametrize(("target", "nontarget", "new", "expected"), TABLE_2)
def test_table_2_non_target_disease_only(target, nontarget, new, expected):
    assert overall_response(target, nontarget, new) is expected


def test_no_disease_at_all_is_not_evaluable_unless_new_lesion():
    assert overall_response(NA, NA, False) is NE
    assert overall_response(NA, NA, True) is PD


@pytest.mark.parametrize(("target", "nontarget"), [(NN, CR), (CR, PR), (SD, SD)])
def test_impossible_combinations_are_rejected(target, nontarget):
    with pytest.raises(ValueError):
        overall_response(target, nontarget, False)
