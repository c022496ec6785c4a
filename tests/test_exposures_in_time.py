"""Exposures and periods in time (issue 17, group 3; protocol notes "Dates the criteria
speak of", "Real records: Exposures in time", I4, I5, E3).

Each test edits the bundled eligible man the way a real record differs, reads it through
the FHIR reader and screens it on 2026-11-25 for inclusion = D0 = 2026-12-01. E3's window
is the 84 days before inclusion: from 2026-09-08; I5 needs 28 days after the last
long-acting SSA dose: on or before 2026-11-03.
"""

from __future__ import annotations

from test_no_false_eligible import ATC, MAN, PROJECT, SNOMED, Edit, cc, st

from trialsieve.fhir.reader import read

EVEROLIMUS = cc(ATC, "L01EG02", "Everolimus 10 mg")
LANREOTIDE = cc(ATC, "H01CB03", "Somatuline Autogel 120 mg")
CAPECITABINE = cc(ATC, "L01BC06", "Capecitabine 500 mg")


def e3_history_complete() -> Edit:
    """The man with no answer on recent therapy, and the therapy history declared complete:
    E3 then rests on the exposures on record."""
    return (Edit(MAN).drop("att-recent-anticancer-therapy")
            .attest("anticancer-therapy-history-complete", True))


def statement(rid: str, drug: dict, status: str, **when) -> dict:
    return {"resourceType": "MedicationStatement", "id": rid, "status": status,
            "medicationCodeableConcept": drug, **when}


def administration(rid: str, drug: dict, when: str, status: str = "completed") -> dict:
    return {"resourceType": "MedicationAdministration", "id": rid, "status": status,
            "medicationCodeableConcept": drug, "effectiveDateTime": when}


def rt_course(rid: str, status: str, period: dict) -> dict:
    return {"resourceType": "Procedure", "id": rid, "status": status,
            "code": cc(SNOMED, "33195004", "External beam radiotherapy"),
            "bodySite": [cc(SNOMED, "10200004", "Liver structure")],
            "performedPeriod": period}


# --- radiotherapy with a start and no end ---------------------------------------------
def test_completed_radiotherapy_with_no_end_ended_some_day_up_to_screening(tmp_path):
    """Started 2026-06-01, completed, no end: it ended some day from 06-01 to the screening
    date 11-25; 06-01 + 84 = 08-24 is past, 11-25 + 84 is not: E3 unknown (was: ended on
    its start day, so the complete history made E3 not met)."""
    r = e3_history_complete().add(rt_course("rt", "completed", {"start": "2026-06-01"})) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "unknown"
    assert any("Procedure/rt" in m for m in r.result("EXCL03").outcome.missing)


def test_stopped_radiotherapy_long_ago_with_no_end_still_unknown(tmp_path):
    """Stopped, started 2025-01-10: the end may be any day up to 2026-11-25: unknown."""
    r = e3_history_complete().add(rt_course("rt", "stopped", {"start": "2025-01-10"})) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "unknown"


def test_radiotherapy_in_progress_is_ongoing(tmp_path):
    r = e3_history_complete().add(rt_course("rt", "in-progress", {"start": "2025-01-10"})) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "met"


def test_radiotherapy_with_an_end_is_read_as_recorded(tmp_path):
    """Ended 2026-09-07: 85 days before inclusion, outside the window: not met."""
    r = e3_history_complete().add(rt_course("rt", "completed", {
        "start": "2026-08-01", "end": "2026-09-07"})).screen(tmp_path)
    assert st(r, "EXCL03") == "not_met"


# --- active MedicationStatement with one date -----------------------------------------
def test_active_everolimus_statement_with_one_date_is_ongoing(tmp_path):
    """Active since 2026-06-01 (effectiveDateTime): taken up to the screening date, so E3
    is met (was: one dose on 06-01, 183 days before inclusion, and the "no recent therapy"
    answer then made E3 not met)."""
    r = Edit(MAN).add(statement("evero", EVEROLIMUS, "active",
                                effectiveDateTime="2026-06-01")).screen(tmp_path)
    assert st(r, "EXCL03") == "met"


def test_active_everolimus_statement_with_date_asserted_only_is_ongoing(tmp_path):
    r = Edit(MAN).add(statement("evero", EVEROLIMUS, "active", dateAsserted="2026-06-01")) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "met"


