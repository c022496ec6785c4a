"""mypy on the whole of src/trialsieve (run by the README test command through pytest).

The configuration is pyproject.toml's [tool.mypy]: untyped functions are checked too, an
unneeded `# type: ignore` is an error, and only the libraries that ship no type
information are read as Any (listed there by name).
"""

from __future__ import annotations

import subprocess
import sys

from builders import REPO


def test_mypy_is_clean_on_the_whole_package() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", "src/trialsieve"], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout
