"""I3 can be not met, and I4 reads only I3's own progressions (issue 7, clinical content).
Expected statuses worked out by hand from shared/docs/protocol-notes.md (I3, I4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import ctx, drug, lab, record

from trialsieve.logic import Tri
from trialsieve.record import LabResult, Lesion, PatientRecord, Study, Symptom
from trialsieve.rules.disease import Refractory
from trialsieve.rules.imaging_criteria import ProgressionWithin

# Inclusion 2026-03-15: the 12 months start 2025-03-15.
C = ctx(d0=date(2026, 3, 15), as_of=date(2026, 3, 10))


def day(n: int) -> date:
    """Day n of the 12 months (day 0 = 2025-03-15)."""
    return date(2025, 3, 15) + timedelta(days=n)


def mri(sid: str, when: date, mm: float | None) -> Study:
    src = f"DiagnosticReport/{sid}"
    return Study(src, when, "MRI", None, (Lesion(f"Observation/{sid}-L1", src, "L1", "liver",
                                                 longest_mm=mm, target=True),))


def pet(sid: str, when: date, mm: float | None) -> Study:
    src = f"DiagnosticReport/{sid}"
    return Study(src, when, "SSTR_PET", None, (Lesion(f"Observation/{sid}-L1", src, "L1",
                                                      "liver", transaxial_mm=mm, krenning=3),))


STABLE_IMAGING = [mri("m1", day(10), 30), mri("m2", day(200), 31),
                  pet("p1", day(12), 30), pet("p2", day(205), 31)]


def cga(*points: tuple[int, float]) -> list[LabResult]:
    return [lab("chromogranin_a", v, day(n)) for n, v in points]


def diarrhoea(*points: tuple[int, float]) -> list[Symptom]:
    return [Symptom(f"Observation/s{n}", "diarrhoea", day(n), frequency=f) for n, f in points]


def rec(*facts) -> PatientRecord:
    r = record()
    for f in facts:
        {Study: r.imaging, Symptom: r.symptoms}.get(type(f), r.labs).append(f)
    return r


def i3(r: PatientRecord):
    return ProgressionWithin().evaluate(r, C)


# --- I3 not met: each arm decided by the record ---------------------------------------

def test_stable_scans_and_falling_markers_make_i3_not_met():
    r = rec(*STABLE_IMAGING, *cga((20, 200), (110, 150), (220, 120)))
    out = i3(r)
    assert out.status is Tri.NOT_MET
    assert out.missing == ()


def test_a_symptom_rise_of_exactly_14_days_that_ended_is_not_clinical_progression():
    # 4/day, raised to 6/day on day 100, still 6 on day 114 (14 days), back to 4 on day 130;
    # CgA rose twice: biochemical met, clinical not met -> (c) not met; (a), (b) not met.
    r = rec(*STABLE_IMAGING, *diarrhoea((5, 4), (100, 6), (114, 6), (130, 4)),
            *cga((20, 100), (110, 150), (220, 210)))
    out = i3(r)
    assert out.status is Tri.NOT_MET
    # 15 days is sustained: (c) met
    r15 = rec(*STABLE_IMAGING, *diarrhoea((5, 4), (100, 6), (115, 6), (130, 4)),
              *cga((20, 100), (110, 150), (220, 210)))
    assert i3(r15).status is Tri.MET


def test_no_scans_leave_arm_a_unknown_even_when_c_is_not_met():
    r = rec(pet("p1", day(12), 30), pet("p2", day(205), 31),
            *cga((20, 200), (110, 150), (220, 120)))
    out = i3(r)
    assert out.status is Tri.UNKNOWN
    assert any("RECIST" in m for m in out.missing)


def test_a_follow_up_with_an_unmeasured_target_leaves_arm_a_unknown():
    r = rec(mri("m1", day(10), 30), mri("m2", day(200), None), pet("p1", day(12), 30),
            pet("p2", day(205), 31), *cga((20, 200), (110, 150), (220, 120)))
    assert i3(r).status is Tri.UNKNOWN


def test_no_marker_and_no_symptom_leave_c_unknown():
    out = i3(rec(*STABLE_IMAGING))
    assert out.status is Tri.UNKNOWN
    assert any("NET marker" in m for m in out.missing)


def test_scans_older_than_12_months_do_not_decide_arm_a():
    old = [mri("m1", day(-300), 30), mri("m2", day(-10), 31), pet("p1", day(12), 30),
           pet("p2", day(205), 31)]
    assert i3(rec(*old, *cga((20, 200), (110, 150), (220, 120)))).status is Tri.UNKNOWN


def test_an_unreadable_newest_marker_is_not_skipped():
    # 100 < 150 then a newest CgA that cannot be read: it might be the second rise.
    bad = LabResult("Observation/cga-bad", "chromogranin_a", day(220), 5.0, "kat", None,
                    problem="valueQuantity.code: unit kat cannot be converted")
    r = rec(*STABLE_IMAGING, *diarrhoea((5, 4), (100, 8), (130, 8)),
            *cga((20, 100), (110, 150)), bad)
    out = i3(r)
    assert out.status is Tri.UNKNOWN
    assert "Observation/cga-bad" in {i.source for i in out.ignored}


# --- I4: a progression is one by I3's definitions -------------------------------------

SSA = drug("ssa", day(-400), name="lanreotide", start=day(-700), form="long")


@pytest.mark.parametrize("facts", [
    cga((20, 100), (110, 150), (220, 210)),  # a biochemical rise alone
    diarrhoea((5, 4), (100, 6), (130, 6)),  # a sustained symptom rise alone
])
def test_a_marker_or_symptom_rise_alone_is_not_a_progression_for_i4(facts):
    r = rec(*facts)
    r.exposures.append(SSA)
    assert Refractory().evaluate(r, C).status is Tri.UNKNOWN


def test_clinical_and_biochemical_together_at_any_date_is_a_progression_for_i4():
    # both two years ago, within 12 months of each other: refractoriness is history
    r = rec(*diarrhoea((-700, 4), (-600, 6), (-580, 6)),
            *cga((-690, 100), (-640, 150), (-590, 210)))
    r.exposures.append(drug("ssa", day(-400), name="lanreotide", start=day(-800)))
    out = Refractory().evaluate(r, C)
    assert out.status is Tri.MET
    assert str(day(-580)) in out.summary  # dated at the later of the two parts


# --- I3 (a): after a PD the series restarts with the same targets -----------------------

def _unflagged_mri(sid: str, when: date, mm: float) -> Study:
    src = f"DiagnosticReport/{sid}"
    return Study(src, when, "MRI", None, (Lesion(f"Observation/{sid}-L1", src, "L1", "liver",
                                                 longest_mm=mm),))


def test_targets_flagged_at_baseline_only_still_count_after_a_restart():
    # L1 flagged target on the baseline only: 20 mm, PD at 30 mm before the 12 months; the
    # series restarts there (nadir 30 mm), then 31 mm, then 37 mm: +23.3 % and +7 mm over
    # the new nadir -> PD within the 12 months.
    r = rec(mri("m1", day(-500), 20), _unflagged_mri("m2", day(-30), 30),
            _unflagged_mri("m3", day(100), 31), _unflagged_mri("m4", day(300), 37))
    out = i3(r)
    assert out.status is Tri.MET
    assert str(day(300)) in out.summary


def test_flags_on_the_new_baseline_scan_reselect_the_targets():
    # On the PD scan the reader flagged L2 (not L1) as the new target: L1's growth after
    # it no longer counts, L2 stable -> no PD within the 12 months.
    def scan(sid, when, l1, l2, flag2=None, flag1=None):
        src = f"DiagnosticReport/{sid}"
        return Study(src, when, "MRI", None, (
            Lesion(f"Observation/{sid}-L1", src, "L1", "liver", longest_mm=l1,
                   target=bool(flag1)),
            Lesion(f"Observation/{sid}-L2", src, "L2", "lung", longest_mm=l2,
                   target=bool(flag2), nontarget_status=None if flag2 else "present")))
    r = rec(scan("m1", day(-500), 20, 15, flag1=True, flag2=False),
            scan("m2", day(-30), 30, 15, flag2=True),
            scan("m3", day(300), 40, 15))
    out = ProgressionWithin().evaluate(r, C)
    # (a) decided not met by the SD follow-up; (b), (c) have no data
    assert out.status is Tri.UNKNOWN
    assert not any("RECIST" in m for m in out.missing)
