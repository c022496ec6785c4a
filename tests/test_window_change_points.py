"""The window by change points (window.stretch_starts): screening only the first D0 of
each stretch the rules name gives the same window, to the last binding, next step and
what-if, as screening every day of the horizon."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_window import AS_OF, D, record, records, studies

from trialsieve.engine import (
    ELIGIBLE,
    INCOMPLETE,
    NOT_ELIGIBLE,
    Dates,
    change_dates,
    screen,
    visible_record,
)
from trialsieve.fhir.reader import records as read_records
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import (
    Attestation,
    Exposure,
    LabResult,
    Lesion,
    Mention,
    ProcedureRecord,
    Study,
    Symptom,
)
from trialsieve.rules.patient import AgeAtLeast
from trialsieve.window import _plan, eligibility_window, stretch_starts

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"
EXAMPLE_AS_OF = date(2026, 11, 25)


def both(rec, horizon: int = 120, offset: int = 0, protocol=LUMEN):
    kw = {"horizon_days": horizon, "inclusion_offset": offset}
    return (eligibility_window(protocol, rec, AS_OF, **kw),
            eligibility_window(protocol, rec, AS_OF, every_day=True, **kw))


def answer(question: str, yes: bool, back: int, by: str | None = "Dr A") -> Attestation:
    return Attestation(f"QuestionnaireResponse/{question}-{back}", question, yes, by,
                       AS_OF - back * D)


@st.composite
def varied_records(draw):
    """test_window's records, with what moves a window added: partial birth dates,
    answers of every age (E2/E3 speak 7 days after their date), courses with uncertain
    ends, ongoing or short-acting SSAs, PET/CTs and MRIs of every age (a baseline one
    expiring, a scan leaving the 12 months), symptoms and markers (I3 c)."""
    rec = draw(records()) if draw(st.booleans()) else record()  # record(): eligible
    back = st.integers(0, 60)

    def sometimes() -> bool:  # most records stay eligible somewhere: turns show then
        return draw(st.integers(0, 2)) == 0

    if sometimes():
        first = date(2008, 11, 1) + draw(st.integers(-100, 150)) * D
        rec = replace(rec, patient=replace(rec.patient, birth_date=first,
                                           birth_latest=first + draw(st.integers(0, 40)) * D))
    for q in ("recent-major-surgery", "recent-anticancer-therapy", "surgery-history-complete",
              "anticancer-therapy-history-complete", "contraception-agreement",
              "childbearing-potential", "partner-childbearing-potential",
              "radiotherapy-history-complete", "prior-rt-kidney-or-marrow",
              "refractory-disease", "uncontrolled-significant-condition"):
        if draw(st.integers(0, 4)) == 0:
            rec.attestations.append(answer(q, draw(st.booleans()), draw(back),
                                           draw(st.sampled_from(["Dr A", None]))))
    if sometimes():  # last doses near the screening date: the 2-day wait falls inside
        last = AS_OF - draw(st.sampled_from([0, 1, 2, 5, 20, 27, 28, 40])) * D
        kind = draw(st.sampled_from(["ongoing", "short", "unknown form", "partial end",
                                     "open end"]))
        ssa = Exposure("MedicationStatement/ssa", "octreotide", "ssa", last - 300 * D, last,
                       "completed", "long")
        ssa = {"ongoing": replace(ssa, end=None, status="active"),
               "short": replace(ssa, ssa_form="short"),
               "unknown form": replace(ssa, ssa_form=None),
               "partial end": replace(ssa, end_latest=last + draw(st.integers(1, 30)) * D),
               "open end": replace(ssa, start=last, end=None, status="stopped",
                                   status_date=last + draw(st.integers(0, 40)) * D)}[kind]
        rec.exposures.append(ssa)
    if sometimes():
        when = AS_OF - draw(st.integers(0, 120)) * D
        kind = draw(st.sampled_from(["surgery", "radiotherapy", "other", "embolisation"]))
        rec.procedures.append(ProcedureRecord(
            f"Procedure/{kind}", kind, kind, when, True if kind == "surgery" else None,
            date_latest=when + draw(st.integers(0, 20)) * D if draw(st.booleans()) else None,
            open_end=draw(st.booleans()), ongoing=draw(st.booleans())))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):  # PET/CTs and MRIs of every age
        on = AS_OF - draw(st.integers(0, 380)) * D
        extra = studies(on, on - draw(st.integers(0, 40)) * D, draw(st.integers(1, 90)))
        if draw(st.booleans()):  # a PET/CT with no lesion measurements, or another marrow
            extra = [replace(s, lesions=(), marrow_infiltration=draw(
                st.sampled_from([None, True]))) if s.modality == "SSTR_PET" else s
                for s in extra]
        rec.imaging.extend(replace(s, source=f"{s.source}-{on}") for s in extra)
    if sometimes():
        rec.imaging.append(Study("ImagingStudy/mri-marrow", AS_OF - draw(back) * D, "MRI",
                                 3.0, (Lesion("Observation/m", "ImagingStudy/mri-marrow",
                                              "L1", "liver", longest_mm=41),),
                                 marrow_infiltration=draw(st.booleans())))
    for i in range(draw(st.sampled_from([0, 0, 2, 3]))):
        when = AS_OF - draw(st.integers(0, 400)) * D
        rec.symptoms.append(Symptom(f"Observation/flush-{i}", "flushing", when,
                                    frequency=draw(st.sampled_from([2.0, 4.0, 8.0])),
                                    end=when + draw(st.integers(0, 30)) * D
                                    if draw(st.booleans()) else None,
                                    ongoing=draw(st.booleans()), key="flushing"))
    for i in range(draw(st.sampled_from([0, 0, 3, 4]))):
        v = draw(st.sampled_from([100.0, 150.0, 250.0]))
        rec.labs.append(LabResult(f"Observation/cga-{i}", "chromogranin_a",
                                  AS_OF - draw(st.integers(0, 400)) * D, v, "ug/L", None,
                                  None, None, (), v, None))
    return rec


def read_by_window(rec, d0: date, offset: int) -> tuple:
    """What the window reads of each criterion between change dates: status, bounds."""
    r = screen(LUMEN, rec, Dates.resolve(AS_OF, d0 - offset * D, d0))
    return tuple((c.status, c.outcome.bounds) for c in r.results)


# Each generated record is screened on every D0 of the horizon twice (the day-by-day
# window, and what the window reads): 40 records keep it within the suite's budget.
@settings(max_examples=40, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rec=varied_records(), offset=st.integers(0, 10))
def test_the_change_point_window_is_the_day_by_day_window(rec, offset):
    fast, slow = both(rec, offset=offset)
    view = visible_record(rec, AS_OF)[0]
    plan = _plan(LUMEN, view, AS_OF, fast.first, fast.last, offset, False)
    starts = list(plan)
    event(f"{len(slow.intervals)} interval(s): "
          + ", ".join(i.marking for i in slow.intervals))
    event(f"{len(starts)} stretches")
    assert fast == slow
    # The contract itself (rules.base.Change): no criterion changes status or bounds
    # between two dates it names. A date left out that moves no verdict and no next step
    # leaves the window whole (the check above passes) but is a bug all the same.
    head = list(read_by_window(rec, fast.first, offset))
    d0 = fast.first + D
    while d0 <= fast.last:
        now = read_by_window(rec, d0, offset)
        named = plan.get(d0, [])
        for i, c in enumerate(LUMEN.criteria):
            if named is None or i in named:
                head[i] = now[i]
            assert now[i] == head[i], (c.id, d0)
        d0 += D


def test_every_lumen_rule_names_its_change_dates():
    # otherwise the window quietly falls back to screening every day
    for path in sorted(EXAMPLES.glob("*.json")):
        (rec,) = read_records(path)
        assert change_dates(LUMEN, rec, EXAMPLE_AS_OF) is not None, path.name


def test_a_rule_that_names_no_dates_is_screened_every_day():
    from test_window import BlockedBetween, toy

    p = toy(BlockedBetween(AS_OF + 10 * D, AS_OF + 19 * D))
    starts = stretch_starts(p, record(), AS_OF, AS_OF, AS_OF + 30 * D, 0)
    assert starts == [AS_OF + i * D for i in range(31)]


def test_stretches_start_where_the_rules_say():
    # labs, ECOG and the PET/CT of AS_OF are stale from AS_OF + 29; the 18th birthday
    # (2008-12-20 + 18 years) is inclusion 2026-12-20, D0 2026-12-22 with an offset of 2
    rec = record(born=date(2008, 12, 20))
    starts = stretch_starts(LUMEN, rec, AS_OF, AS_OF + 2 * D, AS_OF + 60 * D, 2)
    assert date(2026, 12, 22) in starts and AS_OF + 29 * D in starts
    assert len(starts) < 10


def test_dropping_a_change_point_is_caught(monkeypatch):
    # The patient turns 18 on 2026-12-20: not eligible before, candidate from then (once
    # E2/E3 are answered again: their answers are stale by then). If I1 did not name the
    # birthday, the window would miss the turn: the comparison with every day sees it.
    rec = record(born=date(2008, 12, 20))
    fast, slow = both(rec, horizon=60)
    assert fast == slow
    assert [(i.start, i.marking) for i in slow.intervals] == [(date(2026, 12, 20), INCOMPLETE)]
    monkeypatch.setattr(AgeAtLeast, "changes", lambda self, record, as_of: [])
    fast, slow = both(rec, horizon=60)
    assert fast != slow
    assert fast.marking(date(2026, 12, 21)) == NOT_ELIGIBLE


@pytest.mark.parametrize("offset", [0, 7])
def test_the_examples_windows_are_the_day_by_day_windows(offset):
    for path in sorted(EXAMPLES.glob("*.json"))[::6]:  # a sample; test_window reads all
        (rec,) = read_records(path)
        kw = {"inclusion_offset": offset}
        assert (eligibility_window(LUMEN, rec, EXAMPLE_AS_OF, **kw)
                == eligibility_window(LUMEN, rec, EXAMPLE_AS_OF, every_day=True, **kw)), path


def test_an_answer_going_stale_is_a_change_point():
    # E2's "no recent surgery" answer of AS_OF - 5 speaks up to 7 days after its date:
    # from inclusion AS_OF + 3 it is stale, E2 turns unknown (notes, "An answer speaks up
    # to its date")
    rec = record()
    when = AS_OF - 5 * D
    assert ("inclusion", when + timedelta(days=8)) in change_dates(LUMEN, rec, AS_OF)
    fast, slow = both(rec, horizon=30)
    assert fast == slow and fast.marking(AS_OF + 2 * D) == ELIGIBLE
    assert fast.marking(AS_OF + 3 * D) != ELIGIBLE


@pytest.mark.parametrize("policy", ["screening", "pre-screening"])
def test_the_windows_of_patients_known_from_reports_are_the_day_by_day_windows(policy):
    """Examples 82-84 hold key facts only in reports: under pre-screening those facts
    count (an ECOG from a letter goes stale 28 days on), so the change points must come
    from the record the criteria read, text facts included; under screening the
    suggestions beside the criteria must be those of a whole screening."""
    for path in sorted(EXAMPLES.glob("8[234]-*.json")):
        (rec,) = read_records(path)
        assert rec.mentions, path.name
        assert (eligibility_window(LUMEN, rec, EXAMPLE_AS_OF, policy=policy)
                == eligibility_window(LUMEN, rec, EXAMPLE_AS_OF, every_day=True,
                                      policy=policy)), (path.name, policy)


@st.composite
def records_with_mentions(draw):
    """varied_records with what reports say added: an ECOG, an operation, a radiotherapy
    course, a pregnancy or a menopause, of every age, some negated or uncertain. Under
    pre-screening each affirmed one counts as the coded fact (record.from_text), and
    moves the window as that fact would (an ECOG going stale 28 days on, E2's 42 days)."""
    rec = draw(varied_records())
    mentions = []
    for i in range(draw(st.integers(1, 4))):
        fact, value, details = draw(st.sampled_from([
            ("ecog", 0, ()), ("ecog", 1, ()), ("ecog", 2, ()),
            ("major_surgery", "whipple procedure", ()),
            ("radiotherapy", None, (("site", "liver"),)),
            ("pregnant", None, ()), ("postmenopausal", None, ())]))
        on = AS_OF - draw(st.integers(0, 120)) * D
        mods = draw(st.sampled_from([(), (), (), ("negated",), ("uncertain",)]))
        mentions.append(Mention(fact, value, None, f"DocumentReference/letter-{i}", "clinic",
                                on, f"sentence {i}", 0, 10, mods, details))
    return replace(rec, mentions=mentions)


# As above, under pre-screening, where text facts count: 30 records within the budget.
@settings(max_examples=30, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rec=records_with_mentions(), offset=st.integers(0, 10))
def test_the_change_point_window_with_text_facts_is_the_day_by_day_window(rec, offset):
    kw = {"horizon_days": 120, "inclusion_offset": offset, "policy": "pre-screening"}
    assert (eligibility_window(LUMEN, rec, AS_OF, **kw)
            == eligibility_window(LUMEN, rec, AS_OF, every_day=True, **kw))
