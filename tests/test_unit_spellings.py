"""Units as laboratories write them: each documented spelling reads as its UCUM unit, and
anything else is refused with a message naming the unit (protocol notes I6-I8)."""

from __future__ import annotations

import re

import pytest

from trialsieve.codes import LAB_TESTS
from trialsieve.unit_spellings import ALIASES, CELL_COUNT_ALIASES, IU_ALIASES, _key
from trialsieve.units import UnitError, convert

HB = LAB_TESTS["hemoglobin"]
BILI = LAB_TESTS["bilirubin"]
COUNT = "10*3/uL"  # unit of the neutrophil and platelet rules
GFR = "mL/min/{1.73_m2}"


COUNT_CASES = [
    ("10^9/L", 150, 150), ("10^9/l", 150, 150), ("x10^9/L", 150, 150),
    ("x10E9/L", 150, 150), ("10E9/L", 150, 150), ("10*9/l", 150, 150), ("X10^9/L", 150, 150),
    ("×10^9/L", 150, 150), ("10^3/µL", 150, 150), ("10^3/μL", 150, 150),  # micro / mu
    ("x10^3/uL", 150, 150), ("x10E3/uL", 150, 150), ("10*3/ul", 150, 150),
    ("K/uL", 150, 150), ("K/µL", 150, 150), ("/nL", 150, 150), ("/mm3", 150000, 150),
    ("G/L", 150, 150),  # giga per litre: 10^9/L, for cell counts
    ("x10*9/L", 150, 150), ("x10*3/uL", 150, 150), ("10E3/uL", 150, 150),
]


@pytest.mark.parametrize(("spelling", "value", "expected"), COUNT_CASES)
def test_cell_count_spellings(spelling: str, value: float, expected: float) -> None:
    assert convert(value, spelling, COUNT) == expected


OTHER_CASES = [
    ("g/dl", 9, "g/dL", 9, HB.molar_mass), ("G/DL", 9, "g/dL", 9, HB.molar_mass),
    ("g/l", 90, "g/dL", 9, HB.molar_mass),  # lower-case g: grams
    ("mg/dl", 2, "mg/dL", 2, BILI.molar_mass), ("MG/DL", 2, "mg/dL", 2, BILI.molar_mass),
    ("µmol/L", 34.2, "mg/dL", 2, BILI.molar_mass), ("μmol/l", 34.2, "mg/dL", 2, BILI.molar_mass),
    ("UMOL/L", 34.2, "mg/dL", 2, BILI.molar_mass),
    ("mmol/l", 5.586, "g/dL", 9, HB.molar_mass),
    ("IU/L", 40, "U/L", 40, None), ("iu/l", 40, "U/L", 40, None), ("u/l", 40, "U/L", 40, None),
    ("ng/ml", 120, "ug/L", 120, None), ("µg/L", 120, "ug/L", 120, None),
    ("mL/min/1.73m2", 60, GFR, 60, None), ("ml/min/1.73 m²", 60, GFR, 60, None),
    ("mL/min/1,73m2", 60, GFR, 60, None), ("mL/min/1.73m^2", 60, GFR, 60, None),
    ("mg/24h", 12, "mg/d", 12, None), ("mg/24 h", 12, "mg/d", 12, None),
    ("umol/24h", 100, "mg/d", 19.118, 191.18),  # 5-HIAA
    ("MG/L", 8, "mg/L", 8, None), ("ug/dl", 10, "ug/L", 100, None),
    ("NG/L", 1000, "ug/L", 1, None), ("nmol/l", 3, "nmol/L", 3, None),
    ("PMOL/L", 3000, "nmol/L", 3, None), ("miu/ml", 3, "[IU]/L", 3, None),  # mIU/mL = IU/L
]


@pytest.mark.parametrize(("spelling", "value", "target", "expected", "mass"), OTHER_CASES)
def test_other_spellings(spelling: str, value: float, target: str, expected: float,
                         mass: float | None) -> None:
    assert convert(value, spelling, target, mass) == pytest.approx(expected, rel=1e-3)


def test_every_alias_is_tested() -> None:
    tested = {_key(c[0]) for c in COUNT_CASES + OTHER_CASES}
    listed = set(ALIASES) | set(CELL_COUNT_ALIASES) | set(IU_ALIASES)
    assert listed <= tested, listed - tested


def test_iu_per_litre_is_not_an_enzyme_unit_for_hcg() -> None:
    # IU/L is also the hCG unit: it must stay the international unit there
    assert convert(30, "IU/L", "[IU]/L") == 30


@pytest.mark.parametrize("spelling", ["G/L", "K/uL", "x10^9/L"])
def test_count_spellings_are_refused_for_other_tests(spelling: str) -> None:
    # "G/L" is 10^9/L only for a cell count; for haemoglobin it is not a concentration
    with pytest.raises(UnitError, match=re.escape(spelling)):
        convert(90, spelling, "g/dL", HB.molar_mass)


def test_unnormalised_gfr_is_refused_with_a_clear_message() -> None:
    # Judgement: a measured clearance in mL/min is not the same quantity as a GFR per
    # 1.73 m2 body surface; the I6 bound is per 1.73 m2, so it is not read as one.
    with pytest.raises(UnitError, match=r"'mL/min'.*1\.73"):
        convert(60, "mL/min", GFR)
    with pytest.raises(UnitError, match=r"'ml/min'.*1\.73"):
        convert(60, "ml/min", GFR)


@pytest.mark.parametrize("spelling", ["mg/dL/x", "furlongs", "10^9", "g/dLL", "G/DL/"])
def test_anything_else_is_refused_naming_the_unit(spelling: str) -> None:
    with pytest.raises(UnitError, match=re.escape(f"'{spelling}'")):
        convert(1, spelling, "g/dL", HB.molar_mass)
