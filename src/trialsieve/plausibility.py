"""The physically possible range of every lab value and measurement the criteria read.

A value outside it is damage, not a result: the reader sets it aside with a warning
naming the resource and field, and the criterion reading it is unknown, never met.
The bounds are deliberately wide (the extremes ever reported in a living patient, with
room to spare): they catch a sign lost, a unit slipped by 10^3 or more, or a value
that is not finite; they never judge whether a result is normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite


@dataclass(frozen=True)
class Range:
    unit: str
    low: float
    high: float
    # True: the low end itself is impossible (a living patient's haemoglobin is > 0).
    low_open: bool
    why: str

    def problem(self, value: float) -> str | None:
        """Why `value` (in `unit`) cannot be a real measurement, or None."""
        if isinstance(value, float) and not isfinite(value):  # an int of any size is finite
            return "not a finite number"
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            low = ">" if self.low_open else ">="
            return (f"outside the possible range ({low} {self.low:g} and <= {self.high:g} "
                    f"{self.unit}: {self.why})")
        return None


def _lab(unit: str, low: float, high: float, why: str, low_open: bool = True) -> Range:
    return Range(unit, low, high, low_open, why)


# Keyed by codes.LAB_TESTS; the unit is that test's unit (tests check they agree).
LABS: dict[str, Range] = {
    "hemoglobin": _lab("g/dL", 0, 30, "highest reported values are about 25 g/dL"),
    "neutrophils": _lab("10*3/uL", 0, 1000, "0 is real (agranulocytosis); leukaemic "
                        "counts stay below 10^3 x10^3/uL", low_open=False),
    "platelets": _lab("10*3/uL", 0, 10000, "0 is real; extreme thrombocytosis stays below "
                      "10^4 x10^3/uL", low_open=False),
    # Tests judged against an upper limit (I8) need a floor above zero: a value of 1e-320
    # is a zero in disguise, a lost value no living patient has, and would pass any limit.
    "bilirubin": _lab("mg/dL", 0.01, 100, "total bilirubin is at least about 0.1 mg/dL "
                      "(reported as < 0.1); highest reported values are below 100 mg/dL",
                      low_open=False),
    "alt": _lab("U/L", 1, 100000, "ischaemic hepatitis reaches about 2x10^4 U/L; below "
                "1 U/L (0 included) is a lost value", low_open=False),
    "ast": _lab("U/L", 1, 100000, "as ALT", low_open=False),
    "albumin": _lab("g/dL", 0, 10, "serum albumin above 6 g/dL is not seen"),
    "pt_percent": _lab("%", 0, 200, "prothrombin activity (Quick) rarely exceeds 150 %"),
    "gfr_51cr": _lab("mL/min/{1.73_m2}", 0, 400, "hyperfiltration stays below 250"),
    "egfr": _lab("mL/min/{1.73_m2}", 0, 400, "as measured GFR"),
    "creatinine_clearance": _lab("mL/min", 0, 600, "as GFR, not normalised to 1.73 m2"),
    "hcg_serum": _lab("[IU]/L", 0, 1e7, "0 is a negative test; molar pregnancy reaches "
                      "about 10^6 IU/L", low_open=False),
    "hcg_urine": _lab("[IU]/L", 0, 1e7, "as serum hCG", low_open=False),
    "chromogranin_a": _lab("ug/L", 0, 1e7, "NET can raise CgA to 10^5 ug/L", low_open=False),
    "nse": _lab("ug/L", 0, 1e6, "small-cell tumours raise NSE to 10^4 ug/L", low_open=False),
    "hiaa_24h": _lab("mg/d", 0, 1e5, "carcinoid syndrome reaches about 10^3 mg/24 h",
                     low_open=False),
    "ki67": _lab("%", 0, 100, "a share of cells", low_open=False),
    "creatinine": _lab("mg/dL", 0, 100, "end-stage renal failure stays below about 30 "
                       "mg/dL"),
    "chromogranin_a_molar": _lab("nmol/L", 0, 1e6, "as CgA by mass (about 49 kDa)",
                                 low_open=False),
    "hiaa_urine": _lab("mg/L", 0, 1e4, "as 5-HIAA per 24 h, in a 24 h urine volume",
                       low_open=False),
    "hiaa_creatinine": _lab("mg/g", 0, 1e5, "as 5-HIAA per 24 h, per gram of creatinine",
                            low_open=False),
    "hiaa_plasma": _lab("ng/mL", 0, 1e6, "carcinoid syndrome raises plasma 5-HIAA to "
                        "about 10^3 ng/mL", low_open=False),
}

# Measurements read from imaging and symptom records (units as the record keeps them).
MEASURES: dict[str, Range] = {
    "diameter_mm": Range("mm", 0, 2000, False, "a lesion is smaller than the body"),
    "slice_thickness_mm": Range("mm", 0, 100, True, "CT/MRI slices are 0.5-10 mm"),
    "krenning": Range("grade", 0, 4, False, "the Rotterdam/Krenning scale is 0-4"),
    "suv": Range("g/mL", 0, 1000, False, "tumour SUVmax on SSTR PET rarely exceeds 200"),
    "daily_frequency": Range("/d", 0, 1000, False, "episodes per day"),
    "ctcae_grade": Range("grade", 0, 5, False, "NCI-CTCAE grades are 0-5"),
    "ecog": Range("score", 0, 5, False, "the ECOG scale is 0-5"),
    "marrow_share": Range("1", 0, 1, False, "a share of the bone marrow"),
}
