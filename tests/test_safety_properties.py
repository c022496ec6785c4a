"""Safety properties of the screening (issue 7), as derandomised hypothesis tests.

Over the bundled examples (examples/patients/*.json) and records generated from them
(the example with a random share of its facts removed), screened at the dates of
tests/test_examples.py:

(1) a perturbation that removes support (drop an attestation, add an unreadable newest
    result, add a positive pregnancy test, mark the patient deceased, end an exposure on
    an unknown day, replace an explicit negative by an old event) never leaves the patient
    eligible;
(2) adding an unrelated older record (an older result of a test already on record, an
    operation or a distant radiotherapy course years ago, a stale answer, a condition that
    abated years ago) never moves any criterion from unknown to decided.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialsieve.engine import ELIGIBLE, Dates, screen
from trialsieve.fhir.reader import records
from trialsieve.logic import Tri
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import (
    Attestation,
    Death,
    Ecog,
    Finding,
    LabResult,
    PatientRecord,
    ProcedureRecord,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"
AS_OF, D0 = date(2026, 11, 25), date(2026, 12, 1)
DATES = Dates.resolve(AS_OF, D0, D0)
FIELDS = ("diagnoses", "histology", "labs", "exposures", "procedures", "findings", "ecog",
          "consents", "attestations", "imaging", "symptoms")
RECORDS: list[PatientRecord] = [r for f in sorted(EXAMPLES.glob("*.json"))
                                for r in records(f)]
PROPERTY = settings(derandomize=True, max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
# Answers that deny an exclusion for a window, and the event that may stand in their place.
NEGATIVES = {
    "major surgery": ({"recent-major-surgery", "surgery-history-complete"}, "surgery"),
    "anticancer therapy": ({"recent-anticancer-therapy",
                            "anticancer-therapy-history-complete"}, "radiotherapy"),
    "prior radiotherapy": ({"prior-rt-kidney-or-marrow", "radiotherapy-history-complete"},
                           "radiotherapy"),
}


def copy_of(rec: PatientRecord) -> PatientRecord:
    return replace(rec, **{f: list(getattr(rec, f)) for f in FIELDS})


@st.composite
def base_records(draw) -> PatientRecord:
    """An example, or an example with some of its facts removed (a generated record)."""
    rec = copy_of(draw(st.sampled_from(RECORDS)))
    if draw(st.booleans()):
        for f in FIELDS:
            items = getattr(rec, f)
            keep = draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items)))
            setattr(rec, f, [x for x, k in zip(items, keep, strict=True) if k])
    return rec


def day_between(draw, lo: date, hi: date) -> date:
    return lo + timedelta(days=draw(st.integers(0, max(0, (hi - lo).days))))


# --- (1) perturbations that remove support -------------------------------------------------
# Answers that are a criterion's only support: the explicit negatives of the exclusions and
# the judgements. (Others may be redundant: "refractory disease" where the record shows the
# progression on an SSA; "of childbearing potential" where the negative serum hCG and the
# contraception agreement are on record anyway.)
SUPPORTING = {"recent-major-surgery", "recent-anticancer-therapy", "surgery-history-complete",
              "anticancer-therapy-history-complete", "radiotherapy-history-complete",
              "prior-rt-kidney-or-marrow", "known-brain-metastases",
              "brain-metastases-controlled", "uncontrolled-significant-condition",
              "resectable-curative-intent", "contraception-agreement", "informed-consent",
              "pregnant", "lactating"}


def drop_attestation(draw, rec: PatientRecord) -> PatientRecord:
    male = rec.patient.sex == "male"
    support = [i for i, a in enumerate(rec.attestations) if a.question in SUPPORTING
               and not (male and a.question in ("pregnant", "lactating"))]
    if support:
        rec.attestations.pop(draw(st.sampled_from(support)))
    return rec


def unreadable_newest(draw, rec: PatientRecord) -> PatientRecord:
    """A result that cannot be read, newer than every result of its test."""
    if draw(st.booleans()) or not rec.labs:
        newest = max((e.date for e in rec.ecog if e.date), default=AS_OF - timedelta(days=5))
        rec.ecog.append(Ecog("Observation/ecog-bad", day_between(draw, newest, AS_OF), None,
                             "valueInteger: ECOG must be 0-5, found 9"))
        return rec
    test = draw(st.sampled_from(sorted({lab.test for lab in rec.labs})))
    newest = max((lab.date for lab in rec.labs_of(test) if lab.date), default=AS_OF)
    problem = draw(st.sampled_from(["valueQuantity.code: unit 'furlong' not convertible",
                                    "valueQuantity.value: missing", "value: no value"]))
    rec.labs.append(LabResult(f"Observation/{test}-bad", test, day_between(draw, newest, AS_OF),
                              None, "", problem=problem))
    return rec


def positive_pregnancy_test(draw, rec: PatientRecord) -> PatientRecord:
    """A positive test newer than every statement on pregnancy (tests, Conditions, refuted
    ones included, answers): the newest statement decides (notes, "One fact, all its
    statements"); on the screening day itself it may only tie with them (unknown)."""
    test = draw(st.sampled_from(["hcg_serum", "hcg_urine"]))
    said = [lab.date for lab in rec.labs if lab.test.startswith("hcg") and lab.date]
    said += [f.stated or f.date for f in rec.findings if f.fact == "pregnant"]
    said += [a.date for a in rec.attestations if a.question == "pregnant"]
    newest = max((d for d in said if d), default=AS_OF - timedelta(days=20))
    rec.labs.append(LabResult(f"Observation/{test}-positive", test,
                              day_between(draw, min(newest + timedelta(days=1), AS_OF), AS_OF),
                              None, "", coded_value=(("http://snomed.info/sct", "10828004"),)))
    return rec


def mark_deceased(draw, rec: PatientRecord) -> PatientRecord:
    when = draw(st.one_of(st.none(), st.dates(date(1950, 1, 1), AS_OF)))
    rec.patient = replace(rec.patient, deceased=Death(when, when))
    return rec


def end_on_unknown_day(draw, rec: PatientRecord) -> PatientRecord:
    """A course with a recorded end, its end made unknown (up to the screening date). Not a
    short-acting SSA: its 48-hour wash-out is complete even if it ended on the screening
    date, six days before D0, so its end day supports nothing."""
    ended = [i for i, e in enumerate(rec.exposures) if (e.end is not None or e.single_dose)
             and not (e.drug_class == "ssa" and e.ssa_form == "short")]
    if not ended:
        return rec
    i = draw(st.sampled_from(ended))
    e = rec.exposures[i]
    start = e.start or (e.end - timedelta(days=draw(st.integers(0, 400))))  # type: ignore[operator]
    rec.exposures[i] = replace(e, start=start, end=None, end_latest=None, single_dose=False,
                               status=draw(st.sampled_from(["completed", "stopped"])))
    return rec


def old_event_for_a_negative(draw, rec: PatientRecord) -> PatientRecord:
    questions, kind = NEGATIVES[draw(st.sampled_from(sorted(NEGATIVES)))]
    rec.attestations = [a for a in rec.attestations if a.question not in questions]
    when = AS_OF - timedelta(days=draw(st.integers(400, 4000)))
    rec.procedures.append(ProcedureRecord("Procedure/old", f"old {kind}", kind, when,
                                          major=True if kind == "surgery" else None,
                                          kidneys_in_field=False, marrow_share=0.01,
                                          external_beam=kind == "radiotherapy", start=when))
    return rec


PERTURBATIONS = [drop_attestation, unreadable_newest, mark_deceased, end_on_unknown_day,
                 old_event_for_a_negative]


@st.composite
def perturbed(draw) -> PatientRecord:
    rec = draw(base_records())
    kinds = PERTURBATIONS + ([positive_pregnancy_test] if rec.patient.sex != "male" else [])
    return draw(st.sampled_from(kinds))(draw, rec)


@PROPERTY
@given(perturbed())
def test_removing_support_never_leaves_a_patient_eligible(rec: PatientRecord) -> None:
    assert screen(LUMEN, rec, DATES).verdict != ELIGIBLE


@PROPERTY
@given(st.sampled_from(RECORDS), st.data())
def test_each_perturbation_of_an_example_is_not_eligible(rec: PatientRecord, data) -> None:
    """Every perturbation, on every whole example (eligible ones included)."""
    for perturb in PERTURBATIONS + ([positive_pregnancy_test] if rec.patient.sex == "female"
                                    else []):
        changed = perturb(data.draw, copy_of(rec))
        if changed.patient == rec.patient and all(
                getattr(changed, f) == getattr(rec, f) for f in FIELDS):
            continue  # nothing to perturb in this record (no attestation, no exposure)
        assert screen(LUMEN, changed, DATES).verdict != ELIGIBLE, perturb.__name__


# --- (2) an unrelated older record decides nothing ------------------------------------------
ROUTINE_LABS = ("hemoglobin", "neutrophils", "platelets", "bilirubin", "alt", "ast",
                "albumin", "pt_percent", "gfr_51cr")
AGEING_QUESTIONS = ("recent-major-surgery", "recent-anticancer-therapy", "pregnant",
                    "lactating", "uncontrolled-significant-condition",
                    "surgery-history-complete", "anticancer-therapy-history-complete")


STALE = D0 - timedelta(days=29)  # older than every freshness window (28 days before D0)


def older_lab(draw, rec: PatientRecord) -> PatientRecord:
    """A result older than every result of its test, and than the freshness window."""
    test = draw(st.sampled_from(ROUTINE_LABS))
    oldest = min([lab.date for lab in rec.labs_of(test) if lab.date] + [STALE])
    when = oldest - timedelta(days=draw(st.integers(1, 3000)))
    rec.labs.append(LabResult(f"Observation/{test}-older", test, when, 1.0, "",
                              std_value=draw(st.floats(0, 500)), std_ref_high=100.0))
    return rec


def older_ecog(draw, rec: PatientRecord) -> PatientRecord:
    oldest = min([e.date for e in rec.ecog if e.date] + [STALE])
    rec.ecog.append(Ecog("Observation/ecog-older", oldest - timedelta(
        days=draw(st.integers(1, 3000))), draw(st.integers(0, 5))))
    return rec


def old_operation(draw, rec: PatientRecord) -> PatientRecord:
    when = AS_OF - timedelta(days=draw(st.integers(365, 5000)))
    rec.procedures.append(ProcedureRecord("Procedure/old-surgery", "appendicectomy",
                                          "surgery", when, major=draw(st.booleans()),
                                          start=when))
    return rec


def old_distant_radiotherapy(draw, rec: PatientRecord) -> PatientRecord:
    when = AS_OF - timedelta(days=draw(st.integers(365, 5000)))
    rec.procedures.append(ProcedureRecord("Procedure/old-rt", "breast radiotherapy",
                                          "radiotherapy", when, kidneys_in_field=False,
                                          marrow_share=0.01, external_beam=True, start=when))
    return rec


def stale_answer(draw, rec: PatientRecord) -> PatientRecord:
    question = draw(st.sampled_from(AGEING_QUESTIONS))
    when = AS_OF - timedelta(days=draw(st.integers(120, 3000)))
    rec.attestations.append(Attestation(f"Observation/old-{question}", question,
                                        draw(st.booleans()), "Dr Old", when))
    return rec


def long_abated_condition(draw, rec: PatientRecord) -> PatientRecord:
    fact = draw(st.sampled_from(["pregnant", "lactating"]))
    onset = AS_OF - timedelta(days=draw(st.integers(800, 5000)))
    rec.findings.append(Finding(f"Condition/old-{fact}", fact, True, onset,
                                status=draw(st.sampled_from(["resolved", "inactive", None])),
                                abated=onset + timedelta(days=300)))
    return rec


ADDITIONS = [older_lab, older_ecog, old_operation, old_distant_radiotherapy, stale_answer,
             long_abated_condition]


@PROPERTY
@given(base_records(), st.data())
def test_an_unrelated_older_record_decides_nothing(rec: PatientRecord, data) -> None:
    before = screen(LUMEN, rec, DATES)
    add = data.draw(st.sampled_from(ADDITIONS))
    after = screen(LUMEN, add(data.draw, copy_of(rec)), DATES)
    for b, a in zip(before.results, after.results, strict=True):
        if b.status is Tri.UNKNOWN:
            assert a.status is Tri.UNKNOWN, (b.criterion.id, add.__name__, a.outcome.summary)


@PROPERTY
@given(base_records().filter(lambda r: r.patient.sex == "female"), st.data())
def test_a_condition_that_abated_years_ago_decides_nothing_for_a_woman(rec: PatientRecord,
                                                                       data) -> None:
    before = screen(LUMEN, rec, DATES).result("EXCL08").status
    after = screen(LUMEN, long_abated_condition(data.draw, copy_of(rec)), DATES)
    assert after.result("EXCL08").status is before
