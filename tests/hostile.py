"""Helpers for the broken- and hostile-input tests: a copy of an example patient with one
change, the command line run in-process (or in a child process with a time limit)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from trialsieve.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "patients"
MAN = EXAMPLES / "02-eligible-man.json"
WOMAN = EXAMPLES / "01-eligible-woman-cbp.json"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


def bundle(example: Path = MAN) -> dict:
    return json.loads(example.read_text())


def resource(doc: dict, rid: str) -> dict:
    return next(e["resource"] for e in doc["entry"] if e["resource"].get("id") == rid)


def changed(tmp: Path, change: Callable[[dict], object], example: Path = MAN,
            name: str = "p.json") -> Path:
    """The example with `change` applied to its Bundle, written to tmp/name."""
    doc = copy.deepcopy(bundle(example))
    change(doc)
    path = tmp / name
    path.write_text(json.dumps(doc, allow_nan=True))
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    """The command line in-process: (exit status, stdout, stderr), never a traceback."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def screen_doc(capsys, path: Path, *extra: str, expect: int = 0) -> tuple[dict, str]:
    code, out, err = run(capsys, "screen", str(path), *DATES, "--format", "json", *extra)
    assert code == expect, err
    return json.loads(out)["results"][0], err


def status(doc: dict, cid: str) -> str:
    return next(c for c in doc["criteria"] if c["id"] == cid)["status"]


def criterion(doc: dict, cid: str) -> dict:
    return next(c for c in doc["criteria"] if c["id"] == cid)


def run_limited(args: list[str], seconds: float = 20) -> subprocess.CompletedProcess:
    """The command line in a child process that is killed after `seconds` (a hang fails)."""
    return subprocess.run([sys.executable, "-m", "trialsieve.cli", *args], capture_output=True,
                          text=True, timeout=seconds, cwd=REPO)
