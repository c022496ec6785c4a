"""LabThreshold at its bounds (protocol notes I7, I8, I12), worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import D0, ctx, lab, record

from trialsieve.logic import Tri
from trialsieve.rules.base import AllOf, Bound
from trialsieve.rules.labs import LabThreshold

DAY = D0 - timedelta(days=5)  # a fresh result date
HB = LabThreshold("hemoglobin", ">=", 9)
ALBUMIN = LabThreshold("albumin", ">", 3)
PT = LabThreshold("pt_percent", ">", 70)
BILIRUBIN = LabThreshold("bilirubin", "<=", 2, uln=True)
ALT = LabThreshold("alt", "<=", 5, uln=True)


def status(rule: LabThreshold, *labs) -> Tri:
    return rule.evaluate(record(*labs), ctx()).status


@pytest.mark.parametrize(
    ("rule", "test", "value", "unit", "expected"),
    [
        (HB, "hemoglobin", 9.0, "g/dL", Tri.MET),  # >= passes at equality
        (HB, "hemoglobin", 8.9, "g/dL", Tri.NOT_MET),
        (HB, "hemoglobin", 90, "g/L", Tri.MET),
        (HB, "hemoglobin", 89, "g/L", Tri.NOT_MET),
        (HB, "hemoglobin", 5.6, "mmol/L", Tri.MET),  # 9.02 g/dL
        (HB, "hemoglobin", 5.5, "mmol/L", Tri.NOT_MET),  # 8.86 g/dL
        (ALBUMIN, "albumin", 3.0, "g/dL", Tri.NOT_MET),  # strict: 3 g/dL fails
        (ALBUMIN, "albumin", 3.1, "g/dL", Tri.MET),
        (ALBUMIN, "albumin", 30, "g/L", Tri.NOT_MET),
        (ALBUMIN, "albumin", 31, "g/L", Tri.MET),
        (PT, "pt_percent", 70, "%", Tri.NOT_MET),  # strict: 70 % fails
        (PT, "pt_percent", 71, "%", Tri.MET),
        (LabThreshold("neutrophils", ">=", 1.5), "neutrophils", 1.5, "10*9/L", Tri.MET),
        (LabThreshold("neutrophils", ">=", 1.5), "neutrophils", 1.4, "10*9/L", Tri.NOT_MET),
        (LabThreshold("platelets", ">=", 100), "platelets", 100, "10*3/uL", Tri.MET),
        (LabThreshold("platelets", ">=", 100), "platelets", 99, "10*9/L", Tri.NOT_MET),
        (LabThreshold("gfr_51cr", ">=", 50), "gfr_51cr", 50, None, Tri.MET),
        (LabThreshold("gfr_51cr", ">=", 50), "gfr_51cr", 49, None, Tri.NOT_MET),
    ],
)
def test_threshold_at_the_bound(rule, test, value, unit, expected) -> None:
    assert status(rule, lab(test, value, DAY, unit)) is expected


@pytest.mark.parametrize(
    ("value", "uln", "unit", "expected"),
    [
        (2.0, 1.0, "mg/dL", Tri.MET),  # exactly 2 x ULN
        (2.01, 1.0, "mg/dL", Tri.NOT_MET),
        (34.2, 17.1, "umol/L", Tri.MET),  # 2 x ULN in SI units
        (34.3, 17.1, "umol/L", Tri.NOT_MET),
    ],
)
def test_bilirubin_times_uln(value, uln, unit, expected) -> None:
    assert status(BILIRUBIN, lab("bilirubin", value, DAY, unit, uln=uln)) is expected


def test_transaminases_times_uln() -> None:
    assert status(ALT, lab("alt", 200, DAY, "U/L", uln=40)) is Tri.MET  # exactly 5 x ULN
    assert status(ALT, lab("alt", 201, DAY, "U/L", uln=40)) is Tri.NOT_MET


def test_no_reference_range_is_unknown() -> None:
    out = BILIRUBIN.evaluate(record(lab("bilirubin", 0.5, DAY, source="Observation/b1")), ctx())
    assert out.status is Tri.UNKNOWN
    assert any("upper limit of normal" in m and "Observation/b1" in m for m in out.missing)


def test_result_exactly_28_days_before_d0_is_fresh() -> None:
    out = HB.evaluate(record(lab("hemoglobin", 12, D0 - timedelta(days=28))), ctx())
    assert out.status is Tri.MET
    assert out.bounds == (Bound("d0", "until", D0, out.bounds[0].reason, out.bounds[0].source),)


def test_result_29_days_before_d0_is_stale() -> None:
    old = D0 - timedelta(days=29)
    out = HB.evaluate(record(lab("hemoglobin", 12, old, source="Observation/hb-old")), ctx())
    assert out.status is Tri.UNKNOWN
    assert out.missing == (f"haemoglobin result dated from {D0 - timedelta(days=28)} to {D0}",)
    assert [i.source for i in out.ignored] == ["Observation/hb-old"]
    # The stale result still says until when it would have been valid.
    assert [(b.on, b.side, b.date) for b in out.bounds] == [("d0", "until", D0 - timedelta(1))]


def test_no_result_is_unknown_and_names_what_settles_it() -> None:
    out = HB.evaluate(record(), ctx())
    assert out.status is Tri.UNKNOWN
    assert out.missing and "haemoglobin" in out.missing[0]


def test_result_after_d0_is_not_used() -> None:
    out = HB.evaluate(record(lab("hemoglobin", 12, D0 + timedelta(days=1))), ctx())
    assert out.status is Tri.UNKNOWN


def test_most_recent_result_decides() -> None:
    older = lab("hemoglobin", 8.0, D0 - timedelta(days=20), source="Observation/old")
    newer = lab("hemoglobin", 10.0, D0 - timedelta(days=3), source="Observation/new")
    out = HB.evaluate(record(older, newer), ctx())
    assert out.status is Tri.MET
    assert [e.source for e in out.evidence] == ["Observation/new"]
    assert [i.source for i in out.ignored] == ["Observation/old"]
    assert out.bounds[0].date == D0 - timedelta(days=3) + timedelta(days=28)
    # And the other way round.
    older = lab("hemoglobin", 10.0, D0 - timedelta(days=20))
    newer = lab("hemoglobin", 8.0, D0 - timedelta(days=3))
    assert status(HB, older, newer) is Tri.NOT_MET


def test_two_results_on_the_same_day_that_disagree() -> None:
    a = lab("hemoglobin", 12.5, DAY, source="Observation/a")
    b = lab("hemoglobin", 8.0, DAY, source="Observation/b")
    out = HB.evaluate(record(a, b), ctx())
    assert out.status is Tri.UNKNOWN
    assert {e.source for e in out.evidence} == {"Observation/a", "Observation/b"}
    assert out.missing and "12.5 g/dL" in out.missing[0] and "8 g/dL" in out.missing[0]


def test_two_results_on_the_same_day_that_agree() -> None:
    # 120 g/L and 12 g/dL are the same value.
    assert status(HB, lab("hemoglobin", 12, DAY), lab("hemoglobin", 120, DAY, "g/L")) is Tri.MET


@pytest.mark.parametrize(
    ("rule", "test", "comparator", "value", "uln", "expected"),
    [
        (BILIRUBIN, "bilirubin", "<", 0.3, 1.2, Tri.MET),  # whole range below 2 x ULN
        (HB, "hemoglobin", ">", 15, None, Tri.MET),
        (HB, "hemoglobin", "<", 10, None, Tri.UNKNOWN),  # could be 8 or 9.5
        (HB, "hemoglobin", "<=", 9, None, Tri.UNKNOWN),
        (HB, "hemoglobin", ">=", 9, None, Tri.MET),
        (LabThreshold("platelets", ">=", 100), "platelets", "<", 5, None, Tri.NOT_MET),
        (ALT, "alt", ">", 500, 40, Tri.NOT_MET),
        (ALT, "alt", ">", 100, 40, Tri.UNKNOWN),
    ],
)
def test_censored_values(rule, test, comparator, value, uln, expected) -> None:
    r = lab(test, value, DAY, comparator=comparator, uln=uln)
    out = rule.evaluate(record(r), ctx())
    assert out.status is expected
    if expected is Tri.UNKNOWN:
        assert any("uncensored" in m for m in out.missing)


def test_censored_value_is_shown_with_its_comparator() -> None:
    out = HB.evaluate(record(lab("hemoglobin", 10, DAY, comparator="<")), ctx())
    assert "<10 g/dL" in out.summary


def test_unconvertible_unit_is_unknown() -> None:
    from trialsieve.record import LabResult

    r = LabResult("Observation/kg", "hemoglobin", DAY, 12.0, "kg")  # std_value None
    out = HB.evaluate(record(r), ctx())
    assert out.status is Tri.UNKNOWN
    assert out.missing == ("a haemoglobin in a convertible unit",)


def test_egfr_is_context_only_for_the_51cr_gfr() -> None:
    rule = LabThreshold("gfr_51cr", ">=", 50, context=("egfr",))
    out = rule.evaluate(record(lab("egfr", 90, DAY, source="Observation/egfr")), ctx())
    assert out.status is Tri.UNKNOWN
    assert [e.source for e in out.evidence] == ["Observation/egfr"]
    assert "context only" in (out.evidence[0].note or "")


def test_marrow_all_of() -> None:
    marrow = AllOf((HB, LabThreshold("neutrophils", ">=", 1.5),
                    LabThreshold("platelets", ">=", 100)))
    labs = [lab("hemoglobin", 9, DAY), lab("neutrophils", 1.5, DAY, "10*9/L"),
            lab("platelets", 100, DAY)]
    assert marrow.evaluate(record(*labs), ctx()).status is Tri.MET
    assert marrow.evaluate(record(*labs[:2]), ctx()).status is Tri.UNKNOWN
    low = [lab("hemoglobin", 8.9, DAY), *labs[1:2]]  # one fails, one missing
    out = marrow.evaluate(record(*low), ctx())
    assert out.status is Tri.NOT_MET
    assert len(out.bounds) == 2


def test_limit_text_and_describe() -> None:
    assert BILIRUBIN.limit_text() == "<= 2 x ULN"
    assert HB.limit_text() == ">= 9 g/dL"
    assert "28 days before D0" in HB.describe()


def test_dates_are_calendar_days() -> None:
    # D0 on 1 March 2028 (leap year): 28 days before is 2 February.
    d0 = date(2028, 3, 1)
    fresh = lab("hemoglobin", 12, date(2028, 2, 2))
    stale = lab("hemoglobin", 12, date(2028, 2, 1))
    assert HB.evaluate(record(fresh), ctx(d0=d0)).status is Tri.MET
    assert HB.evaluate(record(stale), ctx(d0=d0)).status is Tri.UNKNOWN
