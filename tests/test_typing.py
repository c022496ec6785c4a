"""mypy on the typed part of src/ (run by the README test command through pytest).

The gate covers the modules listed in TYPED. mypy on the whole of src/ found 33 errors
in 10 modules (rules, clinical, engine, fhir/mapping) that other changes are editing at
the same time; they are to be fixed there and the gate widened to "src", not skipped.
"""

from __future__ import annotations

import subprocess
import sys

from builders import REPO

TYPED = ["src/trialsieve/output", "src/trialsieve/cli.py", "src/trialsieve/__main__.py",
         "src/trialsieve/report.py", "src/trialsieve/units.py", "src/trialsieve/codes.py"]


def test_mypy_is_clean_on_the_typed_modules() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", *TYPED], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
