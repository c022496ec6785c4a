"""Imaging facts in text (issue 21): progression statements (RECIST or SSTR imaging) and
new lesions with their dates (I3, I4), lesions with size, organ and Krenning grade
(I13), diffuse marrow infiltration (E4), brain metastases and their control (E6)."""

from __future__ import annotations

from datetime import date

import pytest
from text_corpus import facts_of, said

REPORT_DAY = date(2026, 11, 2)  # said() dates its document so


@pytest.mark.parametrize("text, kind, when", [
    ("Progressive disease per RECIST 1.1.", "RECIST", REPORT_DAY),
    ("Radiological progression according to RECIST 1.1 on the CT of 2026-08-30.", "RECIST",
     date(2026, 8, 30)),
    ("Progression radiologique selon RECIST 1.1 sur le scanner du 30/08/2026.", "RECIST",
     date(2026, 8, 30)),
    ("Disease progression on 68Ga-DOTATATE PET/CT.", "SSTR", REPORT_DAY),
    ("Progression sur la TEP au 68Ga-DOTATOC.", "SSTR", REPORT_DAY),
    # the date it is compared with is not the date of the progression
    ("Progression compared with the CT of 2025-11-02.", None, REPORT_DAY),
])
def test_progression_with_its_kind_and_date(text: str, kind: str | None, when: date) -> None:
    (m,) = [m for m in said(text) if m.fact == "progression"]
    assert (m.value, m.date, m.affirmed) == (kind, when, True)


@pytest.mark.parametrize("text, organ", [
    ("Two new bone lesions.", "bone"),
    ("Apparition de nouvelles lésions hépatiques.", "liver"),
])
def test_new_lesion_with_its_organ(text: str, organ: str) -> None:
    (m,) = said(text)
    assert (m.fact, dict(m.details)) == ("new_lesion", {"organ": organ})


@pytest.mark.parametrize("text, size, organ, krenning", [
    ("Segment VII lesion 34 mm, uptake above liver (Krenning 3).", 34.0, "liver", "3"),
    ("Lésion hépatique de 3,4 cm, Krenning 3.", 34.0, "liver", "3"),
    ("Liver segment IV lesion measuring 2.2 x 1.8 cm.", 22.0, "liver", None),
    ("Adénopathie mésentérique de 41 mm.", 41.0, "lymph node", None),
])
def test_lesion_size_organ_krenning(text: str, size: float, organ: str,
                                    krenning: str | None) -> None:
    (m,) = said(text)
    assert (m.fact, m.value, m.unit) == ("lesion", size, "mm")
    assert dict(m.details).get("organ") == organ
    assert dict(m.details).get("krenning") == krenning


@pytest.mark.parametrize("text", ["Slice thickness 5 mm.", "Épaisseur de coupe 3 mm."])
def test_a_size_without_a_lesion_is_none(text: str) -> None:
    assert said(text) == []


def test_an_earlier_size_is_not_the_lesion_now() -> None:
    assert [m.value for m in said("Target lesion: liver, 45 mm (previously 38 mm).")] == [45.0]


@pytest.mark.parametrize("text, present", [
    ("Diffuse bone marrow infiltration on the PET.", ()),
    ("Infiltration médullaire diffuse à la TEP.", ()),
    ("There is no diffuse bone marrow infiltration.", ("negated",)),
    ("Absence d'infiltration médullaire diffuse.", ("negated",)),
])
def test_marrow_infiltration(text: str, present: tuple) -> None:
    assert facts_of(text) == {("marrow_infiltration", None, present)}


@pytest.mark.parametrize("text, controlled", [
    ("Brain metastases, controlled after radiosurgery.", "yes"),
    ("Métastases cérébrales traitées par radiochirurgie, stables.", "yes"),
    ("Cerebral metastases, progressive despite whole-brain radiotherapy.", "no"),
    ("Métastase cérébrale évolutive.", "no"),
    ("Brain metastases.", None),
])
def test_brain_metastases_and_their_control(text: str, controlled: str | None) -> None:
    (m,) = [m for m in said(text) if m.fact == "brain_metastases"]
    assert dict(m.details).get("controlled") == controlled and m.affirmed
