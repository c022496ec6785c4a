"""A possibility (ConText POSSIBLE_EXISTENCE) is never read as the fact.
English and French (issue 21)."""

from __future__ import annotations

import pytest
from text_corpus import said


@pytest.mark.parametrize("text, fact", [
    ('Rule out brain metastases.', 'brain_metastases'),
    ('Brain metastases cannot be excluded.', 'brain_metastases'),
    ('Possible neuroendocrine tumour.', 'net_diagnosis'),
    ('Equivocal new lesion in segment II.', 'new_lesion'),
    ('Diffuse marrow involvement cannot be excluded.', 'marrow_infiltration'),
    ('Suspicion de tumeur neuroendocrine.', 'net_diagnosis'),
    ('Progression possible, à confirmer au prochain examen.', 'progression'),
    ('Nouvelle lésion douteuse du segment II.', 'new_lesion'),
    ('Infiltration médullaire diffuse non exclue.', 'marrow_infiltration'),
    ('Lésion cérébrale suspecte de métastase, à confirmer par IRM.', 'brain_metastases'),
])
def test_uncertain_is_not_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all('uncertain' in m.modifiers and not m.affirmed for m in found)


@pytest.mark.parametrize("text, fact", [
    ('Liver metastases. Possible bone lesion.', 'metastatic'),
])
def test_beside_it_a_fact_stays_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all(m.affirmed for m in found)
