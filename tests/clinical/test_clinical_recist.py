"""RECIST 1.1 calculator: expected values worked out by hand in the comments."""

from __future__ import annotations

import json
from datetime import date

import pytest
from recist_helpers import new, node, nontarget, scan, single_target_series, target

from trialsieve.clinical.recist import (
    LesionCategory,
    LesionMeasurement,
    Response,
    Scan,
    assess,
    check_target_set,
    format_table,
    is_measurable,
    lesion_diameter,
    lesion_progression,
    progression_events,
    sum_of_diameters,
    timepoints_to_json,
)

# ---------------------------------------------------------------- measurability


@pytest.mark.parametrize(
    ("mm", "slice_mm", "measurable"),
    [
        (10.0, 5.0, True),  # 10 mm on a 5 mm slice: the minimum itself
        (9.9, 5.0, False),
        (10.0, 2.5, True),
        # Slice not recorded (notes, I13: "With the slice thickness not recorded, a lesion
        # of 10-19 mm has unknown measurability ...; one of 20 mm or more is measurable"):
        (10.0, None, None),
        (19.9, None, None),
        (20.0, None, True),
        (9.9, None, False),
        (16.0, 8.0, True),  # thicker slice: twice the slice, 2 x 8 = 16
        (15.9, 8.0, False),
        (12.0, 6.0, True),  # 2 x 6 = 12
        (11.9, 6.0, False),
        (10.0, 6.0, False),  # 10 mm is not enough on a 6 mm slice
    ],
)
def test_non_nodal_measurability(mm, slice_mm, measurable):
    result = is_measurable(target("L1", mm), slice_mm)
    assert result.measurable is measurable
    assert result.reason


@pytest.mark.parametrize(
    ("mm", "category"),
    [
        (15.0, LesionCategory.MEASURABLE),
        (14.9, LesionCategory.PATHOLOGICAL_NODE),
        (10.0, LesionCategory.PATHOLOGICAL_NODE),
        (9.9, LesionCategory.NORMAL_NODE),
    ],
)
def test_node_measurability_uses_short_axis(mm, category):
    lesion = LesionMeasurement("N1", "hilum", nodal=True, longest_diameter_mm=40, short_axis_mm=mm)
    result = is_measurable(lesion, 5.0)
    assert result.category is category
    assert result.measurable is (category is LesionCategory.MEASURABLE)


def test_lesion_without_diameter_is_not_measurable():
    assert not is_measurable(target("L1", None), 5.0).measurable


# ----------------------------------------------------------------- target set


def test_valid_target_set_has_no_messages():
    # 2 liver + 2 nodes in two stations + 1 lung = 5 targets, 2 per organ.
    baseline = scan(
        0,
        target("L1", 20),
        target("L2", 20),
        node("N1", 16, "mediastinum"),
        node("N2", 16, "retroperitoneum"),
        target("P1", 12, "lung"),
    )
    assert check_target_set(baseline) == []


def test_six_targets_are_too_many():
    baseline = scan(
        0,
        target("L1", 20, "liver"),
        target("L2", 20, "liver"),
        target("P1", 20, "lung"),
        target("P2", 20, "lung"),
        target("K1", 20, "kidney"),
        target("B1", 20, "bone"),
    )
    messages = check_target_set(baseline)
    assert len(messages) == 1
    assert "6 target lesions" in messages[0] and "at most 5" in messages[0]


def test_three_targets_in_one_organ():
    baseline = scan(0, target("L1", 20), target("L2", 20), target("L3", 20, "Liver "))
    messages = check_target_set(baseline)
    assert len(messages) == 1
    assert "3 target lesions in liver (L1, L2, L3)" in messages[0]


def test_nodes_in_different_stations_count_as_one_organ():
    baseline = scan(
        0,
        node("N1", 16, "mediastinum"),
        node("N2", 17, "retroperitoneum"),
        node("N3", 18, "axilla"),
    )
    messages = check_target_set(baseline)
    assert len(messages) == 1
    assert "3 target lesions in lymph node" in messages[0]
    assert "all lymph nodes count as one organ" in messages[0]


def test_non_measurable_target_is_reported():
    baseline = scan(0, target("L1", 8), node("N1", 12))
    messages = check_target_set(baseline)
    assert len(messages) == 2
    assert any("target L1 is not measurable" in m for m in messages)
    assert any("target N1 is not measurable" in m for m in messages)


# ---------------------------------------------------------------- sum conventions


def test_sum_uses_longest_diameter_and_node_short_axis():
    s = scan(0, target("L1", 32), LesionMeasurement("N1", "neck", True, 30, 18, target=True))
    assert sum_of_diameters(s).total == 50  # 32 + short axis 18 (not the 30 mm long axis)


