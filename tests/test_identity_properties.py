"""Properties of "One patient, one record" (protocol notes): reordering a patient's
resources, splitting them over several files of the input, or adding an exact duplicate
of a version never changes a result; and `prescreen` reads the split patient as `screen`
does.

The patient is the eligible man of examples/patients/02 with generated changes: versions
of his Hb (numbered, any value, some entered in error), further Hb results on other days,
a linked duplicate record (with or without a death), and each resource referring to him
in a form drawn from every form the notes name (id, _history, absolute URL, identifier,
the linked record's id).
"""

from __future__ import annotations

import copy
import json
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_identity import MRN, ex02, resource

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.output.json_result import to_json
from trialsieve.population.run import Settings, prescreen
from trialsieve.protocols.lumen import LUMEN

AS_OF = date(2026, 11, 25)
POLICY = "screening"
FORMS = [{"reference": "Patient/ex02"}, {"reference": "Patient/ex02/_history/7"},
         {"reference": "https://fhir.example.org/r4/Patient/ex02"}, {"identifier": MRN},
         {"reference": "Patient/ex02-old"}]
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def patients(draw) -> list[dict]:
    """The resources of one patient (a list of FHIR resources, in file order)."""
    entries = ex02()
    res = [e["resource"] for e in entries]
    res[0]["identifier"] = [MRN]
    hb = resource(entries, "ex02-hb")
    numbers = draw(st.lists(st.integers(1, 9), max_size=3, unique=True))
    for n in numbers:  # versions of the Hb, each numbered
        v = copy.deepcopy(hb)
        v["meta"] = {"versionId": str(n)}
        v["valueQuantity"] = {**hb["valueQuantity"],
                              "value": draw(st.sampled_from([8.0, 12.4, 15.0]))}
        v["status"] = draw(st.sampled_from(["final", "amended", "entered-in-error"]))
        res.append(v)
    if numbers:
        res.remove(hb)
    for i in range(draw(st.integers(0, 2))):  # more Hb results, other days
        more = copy.deepcopy(hb)
        more.update(id=f"ex02-hb-{i}", effectiveDateTime=f"2026-11-{draw(st.integers(1, 24)):02d}")
        more["valueQuantity"] = {**hb["valueQuantity"],
                                 "value": draw(st.sampled_from([8.5, 13.0]))}
        res.append(more)
    linked = draw(st.sampled_from([None, "alive", "dead"]))
    if linked:
        old = {"resourceType": "Patient", "id": "ex02-old", "gender": "male",
               "birthDate": "1959-02-03",
               "link": [{"other": {"reference": "Patient/ex02"}, "type": "replaced-by"}]}
        if linked == "dead":
            old["deceasedDateTime"] = "2026-10-02"
        res.append(old)
    forms = FORMS if linked else FORMS[:-1]
    for r in res:
        for f in ("subject", "patient"):
            if isinstance(r.get(f), dict):
                r[f] = copy.deepcopy(draw(st.sampled_from(forms)))
    return res


def write(folder: Path, files: list[list[dict]], ndjson: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, part in enumerate(files):
        if not part:
            continue
        if ndjson:
            (folder / f"{n}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in part))
        else:
            (folder / f"{n}.json").write_text(json.dumps(
                {"resourceType": "Bundle", "type": "collection",
                 "entry": [{"resource": r} for r in part]}))
    return folder


def results(folder: Path) -> dict[str, tuple]:
    """What `screen` concludes for each patient: verdict, death, each criterion's status
    and summary (not the file names, which a split changes)."""
    out = {}
    for rec in read(folder).records:
        doc = to_json(screen(LUMEN, rec, Dates.resolve(AS_OF, None, AS_OF), POLICY))
        out[doc["patient"]] = outcome(doc)
    return out


def outcome(doc: dict) -> tuple:
    return (doc["verdict"], doc["deceased"],
            tuple((c["id"], c["status"], c["summary"]) for c in doc["criteria"]))


@SETTINGS
@given(patients(), st.randoms(use_true_random=False))
def test_reordering_resources_never_changes_a_result(res, rnd):
    shuffled = list(res)
    rnd.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:
        one = results(write(Path(tmp) / "a", [res], ndjson=False))
        other = results(write(Path(tmp) / "b", [shuffled], ndjson=False))
    assert list(one) == ["ex02"]
    assert other == one


@SETTINGS
@given(patients(), st.data())
def test_adding_an_exact_duplicate_never_changes_a_result(res, data):
    n = data.draw(st.integers(0, len(res) - 1))
    at = data.draw(st.integers(0, len(res)))
    more = res[:at] + [copy.deepcopy(res[n])] + res[at:]
    with tempfile.TemporaryDirectory() as tmp:
        one = results(write(Path(tmp) / "a", [res], ndjson=False))
        other = results(write(Path(tmp) / "b", [more], ndjson=False))
    assert other == one


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(patients(), st.data(), st.booleans())
def test_splitting_a_patient_across_files_never_changes_a_result_screen_or_prescreen(
        res, data, ndjson):
    where = data.draw(st.lists(st.integers(0, 2), min_size=len(res), max_size=len(res)))
    files = [[r for r, w in zip(res, where, strict=True) if w == k] for k in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        one = results(write(Path(tmp) / "a", [res], ndjson=False))
        folder = write(Path(tmp) / "b", files, ndjson)
        split = results(folder)
        prescreen(folder, Path(tmp) / "out", Settings(AS_OF, POLICY))
        docs = [json.loads(x) for x in (Path(tmp) / "out" / "results.ndjson").read_text()
                .splitlines()]
    assert split == one
    assert {d["patient"]: outcome(d) for d in docs} == one
