"""Imaging examples 40-49 (examples/patients): the statuses of I3, I4, I13 and E4, and the
verdict, each written by hand from shared/docs/protocol-notes.md, not from the program.

Every example: screening 2026-11-25, inclusion = D0 = 2026-12-01, so the 12-month window
of I3/I13 starts 2025-12-01. The non-imaging facts are those of example 02 (all other
criteria met), without the "refractory disease" attestation, so that I4 is read from the
record (lanreotide since 2024-04-15 and the progression events)."""

from __future__ import annotations

from datetime import date

import pytest
from builders import REPO

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import records
from trialsieve.logic import Tri
from trialsieve.protocols.lumen import LUMEN
from trialsieve.rules.progression_evidence import progressions

EXAMPLES = REPO / "examples" / "patients"
AS_OF = date(2026, 11, 25)
D0 = date(2026, 12, 1)
M, N, U = Tri.MET, Tri.NOT_MET, Tri.UNKNOWN

# file stem -> (I3, I4, I13, E4, verdict)
EXPECTED = {
    # sum 25 -> 30 mm: +20 % and +5 mm over the nadir, both at their bound: PD.
    "40-recist-pd-20-percent-5-mm-at-bound": (M, M, M, N, "eligible"),
    # 20 -> 24 mm: +20 % but +4 mm: no PD; no SSTR pair, no symptom/marker data: I3
    # unknown; the only lesion is not progressive: I13 not met; I4 no progression.
    "41-recist-20-percent-4-mm-no-pd": (U, U, N, N, "not_eligible"),
    # 40 -> 25 (nadir) -> 30 mm: -25 % from baseline but +20 % / +5 mm over the nadir: PD.
    "42-recist-pd-over-nadir-below-baseline": (M, M, M, N, "eligible"),
    # PD on 2025-11-01 (13 months before inclusion), then 31 and 32 mm against the new
    # baseline of 30 mm: no PD within 12 months. I4: that PD followed the SSA: met.
    "43-recist-pd-13-months-ago-then-stable": (U, M, N, N, "not_eligible"),
    # SSTR PET 20 -> 26.1 mm: +30.5 % > 30 %: (b) met; MRI 24 -> 25 mm: L1 not progressive.
    "44-sstr-pet-growth-over-30-percent": (M, M, N, N, "not_eligible"),
    # SSTR PET 20 -> 26 mm: exactly +30 %: not progression (strict bound).
    "45-sstr-pet-growth-exactly-30-percent": (U, U, N, N, "not_eligible"),
    # diarrhoea 4 -> 6/day (+50 %) sustained 19 days, CgA 120 < 180 < 260 ug/L: (c) met.
    "46-clinical-and-biochemical-progression": (M, M, N, N, "not_eligible"),
    # L1, L2 qualify; L3 Krenning 2, L4 19 mm, L5 irradiated fail.
    "47-target-lesions-two-qualify-three-fail": (M, M, M, N, "eligible"),
    # marrow infiltration on the PET, no MRI at all (RECIST on CT): E4 unknown.
    "48-marrow-infiltration-pet-only-no-mri": (M, M, M, U, "incomplete"),
    # marrow infiltration on the PET confirmed on MRI: E4 met.
    "49-marrow-infiltration-pet-and-mri": (M, M, M, M, "not_eligible"),
    # Issue 7 (clinical content). A diarrhoea episode of exactly 14 days is not sustained:
    # clinical not met, so (c) not met though CgA rose twice; MRI 25 -> 26 mm and SSTR PET
    # 25 -> 26 mm decide (a) and (b) not met: I3 not met. No I3 progression: I4 unknown.
    "71-symptom-episode-exactly-14-days-not-sustained": (N, U, N, N, "not_eligible"),
    # stable scans, CgA 260 > 180 > 150: every arm not met.
    "72-stable-scans-falling-markers-no-progression": (N, U, N, N, "not_eligible"),
    # CgA rose twice, no symptom data: (c) unknown; a marker rise alone is no progression
    # for I4 either.
    "73-marker-rise-alone-not-refractory": (U, U, N, N, "not_eligible"),
    # target flag on the first MRI only; after the PD of 2025-11-01 the series restarts
    # with L1 still the target: 30 (nadir) -> 31 -> 38 mm: PD on 2026-11-10.
    "74-recist-restart-keeps-baseline-targets": (M, M, M, N, "eligible"),
}


def _screen(stem: str):
    (rec,) = records(EXAMPLES / f"{stem}.json")
    assert rec.warnings == []
    return rec, screen(LUMEN, rec, Dates.resolve(AS_OF, d0=D0))


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_statuses_and_verdict(stem: str) -> None:
    _, result = _screen(stem)
    i3, i4, i13, e4, verdict = EXPECTED[stem]
    got = tuple(result.result(c).status for c in ("INCL03", "INCL04", "INCL13", "EXCL04"))
    assert got == (i3, i4, i13, e4)
    assert result.verdict == verdict