def test_too_small_counts_5_mm_and_disappeared_0_mm():
    assert lesion_diameter(target("L1", None, too_small=True)) == 5
    assert lesion_diameter(node("N1", None, too_small=True)) == 5
    assert lesion_diameter(target("L1", 12, disappeared=True)) == 0
    # A lesion that could be measured keeps its measurement (EORTC Q&A).
    assert lesion_diameter(target("L1", 3, too_small=True)) == 3


def test_split_lesion_counts_sum_of_parts():
    lesion = target("L1", None, split_parts_mm=(12.0, 8.5))
    assert lesion_diameter(lesion) == 20.5


def test_merged_lesions_one_carries_the_diameter_the_others_zero():
    # Baseline L1 20 + L2 15 = 35; they merge into L1 measuring 30: sum 30.
    baseline = scan(0, target("L1", 20), target("L2", 15))
    merged = scan(1, target("L1", 30), target("L2", None, merged_into="L1"))
    assert sum_of_diameters(merged, ("L1", "L2")).total == 30
    points = assess([baseline, merged])
    assert points[1].sum_mm == 30
    assert points[1].target is Response.SD  # -14.3 %


def test_split_lesion_in_a_series():
    # L1 40 at baseline splits into 15 + 12 = 27: -32.5 % -> PR.
    points = assess(
        [scan(0, target("L1", 40)), scan(1, target("L1", None, split_parts_mm=(15, 12)))]
    )
    assert points[1].sum_mm == 27
    assert points[1].target is Response.PR


# ---------------------------------------------------------------- boundaries


def test_plus_20_percent_and_5_mm_is_pd():
    # nadir 25 -> 30: +20 % exactly and +5 mm exactly.
    points = assess(single_target_series(25, 30))
    assert points[1].target is Response.PD
    assert points[1].change_from_nadir_pct == pytest.approx(20.0)


def test_plus_19_9_percent_is_not_pd():
    # nadir 100 -> 119.9: +19.9 % (and +19.9 mm): SD.
    assert assess(single_target_series(100, 119.9))[1].target is Response.SD


def test_plus_20_percent_with_only_4_mm_is_not_pd():
    # nadir 20 -> 24: +20 % but +4 mm: SD.
    assert assess(single_target_series(20, 24))[1].target is Response.SD


def test_exact_20_percent_on_decimal_sums_is_pd():
    # 10.1 + 17.0 = 27.1; 12.12 + 20.4 = 32.52 = 27.1 x 1.2 exactly (+5.42 mm).
    # In binary floats 12.12 + 20.4 = 32.519999999999996 < 27.1 * 1.2, so a
    # naive float comparison would call this SD.
    baseline = scan(0, target("L1", 10.1), target("P1", 17.0, "lung"))
    follow = scan(1, target("L1", 12.12), target("P1", 20.4, "lung"))
    assert 12.12 + 20.4 < (10.1 + 17.0) * 1.2  # the float pitfall this test guards
    assert assess([baseline, follow])[1].target is Response.PD


def test_growth_is_measured_from_the_nadir_not_the_baseline():
    # 100 -> 50 (PR) -> 60: still 40 % below baseline, but +20 % and +10 mm
    # over the nadir of 50: PD.
    points = assess(single_target_series(100, 50, 60))
    assert [p.target for p in points[1:]] == [Response.PR, Response.PD]
    assert points[2].nadir_mm == 50
    assert points[2].change_from_baseline_pct == pytest.approx(-40.0)
    assert points[2].change_from_nadir_mm == 10


def test_minus_30_percent_from_baseline_is_pr():
    assert assess(single_target_series(100, 70))[1].target is Response.PR


def test_minus_29_9_percent_is_sd():
    assert assess(single_target_series(100, 70.1))[1].target is Response.SD


def test_pr_is_judged_against_baseline_not_nadir():
    # 100 -> 80 (SD) -> 71: -11 % from the nadir 80 but -29 % from baseline: SD;
    # then 70: -30 % from baseline: PR.
    points = assess(single_target_series(100, 80, 71, 70))
    assert [p.target for p in points[1:]] == [Response.SD, Response.SD, Response.PR]


# ---------------------------------------------------------------- CR, NE, PD variants


def test_cr_needs_non_nodal_gone_and_nodes_below_10_mm():
    baseline = scan(0, target("L1", 30), node("N1", 20))
    cr = scan(1, target("L1", None, disappeared=True), node("N1", 9.9))
    not_cr = scan(1, target("L1", None, disappeared=True), node("N1", 10))
    assert assess([baseline, cr])[1].target is Response.CR
    assert assess([baseline, cr])[1].sum_mm == 9.9  # node keeps its short axis
    assert assess([baseline, not_cr])[1].target is Response.PR  # 10 vs 50: -80 %


