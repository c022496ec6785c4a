"""Pathology facts in text (issue 21, I2): NET diagnosis with its differentiation, WHO
grade, Ki-67, primary site, metastatic or locally advanced; English and French."""

from __future__ import annotations

import pytest
from text_corpus import facts_of, said


@pytest.mark.parametrize("text, expected", [
    ("Well-differentiated neuroendocrine tumour, WHO grade 2, Ki-67 8 %.",
     {("net_diagnosis", "well", ()), ("who_grade", "G2", ()), ("ki67", 8.0, ())}),
    ("TNE bien différenciée G2, Ki-67 8 %.",
     {("net_diagnosis", "well", ()), ("who_grade", "G2", ()), ("ki67", 8.0, ())}),
    ("Poorly differentiated neuroendocrine carcinoma, Ki-67 70%.",
     {("net_diagnosis", "poor", ()), ("ki67", 70.0, ())}),
    ("Carcinome neuroendocrine peu différencié, Ki-67 à 80 %.",
     {("net_diagnosis", "poor", ()), ("ki67", 80.0, ())}),
    # no differentiation said: none assumed
    ("Metastatic NET.", {("net_diagnosis", None, ()), ("metastatic", "metastatic", ())}),
])
def test_diagnosis_grade_and_ki67(text: str, expected: set) -> None:
    assert facts_of(text) == expected


@pytest.mark.parametrize("text, value", [
    ("Ki-67 8,5 %.", 8.5),  # a decimal comma
    ("Ki-67 index: 1.5%.", 1.5),
    ("Indice de prolifération (Ki-67) de 12 %.", 12.0),
    ("Ki67 15-20 %.", 20.0),  # a range: its upper end
    ("Ki-67 index was estimated at 30%.", 30.0),
])
def test_ki67_values(text: str, value: float) -> None:
    (m,) = said(text)
    assert (m.fact, m.value, m.unit) == ("ki67", value, "%")


def test_ki67_bound_and_range_kept_in_details() -> None:
    (below,) = said("Ki-67 <2%.")
    assert (below.value, dict(below.details)) == (2.0, {"comparator": "<"})
    (ranged,) = said("Ki-67 5-10 %.")
    assert (ranged.value, dict(ranged.details)) == (10.0, {"range": "5-10"})


@pytest.mark.parametrize("text", [
    "Grade 3 neutropenia after the second cycle.",
    "Neutropénie de grade 3 après le deuxième cycle.",
    "Krenning grade 3 uptake in the liver.",
    "G2P1, no other history.",  # gravida 2, para 1
])
def test_a_grade_that_is_not_a_who_grade(text: str) -> None:
    assert not [m for m in said(text) if m.fact == "who_grade"]


@pytest.mark.parametrize("text, site", [
    ("Well-differentiated NET of the terminal ileum.", "small intestine"),
    ("Tumeur neuroendocrine duodénale de grade 1.", "duodenum"),
    ("Primitif pancréatique avec métastases hépatiques.", "pancreas"),
    ("TNE de l'appendice, bien différenciée.", "appendix"),
    ("Gastric NET type 1.", "stomach"),
])
def test_primary_site(text: str, site: str) -> None:
    assert [m.value for m in said(text) if m.fact == "primary_site"] == [site]


def test_an_organ_without_a_net_or_a_primary_is_no_primary_site() -> None:
    assert not [m for m in said("Pancreatic duct dilated, 4 mm.") if m.fact == "primary_site"]


@pytest.mark.parametrize("text, value", [
    ("Liver metastases are present.", "metastatic"),
    ("Métastases hépatiques multiples.", "metastatic"),
    ("Locally advanced, unresectable pancreatic NET.", "locally advanced"),
    ("TNE pancréatique localement avancée, non résécable.", "locally advanced"),
])
def test_metastatic_or_locally_advanced(text: str, value: str) -> None:
    assert value in [m.value for m in said(text) if m.fact == "metastatic"]
