"""A relative's fact (ConText FAMILY) is never read as the patient's.
English and French (issue 21)."""

from __future__ import annotations

import pytest
from text_corpus import said


@pytest.mark.parametrize("text, fact", [
    ('Her mother had a carcinoid tumour.', 'net_diagnosis'),
    ('Family history of neuroendocrine tumour in her brother.', 'net_diagnosis'),
    ('Her sister was diagnosed with a pancreatic NET.', 'primary_site'),
    ('Sa mère a eu une tumeur neuroendocrine.', 'net_diagnosis'),
    ('Son père avait une tumeur carcinoïde.', 'net_diagnosis'),
    ('Sa sœur a une TNE pancréatique.', 'net_diagnosis'),
])
def test_family_is_not_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all('family' in m.modifiers and not m.affirmed for m in found)


@pytest.mark.parametrize("text, fact", [
    ('Elle allaite son bébé de 3 mois.', 'breastfeeding'),
])
def test_beside_it_a_fact_stays_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all(m.affirmed for m in found)
