"""Results the program cannot trust do not decide (issue 17, group 4; protocol notes "Real
records: Results", I7, I8, I9, I10, I3 c).

The bundled examples, edited, read through the FHIR reader, screened on 2026-11-25 for
inclusion = D0 = 2026-12-01. The man's and the woman's labs and ECOG are of 2026-11-20
and pass; each test adds one result of 2026-11-24 (or one with no date).
"""

from __future__ import annotations

import json
from datetime import date

from test_no_false_eligible import LOINC, MAN, SNOMED, WOMAN, Edit, cc, st

from trialsieve.fhir.reader import read
from trialsieve.rules.progression_evidence import progression_facts

HB = cc(LOINC, "718-7", "Hemoglobin")
ALT = cc(LOINC, "1742-6", "ALT")
UCUM = "http://unitsofmeasure.org"


def quantity(value: float, unit: str, comparator: str | None = None) -> dict:
    q = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return {**q, "comparator": comparator} if comparator else q


def result(rid: str, code: dict, value: dict, day: str | None = "2026-11-24",
           status: str = "final", **extra) -> dict:
    res = {"resourceType": "Observation", "id": rid, "status": status, "code": code,
           "valueQuantity": value, **extra}
    return {**res, "effectiveDateTime": day} if day else res


def ecog(rid: str, score: int, day: str | None = "2026-11-24", status: str = "final",
         **extra) -> dict:
    res = {"resourceType": "Observation", "id": rid, "status": status,
           "code": cc(LOINC, "89247-1", "ECOG"), "valueInteger": score, **extra}
    return {**res, "effectiveDateTime": day} if day else res


# --- undated results ------------------------------------------------------------------
def test_undated_hb_is_not_dropped_for_an_older_one(tmp_path):
    """An Hb of 7 g/dL with no date: it may be the newest, so the Hb of 11-20 (passing)
    does not decide: I7 unknown (was: dropped, met)."""
    r = Edit(MAN).add(result("hb-x", HB, quantity(7, "g/dL"), day=None)).screen(tmp_path)
    assert st(r, "INCL07") == "unknown"
    assert any("Observation/hb-x" in m for m in r.result("INCL07").outcome.missing)


def test_issued_alone_does_not_date_the_sample(tmp_path):
    """Issued 2026-11-24, no effective date: not a sample of 11-24 (was: dated by issued,
    a fresh 12 g/dL, met)."""
    r = Edit(MAN).add(result("hb-x", HB, quantity(12, "g/dL"), day=None,
                             issued="2026-11-24T10:00:00Z")).screen(tmp_path)
    assert st(r, "INCL07") == "unknown"


def test_undated_ecog_is_not_dropped_for_an_older_one(tmp_path):
    r = Edit(MAN).add(ecog("ecog-x", 3, day=None)).screen(tmp_path)
    assert st(r, "INCL09") == "unknown"


# --- preliminary, amended, corrected --------------------------------------------------
def test_preliminary_newest_hb_does_not_decide(tmp_path):
    r = Edit(MAN).add(result("hb-p", HB, quantity(12, "g/dL"), status="preliminary")) \
        .screen(tmp_path)
    assert st(r, "INCL07") == "unknown"
    assert "await the final result" in r.result("INCL07").outcome.summary


def test_preliminary_newest_ecog_does_not_decide(tmp_path):
    r = Edit(MAN).add(ecog("ecog-p", 0, status="preliminary")).screen(tmp_path)
    assert st(r, "INCL09") == "unknown"


def test_amended_and_corrected_results_are_final(tmp_path):
    """An amended Hb of 8 g/dL decides (fails); a corrected ECOG of 2 decides (fails)."""
    r = (Edit(MAN).add(result("hb-a", HB, quantity(8, "g/dL"), status="amended"))
         .add(ecog("ecog-c", 2, status="corrected")).screen(tmp_path))
    assert st(r, "INCL07") == "not_met"
    assert st(r, "INCL09") == "not_met"


# --- the upper limit of normal that applies to the patient ----------------------------
def ranges(*rr: tuple[float, str | None]) -> list[dict]:
    out = []
    for high, sex in rr:
        r: dict = {"high": quantity(high, "U/L")}
        if sex:
            r["appliesTo"] = [cc(SNOMED, {"male": "248153007", "female": "248152002"}[sex])]
        out.append(r)
    return out


def test_alt_uln_comes_from_the_womans_range_not_the_first(tmp_path):
    """ALT 150 U/L; ranges: men <= 50 (listed first), women <= 25. For the woman 5 x ULN is
    125: I8 not met (was: the male range, 250: met)."""
    r = Edit(WOMAN).add(result("alt-x", ALT, quantity(150, "U/L"),
                               referenceRange=ranges((50, "male"), (25, "female")))) \
        .screen(tmp_path)
    assert st(r, "INCL08") == "not_met"


def test_alt_uln_for_a_man_is_the_male_range(tmp_path):
    r = Edit(MAN).add(result("alt-x", ALT, quantity(150, "U/L"),
                             referenceRange=ranges((25, "female"), (50, "male")))) \
        .screen(tmp_path)
    assert st(r, "INCL08") == "met"


def test_alt_ranges_that_differ_with_none_chosen_leave_i8_unknown(tmp_path):
    r = Edit(MAN).add(result("alt-x", ALT, quantity(150, "U/L"),
                             referenceRange=ranges((50, None), (25, None)))) \
        .screen(tmp_path)
    assert st(r, "INCL08") == "unknown"
    assert "reference ranges differ" in r.result("INCL08").outcome.summary


