"""Nothing half-written: every command that writes files (export, report, prescreen,
synth) leaves the earlier outputs byte for byte as they were when it is interrupted
(Ctrl-C: exit 130, one line), refused (--strict: exit 2), or cannot write (a folder it
may not write to, a file held by another program: exit 3, naming the file).

"Cannot write" is made real with the immutable attribute (chattr +i): even root can then
neither create a file in the folder nor rename over the file, as Windows refuses to
rename over a file a spreadsheet holds open.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import REPO

from trialsieve.cli import main
from trialsieve.output.atomic import PREFIX
from trialsieve.population.synth import generate

EXAMPLES = REPO / "examples" / "patients"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]
TWO = ["02-eligible-man", "05-hb-5-5-mmol-per-l-fails"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def two_patients(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in TWO:
        shutil.copy(EXAMPLES / f"{name}.json", folder)
    return folder


@pytest.fixture
def immutable() -> Iterator:
    """chattr +i on a path, taken off again at the end (else tmp_path cannot be removed)."""
    marked: list[Path] = []

    def mark(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode:
            pytest.skip(f"chattr +i not permitted here: {done.stderr.decode().strip()}")
        marked.append(path)

    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def filed(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A first export of one patient: the earlier filing later runs must not damage."""
    out = tmp_path / "filing"
    assert main(["export", str(EXAMPLES / "02-eligible-man.json"), *DATES,
                 "--out", str(out)]) == 0
    return two_patients(tmp_path), out, snapshot(out)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- export ------------------------------------------------------------------------
def test_export_with_one_file_held_open_changes_no_file(tmp_path, capsys, immutable):
    """The locked screening log used to leave new SDTM files beside an old ie.xpt and no
    log or bundle: one filing half old, half new."""
    source, out, before = filed(tmp_path)
    capsys.readouterr()
    immutable(out / "screening-log.xlsx")
    assert main(["export", str(source), *DATES, "--out", str(out)]) == 3
    line = one_line(capsys.readouterr().err)
    assert str(out / "screening-log.xlsx") in line and "no output file was changed" in line
    assert snapshot(out) == before


def test_export_to_a_folder_it_may_not_write_is_exit_3_naming_it(tmp_path, capsys,
                                                                  immutable):
    source, out, before = filed(tmp_path)
    capsys.readouterr()
    immutable(out)
    assert main(["export", str(source), *DATES, "--out", str(out)]) == 3
    line = one_line(capsys.readouterr().err)
    assert f"trialsieve: error: {out}: cannot write in this folder" in line
    assert snapshot(out) == before


def test_export_interrupted_is_exit_130_in_one_line_and_changes_nothing(
        tmp_path, capsys, monkeypatch):
    source, out, before = filed(tmp_path)
    capsys.readouterr()
    from trialsieve.output import screening_log

    def ctrl_c(*_):  # Ctrl-C while the log is written: the SDTM files are already made
        raise KeyboardInterrupt
    monkeypatch.setattr(screening_log, "write_xlsx", ctrl_c)
    assert main(["export", str(source), *DATES, "--out", str(out)]) == 130
    assert one_line(capsys.readouterr().err) == \
        "trialsieve: interrupted: no output file was changed"
    assert snapshot(out) == before  # and no hidden staging folder is left behind


def test_export_that_completes_replaces_every_file_and_leaves_no_staging(tmp_path):
    source, out, before = filed(tmp_path)
    assert main(["export", str(source), *DATES, "--out", str(out)]) == 0
    after = snapshot(out)
    assert set(after) == set(before)
    assert after["screening-log.csv"].count(b"\n") == 3  # header + 2 patients
    assert not [p for p in out.iterdir() if p.name.startswith(PREFIX)]


# --- report ------------------------------------------------------------------------
def test_report_interrupted_on_the_second_checklist_files_neither(tmp_path, capsys,
                                                                  monkeypatch):
    source = two_patients(tmp_path)
    out = tmp_path / "tmf"
    assert main(["report", str(source), *DATES, "--format", "html", "--out", str(out)]) == 0
    before = snapshot(out)
    assert len(before) == 2
    capsys.readouterr()
    from trialsieve.output import checklist

    real, made = checklist.checklist_html, []

    def second_interrupted(doc, by=""):
        made.append(doc["patient"])
        if len(made) == 2:
            raise KeyboardInterrupt
        return real(doc, by) + "<!-- new -->"
    monkeypatch.setattr(checklist, "checklist_html", second_interrupted)
    assert main(["report", str(source), *DATES, "--format", "html", "--out", str(out)]) == 130
    assert "interrupted" in one_line(capsys.readouterr().err)
    assert snapshot(out) == before


def test_report_into_a_folder_it_may_not_write_is_exit_3(tmp_path, capsys, immutable):
    out = tmp_path / "tmf"
    out.mkdir()
    immutable(out)
    assert main(["report", str(EXAMPLES / "02-eligible-man.json"), *DATES,
                 "--out", str(out / "c.pdf")]) == 3
    assert str(out) in one_line(capsys.readouterr().err)


