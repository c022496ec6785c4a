"""A denial (ConText NEGATED_EXISTENCE) is never read as the fact;
English and French (issue 21)."""

from __future__ import annotations

import pytest
from text_corpus import said


@pytest.mark.parametrize("text, fact", [
    ('No evidence of brain metastases.', 'brain_metastases'),
    ('She is not pregnant.', 'pregnant'),
    ('Not lactating.', 'breastfeeding'),
    ('No new lesions.', 'new_lesion'),
    ('Intracranial metastases are not seen.', 'brain_metastases'),
    ('Findings: No enhancing intracranial lesion.', 'brain_metastases'),
    ('Absence de métastase cérébrale.', 'brain_metastases'),
    ("Elle n'est pas enceinte.", 'pregnant'),
    ("Elle n'allaite pas.", 'breastfeeding'),
    ('Pas de nouvelle lésion.', 'new_lesion'),
    ('Patiente non ménopausée.', 'postmenopausal'),
    ('Pas de radiothérapie antérieure.', 'radiotherapy'),
])
def test_negated_is_not_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all('negated' in m.modifiers and not m.affirmed for m in found)


@pytest.mark.parametrize("text, fact", [
    ('No brain metastases, but liver metastases are present.', 'metastatic'),
    ('Patiente de 44 ans, non ménopausée, allaitement en cours.', 'breastfeeding'),
    ("Elle n'allaite pas et présente une TNE G2 de l'iléon.", 'who_grade'),
])
def test_beside_it_a_fact_stays_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all(m.affirmed for m in found)
