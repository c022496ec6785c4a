"""`trialsieve prescreen` on populations: the DuckDB path gives, patient by patient, exactly
what `trialsieve screen --format json` gives; the funnel, the ranked candidates and the
account of bad data are checked on a population whose answers are worked out by hand.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from populations import (
    AS_OF,
    assert_triage_agrees,
    ndjson_by_type,
    no_net_in_full,
    run_cli,
    screen_json,
    site_population,
)
from populations import (
    prescreen_cli as prescreen,
)
from populations import (
    results_of as results,
)

from trialsieve.codes import ATC, PROJECT
from trialsieve.population.synth import generate

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "patients"
SYNTHEA = REPO.parent / "shared" / "data" / "synthea-bulk-ndjson"


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    generate(240, seed=7, out=folder)
    return folder


@pytest.fixture(scope="module")
def screened(population, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    code, run = prescreen(population, out)
    assert code == 0, run["skipped"]
    return out


@pytest.fixture(scope="module")
def screened_full(population, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full")
    code, run = prescreen(population, out, "--full")
    assert code == 0, run["skipped"]
    assert run["triage"] is False and run["counts"]["set_aside"] == 0
    return out


# --- differential: the population path against the one-patient command ----------------
def test_duckdb_gives_what_screen_gives_for_every_generated_patient(population, screened_full):
    expected = screen_json(population)
    got = results(screened_full)
    assert len(got) == 240
    assert got.keys() == expected.keys()
    for pid, doc in expected.items():
        assert got[pid] == doc, pid
    # the population holds what the generator promises: NET patients, faults, boundaries
    verdicts = {d["verdict"] for d in got.values()}
    assert len(verdicts) >= 2
    assert any(d["criteria"][1]["status"] == "met" for d in got.values())  # a GEP-NET
    assert any("no unit" in w["message"] for d in got.values()
               for w in d["warnings"])  # a result without its unit


def test_the_triage_sets_aside_exactly_the_patients_with_no_net_on_record(screened,
                                                                        screened_full):
    """The push-down: what the bulk look sets aside, the full evaluation finds no
    neuroendocrine neoplasm in (never a NET patient set aside), and on this population it
    sets aside every such patient (a look so wide that it set aside no one would fail)."""
    aside, evaluated = assert_triage_agrees(screened, screened_full)
    assert aside == no_net_in_full(screened_full)
    assert aside > 200 and evaluated >= 5  # 4 % of the 240 have a GEP-NET or a NEC
    run = json.loads((screened / "run.json").read_text())
    assert run["triage"] is True and run["counts"]["set_aside"] == aside


def test_two_jobs_write_the_same_results_as_one(population, screened, tmp_path):
    code, run = prescreen(population, tmp_path, "--jobs", "2")
    assert code == 0
    assert run["engine"] == {"name": "duckdb", "jobs": 2}
    for name in ("results.ndjson", "patients.csv", "candidates.csv", "funnel.csv"):
        assert (tmp_path / name).read_bytes() == (screened / name).read_bytes(), name


class _CountedPool:
    """A spy on the worker pool `prescreen` starts."""

    started = 0

    def __new__(cls, *args, **kwargs):
        from concurrent.futures import ProcessPoolExecutor

        cls.started += 1
        return ProcessPoolExecutor(*args, **kwargs)


@pytest.mark.parametrize(("worker_start", "pools"), [(None, 0), (0.0, 1)])
def test_workers_start_only_when_the_work_pays_for_them(population, screened, tmp_path,
                                                        monkeypatch, worker_start, pools):
    """240 patients, most set aside, are less work after the scan than starting two
    worker processes (their imports): --jobs 2 evaluates them in this process. Made to
    start the workers, it writes the same bytes through them."""
    from trialsieve.population import run

    monkeypatch.setattr(_CountedPool, "started", 0)
    monkeypatch.setattr(run, "ProcessPoolExecutor", _CountedPool)
    if worker_start is not None:
        monkeypatch.setattr(run, "WORKER_START", worker_start)
    code, _ = prescreen(population, tmp_path, "--jobs", "2")
    assert code == 0 and _CountedPool.started == pools
    for name in ("results.ndjson", "patients.csv", "candidates.csv", "funnel.csv"):
        assert (tmp_path / name).read_bytes() == (screened / name).read_bytes(), name


def test_folder_of_bundles_gives_what_screen_gives_window_included(tmp_path):
    expected = screen_json(EXAMPLES, "screening", window=True)
    code, run = prescreen(EXAMPLES, tmp_path, "--policy", "screening", "--window")
    assert code == 0, run["skipped"]
    got = results(tmp_path)
    assert got == expected


def test_bundles_are_triaged_as_the_scan_triages_and_agree_with_the_full_evaluation(
        tmp_path):
    """Bundles are looked at in Python (the same look as the scan's SQL): the examples
    (NETs, NECs, MiNEN, damaged records) and a bundle of patients with no neuroendocrine
    neoplasm, one of them with a narrative holding escaped quotes and an accent."""
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("*.md"))
    adult = {"resourceType": "Patient", "id": "adult", "gender": "female",
             "birthDate": "1960-01-01", "name": [{"family": "Dupr\u00e9"}],
             "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">'
                                                   'Dupr\u00e9</div>'}}
    hb = {"resourceType": "Observation", "id": "hb", "status": "final",
          "subject": {"reference": "Patient/adult"}, "effectiveDateTime": "2026-11-20",
          "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
          "valueQuantity": {"value": 12.1, "unit": "g/dL", "code": "g/dL"}}
    child = {"resourceType": "Patient", "id": "child", "birthDate": "2016-01-01"}
    (folder / "no-net.json").write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                                    "entry": [{"resource": r} for r in
                                                              (adult, hb, child)]}))
    for how in ("triage", "full"):
        code, _ = prescreen(folder, tmp_path / how, *(["--full"] if how == "full" else []))
        assert code == 0
    aside, evaluated = assert_triage_agrees(tmp_path / "triage", tmp_path / "full")
    assert aside == no_net_in_full(tmp_path / "full") == 2 and evaluated >= 50
    # Issue 21: example 82's NET is written only in its pathology report. The look finds
    # it there, so it is evaluated, and pre-screening counts it "from text".
    text_only = results(tmp_path / "triage")["ex82"]
    assert "set_aside" not in text_only
    assert text_only["criteria"][1]["status"] == "met"
    row = next(r for r in csv.DictReader((tmp_path / "triage" / "patients.csv").open(
        encoding="utf-8")) if r["patient"] == "ex82")
    assert row["INCL02"] == "met" and row["from_text"] == "INCL02"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path, dict[str, dict]]:
    """A generated population with the site's own codes, its ConceptMap, and what
    `screen --concept-map` prints for it."""
    folder = tmp_path_factory.mktemp("site") / "population"
    cmap = site_population(folder, 240, seed=7)
    return folder, cmap, screen_json(folder, "pre-screening", False, "--concept-map", str(cmap))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_concept_map_reads_as_screen_reads_it(site, tmp_path, jobs):
    folder, cmap, expected = site
    code, run = prescreen(folder, tmp_path, "--jobs", jobs, "--concept-map", str(cmap),
                          "--full")
    assert code == 0, run["skipped"]
    got = results(tmp_path)
    assert got.keys() == expected.keys()
    for pid, doc in expected.items():
        assert got[pid] == doc, pid
    assert run["concept_maps"] == [{"file": str(cmap), "bytes": cmap.stat().st_size,
                                    "sha256": hashlib.sha256(cmap.read_bytes()).hexdigest()}]
    # the map is what changed these results: without it, the local codes are not read
    plain = screen_json(folder)
    mapped = {pid for pid, doc in expected.items() if doc != plain[pid]}
    assert "site-ssa" in mapped  # a Medication looked up by reference: lanreotide
    assert len(mapped) >= 2  # and a neutrophil count under the lab's local code
    washout = next(c for c in got["site-ssa"]["criteria"] if c["id"] == "INCL05")
    assert washout["status"] == "not_met"  # stopped 10 days before, 28 needed


def test_with_a_concept_map_the_triage_agrees_with_the_full_evaluation(site, tmp_path):
    folder, cmap, _ = site
    for how in ("triage", "full"):
        code, _ = prescreen(folder, tmp_path / how, "--concept-map", str(cmap),
                            *(["--full"] if how == "full" else []))
        assert code == 0
    aside, evaluated = assert_triage_agrees(tmp_path / "triage", tmp_path / "full")
    assert aside > 200 and evaluated >= 5


def test_a_bad_concept_map_stops_prescreen_before_any_patient(population, tmp_path, capsys):
    cmap = tmp_path / "map.json"
    cmap.write_text('{"resourceType": "ConceptMap", "id": "x", "group": []}')
    code, _ = run_cli("prescreen", str(population), "--out", str(tmp_path / "out"),
                      "--concept-map", str(cmap))
    assert code == 2
    err = capsys.readouterr().err
    assert str(cmap) in err and "group" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.ndjson").exists()


@pytest.mark.skipif(not SYNTHEA.exists(), reason="shared Synthea data not beside the repo")
def test_real_synthea_export_gives_what_screen_gives(tmp_path):
    folder = SYNTHEA / "10-patients"
    code, run = prescreen(folder, tmp_path, "--full")
    got = results(tmp_path)
    assert got == screen_json(folder, status=1)  # its log.ndjson: not FHIR, named, exit 1
    _, triaged = prescreen(folder, tmp_path / "triage")
    assert assert_triage_agrees(tmp_path / "triage", tmp_path) == (len(got), 0)
    # log.ndjson is the export's log, not FHIR: each of its lines is reported, not dropped
    assert code == 1
    assert {s["file"] for s in run["skipped"]} == {str(folder / "log.ndjson")}
    assert all(s["line"] and "not FHIR" in s["reason"] for s in run["skipped"])


# --- a population worked out by hand --------------------------------------------------
def _hand_population(folder: Path) -> None:
    """ex01 (eligible under pre-screening, D0 2026-11-25 to 2026-12-10: its MRI of
    2026-11-12 is 28 days old on 2026-12-10), a 10-year-old (I1 not met: removed at the
    first step), an adult with nothing on record (no candidate for certain)."""
    bundle = json.loads((EXAMPLES / "01-eligible-woman-cbp.json").read_text())
    ndjson_by_type(folder, [e["resource"] for e in bundle["entry"]] + [
        {"resourceType": "Patient", "id": "child", "gender": "male", "birthDate": "2016-01-01"},
        {"resourceType": "Patient", "id": "adult", "gender": "female",
         "birthDate": "1960-01-01"},
    ])


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_funnel_candidates_and_patients_on_a_population_worked_by_hand(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    _hand_population(src)
    code, run = prescreen(src, out, "--window")
    assert code == 0
    assert run["counts"]["patients"] == 3
    assert run["counts"]["verdicts"]["eligible"] == 1
    assert run["counts"]["verdicts"]["not_eligible"] >= 1  # the child
    funnel = _csv(out / "funnel.csv")
    # the deceased are their own first step (issue 18), none here
    assert [f["criterion"] for f in funnel][:3] == ["DECEASED", "INCL01", "INCL02"]
    assert (funnel[0]["entering"], funnel[0]["removed"]) == ("3", "0")
    first = funnel[1]
    assert (first["entering"], first["met"], first["not_met"], first["removed"],
            first["remaining"]) == ("3", "2", "1", "1", "2")
    last = funnel[-1]
    assert int(last["remaining_all_known"]) == 1  # ex01, every criterion decided
    cands = _csv(out / "candidates.csv")
    assert cands[0]["patient"] == "ex01"
    assert (cands[0]["rank"], cands[0]["verdict"], cands[0]["unknown"],
            cands[0]["earliest_d0"], cands[0]["latest_d0"]) == (
        "1", "eligible", "0", "2026-11-25", "2026-12-10")
    assert "child" not in {c["patient"] for c in cands}
    patients = {p["patient"]: p for p in _csv(out / "patients.csv")}
    assert patients["child"]["INCL01"] == "not_met"
    assert patients["child"]["verdict"] == "not_eligible"
    assert patients["ex01"]["verdict"] == "eligible"
    assert list(patients["ex01"])[:5] == ["patient", "verdict", "earliest_d0", "latest_d0",
                                           "unknown"]
    for name in ("funnel.png", "funnel.svg"):
        assert (out / name).stat().st_size > 1000
    assert (out / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_funnel_chart_of_a_million_patients_keeps_its_words_inside_and_readable(
        tmp_path):
    """Looked at on the 10^6 run: the first step's words ran off the right edge and the
    axis read "1e6". Counts of a million (as that run's first two steps) must fit, in
    the PNG and the SVG alike (one layout, words measured in the PNG's font)."""
    from trialsieve.population.funnel_chart import chart, layout
    from trialsieve.population.outputs import Funnel

    f = Funnel(total=1_000_000)
    f.verdicts.update(eligible=8027, incomplete=7549, not_eligible=984_424)
    inside = 1_000_000
    f.steps[0].entering = inside  # no one deceased: the first step removes nobody
    for step, (gone, unsure) in zip(f.steps[1:],
                                    [(182_249, 0), (779_693, 4952)] + [(0, 7549)] * 20,
                                    strict=True):
        step.entering, step.removed = inside, gone
        inside -= gone
        step.remaining_with_unknown = unsure
    lay = layout(f)
    texts = [w.text for w in lay.words]
    assert "  ".join(texts).count("817,751 left (0 with an unknown), 182,249 removed") == 1
    for w in lay.words:
        assert 0 <= w.left and w.right <= lay.width, w.text
        assert 0 <= w.y - w.size / 2 and w.y + w.size / 2 <= lay.height, w.text
    for b in lay.boxes:
        assert 0 <= b.x and b.x + b.w <= lay.width and b.y + b.h <= lay.height
    assert "1,000,000 patients" in texts[0]
    assert "1,000,000" in lay.ticks and not any("e" in t for t in lay.ticks)
    chart(f, tmp_path)
    svg = (tmp_path / "funnel.svg").read_text(encoding="utf-8")
    assert "817,751 left (0 with an unknown), 182,249 removed" in svg
    import xml.etree.ElementTree as ET

    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    from PIL import Image

    with Image.open(tmp_path / "funnel.png") as png:
        assert png.size == (lay.width, lay.height)


def test_funnel_counts_agree_with_the_per_patient_rows(screened):
    """CONSORT order: a patient leaves at the first criterion that fails it."""
    rows = _csv(screened / "patients.csv")
    funnel = _csv(screened / "funnel.csv")
    inside = rows
    for step in funnel:
        cid = step["criterion"]
        assert int(step["entering"]) == len(inside)
        if cid == "DECEASED":  # its own first step, from the reason column
            inside = [r for r in inside if not r["reason"].startswith("deceased on")]
            assert int(step["remaining"]) == len(inside)
            continue
        failing = "not_met" if step["category"] == "inclusion" else "met"
        assert int(step["unknown"]) == sum(r[cid] == "unknown" for r in inside)
        inside = [r for r in inside if r[cid] != failing]
        assert int(step["remaining"]) == len(inside)
    assert int(funnel[-1]["remaining"]) == sum(r["verdict"] != "not_eligible" for r in rows)


def test_run_json_names_inputs_protocol_policy_dates_and_engine(population, screened):
    run = json.loads((screened / "run.json").read_text())
    assert run["protocol"]["id"] == "NCT01842165"
    assert run["policy"] == "pre-screening"
    assert run["dates"]["as_of"] == AS_OF
    files = {Path(i["file"]).name: i for i in run["inputs"]}
    assert files["Observation.ndjson"]["bytes"] == (population / "Observation.ndjson").stat(
        ).st_size
    import hashlib

    assert files["Patient.ndjson"]["sha256"] == hashlib.sha256(
        (population / "Patient.ndjson").read_bytes()).hexdigest()
    assert run["counts"]["patients"] == 240
    assert run["skipped"] == []
    t = run["timings"]  # where the time went, in three phases that add up
    assert t["scan_seconds"] > 0 and t["screening_seconds"] > 0
    assert t["scan_seconds"] + t["screening_seconds"] + t["outputs_seconds"] == \
        pytest.approx(t["seconds"], abs=0.005)


# --- bad data: reported with file and line, the run goes on ---------------------------------
def _break(population: Path, tmp: Path) -> Path:
    folder = tmp / "broken"
    folder.mkdir()
    for f in population.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    obs = folder / "Observation.ndjson"
    lines = obs.read_text().splitlines()
    lines.insert(4, '{"resourceType": "Observation", "id": "cut-short", "status": ')
    lines.insert(9, '{"resourceType": "Obsevation", "id": "typo"}')
    obs.write_text("\n".join(lines) + "\n")
    return folder


def test_a_malformed_line_is_reported_with_file_and_line_and_the_run_goes_on(
        population, tmp_path):
    folder = _break(population, tmp_path)
    code, said = run_cli("prescreen", str(folder), "--out", str(tmp_path / "out"), "--as-of",
                         AS_OF)
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert code == 1  # screened, but something was skipped
    obs = str(folder / "Observation.ndjson")
    assert run["skipped"] == [
        {"file": obs, "line": 5, "resource": None, "reason": "not valid JSON"},
        {"file": obs, "line": 10, "resource": "Obsevation/typo",
         "reason": "unknown FHIR R4 resource type Obsevation: not read"},
    ]
    assert run["counts"]["patients"] == 240
    assert "2 skipped (bad lines, files or patients): see run.json" in said


def test_strict_stops_at_the_first_bad_line(population, tmp_path, capsys):
    folder = _break(population, tmp_path)
    code, _ = run_cli("prescreen", str(folder), "--out", str(tmp_path / "out"), "--as-of",
                      AS_OF, "--strict")
    assert code == 2
    err = capsys.readouterr().err
    assert "Observation.ndjson: line 5: not valid JSON" in err
    assert "Traceback" not in err


PATIENT = '{"resourceType": "Patient", "id": "a", "gender": "male", "birthDate": "1960-01-01"}'
OBS = '{"resourceType": "Observation", "id": "%s", "status": "final", "subject": ' \
      '{"reference": "Patient/a"}%s}'


def test_a_line_not_utf8_or_too_long_is_reported_as_screen_reports_it(tmp_path, monkeypatch):
    """Lines DuckDB's scan refuses are skipped with their number, as `screen` skips them,
    and the other lines of the file are read."""
    from trialsieve.fhir import limits, reader

    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 4 << 20)
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 4 << 20)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(PATIENT + "\n")
    long_note = ', "note": [{"text": "%s"}]' % ("x" * (3 << 20))  # DuckDB's limit: 2 MB
    (folder / "Observation.ndjson").write_bytes(b"\n".join([
        (OBS % ("o1", "")).encode(),
        (OBS % ("o2-\xff", "")).encode("latin-1"),  # not UTF-8
        (OBS % ("o3", long_note)).encode(),  # long, but within the reader's limit
        (OBS % ("o4", ', "note": [{"text": "%s"}]' % ("y" * (5 << 20)))).encode(),  # over
        b'{"resourceType": "Observation", "id": "cut"',
        (OBS % ("o6", "")).encode()]) + b"\n")
    code, run = prescreen(folder, tmp_path / "out", "--full")
    obs = str(folder / "Observation.ndjson")
    assert code == 1
    assert run["skipped"] == [
        {"file": obs, "line": 2, "resource": None,
         "reason": "not UTF-8 (invalid start byte)"},
        {"file": obs, "line": 4, "resource": None, "reason": "line longer than 4 MiB"},
        {"file": obs, "line": 5, "resource": None, "reason": "not valid JSON"}]
    [doc] = results(tmp_path / "out").values()
    assert doc["resources"]["Observation"]["read"] == 3  # o1, o3, o6
    expected = screen_json(folder, status=1)["a"]
    # by design, the skipped lines are in run.json, not in each patient's warnings
    assert [w["resource"] for w in expected.pop("warnings")] == ["line 2", "line 4", "line 5"]
    assert doc.pop("warnings") == []
    assert doc == expected


HB = (', "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]}, '
      '"effectiveDateTime": "2026-11-20", "valueQuantity": {"value": %s, "unit": "g/dL", '
      '"code": "g/dL", "system": "http://unitsofmeasure.org"}')


def _two_patients(tmp_path: Path, observation: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(PATIENT + "\n" + PATIENT.replace('"a"', '"b"') + "\n")
    (folder / "Observation.ndjson").write_text(observation + "\n")
    return folder


def test_a_value_duckdb_and_orjson_refuse_but_the_reader_reads_is_read_as_screen_reads_it(
        tmp_path):
    """NaN is not JSON, but Python's json (the reader's) reads it; the worker's orjson
    refused it and the patient was not screened. Both commands now give one document."""
    folder = _two_patients(tmp_path, OBS % ("hb", HB % "NaN"))
    code, run = prescreen(folder, tmp_path / "out", "--full")
    assert (code, run["skipped"]) == (0, [])
    assert results(tmp_path / "out") == screen_json(folder)


@pytest.mark.parametrize(("line", "reason"), [
    # DuckDB takes the first of two subject keys, the reader the last: the scan gave the
    # result to a, `screen` gives it to b
    ('{"resourceType": "Observation", "id": "hb", "status": "final", "subject": '
     '{"reference": "Patient/a"}, "subject": {"reference": "Patient/b"}' + HB % "7.5" + "}",
     "Observation/hb: the reader reads it as Patient b's"),
    # deeper than the reader's 64 levels, which `screen` skips; DuckDB and orjson read it
    (OBS % ("hb", HB % "7.5" + ', "extension": ' + '[' * 70 + ']' * 70),
     "JSON nested deeper than 64 levels"),
])
def test_a_line_the_scan_reads_otherwise_than_the_reader_does_not_screen_its_patient(
        tmp_path, line, reason):
    """Never a patient screened on a resource the reader would have read otherwise (given
    to another patient, or refused): that patient is not screened, and run.json says why."""
    folder = _two_patients(tmp_path, line)
    code, run = prescreen(folder, tmp_path / "out", "--full")
    assert code == 1
    [skipped] = run["skipped"]
    assert skipped["resource"] == "Patient/a" and reason in skipped["reason"]
    assert list(results(tmp_path / "out")) == ["b"]


def test_a_malformed_bundle_file_is_reported_and_the_others_are_screened(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = EXAMPLES / "01-eligible-woman-cbp.json"
    (folder / good.name).write_bytes(good.read_bytes())
    (folder / "02-cut.json").write_bytes(good.read_bytes()[:500])
    code, run = prescreen(folder, tmp_path / "out")
    assert code == 1
    [skipped] = run["skipped"]
    assert skipped["file"] == str(folder / "02-cut.json") and skipped["line"] is None
    assert skipped["reason"].startswith("not valid JSON")
    assert skipped["reason"].endswith("file skipped")
    assert list(results(tmp_path / "out")) == ["ex01"]


def test_a_folder_named_like_an_ndjson_file_is_not_read_as_one(tmp_path):
    folder = tmp_path / "in"
    (folder / "archive.ndjson").mkdir(parents=True)
    (folder / "Patient.ndjson").write_text(PATIENT + "\n")
    code, run = prescreen(folder, tmp_path / "out")
    assert (code, run["counts"]["patients"], run["skipped"]) == (0, 1, [])


@pytest.mark.parametrize("lines", [["not json"], ['{"resourceType": "Medication", "id": "m"}']])
def test_no_patient_screened_is_exit_2_as_for_screen(tmp_path, capsys, lines):
    """Nothing readable, or no patient in the input: `screen` exits 2, so does prescreen
    (its run.json still says what was skipped)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Resources.ndjson").write_text("\n".join(lines) + "\n")
    code, run = prescreen(folder, tmp_path / "out")
    assert code == 2
    assert run["counts"]["patients"] == 0
    assert "no patient" in capsys.readouterr().err
    assert run_cli("screen", str(folder))[0] == 2


def test_a_run_that_stops_part_way_is_exit_2_and_changes_no_output(population, tmp_path,
                                                                    monkeypatch, capsys):
    """An engine failing mid-run (Spark's driver out of memory: "TaskResultLost") used to
    end in a traceback with exit status 1, which says "finished, something skipped": a
    benchmark took the truncated results.ndjson for a finished run. Now no output is
    written at all (issue 18: all or nothing), so an earlier run's run.json still vouches
    for that earlier run's outputs, which are left exactly as they were."""
    from trialsieve.population import run

    real = run._screen_batches

    def failing(*args, **kwargs):
        for n, item in enumerate(real(*args, **kwargs)):
            if n == 5:
                raise RuntimeError("Job aborted: TaskResultLost (result lost from block "
                                   "manager)\n\tat org.apache.spark.scheduler...")
            yield item

    monkeypatch.setattr(run, "_screen_batches", failing)
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("{}")  # an earlier run's
    code, _ = run_cli("prescreen", str(population), "--out", str(out), "--as-of", AS_OF)
    assert code == 2
    err = capsys.readouterr().err
    assert "stopped after 5 patients: RuntimeError: Job aborted: TaskResultLost (result " \
           "lost from block manager)" in err
    assert "Traceback" not in err and "org.apache" not in err
    assert "no output file in" in err
    assert [p.name for p in out.iterdir()] == ["run.json"]
    assert (out / "run.json").read_text() == "{}"


def test_no_progress_bar_when_stderr_is_not_a_terminal(population, tmp_path, capsys):
    prescreen(population, tmp_path)
    assert capsys.readouterr().err == ""


def test_missing_folder_is_a_clear_error(tmp_path, capsys):
    code, _ = run_cli("prescreen", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_a_patient_set_aside_leaves_duckdb_as_its_patient_and_counts(population):
    """The push-down's point: of a patient set aside, only the Patient resource's text
    leaves the scan; its other resources come as one count a type and file, adding up to
    every line of theirs."""
    from trialsieve.fhir.concept_map import EMPTY
    from trialsieve.population.source import discover, duckdb_groups
    from trialsieve.population.triage import look

    triaged = {g.pid: g for g in duckdb_groups(discover(population), 2, look(EMPTY))}
    plain = {g.pid: g for g in duckdb_groups(discover(population), 2)}
    assert triaged.keys() == plain.keys()
    aside = [g for g in triaged.values() if g.aside]
    assert len(aside) > 200
    for g in aside:
        assert all((r.text is not None) == (r.rtype == "Patient") for r in g.rows)
        totals: dict[str, int] = {}
        for r in g.rows:
            totals[r.rtype] = totals.get(r.rtype, 0) + r.n
        whole: dict[str, int] = {}
        for r in plain[g.pid].rows:
            whole[r.rtype] = whole.get(r.rtype, 0) + 1
        assert totals == whole, g.pid
    for g in triaged.values():
        if not g.aside:
            assert g.rows == plain[g.pid].rows


def test_the_scan_keeps_no_text_of_the_patients_it_evaluates_but_where_it_is(population):
    """The second pass: of the lines of a type a rule reads, the scan keeps the text of
    the Patient resources only (it reads them itself); every other line of a patient
    evaluated in full comes as its place in its file, which holds exactly that line."""
    from trialsieve.fhir.concept_map import EMPTY
    from trialsieve.population.source import Span, discover, duckdb_groups
    from trialsieve.population.triage import look

    src = discover(population)
    spans = 0
    for g in duckdb_groups(src, 2, look(EMPTY)):
        for r in g.rows:
            if r.rtype == "Patient":
                assert isinstance(r.text, str)
            elif isinstance(r.text, Span):
                assert not g.aside
                with open(src.ndjson[r.file], "rb") as f:
                    f.seek(r.text.at)
                    line = f.read(r.text.length + 1)
                assert line.endswith(b"\n")
                res = json.loads(line)
                assert (res["resourceType"], res["id"]) == (r.rtype, r.rid)
                spans += 1
            else:
                assert r.text is None
    assert spans > 300  # the few percent evaluated in full, dozens of lines each


def test_the_summary_says_how_many_were_set_aside(population, tmp_path):
    code, said = run_cli("prescreen", str(population), "--out", str(tmp_path), "--as-of",
                         AS_OF)
    run = json.loads((tmp_path / "run.json").read_text())
    n = run["counts"]["set_aside"]
    assert code == 0 and n > 200
    assert f"{n} of the not eligible set aside in bulk" in said
    assert "set aside" not in run_cli("prescreen", str(population), "--out",
                                      str(tmp_path / "full"), "--as-of", AS_OF, "--full")[1]


# --- the generator --------------------------------------------------------------------------
def test_synth_is_deterministic_for_a_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 3), (b, 3), (c, 4)):
        assert run_cli("synth", "--patients", "50", "--seed", str(seed), "--out",
                       str(folder))[0] == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert (a / "Patient.ndjson").read_bytes() != (c / "Patient.ndjson").read_bytes()


def test_synth_writes_mostly_non_net_patients_with_realistic_faults(population):
    conditions = (population / "Condition.ndjson").read_text()
    patients = (population / "Patient.ndjson").read_text().splitlines()
    net = {json.loads(line)["subject"]["reference"] for line in conditions.splitlines()
           if "C7A" in line or "C25.4" in line}
    assert 0 < len(net) < 0.15 * len(patients)
    observations = (population / "Observation.ndjson").read_text()
    assert "entered-in-error" in observations
    assert "urn:oid:1.2.250.1.999.1" in observations  # a local lab code
    assert '"g/L"' in observations and '"mmol/L"' in observations
    assert '"reference":"urn:uuid:' in observations  # some exports reference patients so


def test_types_no_rule_reads_are_counted_not_parsed(population):
    from trialsieve.population.source import discover, duckdb_groups

    src = discover(population)
    kept: dict[str, set[bool]] = {}
    for g in duckdb_groups(src, 1):
        for r in g.rows:
            kept.setdefault(r.rtype, set()).add(r.text is not None)
    for rtype in ("Claim", "ExplanationOfBenefit", "Encounter", "Immunization"):
        assert kept[rtype] == {False}, rtype
    # DocumentReference: its text is read (issue 21), as screen reads it
    for rtype in ("Patient", "Observation", "Condition", "BodyStructure", "DocumentReference"):
        assert kept[rtype] == {True}, rtype
    assert set(src.shared) == {"metformin"}  # Medication, looked up by MedicationRequest


def test_a_large_file_keeps_its_line_order_when_scanned_on_two_threads(tmp_path):
    """The record is built in input order and bad lines are named by number: a parallel
    scan must not reorder a file's lines (DuckDB made the type lists into hash joins,
    which did, on files of a few MB with lines of uneven length)."""
    from random import Random

    from trialsieve.population.source import discover, duckdb_groups

    rnd, bad = Random(1), 12_345
    with open(tmp_path / "Observation.ndjson", "w") as f:
        for i in range(1, 20_001):
            f.write("{not json\n" if i == bad else json.dumps(
                {"resourceType": "Observation", "id": f"o{i}", "status": "final",
                 "subject": {"reference": f"Patient/p{i % 3}"},
                 "note": [{"text": "x" * rnd.randint(10, 1500)}]}) + "\n")
    (tmp_path / "Patient.ndjson").write_text("".join(
        json.dumps({"resourceType": "Patient", "id": f"p{i}"}) + "\n" for i in range(3)))
    src = discover(tmp_path)
    for g in duckdb_groups(src, 2):
        lines = [int(r.rid[1:]) for r in g.rows if r.rtype == "Observation"]
        assert lines == sorted(lines), g.pid
    assert [(Path(p.file).name, p.line) for p in src.problems] == [("Observation.ndjson", bad)]


@pytest.fixture(scope="module")
def small_population(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    generate(30, seed=3, out=folder)
    return folder


CLAIM = '{"resourceType": "Claim", "id": "%s", "patient": {"reference": "Patient/%s"}}'
NOT_FHIR = "JSON but not FHIR: no resourceType"
ODD_LINES = {  # lines put third in Claim.ndjson -> the lines run.json names, and why
    "blank": ("", []),
    "no resourceType": ("{}", [(3, NOT_FHIR)]),
    "numeric id": ('{"resourceType": "Claim", "id": 7}', [(3, "id must be a string")]),
    "patient as a bare string": ('{"resourceType": "Claim", "id": "c", "patient": "P"}', []),
    "cut short": ("{cut short", [(3, "not valid JSON")]),
    "a blank line, then a misspelt type": ('\n{"resourceType": "Claimm", "id": "m"}',
                                           [(4, "unknown FHIR R4 resource type Claimm: not read")]),
    "a resource a rule reads": ("OBSERVATION", []),
    # DuckDB's JSON reader fails on these or reads them as a row of NULLs: each is named
    "a JSON array": ('[{"resourceType": "Claim", "id": "in-array"}]', [(3, NOT_FHIR)]),
    "a number": ("7", [(3, NOT_FHIR)]),
    "null": ("null", [(3, NOT_FHIR)]),
    "a string": ('"Claim"', [(3, NOT_FHIR)]),
    "a resourceType not a string": ('{"resourceType": 5, "id": "n"}', [(3, NOT_FHIR)]),
    "a byte order mark": ("\ufeff" + CLAIM % ("bom", "P"), [(3, "not valid JSON")]),
    # one line, two resources; then a blank line, which the JSON reader skips
    "two resources on one line, then a blank line": (
        CLAIM % ("two-1", "P") + " " + CLAIM % ("two-2", "P") + "\n", [(3, "not valid JSON")]),
    "a resource over two lines": ('{"resourceType": "Claim",\n"id": "two-lines"}',
                                  [(3, "not valid JSON"), (4, "not valid JSON")]),
    "a line of spaces and tabs": (" \t \x0b\x0c ", []),  # blank to the reader
    "a resource of another type no rule reads": ("ENCOUNTER", []),
    "a reference not a string, then one": (
        '{"resourceType": "Claim", "id": "r", "subject": {"reference": 5}, '
        '"patient": {"reference": "Patient/FIRST"}}', []),
}


def _same_as_screen(folder: Path, out: Path, skipped: list[tuple[str, int, str]]) -> dict:
    """prescreen `folder` into `out`: it names `skipped` (file, line, reason) and, apart
    from that, gives `screen`'s documents; the documents."""
    code, _ = run_cli("prescreen", str(folder), "--out", str(out), "--as-of", AS_OF, "--full")
    run = json.loads((out / "run.json").read_text())
    assert [(p["file"], p["line"], p["reason"]) for p in run["skipped"]] == skipped
    assert code == (1 if skipped else 0)
    # `screen` repeats a line it could give to no patient under every patient;
    # `prescreen` names it once, in run.json: apart from that, the same documents
    _, said = run_cli("screen", str(folder), "--as-of", AS_OF, "--policy", "pre-screening",
                      "--d0", AS_OF, "--format", "ndjson")
    expected = {d["patient"]: d for d in map(json.loads, said.splitlines())}
    got = results(out)
    assert got.keys() == expected.keys()
    files = Counter(f for f, _, _ in skipped)
    for p, doc in expected.items():  # each skipped line, under each patient of its file
        unplaced = Counter(w["file"] for w in doc["warnings"] if w["file"] in files)
        assert unplaced == {f: files[f] for f in unplaced}
        assert got[p] == {**doc, "warnings": [w for w in doc["warnings"]
                                              if w["file"] not in files]}
    return got


@pytest.mark.parametrize("case", ODD_LINES)
def test_odd_lines_in_a_file_of_a_type_no_rule_reads_are_read_as_screen_reads_them(
        small_population, tmp_path, case):
    """Claim.ndjson is read through DuckDB's JSON projection only when every line is a
    resource of a type no rule reads: each odd line here must send it line by line, so
    that nothing is dropped, misread or unnamed. A cut line put second in
    Observation.ndjson, read after it, must keep its number whichever way Claim went."""
    folder = tmp_path / "population"
    shutil.copytree(small_population, folder)
    claims = (folder / "Claim.ndjson").read_text().splitlines()
    pid = json.loads(claims[0])["patient"]["reference"].split("/")[-1]
    text, reasons = ODD_LINES[case]
    text = text.replace("FIRST", pid)
    if text == "OBSERVATION":  # a haemoglobin of 7.5 g/dL for the first Claim's patient
        text = json.dumps({
            "resourceType": "Observation", "id": "hb-in-claims", "status": "final",
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2026-11-20",
            "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
            "valueQuantity": {"value": 7.5, "unit": "g/dL", "code": "g/dL",
                              "system": "http://unitsofmeasure.org"}})
    elif text == "ENCOUNTER":
        text = json.dumps({"resourceType": "Encounter", "id": "enc-in-claims",
                           "status": "finished", "subject": {"reference": f"Patient/{pid}"}})
    claims.insert(2, text)
    (folder / "Claim.ndjson").write_text("\n".join(claims) + "\n")
    obs = (folder / "Observation.ndjson").read_text().splitlines()
    (folder / "Observation.ndjson").write_text("\n".join([obs[0], "{cut", *obs[1:]]) + "\n")
    f, o = str(folder / "Claim.ndjson"), str(folder / "Observation.ndjson")
    got = _same_as_screen(folder, tmp_path / "out",
                          [(f, n, why) for n, why in reasons] + [(o, 2, "not valid JSON")])
    if case == "a resource a rule reads":
        assert any(e["resource"] == "Observation/hb-in-claims"
                   for d in got.values() for c in d["criteria"] for e in c["evidence"])
    if case in ("a resource of another type no rule reads",
                "a reference not a string, then one"):
        assert got[pid] != results_without(small_population, tmp_path, pid)


def results_without(population: Path, tmp_path: Path, pid: str) -> dict:
    """The patient's document from the population as generated (no line added)."""
    out = tmp_path / "plain"
    prescreen(population, out, "--full")
    return results(out)[pid]


LAYOUTS = {  # what is done to each file after a cut line is put second -> its number
    "CRLF line ends": 2,
    "no newline after the last line": 2,
    "a line of spaces and tabs": 3,
    "a CRLF blank line": 3,
    "a carriage return between JSON tokens": 2,  # JSON whitespace, at "\n" only
    "a carriage return in a string": 1,  # a control character: not valid JSON, and 2
    "CR line ends (classic Mac OS)": 1,  # one line to the reader, and not JSON
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_files_written_otherwise_are_read_as_screen_reads_them(small_population, tmp_path,
                                                              layout):
    """Every NDJSON file, read types and others alike, as a Windows tool, an old Mac or a
    hand edit leaves it: read as `screen` reads it, a cut line keeps its number."""
    folder = tmp_path / "population"
    shutil.copytree(small_population, folder)
    skipped = []
    for path in sorted(folder.glob("*.ndjson")):
        lines = path.read_text().splitlines()
        if len(lines) < 2:
            continue
        lines.insert(1, "{cut")
        if path.name == "Patient.ndjson" and LAYOUTS[layout] == 1:
            path.write_text("\n".join(lines) + "\n")  # these lose lines: patients kept
            skipped.append((str(path), 2, "not valid JSON"))
            continue
        skipped.append((str(path), LAYOUTS[layout], "not valid JSON"))
        if layout == "a line of spaces and tabs":
            lines.insert(1, " \t\x0c ")
        elif layout == "a CRLF blank line":
            lines.insert(1, "\r")
        elif layout == "a carriage return between JSON tokens":
            lines[0] = "{\r" + lines[0][1:]
        elif layout == "a carriage return in a string":
            lines[0] = lines[0].replace('"id":"', '"id":"\r', 1)
            skipped.append((str(path), 2, "not valid JSON"))
        text = "\n".join(lines) + "\n"
        if layout == "CRLF line ends":
            text = text.replace("\n", "\r\n")
        elif layout == "no newline after the last line":
            text = text[:-1]
        elif layout == "CR line ends (classic Mac OS)":
            text = text.replace("\n", "\r")
        path.write_bytes(text.encode())
    _same_as_screen(folder, tmp_path / "out", skipped)


def test_a_projection_given_up_late_leaves_no_row_behind(tmp_path):
    """A long Claim file whose last line is odd is read through the projection, given up
    at the end and read again line by line: the lines already projected must leave no
    row, and the next file's line numbers stay right."""
    from trialsieve.population.source import discover, duckdb_groups

    n = 300_000  # more than two of DuckDB's row groups
    with open(tmp_path / "Claim.ndjson", "w") as f:
        f.writelines(CLAIM % (f"c{i}", f"p{i % 2}") + "\n" for i in range(n))
        f.write('{"resourceType": "Claim", "id": 7}\n')
    (tmp_path / "Patient.ndjson").write_text("{cut\n" + "".join(
        json.dumps({"resourceType": "Patient", "id": f"p{i}"}) + "\n" for i in range(2)))
    src = discover(tmp_path)
    claims = {g.pid: [r.rid for r in g.rows if r.rtype == "Claim"]
              for g in duckdb_groups(src, 2)}
    assert claims == {f"p{k}": [f"c{i}" for i in range(k, n, 2)] for k in range(2)}
    assert [(Path(p.file).name, p.line, p.reason) for p in src.problems] == [
        ("Claim.ndjson", n + 1, "id must be a string"), ("Patient.ndjson", 1, "not valid JSON")]


@pytest.mark.parametrize(("data", "lone"), [
    (b"a\r\nb\r\n", False), (b"a\rb\n", True), (b"a\r", True), (b"", False),
    (b"abc\r\ndef", False), (b"ab\r\r\n", True)])
def test_a_lone_carriage_return_is_found_across_chunk_ends(tmp_path, data, lone):
    """The scan reads a file a chunk at a time; a CR at a chunk's end is judged by the
    next chunk's first byte, whatever the chunk size."""
    from trialsieve.population.source import _lone_cr

    f = tmp_path / "x.ndjson"
    f.write_bytes(data)
    assert {_lone_cr(str(f), size) for size in range(1, len(data) + 2)} == {lone}


def test_a_file_duckdbs_parallel_reader_gives_up_on_is_read_on_one_thread(population):
    """At 10^6 patients DuckDB's parallel CSV reader gave up on the 13.7 GB of
    Observations ("does not support a full read on this file") and the run stopped. Here
    it gives up on every file read line by line: the scan must fill `res` exactly as
    without the failure, reading those files on one thread."""
    import duckdb

    from trialsieve.population.source import discover, load_duckdb

    class GivesUp:
        def __init__(self, con):
            self.con, self.refused = con, 0

        def execute(self, sql, *args):
            if "read_csv" in sql and "parallel=false" not in sql:
                self.refused += 1
                raise duckdb.NotImplementedException("does not support a full read")
            return self.con.execute(sql, *args)

    tables = []
    for wrap in (False, True):
        con = duckdb.connect()
        src = discover(population)
        scanner = GivesUp(con) if wrap else con
        starts = load_duckdb(scanner, src, str(population))
        tables.append((starts, con.execute("SELECT * FROM res ORDER BY rowid").fetchall(),
                       src.problems))
        if wrap:
            assert scanner.refused >= 3  # Observation, Condition, Patient... went one thread
    assert tables[0] == tables[1]


# --- a resource shared by patients, in several versions (issue 17's leftover) -------------
def _everolimus_or_paracetamol(folder: Path, newest_last: bool) -> str:
    """Example 02 with its therapy history declared complete and no answer on recent
    therapy, given on 2026-10-15 (41 days before the screening date, inside E3's 84 days)
    the drug a shared Medication names: version 1 paracetamol, version 2 (the correction)
    everolimus, an mTOR inhibitor. Worked by hand: the newest version is the drug, so E3
    is met and the patient is not eligible, in either order of the file."""
    bundle = json.loads((EXAMPLES / "02-eligible-man.json").read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    resources = [r for r in resources if r.get("id") != f"{pid}-att-recent-anticancer-therapy"]
    code = {"system": ATC}
    versions = [("1", {**code, "code": "N02BE01", "display": "Paracetamol 1 g"}),
                ("2", {**code, "code": "L01EG02", "display": "Everolimus"})]
    if not newest_last:
        versions.reverse()
    resources += [
        {"resourceType": "Observation", "id": "complete", "status": "final",
         "subject": {"reference": f"Patient/{pid}"},
         "code": {"coding": [{"system": PROJECT,
                              "code": "anticancer-therapy-history-complete"}]},
         "effectiveDateTime": "2026-11-24", "valueBoolean": True,
         "performer": [{"display": "Dr Test"}]},
        {"resourceType": "MedicationAdministration", "id": "adm", "status": "completed",
         "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2026-10-15",
         "medicationReference": {"reference": "Medication/m1"}},
        *({"resourceType": "Medication", "id": "m1", "meta": {"versionId": v},
           "code": {"coding": [drug]}} for v, drug in versions)]
    ndjson_by_type(folder, resources)
    return pid


@pytest.mark.parametrize("newest_last", [True, False])
def test_a_shared_medication_is_read_in_its_newest_version_as_screen_reads_it(
        tmp_path, newest_last):
    folder = tmp_path / "in"
    folder.mkdir()
    pid = _everolimus_or_paracetamol(folder, newest_last)
    prescreen(folder, tmp_path / "out", "--full")
    got = results(tmp_path / "out")
    e3 = next(c for c in got[pid]["criteria"] if c["id"] == "EXCL03")
    assert e3["status"] == "met", e3["summary"]
    assert got[pid]["verdict"] == "not_eligible"
    assert got == screen_json(folder)
