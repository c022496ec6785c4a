"""Population pre-screening throughput and memory, next to floors measured on the same files.

    .venv/bin/python benchmarks/bench_population.py [--sizes 10000 100000]
        [--synthea-copies 40 400] [--engines duckdb1 duckdb2 duckdb2-full spark]
        [--big-engines duckdb2 duckdb2-full] [--work /tmp/trialsieve-bench] [--keep]
        [--before OLD/src]

Datasets: the `trialsieve synth` generator at each size (seed 1), and the shared Synthea
OpenMRS bundles (../shared/data/synthea-openmrs-bundles) replicated with fresh ids into
bulk NDJSON (--synthea-copies: copies of each of the 25 patients, one data set per
number; none to leave it out). For each:

- floor "orjson 1 core": read every NDJSON line and parse it with orjson, one process;
- floor "duckdb scan 2 thr": a DuckDB projected scan (type, id, subject, code, value,
  unit, dates, status) of every file, grouped by patient, on two threads;
- `trialsieve prescreen` with DuckDB --jobs 1 and --jobs 2, and --engine spark local[2],
  with the pre-screening triage (the default), and DuckDB --jobs 2 --full (every
  criterion for every patient); --engines; data sets above 10^4 patients run only
  --big-engines, to keep the run short.

Each job runs as its own command; peak RSS is the largest sum of the RSS of the
command's whole process tree, sampled every 0.2 s; CPU is the user + system seconds of
that tree (what other work on a shared machine distorts least). Ratios: prescreen time /
DuckDB scan time, wall and CPU (target <= 3) and patients/s (target >= 1,000 on
Synthea-shaped data); the sha256 of
each engine's results.ndjson, which must agree among the triage runs (one line, one
patient, same bytes; --full documents differ by design for the patients set aside). Run it once
on a quiet machine; numbers are per run, not averaged.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

import orjson

REPO = Path(__file__).resolve().parent.parent
BUNDLES = REPO.parent / "shared" / "data" / "synthea-openmrs-bundles"
NO_PATIENT = ("hospitalInformation", "practitionerInformation")
BIN = Path(sys.executable).parent


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class Run(NamedTuple):
    seconds: float  # wall clock
    cpu: float  # user + system seconds of the whole process tree (threads included)
    rss: int  # peak tree RSS, bytes
    out: str


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited-for descendant
    return u.ru_utime + u.ru_stime


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Wall and CPU seconds, peak tree RSS and stdout of one command. CPU seconds are
    what a shared, noisy machine distorts least: compare those when others run too."""
    peak = [0]
    cpu0 = _cpu()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(0.2)

    t = threading.Thread(target=sample)
    t.start()
    out, err = proc.communicate()
    elapsed = time.monotonic() - t0
    done.set()
    t.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err[-2000:]}")
    return Run(elapsed, _cpu() - cpu0, peak[0], out)


# --- the floors, each run as its own process ------------------------------------------------
ORJSON_FLOOR = """
import glob, sys, orjson
n = 0
for f in sorted(glob.glob(sys.argv[1] + '/*.ndjson')):
    with open(f, 'rb') as fh:
        for line in fh:
            if line.strip():
                orjson.loads(line); n += 1
print(n)
"""
DUCKDB_FLOOR = """
import glob, sys, duckdb
con = duckdb.connect(); con.execute("SET threads = 2")
cols = {"resourceType": "VARCHAR", "id": "VARCHAR", "status": "VARCHAR",
        "subject": "STRUCT(reference VARCHAR)", "patient": "STRUCT(reference VARCHAR)",
        "code": "JSON", "valueQuantity": "STRUCT(value DOUBLE, unit VARCHAR, code VARCHAR)",
        "effectiveDateTime": "VARCHAR", "onsetDateTime": "VARCHAR", "authoredOn": "VARCHAR"}
files = sorted(glob.glob(sys.argv[1] + '/*.ndjson'))
files = [f for f in files if not f.endswith('log.ndjson')]
q = f'''SELECT count(*), count(DISTINCT coalesce(subject.reference, patient.reference, id))
        FROM read_json({files!r}, format='newline_delimited', records=true,
                       columns={cols!r}, ignore_errors=true)'''
print(con.execute(q).fetchall())
"""


def floors(folder: Path) -> dict[str, Run]:
    return {name: measure([sys.executable, "-c", code, str(folder)])
            for name, code in (("orjson parse, 1 core", ORJSON_FLOOR),
                               ("duckdb scan, 2 threads", DUCKDB_FLOOR))}


def prescreen(folder: Path, out: Path, engine: str, before: Path | None = None) -> Run:
    """One `trialsieve prescreen`; with `before`, of the code in that `src` folder (a
    checkout of an earlier commit) through PYTHONPATH, on the same venv."""
    args = {"duckdb1": ["--jobs", "1"], "duckdb2": ["--jobs", "2"],
            "duckdb2-full": ["--jobs", "2", "--full"],
            "spark": ["--engine", "spark", "--jobs", "2"]}[engine]
    env = None if before is None else {**os.environ, "PYTHONPATH": str(before)}
    return measure([str(BIN / "trialsieve"), "prescreen", str(folder), "--out",
                    str(out / engine), "--as-of", "2026-11-25", *args], env)


