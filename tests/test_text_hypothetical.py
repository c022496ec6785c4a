"""What would be, if (ConText HYPOTHETICAL), is never read as what is.
English and French (issue 21)."""

from __future__ import annotations

import pytest
from text_corpus import said


@pytest.mark.parametrize("text, fact", [
    ('If she becomes pregnant, treatment must stop.', 'pregnant'),
    ('Should she become pregnant, contact the team.', 'pregnant'),
    ('Liver resection is planned.', 'major_surgery'),
    ('Brain MRI to exclude intracranial metastases.', 'brain_metastases'),
    ('Radiotherapy will be considered if the bone pain persists.', 'radiotherapy'),
    ('Si elle devenait enceinte, le traitement serait arrêté.', 'pregnant'),
    ('En cas de grossesse, arrêter le traitement.', 'pregnant'),
    ('Une résection hépatique est envisagée.', 'major_surgery'),
    ('IRM cérébrale à la recherche de localisations secondaires cérébrales.', 'brain_metastases'),
])
def test_hypothetical_is_not_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all('hypothetical' in m.modifiers and not m.affirmed for m in found)


@pytest.mark.parametrize("text, fact", [
    ('She is pregnant.', 'pregnant'),
])
def test_beside_it_a_fact_stays_affirmed(text: str, fact: str) -> None:
    found = [m for m in said(text) if m.fact == fact]
    assert found and all(m.affirmed for m in found)
