"""Clinic facts in text (issue 21): ECOG, a Karnofsky score converted (I9); pregnancy,
breastfeeding, menopause, sterilisation (I10, E8, E9); major surgery and radiotherapy
with site and date (E2, E3, E5, I13)."""

from __future__ import annotations

from datetime import date

import pytest
from text_corpus import said


@pytest.mark.parametrize("text, ecog, karnofsky", [
    ("ECOG 1.", 1, None), ("OMS 1.", 1, None), ("État général OMS 2.", 2, None),
    ("Performance status (ECOG) 2.", 2, None), ("ECOG 0-1.", 1, None),
    # the ECOG-Karnofsky correspondence: 100 -> 0, 80-90 -> 1, 60-70 -> 2, 40-50 -> 3,
    # 10-30 -> 4
    ("Karnofsky 100 %.", 0, "100"), ("Karnofsky 90%.", 1, "90"), ("KPS 80.", 1, "80"),
    ("Indice de Karnofsky à 70 %.", 2, "70"), ("KPS 60.", 2, "60"),
    ("Karnofsky 50 %.", 3, "50"), ("Karnofsky 40 %.", 3, "40"), ("Karnofsky 30 %.", 4, "30"),
])
def test_ecog_and_karnofsky(text: str, ecog: int, karnofsky: str | None) -> None:
    (m,) = said(text)
    assert (m.fact, m.value, dict(m.details).get("karnofsky")) == ("ecog", ecog, karnofsky)


def test_a_karnofsky_that_is_not_a_score_is_not_read() -> None:
    assert said("Karnofsky 85 %.") == []  # scores go in tens


@pytest.mark.parametrize("text, fact", [
    ("She is pregnant.", "pregnant"), ("Patiente enceinte.", "pregnant"),
    ("She is breastfeeding her 4-month-old.", "breastfeeding"),
    ("Allaitement en cours.", "breastfeeding"),
    ("She is postmenopausal.", "postmenopausal"), ("Patiente ménopausée.", "postmenopausal"),
    ("Bilateral salpingectomy in 2019.", "sterilised"),
    ("Ligature des trompes en 2010.", "sterilised"),
])
def test_reproductive_status(text: str, fact: str) -> None:
    assert [(m.fact, m.affirmed) for m in said(text)] == [(fact, True)]


@pytest.mark.parametrize("text", ["Premenopausal woman.", "Pregnancy test negative."])
def test_what_is_not_a_reproductive_status(text: str) -> None:
    assert said(text) == []


@pytest.mark.parametrize("text, when", [
    ("She underwent a Whipple procedure on 2026-10-20.", date(2026, 10, 20)),
    ("Distal pancreatectomy with splenectomy on 3 March 2025.", date(2025, 3, 3)),
    ("Duodénopancréatectomie céphalique le 20/10/2026.", date(2026, 10, 20)),
    ("Hépatectomie droite le 2 mars 2026.", date(2026, 3, 2)),
])
def test_major_surgery_with_its_date(text: str, when: date) -> None:
    (m,) = said(text)
    assert (m.fact, m.date) == ("major_surgery", when)


def test_an_ambiguous_english_date_is_not_guessed() -> None:
    (m,) = said("Liver resection on 03/02/2026.")
    assert m.date == date(2026, 11, 2)  # the document's, not March 2 or February 3


@pytest.mark.parametrize("text, site, when", [
    ("External beam radiotherapy to the T10 vertebra on 2026-09-14.", "bone",
     date(2026, 9, 14)),
    ("Radiothérapie antalgique sur le rachis le 15/10/2026.", "bone", date(2026, 10, 15)),
])
def test_radiotherapy_with_site_and_date(text: str, site: str, when: date) -> None:
    (m,) = said(text)
    assert (m.fact, dict(m.details).get("site"), m.date) == ("radiotherapy", site, when)


@pytest.mark.parametrize("text", [
    "Treated with PRRT (177Lu-DOTATATE), four cycles.",
    "Radiothérapie interne vectorisée au 177Lu-DOTATATE.",
])
def test_prrt_is_not_external_radiotherapy(text: str) -> None:
    assert said(text) == []
