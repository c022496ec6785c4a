"""Property-based tests of the RECIST calculator (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st
from recist_helpers import node, scan, target

from trialsieve.clinical.recist import Response, Scan, assess, timepoints_to_json

ORGANS = ("liver", "lung", "kidney", "bone", "spleen")


@st.composite
def series(draw, nodes: bool = False) -> list[Scan]:
    """2-5 scans of 1-5 targets with whole-mm diameters (exact in floats).

    Baseline diameters are 10-150 mm; follow-ups 0-200 mm (0 = gone).
    With ``nodes`` some targets are lymph nodes (short axis).
    """
    n_targets = draw(st.integers(1, 5))
    n_scans = draw(st.integers(2, 5))
    kinds = [draw(st.booleans()) if nodes else False for _ in range(n_targets)]
    scans = []
    for index in range(n_scans):
        low = 10 if index == 0 else 0
        sizes = draw(st.lists(st.integers(low, 200), min_size=n_targets, max_size=n_targets))
        lesions = [
            node(f"T{i}", float(mm)) if is_node else target(f"T{i}", float(mm), ORGANS[i])
            for i, (mm, is_node) in enumerate(zip(sizes, kinds, strict=True))
        ]
        scans.append(scan(index, *lesions))
    return scans


def _scaled(scans: list[Scan], factor: int) -> list[Scan]:
    return [
        replace(
            s,
            lesions=tuple(
                replace(lesion, longest_diameter_mm=lesion.longest_diameter_mm * factor)
                for lesion in s.lesions
            ),
        )
        for s in scans
    ]


def _absolute_rule_decides(points) -> bool:
    """True when some time point is >= +20 % over its nadir but < +5 mm."""
    for point in points[1:]:
        total, nadir = Fraction(point.sum_mm), Fraction(point.nadir_mm)
        if total >= nadir * Fraction(6, 5) and total - nadir < 5:
            return True
    return False


@given(series(), st.integers(1, 4))
def test_scaling_diameters_keeps_target_responses(scans, factor):
    """Property: for non-nodal targets without the 5 mm "too small" default,
    multiplying every diameter by a whole factor c >= 1 leaves every target
    response unchanged, provided no time point of the original series is
    >= +20 % over its nadir with < +5 mm (the only place where an absolute
    threshold decides: +20 % with >= 5 mm stays >= 5c mm >= 5 mm after
    scaling, and every other rule compares ratios or zero).
    """
    original = assess(scans)
    assume(not _absolute_rule_decides(original))
    scaled = assess(_scaled(scans, factor))
    assert [p.target for p in scaled] == [p.target for p in original]


@given(series(nodes=True), st.data())
def test_enlarging_a_target_never_turns_pd_into_non_pd(scans, data):
    """Property: if a follow-up's target (and overall) response is PD,
    enlarging one of its target lesions by any amount keeps it PD."""
    index = data.draw(st.integers(1, len(scans) - 1))
    before = assess(scans)[index]
    assume(before.target is Response.PD)
    grown = data.draw(st.integers(1, 100))
    chosen = data.draw(st.sampled_from(scans[index].lesions))
    if chosen.nodal:
        bigger = replace(chosen, short_axis_mm=chosen.short_axis_mm + grown)
    else:
        bigger = replace(chosen, longest_diameter_mm=chosen.longest_diameter_mm + grown)
    lesions = tuple(bigger if les is chosen else les for les in scans[index].lesions)
    changed = [*scans[:index], replace(scans[index], lesions=lesions), *scans[index + 1 :]]
    after = assess(changed)[index]
    assert after.target is Response.PD
    assert after.overall is Response.PD


@given(series(nodes=True), st.booleans())
def test_nadir_never_exceeds_baseline_sum(scans, restart):
    """Property: the nadir before each follow-up is at most the baseline sum
    of its series, and (without restarts) it is the smallest earlier sum."""
    points = assess(scans, restart_after_pd=restart)
    for index, point in enumerate(points[1:], start=1):
        assert point.nadir_mm <= point.baseline_sum_mm
        if not restart:
            assert point.nadir_mm == min(p.sum_mm for p in points[:index])


@given(series(nodes=True), st.randoms(use_true_random=False))
def test_lesion_and_scan_order_do_not_matter(scans, rnd: random.Random):
    shuffled = [replace(s, lesions=tuple(rnd.sample(s.lesions, len(s.lesions)))) for s in scans]
    rnd.shuffle(shuffled)
    assert timepoints_to_json(assess(shuffled)) == timepoints_to_json(assess(scans))
