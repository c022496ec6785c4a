"""A past fact (ConText HISTORICAL) is marked historical: still stated (a surgery in 2019
happened), its date is what the rules weigh (issue 21)."""

from __future__ import annotations

import pytest
from text_corpus import said


@pytest.mark.parametrize("text, fact", [
    ("History of right hemicolectomy for the primary tumour.", "major_surgery"),
    ("Status post tubal ligation.", "sterilised"),
    ("Prior laparotomy in 2010.", "major_surgery"),
    ("History of stereotactic radiosurgery for a brain metastasis.", "radiotherapy"),
    ("Antécédent de radiothérapie pelvienne en 2019.", "radiotherapy"),
    ("Antécédent d'hystérectomie.", "sterilised"),
    ("Antécédents : TNE du grêle opérée en 2019.", "net_diagnosis"),
])
def test_history_is_marked_and_still_stated(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all("historical" in m.modifiers and m.affirmed for m in found)


@pytest.mark.parametrize("text, fact", [
    ("She underwent a Whipple procedure on 2026-10-20.", "major_surgery"),
    ("Duodénopancréatectomie céphalique le 20/10/2026.", "major_surgery"),
])
def test_a_dated_event_is_not_history_by_itself(text: str, fact: str) -> None:
    (m,) = [m for m in said(text) if m.fact == fact]
    assert m.modifiers == ()
