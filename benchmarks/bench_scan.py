"""The DuckDB scan of `prescreen` (population/source.py `load_duckdb`: every NDJSON line
into table `res`), next to the bare DuckDB projected scan of the same files.

    .venv/bin/python benchmarks/bench_scan.py FOLDER [FOLDER ...] [--repeats 3]

For each folder (a bulk NDJSON export: `trialsieve synth --out`, or the replicated
Synthea data of bench_population.py), `--repeats` rounds of: the floor (bench_population's
DuckDB projected scan, two threads, its own process), then the scan on two threads with
prescreen's settings, in this process, timed per file: "projected" for a file of a type no
rule reads, "line by line" for one whose text is kept. Prints the best of the rounds and
the ratio scan / floor (wall seconds; the machine's other work distorts both alike when
they alternate). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from bench_population import DUCKDB_FLOOR, measure

from trialsieve.population import source


def scan(folder: Path) -> dict[str, float]:
    """Seconds of `load_duckdb` on `folder`, split by the way each file went."""
    src = source.discover(folder)
    took: dict[str, float] = {"projected": 0.0, "line by line": 0.0}
    real = source._projected

    def projected(con, i, f, first):  # times the projection, kept or given up
        t = time.perf_counter()
        done = real(con, i, f, first)
        took["projected" if done else "line by line"] += time.perf_counter() - t
        return done

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(":memory:")
        con.execute(f"SET threads = 2; SET memory_limit = '512MB'; "
                    f"SET temp_directory = '{tmp}'; SET enable_progress_bar = false")
        source._projected = projected
        try:
            t = time.perf_counter()
            source.load_duckdb(con, src, tmp)
            total = time.perf_counter() - t
        finally:
            source._projected = real
            con.close()
    took["line by line"] = total - took["projected"]
    return {"scan": total, **took}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"{'data':28} {'MB':>5} {'floor s':>8} {'scan s':>7} {'projected':>9} "
          f"{'by line':>8} {'scan/floor':>10}")
    for folder in args.folders:
        mb = sum(f.stat().st_size for f in folder.glob("*.ndjson")) / 2**20
        floors, scans = [], []
        for _ in range(args.repeats):
            floors.append(measure([sys.executable, "-c", DUCKDB_FLOOR, str(folder)]).seconds)
            scans.append(scan(folder))
        floor, best = min(floors), min(scans, key=lambda s: s["scan"])
        print(f"{folder.name[:28]:28} {mb:5.0f} {floor:8.2f} {best['scan']:7.2f} "
              f"{best['projected']:9.2f} {best['line by line']:8.2f} "
              f"{best['scan'] / floor:10.2f}")


if __name__ == "__main__":
    main()