def test_unmeasured_target_gives_ne():
    baseline = scan(0, target("L1", 30), target("P1", 20, "lung"))
    follow = scan(1, target("L1", 30))  # P1 not measured
    point = assess([baseline, follow])[1]
    assert point.target is Response.NE
    assert point.overall is Response.NE
    assert point.sum_mm is None


def test_unmeasured_target_still_pd_when_the_rest_already_is():
    # Eisenhauer 2009: baseline 50 over three lesions, two measured at 80: PD.
    baseline = scan(0, target("L1", 20), target("P1", 20, "lung"), target("K1", 10, "kidney"))
    follow = scan(1, target("L1", 40), target("P1", 40, "lung"))
    point = assess([baseline, follow])[1]
    assert point.target is Response.PD
    assert "K1" in point.reasons[0]


def test_reappearance_after_overall_cr_is_pd():
    # 20 -> 0 (CR) -> 4 mm: only +4 mm over the nadir of 0, but the lesion
    # reappeared after a complete response (EORTC Q&A): PD.
    baseline = scan(0, target("L1", 20))
    gone = scan(1, target("L1", None, disappeared=True))
    back = scan(2, target("L1", 4))
    assert [p.target for p in assess([baseline, gone, back])[1:]] == [Response.CR, Response.PD]


def test_new_lesion_gives_overall_pd_with_reason():
    baseline = scan(0, target("L1", 30), nontarget("B1"))
    follow = scan(1, target("L1", 20), nontarget("B1"), new("L9"))
    point = assess([baseline, follow])[1]
    assert point.target is Response.PR
    assert point.new_lesions == ("L9",)
    assert point.overall is Response.PD
    assert "new lesion L9" in point.reasons


def test_nontarget_responses():
    baseline = scan(0, target("L1", 30), nontarget("B1"), nontarget("B2"))
    absent = scan(1, target("L1", 30), nontarget("B1", "absent"), nontarget("B2", "absent"))
    one_present = scan(1, target("L1", 30), nontarget("B1", "absent"), nontarget("B2"))
    missing = scan(1, target("L1", 30), nontarget("B1"))
    progressed = scan(
        1, target("L1", 30), nontarget("B1"), nontarget("B2", "unequivocal_progression")
    )
    cases = [
        (absent, Response.CR),
        (one_present, Response.NON_CR_NON_PD),
        (missing, Response.NE),
        (progressed, Response.PD),
    ]
    for follow, expected in cases:
        point = assess([baseline, follow])[1]
        assert point.nontarget is expected
    point = assess([baseline, progressed])[1]
    assert point.overall is Response.PD
    assert "unequivocal progression of non-target B2" in point.reasons


def test_nontarget_only_disease_uses_the_second_table():
    baseline = scan(0, nontarget("B1"))
    follow = scan(1, nontarget("B1"))
    point = assess([baseline, follow])[1]
    assert point.target is Response.NA
    assert point.overall is Response.NON_CR_NON_PD
    assert point.sum_mm is None


# ---------------------------------------------------------------- series and events


def test_assess_example_series_changes():
    # 90 -> 70 -> 39 -> 49 (see tests/clinical/data/recist_example.csv).
    points = assess(single_target_series(90, 70, 39, 49))
    assert [p.nadir_mm for p in points] == [None, 90, 70, 39]
    assert points[1].change_from_baseline_mm == -20
    assert points[1].change_from_baseline_pct == pytest.approx(-200 / 9)
    assert points[3].change_from_nadir_mm == 10
    assert points[3].change_from_nadir_pct == pytest.approx(1000 / 39)
    assert [p.target for p in points[1:]] == [Response.SD, Response.PR, Response.PD]


def test_baseline_is_the_first_scan_by_date():
    scans = single_target_series(50, 60)
    assert assess(list(reversed(scans)))[0].sum_mm == 50


def test_progression_events_restart_after_pd():
    # 50 -> 60 PD (+20 %, +10 mm); restart at 60: 65 is +8.3 % (SD);
    # 72 is +20 % and +12 mm over 60: PD again.
    scans = single_target_series(50, 60, 65, 72)
    events = progression_events(scans)
    assert [e.date for e in events] == [scans[1].date, scans[3].date]
    assert events[0].reasons == (f"sum +20.0 % and +10 mm over nadir 50 mm at {scans[0].date}",)
    assert events[1].baseline_date == scans[1].date
    assert events[1].nadir_mm == 60
    # Without the restart 65 would be PD against the nadir of 50.
    assert assess(scans)[2].target is Response.PD
    restarted = assess(scans, restart_after_pd=True)
    assert restarted[2].target is Response.SD
    assert restarted[1].restarts_series


