"""Time reading and screening one patient, in process and as a `trialsieve screen` command,
and the README's first command (every example, D0 given), each beside a floor measured in
the same run: `json.loads` of the same bundle for the in-process time, a bare
`python -c pass` for the commands. The ratio is what compares across machines and loads.

    .venv/bin/python benchmarks/bench_screen.py [--runs N] [--as-of YYYY-MM-DD]

Inputs: one example bundle (the first file in examples/patients/, or a small bundle built
in a temporary folder when there is none) and the largest Synthea bundle in
../shared/data/synthea-openmrs-bundles (by file size; the hospitalInformation and
practitionerInformation files hold no patient). In-process times are the median of N runs
after one warm-up run (the first unit conversion loads pint, about 0.6 s); command times
are the median wall time of 5 runs of the installed `trialsieve screen` (3 of the
README's first command), each after a warm-up run that writes the bytecode cache, the
floors likewise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.protocols.lumen import LUMEN
from trialsieve.report import to_json

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "patients"
SYNTHEA = REPO.parent / "shared" / "data" / "synthea-openmrs-bundles"
NO_PATIENT = ("hospitalInformation", "practitionerInformation")
# Targets: in-process read + screen of one example patient, of one large real record,
# and the wall time of one command (interpreter start-up included).
TARGET_EXAMPLE_S = 0.0015
TARGET_LARGE_S = 0.100
TARGET_COMMAND_S = 0.25
TARGET_README_S = 1.5
COMMAND_RUNS = 5
README_RUNS = 3
README_FIRST = ["screen", str(EXAMPLES), "--as-of", "2026-11-25", "--d0", "2026-12-01"]


def small_bundle(folder: Path) -> Path:
    """A patient with a few laboratory results, for when examples/patients is empty."""
    def obs(i: str, loinc: str, value: float, unit: str) -> dict:
        return {"resourceType": "Observation", "id": i, "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                "subject": {"reference": "Patient/bench"}, "effectiveDateTime": "2026-11-20",
                "valueQuantity": {"value": value, "unit": unit,
                                  "system": "http://unitsofmeasure.org", "code": unit}}

    resources = [{"resourceType": "Patient", "id": "bench", "birthDate": "1960-01-01",
                  "gender": "male"},
                 obs("hb", "718-7", 120, "g/L"), obs("plt", "777-3", 210, "10*9/L"),
                 obs("anc", "751-8", 3.1, "10*9/L"), obs("alb", "1751-7", 38, "g/L")]
    path = folder / "bench-patient.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in resources]}))
    return path


def example_bundle(tmp: Path) -> Path:
    found = sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []
    return found[0] if found else small_bundle(tmp)


def largest_synthea() -> Path | None:
    if not SYNTHEA.is_dir():
        return None
    files = [p for p in SYNTHEA.glob("*.json") if not p.name.startswith(NO_PATIENT)]
    return max(files, key=lambda p: p.stat().st_size, default=None)


def loads_floor(path: Path, runs: int) -> float:
    """json.loads of the bundle's text: the least any reading of it costs."""
    text = path.read_text(encoding="utf-8")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        json.loads(text)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def start_floor(runs: int = COMMAND_RUNS) -> float:
    """A bare interpreter start: the least any command costs."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def in_process(path: Path, dates: Dates, runs: int) -> float:
    def once() -> None:
        for rec in read(path).records:
            to_json(screen(LUMEN, rec, dates))

    once()  # warm-up: imports, pint registry, caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def command() -> list[str]:
    script = Path(sys.executable).parent / "trialsieve"
    return [str(script)] if script.exists() else [sys.executable, "-m", "trialsieve.cli"]


def wall(path: Path, as_of: date) -> float:
    return wall_of([*command(), "screen", str(path), "--as-of", as_of.isoformat(),
                    "--format", "json"], COMMAND_RUNS)


# A command as an installed copy runs it: with its modules' bytecode cached. A shell that
# sets PYTHONDONTWRITEBYTECODE (as some sandboxes do) would have every run compile every
# module again, more than half of a command's time here.
CACHED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_of(argv: list[str], runs: int) -> float:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=CACHED)  # warm-up: writes the bytecode cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=CACHED)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else (
        f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50, help="in-process runs (median)")
    ap.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 25))
    args = ap.parse_args()
    dates = Dates.resolve(args.as_of)
    rows = []  # what, median, floor, target
    start = start_floor()
    with tempfile.TemporaryDirectory() as tmp:
        example = example_bundle(Path(tmp))
        rows.append((f"in-process, example {example.name}",
                     in_process(example, dates, args.runs), loads_floor(example, args.runs),
                     TARGET_EXAMPLE_S))
        big = largest_synthea()
        if big is not None:
            size = f"{big.stat().st_size / 1e6:.2f} MB"
            runs = max(5, args.runs // 5)
            rows.append((f"in-process, Synthea {big.name[:24]}... ({size})",
                         in_process(big, dates, runs), loads_floor(big, runs),
                         TARGET_LARGE_S))
        rows.append((f"command, example {example.name}", wall(example, args.as_of), start,
                     TARGET_COMMAND_S))
        if big is not None:
            rows.append(("command, largest Synthea bundle", wall(big, args.as_of), start,
                         TARGET_COMMAND_S))
        else:
            print(f"(no Synthea bundles in {SYNTHEA}: skipped)")
        if EXAMPLES.is_dir():
            n = len(list(EXAMPLES.glob("*.json")))
            rows.append((f"README's first command ({n} examples, --d0)",
                         wall_of([*command(), *README_FIRST], README_RUNS), start,
                         TARGET_README_S))
    width = max(len(r[0]) for r in rows)
    print("floors: json.loads of the same bundle (in-process), python -c pass (commands)")
    print(f"{'what':<{width}}  {'median':>10}  {'floor':>10}  {'x floor':>8}  "
          f"{'target':>10}  ok")
    print("-" * (width + 50))
    for what, t, floor, target in rows:
        print(f"{what:<{width}}  {fmt(t):>10}  {fmt(floor):>10}  {t / floor:>8.1f}  "
              f"{fmt(target):>10}  {'yes' if t <= target else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
