"""`trialsieve prescreen` on a patient whose resources come partly in NDJSON files and
partly in a bundle (two exports of one hospital): one patient, as `screen` reads the
folder (issue 17's leftover). Expected results worked by hand from the protocol notes.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from populations import (
    EXAMPLES,
    NAMED_OTHERWISE,
    name_otherwise,
    screen_json,
    split_57_named_otherwise,
    split_export,
)
from populations import prescreen_cli as prescreen
from populations import results_of as results


def test_a_patient_split_between_ndjson_and_a_bundle_is_screened_once_as_screen_reads_it(
        tmp_path):
    """Example 57, its positive urine hCG of 2026-11-20 (after a negative serum test)
    alone in the bundle. Worked by hand from the notes (the newest pregnancy test
    decides): pregnant, EXCL08 met, not eligible. Read as two patients, the NDJSON part
    (negative serum test the newest) was eligible."""
    pid = split_export(tmp_path / "in", "57-positive-urine-hcg-after-negative-serum.json",
                 {"ex57-hcg-urine"})
    code, run = prescreen(tmp_path / "in", tmp_path / "out")
    assert code == 0, run["skipped"]
    got = results(tmp_path / "out")
    assert list(got) == [pid]
    e8 = next(c for c in got[pid]["criteria"] if c["id"] == "EXCL08")
    assert e8["status"] == "met", e8["summary"]
    assert got[pid]["verdict"] == "not_eligible"
    assert got == screen_json(tmp_path / "in")


def test_a_split_patient_whose_net_is_in_the_bundle_is_not_set_aside_by_the_ndjson_part(
        tmp_path):
    """Example 02 with its diagnosis (the NET, its pathology, its liver metastases) in
    the bundle and the rest, its Patient included, in NDJSON: the triage looks at the
    whole patient. By hand: example 02 is eligible, so not set aside and one result, as
    `screen` reads it."""
    diagnosis = {"ex02-net", "ex02-liver-mets", "ex02-pathology"}
    pid = split_export(tmp_path / "in", "02-eligible-man.json", diagnosis)
    code, run = prescreen(tmp_path / "in", tmp_path / "out")
    assert code == 0, run["skipped"]
    got = results(tmp_path / "out")
    assert list(got) == [pid] and run["counts"]["set_aside"] == 0
    assert got[pid]["verdict"] == "eligible"
    assert got == screen_json(tmp_path / "in")


def test_a_study_written_in_a_bundle_is_found_by_the_consent_of_an_ndjson_patient(
        tmp_path):
    """Example 02 with the ResearchStudy its Consent names in a bundle of its own: by
    hand, still eligible (the study is the same resource in whichever file it came);
    the NDJSON patient did not see it, and its consent read as no study consent."""
    pid = split_export(tmp_path / "in", "02-eligible-man.json", {"lumen"})
    code, run = prescreen(tmp_path / "in", tmp_path / "out")
    assert code == 0, run["skipped"]
    got = results(tmp_path / "out")
    assert got[pid]["verdict"] == "eligible"
    assert got == screen_json(tmp_path / "in")


_SPLIT_EXAMPLES = ["02-eligible-man.json", "24-major-surgery-5-weeks-before.json",
                   "57-positive-urine-hcg-after-negative-serum.json",
                   "31-entered-in-error-low-hb-ignored.json"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=st.sampled_from(_SPLIT_EXAMPLES), data=st.data())
def test_however_a_patient_is_split_between_ndjson_and_a_bundle_prescreen_reads_it_whole(
        tmp_path_factory, example, data):
    """The principle: which export a resource came in, and how that export names the
    patient, change nothing. Any split of an example's resources, the bundle naming the
    patient by the same id or otherwise (a linked Patient, a hospital number), gives one
    result, `screen`'s own for the same folder, with the triage on (pre-screening)."""
    bundle = json.loads((EXAMPLES / example).read_text())
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    patient = next(e["resource"]["id"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    in_bundle = data.draw(st.sets(st.sampled_from(ids), min_size=1, max_size=len(ids) - 1))
    tmp = tmp_path_factory.mktemp("split")
    pid = split_export(tmp / "in", example, in_bundle)
    how = None if patient in in_bundle else data.draw(st.sampled_from(
        [None, *NAMED_OTHERWISE]))  # named otherwise: the Patient in NDJSON
    if how is not None:
        name_otherwise(tmp / "in", how)
    code, run = prescreen(tmp / "in", tmp / "out")
    assert code == 0, run["skipped"]
    got = results(tmp / "out")
    assert list(got) == [pid]
    assert got == screen_json(tmp / "in")

@pytest.mark.parametrize("how", NAMED_OTHERWISE)
def test_a_patient_named_otherwise_in_each_export_is_one_patient(tmp_path, how):
    """Example 57's positive urine hCG alone in a second export that names the patient
    otherwise (`split_57_named_otherwise`: a Patient `ex57-b` linked to the first
    export's `ex57`, or linked from it, or the hospital number alone). By hand (notes:
    patients linked in the input are one person, an identifier held by one patient is
    that patient; the newest pregnancy test decides, whichever resource carries it): one
    patient, `ex57` (the smaller id, or the one not replaced), pregnant, EXCL08 met, not
    eligible. Read as two, the NDJSON part (the negative serum test the newest) was
    eligible."""
    split_57_named_otherwise(tmp_path / "in", how)
    code, run = prescreen(tmp_path / "in", tmp_path / "out")
    assert code == 0, run["skipped"]
    got = results(tmp_path / "out")
    assert list(got) == ["ex57"], list(got)
    e8 = next(c for c in got["ex57"]["criteria"] if c["id"] == "EXCL08")
    assert e8["status"] == "met", e8["summary"]
    assert got["ex57"]["verdict"] == "not_eligible"
    assert got == screen_json(tmp_path / "in")