def test_every_example_file_is_listed() -> None:
    on_disk = {p.stem for p in EXAMPLES.glob("4[0-9]-*.json")}
    assert set(EXPECTED) <= on_disk | {p.stem for p in EXAMPLES.glob("7[1-4]-*.json")}
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{stem}.json`" in readme for stem in EXPECTED)


def test_imaging_example_files_match_their_builder() -> None:
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location(
        "build_imaging_patients", REPO / "examples" / "build_imaging_patients.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # builds the bundles without writing them
    for stem, bundle in module.BUILT.items():
        on_disk = json.loads((EXAMPLES / f"{stem}.json").read_text(encoding="utf-8"))
        assert on_disk == bundle, f"{stem}.json differs from build_imaging_patients.py"


def test_restarted_series_keeps_the_baseline_target() -> None:
    rec, result = _screen("74-recist-restart-keeps-baseline-targets")
    assert [p.date for p in progressions(rec, AS_OF) if p.arm == "a"] == [
        date(2025, 11, 1), date(2026, 11, 10)]
    assert "2026-11-10" in result.result("INCL03").outcome.summary


def test_stable_scans_and_falling_markers_show_each_arm_decided() -> None:
    _, result = _screen("72-stable-scans-falling-markers-no-progression")
    i3 = result.result("INCL03").outcome
    assert i3.missing == ()
    assert "260, 180, 150" in i3.summary


@pytest.mark.parametrize(("stem", "pd_scan", "nadir"), [
    ("40-recist-pd-20-percent-5-mm-at-bound", date(2026, 11, 10), "2026-01-15"),
    ("42-recist-pd-over-nadir-below-baseline", date(2026, 11, 10), "2026-05-12"),
])
def test_recist_pd_evidence_names_the_scans(stem: str, pd_scan: date, nadir: str) -> None:
    _, result = _screen(stem)
    i3 = result.result("INCL03").outcome
    ev = [e for e in i3.evidence if e.what == "RECIST PD on CT/MRI"]
    assert [e.date for e in ev] == [pd_scan]
    assert ev[0].source.startswith("DiagnosticReport/")
    # the nadir scan the growth is measured from is named, with its date
    assert f"nadir 25 mm at {nadir}" in ev[0].value
    assert str(pd_scan) in i3.summary


def test_no_pd_at_plus_4_mm_so_arm_a_is_not_met() -> None:
    rec, result = _screen("41-recist-20-percent-4-mm-no-pd")
    assert [p for p in progressions(rec, AS_OF) if p.arm == "a"] == []
    i3 = result.result("INCL03").outcome
    # (a) is decided (not met), so nothing is missing for it; (b) and (c) are unknown
    assert not any("RECIST" in m for m in i3.missing)
    assert any("SSTR" in m for m in i3.missing)
    assert any("symptom" in m for m in i3.missing)


def test_pd_13_months_ago_restarts_the_series() -> None:
    rec, result = _screen("43-recist-pd-13-months-ago-then-stable")
    assert [p.date for p in progressions(rec, AS_OF) if p.arm == "a"] == [date(2025, 11, 1)]
    i3 = result.result("INCL03").outcome
    assert not any("RECIST" in m for m in i3.missing)
    assert "2025-11-01" in result.result("INCL04").outcome.summary


def test_sstr_progression_evidence() -> None:
    _, result = _screen("44-sstr-pet-growth-over-30-percent")
    i3 = result.result("INCL03").outcome
    assert "+30.5 %" in i3.summary
    assert [e.date for e in i3.evidence] == [date(2026, 11, 13)]


def test_sstr_exactly_30_percent_is_not_progression() -> None:
    rec, result = _screen("45-sstr-pet-growth-exactly-30-percent")
    assert [p for p in progressions(rec, AS_OF) if p.arm == "b"] == []
    assert not any("SSTR" in m for m in result.result("INCL03").outcome.missing)


def test_clinical_and_biochemical_evidence() -> None:
    _, result = _screen("46-clinical-and-biochemical-progression")
    i3 = result.result("INCL03").outcome
    whats = {e.what: e.date for e in i3.evidence}
    assert whats == {"clinical progression": date(2026, 9, 20),
                     "biochemical progression": date(2026, 11, 2)}
    assert "120 (2026-05-04) < 180 (2026-08-03) < 260 (2026-11-02)" in i3.summary


def test_i13_lists_every_qualifying_lesion_and_no_other() -> None:
    _, result = _screen("47-target-lesions-two-qualify-three-fail")
    i13 = result.result("INCL13").outcome
    assert i13.summary == "2 qualifying lesion(s): lesion L1, lesion L2"
    named = {e.what for e in i13.evidence}
    assert {"lesion L1", "lesion L2", "lesion L1 progressive", "lesion L2 progressive"} <= named
    assert not any(w.startswith(("lesion L3", "lesion L4", "lesion L5")) for w in named)
    # the qualifying lesions' measurements are shown
    values = {e.what: e.value for e in i13.evidence}
    assert values["lesion L1"] == "Krenning 3, transaxial 36.0 mm"
    assert values["lesion L2"] == "Krenning 4, transaxial 29.0 mm"


def test_e4_evidence() -> None:
    _, unknown = _screen("48-marrow-infiltration-pet-only-no-mri")
    e4 = unknown.result("EXCL04").outcome
    assert e4.missing and "MRI" in e4.missing[0]
    _, met = _screen("49-marrow-infiltration-pet-and-mri")
    e4 = met.result("EXCL04").outcome
    assert [(e.source, e.value) for e in e4.evidence] == [
        ("DiagnosticReport/ex49-pet", "yes"),
        ("DiagnosticReport/ex49-mri-2", "yes (abdomen, spine)")]  # the MRI covers the spine