def test_alt_range_for_everyone_applies_when_no_sex_range_fits(tmp_path):
    """Ranges: women <= 25, everyone <= 40: for the man, 5 x 40 = 200 >= 150: met."""
    r = Edit(MAN).add(result("alt-x", ALT, quantity(150, "U/L"),
                             referenceRange=ranges((25, "female"), (40, None)))) \
        .screen(tmp_path)
    assert st(r, "INCL08") == "met"


def test_alt_range_by_age(tmp_path):
    """The man was born in the 1960s: of <= 20 (age 0-17) and <= 50 (18-120), 50 applies:
    150 <= 250: met (the first, 20, would give 100: not met)."""
    rr = [{"high": quantity(20, "U/L"), "age": {"low": {"value": 0, "code": "a"},
                                                "high": {"value": 17, "code": "a"}}},
          {"high": quantity(50, "U/L"), "age": {"low": {"value": 18, "code": "a"},
                                                "high": {"value": 120, "code": "a"}}}]
    r = Edit(MAN).add(result("alt-x", ALT, quantity(150, "U/L"), referenceRange=rr)) \
        .screen(tmp_path)
    assert st(r, "INCL08") == "met"


# --- a zero in disguise ---------------------------------------------------------------
def test_alt_of_1e_320_is_damage_not_a_normal_value(tmp_path):
    r = Edit(MAN).add(result("alt-x", ALT, quantity(1e-320, "U/L"),
                             referenceRange=ranges((50, None)))).screen(tmp_path)
    assert st(r, "INCL08") == "unknown"
    assert any(w.source == "Observation/alt-x" for w in r.warnings)


def test_bilirubin_of_1e_320_is_damage(tmp_path):
    bili = cc(LOINC, "1975-2", "Bilirubin")
    r = Edit(MAN).add(result("bili-x", bili, quantity(1e-320, "mg/dL"), referenceRange=[
        {"high": quantity(1.2, "mg/dL")}])).screen(tmp_path)
    assert st(r, "INCL08") == "unknown"


# --- hCG with a comparator ------------------------------------------------------------
SERUM_HCG = cc(LOINC, "21198-7", "hCG [Units/volume] in Serum or Plasma")


def test_serum_hcg_above_4_is_not_negative(tmp_path):
    """"> 4 IU/L" may be 40: not a negative test. I10 unknown (was: 4 < 5, negative: met),
    E8 unknown (was: not met)."""
    r = Edit(WOMAN).add(result("hcg-x", SERUM_HCG, quantity(4, "[IU]/L", ">"))) \
        .screen(tmp_path)
    assert st(r, "INCL10") == "unknown"
    assert st(r, "EXCL08") == "unknown"


def test_serum_hcg_below_5_is_negative(tmp_path):
    r = Edit(WOMAN).add(result("hcg-x", SERUM_HCG, quantity(5, "[IU]/L", "<"))) \
        .screen(tmp_path)
    assert st(r, "INCL10") == "met"


# --- a damaged dosing repeat ----------------------------------------------------------
def test_dosing_repeat_with_an_object_unit_is_a_warning_not_a_traceback(tmp_path):
    lan = {"resourceType": "MedicationStatement", "id": "lan", "status": "completed",
           "medicationCodeableConcept": cc("http://www.whocc.no/atc", "H01CB03",
                                           "lanreotide"),
           "effectiveDateTime": "2026-10-01",
           "dosage": [{"timing": {"repeat": {"period": 4, "periodUnit": {"code": "wk"}}}}]}
    r = Edit(MAN).add(lan).screen(tmp_path)
    assert st(r, "INCL05") == "unknown"
    assert any(w.source == "MedicationStatement/lan" and "periodUnit" in w.field
               for w in r.warnings)


# --- NET markers: censored values, same-day values ------------------------------------
EX46 = "46-clinical-and-biochemical-progression"


def cga(edit: Edit, rid: str, value: dict) -> None:
    res = next(e["resource"] for e in edit.bundle["entry"] if e["resource"].get("id") == rid)
    res["valueQuantity"] = value


def facts(edit: Edit, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(edit.bundle), encoding="utf-8")
    (rec,) = read(path).records
    return progression_facts(rec, date(2026, 11, 25))


def test_censored_cga_shows_no_rise(tmp_path):
    """CgA 120, 180, "> 200": the last may be any value above 200, read as 200 it rose;
    censored, the rise is not shown (c2 open, I3 not met by (c)); 46's I3 rests on (c)."""
    e = Edit(EX46)
    cga(e, "ex46-cga-3", quantity(200, "ug/L", ">"))
    f = facts(e, tmp_path)
    assert not [p for p in f.events if p.arm == "c2"]
    assert [m.rose for m in f.markers] == [None]


def test_same_day_cga_values_leave_the_triple_open(tmp_path):
    """CgA 120 (05-04), then 180 and 150 both of 08-03: in file order 120, 180, 150 does not
    rise; in the other order 120 < 150 < 180 does. Unordered: open (was: file order, no
    rise, decided)."""
    e = Edit(EX46)
    cga(e, "ex46-cga-3", quantity(150, "ug/L"))
    res = next(x["resource"] for x in e.bundle["entry"] if x["resource"].get("id") ==
               "ex46-cga-3")
    res["effectiveDateTime"] = "2026-08-03"
    f = facts(e, tmp_path)
    assert not [p for p in f.events if p.arm == "c2"]
    assert [m.rose for m in f.markers] == [None]


def test_same_day_equal_values_change_nothing(tmp_path):
    e = Edit(EX46)
    cga(e, "ex46-cga-3", quantity(180, "ug/L"))
    res = next(x["resource"] for x in e.bundle["entry"] if x["resource"].get("id") ==
               "ex46-cga-3")
    res["effectiveDateTime"] = "2026-08-03"
    assert [m.rose for m in facts(e, tmp_path).markers] == [False]
