"""One fact, one timeline (issue 17, groups 1, 2 and the statement items of 4 and 8):
every statement about a fact, from whichever resource, placed by when it was made.

Each test edits a bundled eligible example the way the second review did, as the real
record shape it describes; the expected status is worked out by hand from the protocol
notes, section "Real records: placing each fact in time, and trusting it". Screening
date 2026-11-25, inclusion = D0 = 2026-12-01.
"""

from __future__ import annotations

from test_no_false_eligible import LOINC, MAN, PROJECT, SNOMED, WOMAN, Edit, cc, hcg, st

VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
BRAIN, PREGNANT, BREASTFEEDING, MENOPAUSE = "94225005", "77386006", "169750002", "76498008"
CONTROLLED_EXT = PROJECT + "/controlled"


def condition(rid: str, code: str, recorded: str, onset: str | None = None,
              verification: str = "confirmed", clinical: str = "active", **extra) -> dict:
    res = {"resourceType": "Condition", "id": rid, "code": cc(SNOMED, code),
           "clinicalStatus": cc(CLIN, clinical), "verificationStatus": cc(VER, verification),
           "recordedDate": recorded, **extra}
    if onset:
        res["onsetDateTime"] = onset
    return res


def answer(rid: str, question: str, value: bool, when: str | None,
           by: str | None = "Dr Test") -> dict:
    res: dict = {"resourceType": "Observation", "id": rid, "status": "final",
                 "code": cc(PROJECT, question), "valueBoolean": value}
    if when:
        res["effectiveDateTime"] = when
    if by:
        res["performer"] = [{"display": by}]
    return res


def questionnaire(rid: str, items: list, authored: str = "2026-11-24",
                  questionnaire: str | None = None) -> dict:
    res = {"resourceType": "QuestionnaireResponse", "id": rid, "status": "completed",
           "authored": authored, "author": {"display": "Dr Test"}, "item": items}
    if questionnaire:
        res["questionnaire"] = questionnaire
    return res


def yes_no(link: str, value: bool) -> dict:
    return {"linkId": link, "answer": [{"valueBoolean": value}]}


# --- 1. one fact, all its statements; newest by when it was stated -------------------
def test_e6_newer_answers_outweigh_a_refuted_condition_of_2024(tmp_path):
    r = (Edit(MAN).drop("att-known-brain-metastases")
         .add(condition("bm-2024", BRAIN, "2024-05-02", verification="refuted"))
         .add(answer("bm-known", "known-brain-metastases", True, "2026-11-20"))
         .add(answer("bm-ctrl", "brain-metastases-controlled", False, "2026-11-20"))
         .screen(tmp_path))
    assert st(r, "EXCL06") == "met"
    assert r.verdict == "not_eligible"


def test_e6_a_2026_not_controlled_answer_outweighs_a_controlled_condition_of_2025(tmp_path):
    r = (Edit(MAN).drop("att-known-brain-metastases")
         .add(condition("bm-2025", BRAIN, "2025-06-01", "2025-05-20",
                        extension=[{"url": CONTROLLED_EXT, "valueBoolean": True}]))
         .add(answer("bm-ctrl", "brain-metastases-controlled", False, "2026-11-20"))
         .screen(tmp_path))
    assert st(r, "EXCL06") == "met"


def test_e6_a_controlled_answer_older_than_the_metastases_does_not_speak_of_them(tmp_path):
    r = (Edit(MAN).drop("att-known-brain-metastases")
         .add(answer("bm-ctrl", "brain-metastases-controlled", True, "2026-09-01"))
         .add(condition("bm-new", BRAIN, "2026-11-10", "2026-11-08"))
         .screen(tmp_path))
    assert st(r, "EXCL06") == "unknown"
    assert r.verdict == "incomplete"


def test_i11_a_newer_consent_not_obtained_answer_outweighs_the_consent(tmp_path):
    r = (Edit(MAN).add(answer("no-consent", "informed-consent", False, "2026-11-22"))
         .screen(tmp_path))
    assert st(r, "INCL11") == "not_met"


def test_e8_pregnancy_recorded_after_the_negative_test_is_newer_whatever_its_onset(tmp_path):
    r = (Edit(WOMAN).add(condition("preg", PREGNANT, "2026-11-23", "2026-10-01"))
         .screen(tmp_path))
    assert st(r, "EXCL08") == "met"


def test_e8_breastfeeding_recorded_after_a_not_lactating_answer(tmp_path):
    r = (Edit(WOMAN).add(condition("bf", BREASTFEEDING, "2026-11-25", "2026-06-01"))
         .screen(tmp_path))
    assert st(r, "EXCL08") == "met"


def test_e2_two_answers_of_one_day_are_ordered_by_their_time(tmp_path):
    for order in ((0, 1), (1, 0)):  # file order does not decide
        edit = Edit(MAN).drop("att-recent-major-surgery")
        answers = [answer("s-am", "recent-major-surgery", False, "2026-11-24T08:15:00"),
                   answer("s-pm", "recent-major-surgery", True, "2026-11-24T16:40:00")]
        for i in order:
            edit.add(answers[i])
        assert st(edit.screen(tmp_path), "EXCL02") == "met"


def test_e2_two_answers_of_one_day_without_time_that_disagree_are_unknown(tmp_path):
    r = (Edit(MAN).add(answer("s-yes", "recent-major-surgery", True, "2026-11-24"))
         .screen(tmp_path))
    assert st(r, "EXCL02") == "unknown"


