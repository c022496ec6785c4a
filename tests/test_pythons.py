"""Python 3.12 and 3.13 (pyproject: 3.11 to 3.13): the screening tests run again on each,
with the dependencies installed for that Python (.venvs/3.X, which
scripts/other-pythons.sh makes in the README test command).

Run there: every example patient (results worked out by hand), damaged input, the
terminal table, units (pint + ucumvert), site code maps, what the site files (checklist
PDF through WeasyPrint, SDTM XPORT through pyreadstat, the XLSX log, FHIR resources) and
the DuckDB population run. Left to the manual check of the whole suite on each Python
(README): the tests that need test-only tools (Hypothesis, jsonschema, Playwright, the HTTP
test client, PySpark, mypy), hence the workbench, and the slower real-data folders.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile

import pytest
from builders import REPO

SUBSET = [
    "tests/test_examples.py",
    "tests/test_hostile_input.py",
    "tests/test_terminal.py",
    "tests/test_units.py",
    "tests/test_unit_spellings.py",
    "tests/test_concept_map.py",
    "tests/test_filing.py",
    "tests/test_population.py::test_duckdb_gives_what_screen_gives_for_every_generated_patient",
]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_screening_tests_pass_on(version: str) -> None:
    python = REPO / ".venvs" / version / "bin" / "python"
    assert python.exists(), f"{python} is missing: run scripts/other-pythons.sh"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    run = subprocess.run([str(python), "-c", "import sys; print(sys.version)"],
                         capture_output=True, text=True, env=env, check=True)
    assert run.stdout.startswith(version + ".")
    # Its own temporary folder (pytest's default one would prune this run's), short: the
    # terminal tests read a file path that must fit on one 80-column line.
    with tempfile.TemporaryDirectory(prefix=f"py{version}-") as temp:
        run = subprocess.run([str(python), "-m", "pytest", "-o", "addopts=", "-q",
                              "-p", "no:cacheprovider", "--basetemp", temp, *SUBSET],
                             cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in .*", summary), summary  # nothing skipped
