"""No false "eligible": the record decides only what it shows (issue 7, protocol notes
"Dates", "Results have three values", E8, E9).

Each test edits a bundled example the way real records differ from it (an attestation
dropped, an old event, a positive urine test, a death) and checks, with the expected
status worked out by hand from the notes, that the result is not more favourable than
the record supports. Screening date 2026-11-25, inclusion = D0 = 2026-12-01.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from trialsieve.engine import Dates, ScreeningResult, screen
from trialsieve.fhir.reader import records
from trialsieve.output.json_result import to_json
from trialsieve.output.terminal import render
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import condition_present
from trialsieve.rules.base import PRE_SCREENING, SCREENING

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"
AS_OF, D0 = date(2026, 11, 25), date(2026, 12, 1)
DATES = Dates.resolve(AS_OF, D0, D0)
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
PROJECT = "https://trialsieve.org/fhir/CodeSystem/trialsieve"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
MAN, WOMAN = "02-eligible-man", "01-eligible-woman-cbp"


def cc(system: str, code: str, text: str | None = None) -> dict:
    out: dict = {"coding": [{"system": system, "code": code}]}
    if text:
        out["text"] = text
    return out


class Edit:
    """An example bundle, edited: resources dropped by id, added, the Patient changed."""

    def __init__(self, example: str):
        self.bundle = json.loads((EXAMPLES / f"{example}.json").read_text(encoding="utf-8"))
        self.pid = next(e["resource"]["id"] for e in self.bundle["entry"]
                        if e["resource"]["resourceType"] == "Patient")

    @property
    def ref(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    def drop(self, *suffixes: str) -> Edit:
        ids = {f"{self.pid}-{s}" for s in suffixes}
        before = len(self.bundle["entry"])
        self.bundle["entry"] = [e for e in self.bundle["entry"]
                                if e["resource"].get("id") not in ids]
        assert len(self.bundle["entry"]) == before - len(ids), suffixes
        return self

    def add(self, res: dict) -> Edit:
        res = {**res, "subject": self.ref}
        self.bundle["entry"].append({"fullUrl": f"urn:uuid:{res['id']}", "resource": res})
        return self

    def patient(self, **fields) -> Edit:
        res = next(e["resource"] for e in self.bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
        res.update(fields)
        return self

    def attest(self, question: str, answer: bool, day: str = "2026-11-24") -> Edit:
        return self.add({"resourceType": "Observation", "id": f"new-att-{question}-{day}",
                         "status": "final", "code": cc(PROJECT, question),
                         "effectiveDateTime": day, "valueBoolean": answer,
                         "performer": [{"display": "Dr Test"}]})

    def screen(self, tmp_path: Path, policy: str = SCREENING,
               dates: Dates = DATES) -> ScreeningResult:
        path = tmp_path / f"{self.pid}.json"
        path.write_text(json.dumps(self.bundle), encoding="utf-8")
        (rec,) = records(path)
        return screen(LUMEN, rec, dates, policy)


def st(r: ScreeningResult, cid: str) -> str:
    return r.result(cid).status.value


def surgery(rid: str, day: str) -> dict:
    return {"resourceType": "Procedure", "id": rid, "status": "completed",
            "category": cc(PROJECT, "major-surgery"),
            "code": cc(SNOMED, "387713003", "Right hemicolectomy"), "performedDateTime": day}


def capecitabine(rid: str, start: str, end: str | None = None, status: str = "completed",
                 **extra) -> dict:
    period = {"start": start, **({"end": end} if end else {})}
    return {"resourceType": "MedicationStatement", "id": rid, "status": status,
            "medicationCodeableConcept": cc(ATC, "L01BC06", "Capecitabine 500 mg"),
            "effectivePeriod": period, **extra}


def radiotherapy(rid: str, site: tuple[str, str], share: float | None, status: str,
                 period: dict) -> dict:
    res = {"resourceType": "Procedure", "id": rid, "status": status,
           "code": cc(SNOMED, "33195004", "External beam radiotherapy"),
           "bodySite": [cc(SNOMED, site[0], site[1])], "performedPeriod": period}
    if share is not None:
        res["extension"] = [{"url": PROJECT + "/marrow-share", "valueDecimal": share}]
    return res


def hcg(rid: str, loinc: str, positive: bool, day: str) -> dict:
    answer = ("10828004", "Positive") if positive else ("260385009", "Negative")
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": cc(LOINC, loinc), "effectiveDateTime": day,
            "valueCodeableConcept": cc(SNOMED, *answer)}


def condition(rid: str, code: str, onset: str, clinical: str | None = "active",
              **extra) -> dict:
    res = {"resourceType": "Condition", "id": rid, "code": cc(SNOMED, code),
           "onsetDateTime": onset, **extra}
    if clinical:
        res["clinicalStatus"] = cc(CLIN, clinical)
    return res


# --- 1. old events are not "no recent event" -----------------------------------------
def old_surgery_and_chemo(example: str = MAN) -> Edit:
    return (Edit(example).drop("att-recent-major-surgery", "att-recent-anticancer-therapy")
            .add(surgery("old-surgery", "2023-04-03"))
            .add(capecitabine("old-cape", "2023-01-10", "2023-06-30")))


def test_old_surgery_and_chemotherapy_do_not_show_none_was_recent(tmp_path):
    r = old_surgery_and_chemo().screen(tmp_path)
    assert (st(r, "EXCL02"), st(r, "EXCL03")) == ("unknown", "unknown")
    assert r.verdict != "eligible"
    e2 = r.result("EXCL02").outcome
    assert any("attestation" in m for m in e2.missing)


def test_history_declared_complete_is_an_explicit_negative(tmp_path):
    r = (old_surgery_and_chemo().attest("surgery-history-complete", True)
         .attest("anticancer-therapy-history-complete", True).screen(tmp_path))
    assert (st(r, "EXCL02"), st(r, "EXCL03")) == ("not_met", "not_met")


def test_old_events_under_pre_screening_are_an_assumption(tmp_path):
    r = old_surgery_and_chemo().screen(tmp_path, PRE_SCREENING)
    for cid in ("EXCL02", "EXCL03"):
        o = r.result(cid).outcome
        assert o.status.value == "not_met" and o.assumptions, cid


def test_old_liver_sbrt_does_not_settle_e5(tmp_path):
    sbrt = radiotherapy("sbrt", ("10200004", "Liver structure"), 0.02, "completed",
                        {"start": "2022-03-01", "end": "2022-03-10"})
    edit = Edit(MAN).drop("att-prior-rt-kidney-or-marrow").add(sbrt)
    assert st(edit.screen(tmp_path), "EXCL05") == "unknown"
    assert st(edit.attest("radiotherapy-history-complete", True).screen(tmp_path),
              "EXCL05") == "not_met"


def test_no_radiotherapy_and_no_negative_is_unknown_for_e5_assumed_in_pre_screening(tmp_path):
    edit = Edit(MAN).drop("att-prior-rt-kidney-or-marrow")
    assert st(edit.screen(tmp_path), "EXCL05") == "unknown"
    o = edit.screen(tmp_path, PRE_SCREENING).result("EXCL05").outcome
    assert o.status.value == "not_met" and o.assumptions


# --- 2. attestations read both ways; stale ones settle nothing ------------------------
@pytest.mark.parametrize("policy", [SCREENING, PRE_SCREENING])
@pytest.mark.parametrize("question, cid", [("recent-major-surgery", "EXCL02"),
                                           ("recent-anticancer-therapy", "EXCL03")])
def test_attested_yes_asserts_the_event(tmp_path, question, cid, policy):
    r = Edit(MAN).drop(f"att-{question}").attest(question, True).screen(tmp_path, policy)
    assert st(r, cid) == "met"
    assert r.verdict == "not_eligible"


def test_no_surgery_answer_100_days_before_inclusion_is_stale(tmp_path):
    # 2026-08-23 is 100 days before inclusion: the answer covers 2026-07-12..2026-08-23,
    # nothing of the 42 days before 2026-12-01.
    r = (Edit(MAN).drop("att-recent-major-surgery")
         .attest("recent-major-surgery", False, "2026-08-23").screen(tmp_path))
    o = r.result("EXCL02").outcome
    assert o.status.value == "unknown"
    assert any("stale" in i.reason for i in o.ignored)


def test_no_surgery_answer_speaks_only_up_to_7_days_after_it(tmp_path):
    # notes: "For E2/E3 an answer covers the window up to its date and 7 days after it
    # ...; a later inclusion needs a fresh answer" (inclusion 2026-12-01)
    r = (Edit(MAN).drop("att-recent-major-surgery")
         .attest("recent-major-surgery", False, "2026-11-23").screen(tmp_path))
    assert st(r, "EXCL02") == "unknown"
    r = (Edit(MAN).drop("att-recent-major-surgery")
         .attest("recent-major-surgery", False, "2026-11-24").screen(tmp_path))
    assert st(r, "EXCL02") == "not_met"


def test_not_pregnant_answer_from_2024_settles_nothing(tmp_path):
    r = Edit(WOMAN).drop("hcg").attest("pregnant", False, "2024-05-02").screen(tmp_path)
    assert st(r, "EXCL08") == "unknown"


# --- 3. E9: applicability first ---------------------------------------------------------
def test_refusal_with_unknown_childbearing_potential_leaves_e9_unknown(tmp_path):
    r = (Edit(WOMAN).drop("att-childbearing-potential", "att-contraception-agreement")
         .attest("contraception-agreement", False).screen(tmp_path))
    assert st(r, "EXCL09") == "unknown"


def test_refusal_by_a_woman_of_childbearing_potential_is_e9_met(tmp_path):
    r = (Edit(WOMAN).drop("att-contraception-agreement")
         .attest("contraception-agreement", False).screen(tmp_path))
    assert st(r, "EXCL09") == "met"


# --- 4. pre-screening assumptions ----------------------------------------------------
@pytest.mark.parametrize("cid, drop", [("EXCL07", "att-uncontrolled-significant-condition"),
                                       ("EXCL09", "att-contraception-agreement")])
def test_pre_screening_assumes_e7_and_e9_absent(tmp_path, cid, drop):
    edit = Edit(MAN).drop(drop)
    assert st(edit.screen(tmp_path), cid) == "unknown"
    o = edit.screen(tmp_path, PRE_SCREENING).result(cid).outcome
    assert o.status.value == "not_met" and o.assumptions


def test_pre_screening_reads_no_net_diagnosis_as_not_a_candidate(tmp_path):
    edit = Edit(MAN).drop("net", "pathology")
    assert st(edit.screen(tmp_path), "INCL02") == "unknown"
    r = edit.screen(tmp_path, PRE_SCREENING)
    o = r.result("INCL02").outcome
    assert o.status.value == "not_met" and o.assumptions
    assert r.verdict == "not_eligible"


# --- 5. death -----------------------------------------------------------------------------
def test_patient_deceased_before_screening_is_not_eligible(tmp_path):
    r = Edit(MAN).patient(deceasedDateTime="2026-10-02").screen(tmp_path)
    assert r.verdict == "not_eligible"
    assert r.deceased == "deceased on 2026-10-02"
    assert st(r, "INCL01") == "met"  # the criteria are still evaluated and shown
    doc = to_json(r)
    assert doc["deceased"] == "deceased on 2026-10-02" and doc["verdict"] == "not_eligible"
    shown = render(r)
    assert "deceased on 2026-10-02" in shown and max(map(len, shown.splitlines())) <= 80


def test_deceased_boolean_without_a_date(tmp_path):
    r = Edit(MAN).patient(deceasedBoolean=True).screen(tmp_path)
    assert (r.verdict, r.deceased) == ("not_eligible", "deceased (date not recorded)")


def test_death_after_the_screening_date_or_denied_does_not_count(tmp_path):
    assert Edit(MAN).patient(deceasedDateTime="2026-11-30").screen(tmp_path).deceased is None
    assert Edit(MAN).patient(deceasedBoolean=False).screen(tmp_path).deceased is None


# --- 6. pregnancy and lactation ---------------------------------------------------------
def test_positive_urine_hcg_after_a_negative_serum_test_means_pregnant(tmp_path):
    r = Edit(WOMAN).add(hcg("urine", "2106-3", True, "2026-11-23")).screen(tmp_path)
    assert st(r, "EXCL08") == "met"


def test_negative_serum_test_after_a_positive_urine_test_decides(tmp_path):
    r = Edit(WOMAN).add(hcg("urine", "2106-3", True, "2026-11-10")).screen(tmp_path)
    assert st(r, "EXCL08") == "not_met"


def test_old_active_pregnancy_condition_is_read_by_its_status(tmp_path):
    edit = Edit(WOMAN).drop("hcg").add(condition("preg", "77386006", "2026-06-01"))
    assert st(edit.screen(tmp_path), "EXCL08") == "met"


def test_pregnancy_condition_abated_is_no_longer_present(tmp_path):
    preg = condition("preg", "77386006", "2026-02-01", "resolved",
                     abatementDateTime="2026-10-30")
    r = Edit(WOMAN).add(preg).screen(tmp_path)
    assert st(r, "EXCL08") == "not_met"  # the negative serum hCG of 2026-11-20 decides


def test_breastfeeding_resolved_in_2019_is_not_current(tmp_path):
    bf = condition("bf", "169750002", "2018-06-01", "resolved",
                   abatementDateTime="2019-03-01")
    r = Edit(WOMAN).drop("att-lactating").add(bf).screen(tmp_path)
    assert st(r, "EXCL08") == "unknown"  # not lactating is not shown either
    reasons = {i.source: i.reason for i in r.result("EXCL08").outcome.ignored}
    assert "no longer present" in reasons["Condition/bf"]
    r = Edit(WOMAN).add(bf).screen(tmp_path)
    assert st(r, "EXCL08") == "not_met"


@pytest.mark.parametrize("status, abated, present", [
    ("active", None, True), (None, None, True), ("recurrence", None, True),
    ("relapse", None, True), ("resolved", None, False), ("inactive", None, False),
    ("remission", None, False),
    ("active", date(2026, 11, 25), False),  # abated on the day in question: gone
    ("active", date(2026, 11, 26), True),  # abated the day after: still present
])
def test_condition_status_is_one_building_block(status, abated, present):
    assert condition_present(status, abated, AS_OF) is present


def test_postmenopause_ended_by_abatement_no_longer_rules_out_childbearing(tmp_path):
    meno = condition("meno", "76498008", "2020-01-01", "active",
                     abatementDateTime="2024-01-01")
    r = Edit(WOMAN).drop("att-childbearing-potential").add(meno).screen(tmp_path)
    assert not r.result("INCL10").outcome.summary.startswith("not applicable")
    meno.pop("abatementDateTime")  # present: not of childbearing potential
    r = Edit(WOMAN).drop("att-childbearing-potential").add(meno).screen(tmp_path)
    assert r.result("INCL10").outcome.summary.startswith("not applicable")


# --- 8. exposures: unknown end, ongoing course --------------------------------------------
def test_stopped_course_with_no_end_leaves_e3_unknown(tmp_path):
    r = (Edit(MAN).drop("att-recent-anticancer-therapy")
         .attest("anticancer-therapy-history-complete", True)
         .add(capecitabine("cape", "2026-08-01")).screen(tmp_path))
    o = r.result("EXCL03").outcome
    assert o.status.value == "unknown"  # it ended some day from 2026-08-01 to 2026-11-25
    assert any("MedicationStatement/cape" in m for m in o.missing)


def test_stopped_course_whose_latest_end_is_old_enough_does_not_exclude(tmp_path):
    r = (Edit(MAN).drop("att-recent-anticancer-therapy")
         .attest("anticancer-therapy-history-complete", True)
         .add(capecitabine("cape", "2026-05-01", dateAsserted="2026-09-01"))
         .screen(tmp_path))
    assert st(r, "EXCL03") == "not_met"  # ended by 2026-09-01: 91 days before inclusion


def test_lar_stopped_with_no_end_leaves_i5_unknown(tmp_path):
    lar = {"resourceType": "MedicationStatement", "id": "lar2", "status": "stopped",
           "medicationCodeableConcept": cc(ATC, "H01CB02", "Octreotide LAR 30 mg"),
           "effectivePeriod": {"start": "2026-10-01"}}
    r = Edit(MAN).add(lar).screen(tmp_path)
    assert st(r, "INCL05") == "unknown"
    lar["dateAsserted"] = "2026-10-20"  # ended by then: 42 days before D0
    assert st(Edit(MAN).add(lar).screen(tmp_path), "INCL05") == "met"


def test_radiotherapy_course_in_progress_is_ongoing_not_future(tmp_path):
    rt = radiotherapy("rt", ("10200004", "Liver structure"), 0.02, "in-progress",
                      {"start": "2026-11-16", "end": "2026-12-10"})
    r = Edit(MAN).add(rt).screen(tmp_path)
    assert st(r, "EXCL03") == "met"
    assert f"Procedure/{r.patient_id}-rt" not in {i.source for i in r.ignored} | {
        "Procedure/rt"}


# --- 9. partial dates --------------------------------------------------------------------
@pytest.mark.parametrize("born, expected", [("1968-05", "met"), ("1968", "met"),
                                            ("2008-11", "met"), ("2008-12", "unknown"),
                                            ("2009", "not_met")])
def test_partial_birth_date_is_an_interval(tmp_path, born, expected):
    r = Edit(WOMAN).patient(birthDate=born).screen(tmp_path)
    assert st(r, "INCL01") == expected
    assert st(r, "EXCL08") == "not_met"  # the sex is still read


@pytest.mark.parametrize("end, expected", [("2026-09", "unknown"), ("2026-08", "not_met")])
def test_partial_end_of_a_course_is_an_interval(tmp_path, end, expected):
    # 84 days before 2026-12-01 is 2026-09-08: September may or may not be inside.
    r = (Edit(MAN).drop("att-recent-anticancer-therapy")
         .attest("anticancer-therapy-history-complete", True)
         .add(capecitabine("cape", "2026-03", end)).screen(tmp_path))
    assert st(r, "EXCL03") == expected
    assert r.warnings == ()


# --- the newest ECOG cannot be read ------------------------------------------------------
def test_unreadable_newest_ecog_does_not_let_an_older_one_decide(tmp_path):
    bad = {"resourceType": "Observation", "id": "ecog-new", "status": "final",
           "code": cc(LOINC, "89247-1"), "effectiveDateTime": "2026-11-24",
           "valueInteger": 7}
    r = Edit(MAN).add(bad).screen(tmp_path)
    o = r.result("INCL09").outcome
    assert o.status.value == "unknown"
    assert any("ecog-new" in m for m in o.missing)
    assert any(i.source == "Observation/ecog-new" for i in o.ignored)


def test_positive_test_outweighs_a_record_of_menopause(tmp_path):
    meno = condition("meno", "76498008", "2020-01-01")
    r = (Edit(WOMAN).drop("att-childbearing-potential").add(meno)
         .add(hcg("serum-pos", "2118-8", True, "2026-11-22")).screen(tmp_path))
    assert st(r, "EXCL08") == "met"


def test_unreadable_newest_serum_hcg_does_not_let_an_older_negative_decide(tmp_path):
    bad = {"resourceType": "Observation", "id": "hcg-new", "status": "final",
           "code": cc(LOINC, "21198-7"), "effectiveDateTime": "2026-11-23",
           "valueQuantity": {"value": 12, "unit": "[IU]/L", "code": "[IU]/L",
                             "system": "http://unitsofmeasure.org"}}  # 5-25: equivocal
    r = Edit(WOMAN).add(bad).screen(tmp_path)
    o = r.result("EXCL08").outcome
    assert o.status.value == "unknown"
    assert any("hcg-new" in m for m in o.missing)


def test_window_of_a_deceased_patient_is_empty(tmp_path):
    from trialsieve.window import eligibility_window
    from trialsieve.window_report import window_table

    path = tmp_path / "dead.json"
    path.write_text(json.dumps(Edit(MAN).patient(deceasedDateTime="2026-10-02").bundle))
    (rec,) = records(path)
    w = eligibility_window(LUMEN, rec, AS_OF)
    assert w.intervals == () and w.what_if == () and w.next_steps == ()
    assert "deceased on 2026-10-02" in window_table(w)


@pytest.mark.parametrize("question, cid, example, drop", [
    ("pregnant", "EXCL08", WOMAN, ("hcg",)),
    ("uncontrolled-significant-condition", "EXCL07", MAN,
     ("att-uncontrolled-significant-condition",)),
])
def test_stale_yes_on_a_current_state_is_not_assumed_away_in_pre_screening(
        tmp_path, question, cid, example, drop):
    # "yes" 40 days ago: too old to decide, but the state may well continue.
    edit = Edit(example).drop(*drop).attest(question, True, "2026-10-16")
    o = edit.screen(tmp_path, PRE_SCREENING).result(cid).outcome
    assert o.status.value == "unknown" and not o.assumptions


def test_e5_attestation_covers_a_course_whose_field_is_not_described(tmp_path):
    rt = radiotherapy("rt-old", ("10200004", "Liver structure"), None, "completed",
                      {"start": "2021-01-04", "end": "2021-01-20"})
    rt.pop("bodySite")
    assert st(Edit(MAN).add(rt).screen(tmp_path), "EXCL05") == "not_met"  # attested no
    edit = Edit(MAN).drop("att-prior-rt-kidney-or-marrow").add(rt)
    assert st(edit.screen(tmp_path), "EXCL05") == "unknown"


@pytest.mark.parametrize("controlled, expected", [(None, "unknown"), (False, "met"),
                                                  (True, "not_met")])
def test_known_brain_metastases_answered_yes_is_read(tmp_path, controlled, expected):
    edit = (Edit(MAN).drop("att-known-brain-metastases")
            .attest("known-brain-metastases", True))
    if controlled is not None:
        edit.attest("brain-metastases-controlled", controlled)
    for policy in (SCREENING, PRE_SCREENING):
        assert st(edit.screen(tmp_path, policy), "EXCL06") == expected, policy
