"""Unit spellings laboratories write, read as the UCUM unit they mean: a table in front of
UCUM (units.convert calls `ucum` before parsing).

A spelling is compared after normalising what carries no meaning: spaces, letter case, the
micro sign (U+00B5) and Greek mu (U+03BC) written for u, the multiplication sign for x,
superscript two, and a decimal comma in 1,73. What a normalised spelling means is listed
below, never guessed: a spelling that is not listed goes to UCUM as written, and UCUM
refuses it naming the unit. Some spellings mean a unit only for some tests:

- "G/L" (giga per litre), "K/uL" (thousands per microlitre) and the 10^9/L, 10^3/uL forms
  are cell counts: read only for a result whose rule unit is a count per volume.
- "IU/L" is the enzyme unit U/L for an enzyme (ALT, AST) and the international unit [IU]/L
  for a hormone (hCG).
- A clearance in mL/min is not normalised to 1.73 m2 body surface: it is refused for a
  GFR rule (mL/min/{1.73_m2}), since the two are different quantities (a 51Cr-EDTA GFR
  must be reported per 1.73 m2 to be compared with the I6 bound).
"""

from __future__ import annotations

from trialsieve.unit_error import UnitError

GFR_ANNOTATION = "{1.73_m2}"

# normalised spelling -> UCUM, for any test
ALIASES: dict[str, str] = {
    "g/dl": "g/dL", "g/l": "g/L", "mg/dl": "mg/dL", "mg/l": "mg/L", "ug/l": "ug/L",
    "ug/dl": "ug/dL", "ng/ml": "ng/mL", "ng/l": "ng/L",
    "mmol/l": "mmol/L", "umol/l": "umol/L", "nmol/l": "nmol/L", "pmol/l": "pmol/L",
    "u/l": "U/L",
    "ml/min/1.73m2": "mL/min/" + GFR_ANNOTATION, "ml/min/1.73m^2": "mL/min/" + GFR_ANNOTATION,
    "mg/24h": "mg/d", "umol/24h": "umol/d",
}  # fmt: skip
# normalised spelling -> UCUM, for a cell count only
CELL_COUNT_ALIASES: dict[str, str] = {
    "10^9/l": "10*9/L", "x10^9/l": "10*9/L", "x10e9/l": "10*9/L", "10e9/l": "10*9/L",
    "10*9/l": "10*9/L", "x10*9/l": "10*9/L",
    "10^3/ul": "10*3/uL", "x10^3/ul": "10*3/uL", "x10e3/ul": "10*3/uL", "10e3/ul": "10*3/uL",
    "10*3/ul": "10*3/uL", "x10*3/ul": "10*3/uL", "k/ul": "10*3/uL",
    "/nl": "/nL", "/mm3": "/mm3",
}  # fmt: skip
GIGA_PER_LITRE = "G/L"  # case matters: "g/L" is grams per litre
# International units: the enzyme unit for an enzyme rule, [IU] for a hormone rule.
IU_ALIASES: dict[str, tuple[str, str]] = {"iu/l": ("U/L", "[IU]/L"),
                                          "miu/ml": ("mU/mL", "m[IU]/mL")}
# Rule units that are counts per volume (neutrophils, platelets).
COUNT_UNITS = {"10*3/uL", "10*9/L", "/uL", "/nL"}


def _key(spelling: str) -> str:
    s = spelling.strip().replace(" ", "").replace("\u00b5", "u").replace("\u03bc", "u")
    s = s.replace("\u00d7", "x").replace("\u00b2", "2").replace("1,73", "1.73")
    return s.lower()


def ucum(spelling: str, target: str) -> str:
    """The UCUM unit a laboratory spelling means for a rule in unit `target`, or the
    spelling unchanged when the table does not list it (UCUM then reads or refuses it)."""
    key = _key(spelling)
    counts = target.replace("{cells}", "") in COUNT_UNITS
    if spelling.strip() == GIGA_PER_LITRE or key in CELL_COUNT_ALIASES:
        if not counts:
            raise _error(f"unit {spelling!r} is a cell count per volume; it cannot be read "
                         f"for a result in {target!r}")
        return CELL_COUNT_ALIASES.get(key, "10*9/L")
    if key in IU_ALIASES:
        enzyme, hormone = IU_ALIASES[key]
        return hormone if "[IU]" in target else enzyme
    if GFR_ANNOTATION in target and "1.73" not in key:
        raise _error(f"unit {spelling!r} is not normalised to body surface: a GFR is read "
                     "only per 1.73 m2 (mL/min/1.73m2); a clearance in mL/min is another "
                     "quantity")
    return ALIASES.get(key, spelling)


def _error(message: str) -> Exception:
    return UnitError(message)  # the error convert's callers already handle