def test_two_serum_hcg_of_one_day_that_disagree_leave_i10_and_e8_unknown(tmp_path):
    r = Edit(WOMAN).add(hcg("hcg-pos", "2118-8", True, "2026-11-20")).screen(tmp_path)
    assert st(r, "INCL10") == "unknown"
    assert st(r, "EXCL08") == "unknown"
    assert r.verdict == "incomplete"


# --- 2. an answer speaks only up to its date, and must be attributable ---------------
def test_e2_no_surgery_answer_does_not_settle_an_operation_recorded_after_it(tmp_path):
    # an operation of unknown size the day after the "no" answer: is it major?
    op = {"resourceType": "Procedure", "id": "op", "status": "completed",
          "code": cc(SNOMED, "387713003", "Surgical procedure"),
          "performedDateTime": "2026-11-25"}
    r = Edit(MAN).add(op).screen(tmp_path)
    assert st(r, "EXCL02") == "unknown"


def test_e2_answer_speaks_up_to_seven_days_after_it(tmp_path):
    # the man's "no major surgery" answer is of 2026-11-24: it covers inclusion up to
    # 2026-12-01 (notes: its date and 7 days after it), not 2026-12-02
    from datetime import date

    from trialsieve.engine import Dates
    ok = Edit(MAN).screen(tmp_path, dates=Dates.resolve(date(2026, 11, 25), None,
                                                        date(2026, 12, 1)))
    late = Edit(MAN).screen(tmp_path, dates=Dates.resolve(date(2026, 11, 25), None,
                                                          date(2026, 12, 2)))
    assert st(ok, "EXCL02") == "not_met"
    assert st(late, "EXCL02") == "unknown"


def test_i11_an_answer_with_neither_author_nor_date_settles_nothing(tmp_path):
    r = (Edit(MAN).drop("consent")
         .add(answer("anon", "informed-consent", True, None, by=None)).screen(tmp_path))
    assert st(r, "INCL11") == "unknown"


def test_i11_an_answer_to_another_studys_questionnaire_settles_nothing(tmp_path):
    r = (Edit(MAN).drop("consent")
         .add(questionnaire("other", [yes_no("informed-consent", True)],
                            questionnaire="https://hospital.example/Questionnaire/trial-x"))
         .screen(tmp_path))
    assert st(r, "INCL11") == "unknown"


def test_answers_nested_in_questionnaire_groups_are_read(tmp_path):
    group = {"linkId": "e2", "text": "Surgery", "item": [yes_no("recent-major-surgery", True)]}
    r = (Edit(MAN).drop("att-recent-major-surgery")
         .add(answer("old-no", "recent-major-surgery", False, "2026-11-23"))
         .add(questionnaire("qr", [group])).screen(tmp_path))
    assert st(r, "EXCL02") == "met"


def test_e1_answer_ages_after_28_days(tmp_path):
    r = (Edit(MAN).drop("att-resectable-curative-intent")
         .add(answer("e1-old", "resectable-curative-intent", False, "2026-10-27"))
         .screen(tmp_path))
    assert st(r, "EXCL01") == "unknown"
    fresh = (Edit(MAN).drop("att-resectable-curative-intent")
             .add(answer("e1-fresh", "resectable-curative-intent", False, "2026-10-28"))
             .screen(tmp_path))
    assert st(fresh, "EXCL01") == "not_met"  # exactly 28 days before screening


def test_contraception_agreement_is_given_within_28_days_before_inclusion(tmp_path):
    old = (Edit(WOMAN).drop("att-contraception-agreement")
           .add(answer("c-old", "contraception-agreement", True, "2026-11-02"))
           .screen(tmp_path))
    assert st(old, "INCL10") == "unknown"
    fresh = (Edit(WOMAN).drop("att-contraception-agreement")
             .add(answer("c-ok", "contraception-agreement", True, "2026-11-03"))
             .screen(tmp_path))
    assert st(fresh, "INCL10") == "met"  # exactly 28 days before inclusion


# --- 4 and 8: uncertain statements, sex --------------------------------------------
def test_a_provisional_postmenopausal_condition_does_not_end_childbearing_potential(tmp_path):
    r = (Edit(WOMAN).drop("att-childbearing-potential", "hcg", "att-contraception-agreement")
         .add(condition("meno", MENOPAUSE, "2026-11-01", verification="provisional"))
         .screen(tmp_path))
    assert st(r, "INCL10") == "unknown"
    confirmed = (Edit(WOMAN).drop("att-childbearing-potential", "hcg",
                                  "att-contraception-agreement")
                 .add(condition("meno", MENOPAUSE, "2026-11-01")).screen(tmp_path))
    assert st(confirmed, "INCL10") == "met"  # not applicable: postmenopausal


def test_birth_sex_extension_is_the_sex_i10_and_e8_read(tmp_path):
    ext = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
            "valueCode": "F"}]
    r = Edit(MAN).patient(extension=ext).screen(tmp_path)
    # a woman with no answer on childbearing potential and no serum hCG
    assert st(r, "INCL10") == "unknown"
    assert r.verdict == "incomplete"


def test_pregnancy_status_observations_of_one_day_are_ordered_by_their_time(tmp_path):
    pos = {"resourceType": "Observation", "id": "ps-1", "status": "final",
           "code": cc(LOINC, "82810-3"), "effectiveDateTime": "2026-11-24T09:00:00",
           "valueCodeableConcept": cc(LOINC, "LA15173-0")}  # pregnant, in the morning
    neg = {**pos, "id": "ps-2", "effectiveDateTime": "2026-11-24T15:00:00",
           "valueCodeableConcept": cc(LOINC, "LA26683-5")}  # not pregnant, afternoon
    r = Edit(WOMAN).add(neg).add(pos).screen(tmp_path)
    assert st(r, "EXCL08") == "not_met"
