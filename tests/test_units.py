"""Unit conversions the lab criteria rely on (protocol notes, I7/I8)."""

from __future__ import annotations

import pytest

from trialsieve.codes import LAB_TESTS
from trialsieve.units import UnitError, convert, is_unit_parseable

HB = LAB_TESTS["hemoglobin"].molar_mass
BILI = LAB_TESTS["bilirubin"].molar_mass


def test_same_unit_is_identity() -> None:
    assert convert(9.0, "g/dL", "g/dL") == 9.0


def test_hemoglobin_g_per_l() -> None:
    assert convert(120, "g/L", "g/dL") == 12
    assert convert(90, "g/L", "g/dL") == 9  # exactly at the I7 bound, not 8.999999


def test_hemoglobin_mmol_per_l() -> None:
    # 1 g/dL = 0.6206 mmol/L (protocol notes): 5.586 mmol/L is about 9 g/dL.
    assert convert(5.586, "mmol/L", "g/dL", HB) == pytest.approx(9.0, abs=0.01)
    assert convert(9, "g/dL", "mmol/L", HB) == pytest.approx(5.586, abs=0.01)


def test_bilirubin_umol_per_l() -> None:
    # 1 mg/dL = 17.1 umol/L
    assert convert(34.2, "umol/L", "mg/dL", BILI) == pytest.approx(2.0, rel=1e-3)
    assert convert(17.1, "umol/L", "mg/dL", BILI) == pytest.approx(1.0, rel=1e-3)


def test_molar_needs_molar_mass() -> None:
    with pytest.raises(UnitError):
        convert(34.2, "umol/L", "mg/dL")


def test_albumin_g_per_l() -> None:
    assert convert(30, "g/L", "g/dL") == 3


def test_cell_counts() -> None:
    assert convert(1.5, "10*9/L", "10*3/uL") == 1.5
    assert convert(100, "10*9/L", "10*3/uL") == 100
    assert convert(1500, "/uL", "10*3/uL") == 1.5


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("kg", "g/dL"),  # mass is not a concentration
        ("mL/min", "mL/min/{1.73_m2}"),  # creatinine clearance is not a normalised GFR
        ("not-a-unit", "g/dL"),
        ("%", "g/dL"),
    ],
)
def test_unconvertible_raises(source: str, target: str) -> None:
    with pytest.raises(UnitError):
        convert(1.0, source, target, HB)


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)


def test_parseable() -> None:
    assert is_unit_parseable("g/dL")
    assert is_unit_parseable("mL/min/{1.73_m2}")
    assert not is_unit_parseable("not-a-unit")


def test_annotation_standing_for_a_term() -> None:
    # UCUM reads "mL/min/{1.73_m2}" as mL/min/1: a GFR in mL/s converts, annotations kept.
    assert convert(1, "mL/s/{1.73_m2}", "mL/min/{1.73_m2}") == 60
    assert convert(1500, "{cells}/uL", "10*3{cells}/uL") == 1.5
    with pytest.raises(UnitError):  # annotations carry meaning: they must agree
        convert(1500, "{cells}/uL", "10*3/uL")