def test_report_html_into_a_pdf_name_is_refused(tmp_path, capsys):
    """`--format html --out x.pdf` wrote HTML into a .pdf, which no viewer opens."""
    out = tmp_path / "c.pdf"
    assert main(["report", str(EXAMPLES / "02-eligible-man.json"), *DATES,
                 "--format", "html", "--out", str(out)]) == 2
    assert "--format html but the file name ends in .pdf" in capsys.readouterr().err
    assert not out.exists()
    # without --format, the name says which
    assert main(["report", str(EXAMPLES / "02-eligible-man.json"), *DATES,
                 "--out", str(tmp_path / "c.html")]) == 0
    assert (tmp_path / "c.html").read_text().lstrip().lower().startswith("<!doctype html")


# --- synth -------------------------------------------------------------------------
def test_synth_interrupted_or_unwritable_leaves_the_earlier_population(
        tmp_path, capsys, monkeypatch, immutable):
    out = tmp_path / "pop"
    assert main(["synth", "--patients", "20", "--seed", "3", "--out", str(out)]) == 0
    before = snapshot(out)
    from trialsieve.population import synth

    real = synth._person

    def interrupted(rng, pid, anchor, nets):
        if rng.random() < 0.3:
            raise KeyboardInterrupt
        return real(rng, pid, anchor, nets)
    monkeypatch.setattr(synth, "_person", interrupted)
    capsys.readouterr()
    assert main(["synth", "--patients", "20", "--seed", "4", "--out", str(out)]) == 130
    assert "interrupted" in one_line(capsys.readouterr().err)
    assert snapshot(out) == before
    monkeypatch.setattr(synth, "_person", real)
    immutable(out / "Patient.ndjson")
    assert main(["synth", "--patients", "20", "--seed", "4", "--out", str(out)]) == 3
    assert str(out / "Patient.ndjson") in one_line(capsys.readouterr().err)
    assert snapshot(out) == before


# --- prescreen ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    generate(60, seed=7, out=folder)
    return folder


def prescreened(population: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "prescreen"
    assert main(["prescreen", str(population), "--out", str(out), "--as-of",
                 "2026-11-25"]) == 0
    return out, snapshot(out)


def test_prescreen_strict_refusal_keeps_the_earlier_run(population, tmp_path, capsys):
    """--strict on a folder with one bad line, pointed at an earlier good --out, emptied
    its candidates.csv, zeroed its funnel and deleted its run.json."""
    out, before = prescreened(population, tmp_path)
    assert {"run.json", "candidates.csv", "funnel.csv"} <= set(before)
    broken = tmp_path / "broken"
    shutil.copytree(population, broken)
    obs = broken / "Observation.ndjson"
    lines = obs.read_text().splitlines()
    lines.insert(4, '{"resourceType": "Observation", "id": "cut-short", "status": ')
    obs.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["prescreen", str(broken), "--out", str(out), "--as-of", "2026-11-25",
                 "--strict"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "Observation.ndjson: line 5" in line and "no output file" in line
    assert snapshot(out) == before


def test_prescreen_into_a_folder_it_may_not_write_is_exit_3(population, tmp_path, capsys,
                                                             immutable):
    out, before = prescreened(population, tmp_path)
    immutable(out)
    capsys.readouterr()
    assert main(["prescreen", str(population), "--out", str(out), "--as-of",
                 "2026-11-25"]) == 3
    assert str(out) in one_line(capsys.readouterr().err)
    assert snapshot(out) == before


def test_prescreen_ctrl_c_is_one_line_exit_130_and_the_earlier_run_intact(tmp_path):
    """A real SIGINT to a real run (two worker processes, --full --window: slow enough to
    be caught part-way): it printed a 49-line traceback and left the funnel and the
    candidates of the patients done so far."""
    population = tmp_path / "population"
    generate(1500, seed=2, out=population)
    out = tmp_path / "prescreen"
    out.mkdir()
    (out / "run.json").write_text('{"earlier": true}\n')
    (out / "candidates.csv").write_text("rank,patient\n1,earlier\n")
    before = snapshot(out)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "trialsieve", "prescreen", str(population),
                             "--out", str(out), "--as-of", "2026-11-25", "--full", "--window",
                             "--jobs", "2"], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    # the first patients written to the staging folder: the run is part-way (the scan and
    # the workers' start can take minutes on a loaded machine, the run itself far longer)
    deadline = time.monotonic() + 900
    while not any((p / "results.ndjson").exists() and (p / "results.ndjson").stat().st_size
                  for p in out.glob(PREFIX + "*")):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"not caught part-way: {proc.communicate()}")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: to every process of the group
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert one_line(err) == "trialsieve: interrupted: no output file was changed"
    assert snapshot(out) == before