def test_progression_event_reasons_for_new_and_nontarget():
    baseline = scan(0, target("L1", 30), nontarget("B1"))
    follow = scan(1, target("L1", 30), nontarget("B1", "unequivocal_progression"), new("L3"))
    (event,) = progression_events([baseline, follow])
    assert set(event.reasons) == {"new lesion L3", "unequivocal progression of non-target B1"}


def test_new_lesion_is_part_of_the_new_baseline_after_restart():
    baseline = scan(0, target("L1", 30))
    first = scan(1, target("L1", 30), new("L3"))
    again = scan(2, target("L1", 30), new("L3"))  # still flagged, but on the new baseline
    assert [e.date for e in progression_events([baseline, first, again])] == [first.date]


# ---------------------------------------------------------------- lesion-level (I13)


def test_lesion_progression_needs_20_percent_and_5_mm():
    # 20 -> 24: +20 % but +4 mm: not yet; 26: +30 % and +6 mm over 20: progressive.
    scans = single_target_series(20, 24, 26)
    found = lesion_progression(scans, "L1")
    assert found is not None and found.kind == "growth"
    assert found.later_scan is scans[2]
    assert found.earlier_scan is scans[0]
    assert (found.earlier_mm, found.later_mm) == (20, 26)
    assert lesion_progression(scans[:2], "L1") is None


def test_lesion_progression_compares_with_the_smallest_earlier_value():
    # 30, 20, 25: 25 vs 20 is +25 % and +5 mm.
    scans = single_target_series(30, 20, 25)
    found = lesion_progression(scans, "L1")
    assert found is not None and found.earlier_scan is scans[1]


def test_lesion_progression_of_a_node_uses_short_axis():
    scans = [scan(0, node("N1", 16)), scan(1, node("N1", 21))]  # +31 %, +5 mm
    assert lesion_progression(scans, "N1") is not None


def test_new_lesion_is_progressive():
    scans = [scan(0, target("L1", 30)), scan(1, target("L1", 30), new("L3"))]
    found = lesion_progression(scans, "L3")
    assert found is not None and found.kind == "new" and found.earlier_scan is None
    assert lesion_progression(scans, "L1") is None


# ---------------------------------------------------------------- output


def test_format_table_fits_80_columns():
    baseline = scan(0, target("L1", 100), nontarget("B1"))
    follow = [scan(i, target("L1", mm), nontarget("B1")) for i, mm in [(1, 1000.5), (2, 0.5)]]
    text = format_table(assess([baseline, *follow]))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[1].startswith("2025-01-01") and "baseline" in lines[1]
    assert "+900.5 (+900.5%)" in lines[2]
    assert "NN" in lines[2] and "PD" in lines[2]


def test_timepoints_to_json():
    data = timepoints_to_json(assess(single_target_series(25, 30)))
    assert data[0]["is_baseline"] is True
    assert data[1]["date"] == "2025-04-01"
    assert data[1]["target"] == "PD"
    assert data[1]["overall"] == "PD"
    assert data[1]["nadir_mm"] == 25
    assert data[1]["change_from_nadir_mm"] == 5


def test_unmeasured_baseline_target_makes_follow_ups_not_evaluable():
    baseline = scan(0, target("L1", 30), target("P1", None, "lung"))
    points = assess([baseline, scan(1, target("L1", 30), target("P1", 20, "lung"))])
    assert points[0].sum_mm is None
    assert "baseline targets not measured: P1" in points[0].notes
    assert (points[1].target, points[1].nadir_mm) == (Response.NE, None)


def test_modality_change_is_noted():
    points = assess([scan(0, target("L1", 30)), scan(1, target("L1", 30), modality="MRI")])
    assert points[1].notes == ("modality MRI differs from baseline CT",)


def test_invalid_inputs_are_rejected():
    with pytest.raises(ValueError):
        LesionMeasurement("L1", "liver", nontarget_status="bigger")
    with pytest.raises(ValueError):
        target("L1", -1)
    with pytest.raises(ValueError):
        Scan(date(2025, 1, 1), "CT", (target("L1", 10), target("L1", 11)))


def test_smallest_positive_diameter_does_not_overflow():
    # Issue 17 item 9: 20 mm, then 4.9e-324 mm (the smallest float: PR, the nadir), then
    # 10 mm. The change over the nadir is +10 mm and far above +20 %, so PD (and a
    # progressive lesion); the percentage is beyond any float, so it is not shown as a
    # number, and nothing raises.
    scans = single_target_series(20, 4.9e-324, 10)
    points = assess(scans)
    assert [p.target for p in points[1:]] == [Response.PR, Response.PD]
    assert points[2].change_from_nadir_pct is None
    assert any("+10 mm" in r for r in points[2].reasons)
    found = lesion_progression(scans, "L1")
    assert found is not None and found.kind == "growth"
    assert "+10 mm" in found.reason
    json.dumps(timepoints_to_json(points), allow_nan=False)
