"""README.md: every command has a short example, and each example runs as written.

The examples are the indented lines of README.md that start with `trialsieve ` and hold no
placeholder (`[`, `PATH`). Each runs in an empty folder (the repository's `examples`
linked into it), after the examples whose output it reads, as a new user would after
`pip install`; `serve` runs a server and is only checked for presence. Expected results
come from the README's own words.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from builders import REPO

from trialsieve.cli import _parser

README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLES = [line.strip() for line in README.splitlines()
            if line.startswith("    trialsieve ") and "[" not in line and "PATH" not in line]
PASSWORD = "a long enough password\n"  # users add asks twice (no terminal: read from stdin)


def commands() -> list[str]:
    sub = next(a for a in _parser()._actions if a.dest == "command")
    return list(sub.choices)


def test_every_command_has_an_example() -> None:
    shown = {shlex.split(e)[1] for e in EXAMPLES} | {"serve"} if \
        ".venv/bin/trialsieve serve --data demo-data --demo" in README else set()
    assert set(commands()) <= shown, set(commands()) - shown


def test_recist_csv_columns_are_documented() -> None:
    section = README.split("### recist")[1].split("\n### ")[0]
    for column in ("date", "modality", "slice_thickness_mm", "lesion_id", "organ", "nodal",
                   "target", "longest_diameter_mm", "short_axis_mm", "nontarget_status",
                   "new", "too_small", "disappeared", "merged_into", "split_parts_mm"):
        assert f"`{column}`" in section, column


def run(folder: Path, example: str) -> subprocess.CompletedProcess:
    args = shlex.split(example)[1:]
    return subprocess.run([sys.executable, "-m", "trialsieve", *args], cwd=folder,
                          capture_output=True, text=True, timeout=300,
                          input=PASSWORD * 2 if args[:2] == ["users", "add"] else None)


# What the README says each example gives (the first words of the command).
SAYS = {
    "screen examples/patients/22": "NOT ELIGIBLE at D0 2026-12-01",
    "window examples/patients/22": "2026-12-09",  # eligible from D0 2026-12-09
    "report": "checklist.pdf",
    "export": "ie.xpt",
    "criteria": "EXCL09",
    "recist examples/patients/40": "PD",
    "recist examples/recist": "PD",  # sum 50 -> 60 mm: +20 % and +10 mm
    "synth": "",
    "prescreen": "",
    "users add": "user admin1 added",
    "users list": "",
    "audit verify": "chain intact",
}


# An example that reads what an earlier one wrote runs after it, in the same folder.
NEEDS = {"prescreen": "synth", "users list": "users add", "audit verify": "users add"}


def _before(example: str) -> list[str]:
    need = next((v for k, v in NEEDS.items() if example.startswith(f"trialsieve {k}")), None)
    return [e for e in EXAMPLES if need and e.startswith(f"trialsieve {need}")]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_runs_as_written(example: str, tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples")
    for earlier in _before(example):
        assert run(tmp_path, earlier).returncode == 0, earlier
    done = run(tmp_path, example)
    assert done.returncode == 0 and "Traceback" not in done.stderr, \
        (example, done.stderr[-500:])
    said = next(v for k, v in SAYS.items() if example[len("trialsieve "):].startswith(k))
    assert said in done.stdout, (example, done.stdout[-500:])


def test_the_readme_has_examples_to_run() -> None:
    assert len(EXAMPLES) >= 10


def test_users_add_without_a_password_says_so(tmp_path) -> None:
    # No terminal and nothing on stdin (a script, CI): a message, not an EOFError traceback.
    done = subprocess.run([sys.executable, "-m", "trialsieve", "users", "add", "admin1",
                           "--role", "admin", "--data", str(tmp_path)], cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          start_new_session=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-300:]
    assert "password" in done.stderr and "--password-stdin" in done.stderr


def _table_verdicts() -> dict[str, str]:
    """examples/patients/README.md: file -> the verdict its table gives (last column)."""
    text = (REPO / "examples" / "patients" / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| `")]
    return {r[1].strip().strip("`"): r[-2].strip().replace(" ", "_") for r in rows}


def test_the_first_command_agrees_with_the_examples_table() -> None:
    """It gave no --d0, so D0 was the screening date and examples 23, 25 and 27 ("at
    bound", eligible in the table) came out not eligible; and 4,444 lines ended with no
    count. Run as written (from `.venv/bin/trialsieve`), then again in JSON."""
    first = next(line for line in README.splitlines() if ".venv/bin/trialsieve screen " in line)
    args = shlex.split(first.split(".venv/bin/trialsieve ", 1)[1])
    table = subprocess.run([sys.executable, "-m", "trialsieve", *args], cwd=REPO,
                           capture_output=True, text=True, timeout=600)
    expected = _table_verdicts()
    n = {v: list(expected.values()).count(v) for v in ("eligible", "not_eligible",
                                                        "incomplete")}
    assert (n["eligible"], n["not_eligible"], n["incomplete"]) == (26, 28, 21)
    assert table.stdout.rstrip().splitlines()[-1] == (
        f"{len(expected)} patients screened: 26 eligible, 28 not eligible, 21 incomplete")
    said = subprocess.run([sys.executable, "-m", "trialsieve", *args, "--format", "ndjson"],
                          cwd=REPO, capture_output=True, text=True, timeout=600).stdout
    import json

    got = {Path(d["source_file"]).name: d["verdict"] for d in map(json.loads,
                                                                   said.splitlines())}
    assert got == expected
    for at_bound in ("23-lanreotide-28-days-before-d0-at-bound.json",
                     "25-major-surgery-42-days-before-at-bound.json",
                     "27-chemotherapy-85-days-before.json"):
        assert got[at_bound] == "eligible"
