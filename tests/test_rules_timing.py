"""Time-bounded rules: EventWithin (E2, E3), SsaWashout (I5), AgeAtLeast (I1), ECOG (I9).

A time limit is met at its exact bound, in the patient's favour (protocol notes).
Each rule exposes the date at which it changes, as a Bound.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import AS_OF, answer, ctx, drug, record, surgery

from trialsieve.logic import Tri
from trialsieve.record import Ecog, ProcedureRecord
from trialsieve.rules.base import PRE_SCREENING, SCREENING, Bound
from trialsieve.rules.patient import AgeAtLeast, EcogAtMost
from trialsieve.rules.timing import EventWithin, SsaWashout

INCLUSION = date(2026, 12, 1)
E2 = EventWithin("major surgery", 42, "recent-major-surgery")
E3 = EventWithin("anticancer therapy", 84, "recent-anticancer-therapy")


def before(n: int, ref: date = INCLUSION) -> date:
    return ref - timedelta(days=n)


def on_inclusion(rule, *facts, policy: str = SCREENING):
    return rule.evaluate(record(*facts), ctx(d0=INCLUSION, policy=policy))


# --- E2: major surgery within 42 days before inclusion --------------------------------
def test_surgery_42_days_before_inclusion_does_not_exclude() -> None:
    out = on_inclusion(E2, surgery(before(42)))
    assert out.status is Tri.NOT_MET
    assert out.bounds == (Bound("inclusion", "from", INCLUSION, out.bounds[0].reason,
                                "Procedure/s1"),)


def test_surgery_41_days_before_inclusion_excludes() -> None:
    out = on_inclusion(E2, surgery(before(41)))
    assert out.status is Tri.MET
    assert [e.source for e in out.evidence] == ["Procedure/s1"]
    assert out.bounds[0].date == INCLUSION + timedelta(days=1)  # eligible one day later


def test_surgery_bound_date() -> None:
    out = on_inclusion(E2, surgery(date(2026, 11, 10)))
    assert [(b.on, b.side, b.date) for b in out.bounds] == [
        ("inclusion", "from", date(2026, 12, 22))]


def test_minor_surgery_does_not_count() -> None:
    out = on_inclusion(E2, surgery(before(5), major=False))
    assert out.status is Tri.UNKNOWN  # no major surgery on record: absence is not evidence


def test_surgery_of_unknown_extent_is_unknown() -> None:
    out = on_inclusion(E2, surgery(before(5), major=None))
    assert out.status is Tri.UNKNOWN
    assert any("major surgery" in m for m in out.missing)
    # ...but one that is old enough no longer matters.
    assert on_inclusion(E2, surgery(before(60), major=None)).status is Tri.NOT_MET


def test_surgery_without_date_is_unknown() -> None:
    out = on_inclusion(E2, surgery(None))
    assert out.status is Tri.UNKNOWN
    assert any("date" in m for m in out.missing)


def test_surgery_after_a_past_inclusion_is_set_aside() -> None:
    # Screening after the inclusion date: an operation recorded after it does not count.
    later = ctx(d0=INCLUSION, as_of=INCLUSION + timedelta(days=10))
    out = E2.evaluate(record(surgery(INCLUSION + timedelta(days=1))), later)
    assert out.status is Tri.NOT_MET
    assert [i.source for i in out.ignored] == ["Procedure/s1"]


# --- E3: anticancer therapy within 84 days before inclusion ---------------------------
def test_chemotherapy_84_days_before_inclusion_does_not_exclude() -> None:
    out = on_inclusion(E3, drug("chemotherapy", before(84)))
    assert out.status is Tri.NOT_MET
    assert out.bounds[0].date == INCLUSION


def test_chemotherapy_83_days_before_inclusion_excludes() -> None:
    out = on_inclusion(E3, drug("chemotherapy", before(83)))
    assert out.status is Tri.MET
    assert out.bounds[0] == Bound("inclusion", "from", INCLUSION + timedelta(days=1),
                                  out.bounds[0].reason, "MedicationAdministration/m1")


def test_last_dose_of_a_course_counts() -> None:
    course = drug("mtor", before(84), start=before(400), name="everolimus")
    assert on_inclusion(E3, course).status is Tri.NOT_MET
    course = drug("mtor", before(83), start=before(400), name="everolimus")
    assert on_inclusion(E3, course).status is Tri.MET


def test_ongoing_therapy_excludes() -> None:
    ongoing = drug("tki", None, start=before(200), name="sunitinib", status="active")
    out = on_inclusion(E3, ongoing)
    assert out.status is Tri.MET


@pytest.mark.parametrize("kind", ["radiotherapy", "radionuclide", "embolisation"])
def test_sessions_count(kind: str) -> None:
    p = ProcedureRecord("Procedure/rt", kind, kind, before(83))
    assert on_inclusion(E3, p).status is Tri.MET
    p = ProcedureRecord("Procedure/rt", kind, kind, before(84))
    assert on_inclusion(E3, p).status is Tri.NOT_MET


def test_an_ssa_is_not_an_e3_therapy() -> None:
    ssa = drug("ssa", before(1), name="octreotide LAR", form="long")
    assert on_inclusion(E3, ssa, policy=PRE_SCREENING).status is Tri.NOT_MET


# --- absence of a record: the policy decides ------------------------------------------
@pytest.mark.parametrize("rule", [E2, E3])
def test_no_record_under_screening_is_unknown(rule: EventWithin) -> None:
    out = on_inclusion(rule, policy=SCREENING)
    assert out.status is Tri.UNKNOWN
    assert out.missing and "attestation of none" in out.missing[0]
    assert out.assumptions == ()


@pytest.mark.parametrize("rule", [E2, E3])
def test_no_record_under_pre_screening_is_assumed_absent(rule: EventWithin) -> None:
    out = on_inclusion(rule, policy=PRE_SCREENING)
    assert out.status is Tri.NOT_MET
    assert out.missing == ()
    assert out.assumptions and "assumed absent" in out.assumptions[0]


def test_attested_none_is_an_explicit_negative() -> None:
    out = on_inclusion(E2, answer("recent-major-surgery", False))
    assert out.status is Tri.NOT_MET
    assert out.assumptions == ()
    assert "attested" in out.summary


def test_a_recorded_event_outweighs_the_attestation() -> None:
    out = on_inclusion(E2, answer("recent-major-surgery", False), surgery(before(10)))
    assert out.status is Tri.MET


# --- I5: SSA wash-out ------------------------------------------------------------------
D0 = date(2026, 12, 8)


def washout(*facts, policy: str = SCREENING):
    return SsaWashout().evaluate(record(*facts), ctx(d0=D0, policy=policy))


def test_lar_28_days_before_d0_is_met() -> None:
    out = washout(drug("ssa", date(2026, 11, 10), name="octreotide LAR", form="long"))
    assert out.status is Tri.MET
    assert [(b.on, b.side, b.date) for b in out.bounds] == [("d0", "from", date(2026, 12, 8))]


def test_lar_27_days_before_d0_is_not_met() -> None:
    out = washout(drug("ssa", date(2026, 11, 11), name="lanreotide autogel", form="long"))
    assert out.status is Tri.NOT_MET
    assert out.bounds[0].date == date(2026, 12, 9)  # the first D0 that works


def test_short_acting_2_days_is_met_1_day_is_not() -> None:
    assert washout(drug("ssa", before(2, D0), name="octreotide", form="short")).status \
        is Tri.MET
    out = washout(drug("ssa", before(1, D0), name="octreotide", form="short"))
    assert out.status is Tri.NOT_MET
    assert out.bounds[0].date == D0 + timedelta(days=1)


@pytest.mark.parametrize("gap", [2, 10, 27])
def test_unknown_form_between_2_and_27_days_is_unknown(gap: int) -> None:
    out = washout(drug("ssa", before(gap, D0), name="octreotide", form=None))
    assert out.status is Tri.UNKNOWN
    assert any("long- or short-acting" in m for m in out.missing)
    dates = sorted(b.date for b in out.bounds)
    assert dates == [before(gap - 2, D0), before(gap - 28, D0)]


def test_unknown_form_decides_where_both_forms_agree() -> None:
    assert washout(drug("ssa", before(28, D0), name="octreotide")).status is Tri.MET
    assert washout(drug("ssa", before(1, D0), name="octreotide")).status is Tri.NOT_MET


def test_ongoing_lar_gives_a_stop_date() -> None:
    lar = drug("ssa", None, start=date(2025, 1, 1), name="octreotide LAR", form="long",
               status="active")
    # D0 far enough after the screening date: met only if stopped now, so unknown.
    out = SsaWashout().evaluate(record(lar), ctx(d0=AS_OF + timedelta(days=40)))
    assert out.status is Tri.UNKNOWN
    assert out.bounds[0].date == AS_OF + timedelta(days=28)
    out = SsaWashout().evaluate(record(lar), ctx(d0=AS_OF + timedelta(days=10)))
    assert out.status is Tri.NOT_MET


def test_worst_ssa_decides() -> None:
    old = drug("ssa", before(100, D0), name="octreotide LAR", form="long",
               source="MedicationAdministration/old")
    recent = drug("ssa", before(10, D0), name="lanreotide autogel", form="long",
                  source="MedicationAdministration/recent")
    out = washout(old, recent)
    assert out.status is Tri.NOT_MET
    assert {b.source for b in out.bounds} == {"MedicationAdministration/old",
                                              "MedicationAdministration/recent"}


def test_no_ssa_on_record_follows_the_policy() -> None:
    out = washout(policy=SCREENING)
    assert out.status is Tri.UNKNOWN and out.missing
    out = washout(policy=PRE_SCREENING)
    assert out.status is Tri.MET and out.assumptions
    out = washout(answer("prior-net-systemic-therapy", False))
    assert out.status is Tri.MET and not out.assumptions


# --- I1: age on the inclusion date ---------------------------------------------------------
def age(born: date, inclusion: date) -> Tri:
    rec = record(born=born)
    return AgeAtLeast(18).evaluate(rec, ctx(d0=inclusion)).status


def test_eighteenth_birthday_is_met() -> None:
    assert age(date(2008, 12, 1), date(2026, 12, 1)) is Tri.MET


def test_day_before_eighteenth_birthday_is_not_met() -> None:
    assert age(date(2008, 12, 1), date(2026, 11, 30)) is Tri.NOT_MET


def test_born_on_29_february() -> None:
    assert age(date(2008, 2, 29), date(2026, 2, 28)) is Tri.NOT_MET
    assert age(date(2008, 2, 29), date(2026, 3, 1)) is Tri.MET


def test_age_bound_and_unknown_birth_date() -> None:
    out = AgeAtLeast(18).evaluate(record(born=date(2008, 12, 5)), ctx(d0=date(2026, 12, 1)))
    assert out.status is Tri.NOT_MET
    assert [(b.on, b.side, b.date) for b in out.bounds] == [
        ("inclusion", "from", date(2026, 12, 5))]
    out = AgeAtLeast(18).evaluate(record(born=None), ctx())
    assert out.status is Tri.UNKNOWN and out.missing == ("the birth date",)


def test_age_uses_inclusion_not_d0() -> None:
    rec = record(born=date(2008, 12, 5))
    c = ctx(d0=date(2026, 12, 10), inclusion=date(2026, 12, 1))
    assert AgeAtLeast(18).evaluate(rec, c).status is Tri.NOT_MET


# --- I9: ECOG within 28 days before D0 ------------------------------------------------
def test_ecog_bounds() -> None:
    rule = EcogAtMost(1)
    ok = Ecog("Observation/ecog", before(28, D0), 1)
    out = rule.evaluate(record(ok), ctx(d0=D0))
    assert out.status is Tri.MET
    assert [(b.on, b.side, b.date) for b in out.bounds] == [("d0", "until", D0)]
    assert rule.evaluate(record(Ecog("Observation/e", before(1, D0), 2)), ctx(d0=D0)).status \
        is Tri.NOT_MET
    stale = Ecog("Observation/old", before(29, D0), 0)
    assert rule.evaluate(record(stale), ctx(d0=D0)).status is Tri.UNKNOWN
    same_day = [Ecog("Observation/a", before(3, D0), 1), Ecog("Observation/b", before(3, D0), 2)]
    assert rule.evaluate(record(*same_day), ctx(d0=D0)).status is Tri.UNKNOWN


# --- I12 baseline window and I11 consent: their bounds --------------------------------
def test_baseline_window_bounds() -> None:
    from builders import lab

    from trialsieve.rules.baseline import BaselineWithin

    rule = BaselineWithin(("hemoglobin",))
    facts = [lab("hemoglobin", 12, date(2026, 11, 20), source="Observation/hb"),
             Ecog("Observation/ecog", date(2026, 11, 12), 0)]
    out = rule.evaluate(record(*facts), ctx(d0=D0))
    assert out.status is not Tri.NOT_MET  # D0 is ahead: never not met for a missing item
    assert {(b.source, b.side, b.date) for b in out.bounds} >= {
        ("Observation/hb", "until", date(2026, 12, 18)),
        ("Observation/ecog", "until", date(2026, 12, 10))}
    assert not any("haemoglobin" in m or "ECOG" in m for m in out.missing)
    # D0 ahead of the screening date: a stale assessment can be repeated, so unknown.
    out = rule.evaluate(record(*facts), ctx(d0=date(2026, 12, 11)))
    assert out.status is Tri.UNKNOWN
    assert any("ECOG" in m for m in out.missing)


def test_consent_bound() -> None:
    from trialsieve.record import ConsentRecord
    from trialsieve.rules.patient import ConsentBeforeInclusion

    rec = record()
    rec.consents.append(ConsentRecord("Consent/c1", date(2026, 11, 20), "active", True,
                                      ("NCT01842165",)))
    rule = ConsentBeforeInclusion(("NCT01842165",))
    out = rule.evaluate(rec, ctx(d0=D0))
    assert out.status is Tri.MET
    assert [(b.on, b.side, b.date) for b in out.bounds] == [
        ("inclusion", "from", date(2026, 11, 20))]
    out = rule.evaluate(rec, ctx(d0=date(2026, 11, 19)))
    assert out.status is Tri.UNKNOWN
