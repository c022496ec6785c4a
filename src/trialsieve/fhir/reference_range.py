"""Which of an Observation's reference ranges applies to the patient (its appliesTo sex,
its age range): the upper limit of normal of I8 comes from that one (protocol notes,
"Results"), never from the first range listed."""

from __future__ import annotations

from datetime import date

# appliesTo codes that name a sex: SNOMED male / female, HL7 administrative gender, v3.
_SEX = {"248153007": "male", "248152002": "female", "male": "male", "female": "female",
        "M": "male", "F": "female"}
_AGE_UNITS = {"a": 1.0, "yr": 1.0, "year": 1.0, "years": 1.0, "mo": 1 / 12,
              "wk": 7 / 365.25, "d": 1 / 365.25}


def applies(rr: dict, sex: str | None, age: float | None) -> bool | None:
    """True when every condition the range states fits the patient, False when one does
    not, None when it states none or the patient's sex or age is not known."""
    wanted = _sexes(rr)
    fits: list[bool | None] = []
    if wanted:
        fits.append(None if sex not in ("male", "female") else sex in wanted)
    low, high = _age_bounds(rr)
    if low is not None or high is not None:
        fits.append(None if age is None else
                    (low is None or age >= low) and (high is None or age <= high))
    if not fits or False in fits:
        return None if not fits else False
    return None if None in fits else True


def for_everyone(rr: dict) -> bool:
    """A range that states no sex and no age: the range for any patient."""
    return not _sexes(rr) and _age_bounds(rr) == (None, None)


def age_years(born: date, on: date) -> float:
    return (on - born).days / 365.25


def _sexes(rr: dict) -> set[str]:
    found = set()
    applies_to = rr.get("appliesTo")
    for concept in applies_to if isinstance(applies_to, list) else []:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for c in codings if isinstance(codings, list) else []:
            if isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"] in _SEX:
                found.add(_SEX[c["code"]])
    return found


def _age_bounds(rr: dict) -> tuple[float | None, float | None]:
    age = rr.get("age")
    if not isinstance(age, dict):
        return None, None
    return _years(age.get("low")), _years(age.get("high"))


def _years(q: object) -> float | None:
    if not isinstance(q, dict):
        return None
    value, unit = q.get("value"), q.get("code") or q.get("unit") or "a"
    if isinstance(value, bool) or not isinstance(value, int | float) or unit not in _AGE_UNITS:
        return None  # an age the program cannot read: the bound is not applied
    return float(value) * _AGE_UNITS[str(unit)]