def test_active_lanreotide_statement_does_not_pass_i5(tmp_path):
    """Active since 2026-08-01: still taken at the screening date 2026-11-25; even stopped
    that day, D0 2026-12-01 is 6 days later, 28 needed: not met (was: one dose on 08-01,
    122 days before D0: met)."""
    r = Edit(MAN).add(statement("lan", LANREOTIDE, "active", effectiveDateTime="2026-08-01")) \
        .screen(tmp_path)
    assert st(r, "INCL05") == "not_met"
    assert "ongoing" in r.result("INCL05").outcome.summary


def test_completed_statement_with_one_date_stays_a_dose_on_that_day(tmp_path):
    """Completed, 2026-09-01: 91 days before inclusion; history complete: not met."""
    r = e3_history_complete().add(statement("cape", CAPECITABINE, "completed",
                                            effectiveDateTime="2026-09-01")).screen(tmp_path)
    assert st(r, "EXCL03") == "not_met"


# --- month-only and year-only administrations -----------------------------------------
def test_month_only_lanreotide_injection_is_any_day_of_that_month(tmp_path):
    """Given in 2026-10: 10-01 is 61 days before D0, 10-31 is 31: I5 met on every day."""
    r = Edit(MAN).add(administration("lan", LANREOTIDE, "2026-10")).screen(tmp_path)
    assert st(r, "INCL05") == "met"


def test_month_only_lanreotide_in_november_is_unknown_not_the_1st(tmp_path):
    """Given in 2026-11: 11-01 is 30 days before D0 (would pass), 11-30 is 1 day (fails):
    unknown (was: read as 11-01, met)."""
    r = Edit(MAN).add(administration("lan", LANREOTIDE, "2026-11")).screen(tmp_path)
    assert st(r, "INCL05") == "unknown"


def test_month_only_capecitabine_straddling_the_e3_window_is_unknown(tmp_path):
    """Given in 2026-09: 09-01 + 84 = 11-24 (outside), 09-30 + 84 = 12-23 (inside):
    unknown (was: 09-01, and the complete history made E3 not met)."""
    r = e3_history_complete().add(administration("cape", CAPECITABINE, "2026-09")) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "unknown"


def test_year_only_capecitabine_of_2025_is_outside_the_window(tmp_path):
    """Given in 2025: 2025-12-31 + 84 = 2026-03-25, before inclusion: not met."""
    r = e3_history_complete().add(administration("cape", CAPECITABINE, "2025")) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "not_met"


def test_year_only_capecitabine_of_2026_is_unknown(tmp_path):
    r = e3_history_complete().add(administration("cape", CAPECITABINE, "2026")) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "unknown"


# --- damaged periods ------------------------------------------------------------------
def test_period_ending_before_it_starts_is_set_aside_and_e3_cannot_pass(tmp_path):
    """Capecitabine 2026-10-01 to 2026-03-01: damaged; read as real it ended 275 days before
    inclusion (E3 not met by the complete history). Set aside with a warning: unknown."""
    r = e3_history_complete().add(statement("cape", CAPECITABINE, "completed",
                                            effectivePeriod={"start": "2026-10-01",
                                                             "end": "2026-03-01"})) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "unknown"
    assert any(w.source == "MedicationStatement/cape" and "before it starts" in w.message
               for w in r.warnings)


def test_damaged_lanreotide_period_makes_i5_unknown(tmp_path):
    r = Edit(MAN).add(statement("lan", LANREOTIDE, "completed", effectivePeriod={
        "start": "2026-11-20", "end": "2026-01-01"})).screen(tmp_path)
    assert st(r, "INCL05") == "unknown"


def test_damaged_surgery_period_makes_e2_unknown(tmp_path):
    surgery = {"resourceType": "Procedure", "id": "op", "status": "completed",
               "category": cc(PROJECT, "major-surgery"), "code": cc(SNOMED, "387713003"),
               "performedPeriod": {"start": "2026-11-10", "end": "2026-01-10"}}
    r = (Edit(MAN).drop("att-recent-major-surgery")
         .attest("surgery-history-complete", True).add(surgery).screen(tmp_path))
    assert st(r, "EXCL02") == "unknown"


# --- planned, not taken ---------------------------------------------------------------
def no_refractory_answer() -> Edit:
    """The man's I4 then rests on his RECIST progression of 2026-11-12 and his therapies."""
    return Edit(MAN).drop("att-refractory-disease", "ssa")


def test_intended_lanreotide_is_no_exposure_for_i4(tmp_path):
    """Only planned: not received, so the progression is not "during or after" it (was
    read as received: I4 met)."""
    r = no_refractory_answer().add(statement("lan", LANREOTIDE, "intended", effectivePeriod={
        "start": "2024-04-15"})).screen(tmp_path)
    assert st(r, "INCL04") == "unknown"