# --- datasets ------------------------------------------------------------------------------
def synth(folder: Path, n: int) -> None:
    if not folder.exists():
        subprocess.run([str(BIN / "trialsieve"), "synth", "--patients", str(n), "--seed", "1",
                        "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)


UUID = re.compile(rb"[0-9a-f]{8}(-[0-9a-f]{4}-)[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def replicate_synthea(folder: Path, copies: int) -> int:
    """Each Synthea patient bundle `copies` times with fresh ids, as bulk NDJSON: copy k
    has the second group of every UUID replaced by k. The text is cut once at those
    groups and each copy joined with its own (a function called for each of the
    millions of UUIDs took most of an hour for 400 copies on a loaded machine)."""
    bundles = [b for b in sorted(BUNDLES.glob("*.json")) if not b.name.startswith(NO_PATIENT)]
    if folder.exists():
        return len(bundles) * copies
    lines: dict[str, list[bytes]] = {}
    for b in bundles:
        for entry in orjson.loads(b.read_bytes()).get("entry", []):
            res = entry["resource"]
            lines.setdefault(res["resourceType"], []).append(orjson.dumps(res) + b"\n")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for rtype, rows in lines.items():
        # copy after copy, each in bundle order (as the bundles were read one by one)
        text = b"".join(rows)
        cuts = [0] + [x for m in UUID.finditer(text) for x in m.span(1)] + [len(text)]
        pieces = [text[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
        with open(partial / f"{rtype}.ndjson", "wb") as f:
            for k in range(copies):
                f.write((b"-%04x-" % k).join(pieces))
    partial.rename(folder)
    return len(bundles) * copies


# --- the run -------------------------------------------------------------------------------
def bench(name: str, folder: Path, patients: int, engines: list[str], work: Path,
          before: Path | None = None) -> list:
    size = sum(os.path.getsize(f) for f in glob.glob(str(folder / "*.ndjson")))
    print(f"\n{name}: {patients} patients, {size / 1e6:.0f} MB NDJSON", flush=True)
    rows = []
    fl = floors(folder)
    scan = fl["duckdb scan, 2 threads"]

    def show(label: str, r: Run, more: str = "") -> None:
        rows.append((label, r))
        # Spark's JVM is not a child the driver waits for: its CPU is not counted
        cpu = ("cpu  JVM not counted" if "spark" in label else
               f"cpu {r.cpu:7.1f} s (x{r.cpu / scan.cpu:.1f})")
        print(f"  {label:<28} {r.seconds:7.1f} s {patients / r.seconds:7.0f} patients/s "
              f"{r.rss / 2**20:6.0f} MB  x{r.seconds / scan.seconds:.1f} the scan  {cpu}"
              f"{more}", flush=True)

    for label, r in fl.items():
        show(label, r)
    digests = {}
    # with --before, each engine runs on the earlier code, then on this code, back to back
    for engine in engines:
        for code, label in ([(before, "before ")] if before else []) + [(None, "")]:
            r = prescreen(folder, work / "out" / name, engine, code)
            results = work / "out" / name / engine / "results.ndjson"
            digests[label + engine] = hashlib.sha256(results.read_bytes()).hexdigest()[:12]
            show(f"{label}prescreen {engine}", r, f"  results {digests[label + engine]}")
    if len({d for e, d in digests.items() if not e.endswith("-full")}) > 1:
        print("  ! the engines' results.ndjson differ", flush=True)
    shutil.rmtree(work / "out" / name, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--synthea-copies", type=int, nargs="*", default=[40, 400])
    ap.add_argument("--engines", nargs="*",
                    default=["duckdb1", "duckdb2", "duckdb2-full", "spark"])
    ap.add_argument("--big-engines", nargs="*", default=["duckdb2", "duckdb2-full"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/trialsieve-bench"))
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    ap.add_argument("--before", type=Path, help="the `src` folder of an earlier commit: "
                    "each engine runs on it too, just before this code")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    try:
        for copies in a.synthea_copies if BUNDLES.exists() else []:
            folder = a.work / f"synthea-x{copies}"
            n = replicate_synthea(folder, copies)
            bench(f"synthea-x{copies}", folder, n, a.engines if n <= 1_000 else a.big_engines,
                  a.work, a.before)
            if not a.keep:
                shutil.rmtree(folder)
        for n in a.sizes:
            folder = a.work / f"synth-{n}"
            synth(folder, n)
            bench(f"synth-{n}", folder, n, a.engines if n <= 10_000 else a.big_engines,
                  a.work, a.before)
            if not a.keep:
                shutil.rmtree(folder)
    finally:
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
