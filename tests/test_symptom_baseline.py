"""I3 (c) clinical part: the baseline of a rise is the last recording before it, and one
symptom is one code, or one name whatever its spelling (protocol notes, I3 c; issue 17,
group 8)."""

from __future__ import annotations

import json
from datetime import date

from test_no_false_eligible import Edit

from trialsieve.clinical.progression import SymptomObservation as Obs
from trialsieve.clinical.progression import assess_symptom
from trialsieve.fhir.reader import read
from trialsieve.rules.progression_evidence import progression_facts


def test_a_rise_is_measured_from_the_last_recording_before_it():
    """4/day, then 2.5 (a fall), then 4 and 4 again 19 days later: +60 % over the 2.5 it
    rose from, sustained: a clinical progression (was: against the first 4, no rise)."""
    a = assess_symptom("diarrhoea", [Obs(date(2026, 6, 1), 4), Obs(date(2026, 7, 1), 2.5),
                                     Obs(date(2026, 8, 1), 4), Obs(date(2026, 8, 20), 4)])
    [event] = a.events
    assert (event.baseline_date, event.baseline_frequency) == (date(2026, 7, 1), 2.5)


def test_a_creeping_level_is_not_a_rise_over_the_first_recording():
    """2, 2.8 (+40 %), 3.2 (+14 % over 2.8), 3.2: no recording rose 50 % over the level it
    came from (was: 3.2 against the first 2, +60 %, a progression)."""
    a = assess_symptom("flushing", [Obs(date(2026, 6, 1), 2), Obs(date(2026, 7, 1), 2.8),
                                    Obs(date(2026, 8, 1), 3.2), Obs(date(2026, 8, 20), 3.2)])
    assert a.events == ()


def test_the_baseline_holds_through_a_run():
    """2, then 3 (+50 %), 3 and 3.1 over 20 days: each raised over 2, not over each other."""
    a = assess_symptom("diarrhea", [Obs(date(2026, 6, 1), 2), Obs(date(2026, 7, 1), 3),
                                    Obs(date(2026, 7, 10), 3), Obs(date(2026, 7, 21), 3.1)])
    [event] = a.events
    assert event.baseline_frequency == 2


def test_spellings_are_one_name():
    from trialsieve.fhir.imaging_mapping import symptom_name

    assert symptom_name("Diarrhoea") == symptom_name("diarrhea") == "diarrhea"
    assert symptom_name("Diarrhea (finding)") == "diarrhea"
    assert symptom_name("Oedema") == symptom_name("edema")


EX46 = "46-clinical-and-biochemical-progression"


def c1_events(edit: Edit, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(edit.bundle), encoding="utf-8")
    (rec,) = read(path).records
    return [p for p in progression_facts(rec, date(2026, 11, 25)).events if p.arm == "c1"]


def recording(edit: Edit, rid: str) -> dict:
    return next(e["resource"] for e in edit.bundle["entry"] if e["resource"].get("id") == rid)


def test_one_code_whatever_its_text(tmp_path):
    """Example 46's diarrhoea, the last recording's text spelled "Diarrhea": one code
    (SNOMED 62315008), one symptom: the rise is still found (was: split by text)."""
    e = Edit(EX46)
    recording(e, "ex46-diarrhoea-3")["code"]["text"] = "Diarrhea"
    assert c1_events(Edit(EX46), tmp_path) and c1_events(e, tmp_path)


def test_one_name_whatever_its_spelling_when_not_coded(tmp_path):
    e = Edit(EX46)
    for n, text in ((1, "diarrhoea"), (2, "Diarrhea"), (3, "diarrhea")):
        recording(e, f"ex46-diarrhoea-{n}")["code"] = {"text": text}
    assert c1_events(e, tmp_path)


def test_a_text_only_recording_joins_the_coded_one_of_that_name(tmp_path):
    e = Edit(EX46)
    recording(e, "ex46-diarrhoea-1")["code"] = {"text": "Diarrhoea"}
    assert c1_events(e, tmp_path)