def test_prescribed_lanreotide_alone_is_no_exposure(tmp_path):
    request = {"resourceType": "MedicationRequest", "id": "rx", "status": "active",
               "intent": "order", "medicationCodeableConcept": LANREOTIDE,
               "authoredOn": "2024-04-10"}
    r = no_refractory_answer().add(request).screen(tmp_path)
    assert st(r, "INCL04") == "unknown"
    assert any(i.source == "MedicationRequest/rx" for i in r.ignored)


def test_intended_lanreotide_is_no_dose_for_i5(tmp_path):
    """Planned for 2026-11-20, 11 days before D0: not a dose, so no wash-out is needed from
    it (the completed course ended 2026-10-20, 42 days before D0): I5 met."""
    r = Edit(MAN).add(statement("lan", LANREOTIDE, "intended",
                                effectiveDateTime="2026-11-20")).screen(tmp_path)
    assert st(r, "INCL05") == "met"


def test_not_taken_everolimus_is_no_exposure(tmp_path):
    r = e3_history_complete().add(statement("evero", EVEROLIMUS, "not-taken",
                                            effectiveDateTime="2026-11-01")).screen(tmp_path)
    assert st(r, "EXCL03") == "not_met"


# --- I4: 12 weeks from the start of therapy -------------------------------------------
def everolimus_from(start: str) -> Edit:
    return no_refractory_answer().add(statement("evero", EVEROLIMUS, "completed",
                                                effectivePeriod={"start": start,
                                                                 "end": "2026-11-01"}))


def test_i4_progression_exactly_84_days_after_start_counts(tmp_path):
    """Started 2026-08-20; RECIST PD on 2026-11-12, exactly 84 days (12 weeks) later."""
    r = everolimus_from("2026-08-20").screen(tmp_path)
    assert st(r, "INCL04") == "met"


def test_i4_progression_83_days_after_start_does_not_count(tmp_path):
    r = everolimus_from("2026-08-21").screen(tmp_path)
    assert st(r, "INCL04") == "unknown"


def test_i4_month_only_start_is_an_interval(tmp_path):
    """Started in 2026-08: 08-01 + 84 = 10-24 (before the PD), 08-31 + 84 = 11-23 (after):
    undecidable, unknown (was: started 08-01, met)."""
    r = everolimus_from("2026-08").screen(tmp_path)
    assert st(r, "INCL04") == "unknown"
    assert any("between 2026-08-01 and 2026-08-31" in m
               for m in r.result("INCL04").outcome.missing)


def test_i4_month_only_start_long_before_counts(tmp_path):
    """Started in 2026-07: 07-31 + 84 = 10-23, before the PD of 11-12: met."""
    r = everolimus_from("2026-07").screen(tmp_path)
    assert st(r, "INCL04") == "met"


def test_reader_keeps_the_month_of_a_partial_start(tmp_path):
    e = everolimus_from("2026-08")
    path = tmp_path / "p.json"
    import json
    path.write_text(json.dumps(e.bundle), encoding="utf-8")
    (rec,) = read(path).records
    [evero] = [x for x in rec.exposures if x.source == "MedicationStatement/evero"]
    assert (str(evero.start), str(evero.latest_start)) == ("2026-08-01", "2026-08-31")


# --- a referenced Medication in several versions ---------------------------------------
def _medication(version: str, drug: dict) -> dict:
    return {"resourceType": "Medication", "id": "m1", "meta": {"versionId": version},
            "code": drug}


PARACETAMOL = cc(ATC, "N02BE01", "Paracetamol 1 g")


def test_a_referenced_medication_is_read_in_its_newest_version_whatever_the_order(tmp_path):
    """Given 2026-10-15 (47 days before inclusion, inside E3's 84 days), the drug a
    Medication names: version 1 says paracetamol, version 2 (the correction) everolimus.
    The newest version is the medication, in either order of the file, and by a
    versioned reference too: E3 met (was: the version found last in the file, so listing
    version 1 last made it paracetamol and E3 not met on the complete history)."""
    for order in ((("2", EVEROLIMUS), ("1", PARACETAMOL)),
                  (("1", PARACETAMOL), ("2", EVEROLIMUS))):
        for ref in ("Medication/m1", "Medication/m1/_history/1"):
            adm = {"resourceType": "MedicationAdministration", "id": "adm",
                   "status": "completed", "effectiveDateTime": "2026-10-15",
                   "medicationReference": {"reference": ref}}
            edit = e3_history_complete().add(adm)
            for version, drug in order:
                edit = edit.add(_medication(version, drug))
            r = edit.screen(tmp_path)
            assert st(r, "EXCL03") == "met", (order, ref)
