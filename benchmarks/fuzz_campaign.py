"""A mutation-fuzzing campaign against the command line's own entry point (issue 8).

    .venv/bin/python benchmarks/fuzz_campaign.py [--inputs 100000] [--workers 2]
                                                 [--limit 10] [--start 0]

Inputs are built by tests/fuzzing.py from the example patients, the bad-input fixtures,
the shared FHIR and Synthea data and the RECIST CSV, in the categories below (each input
is reproduced by its category and seed). Each runs in-process under a time limit; the
table gives by category: inputs, exit statuses, tracebacks, runs past the limit, and
"met from damage" (one lab value damaged made the criterion reading it, or the verdict,
more favourable than undamaged). Every problem found is listed after the table with its
category and seed. Exit status 1 when any problem was found.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import damage_run, make_input, run_cli  # noqa: E402

# Share of the inputs per category (the slow window/Synthea paths are rarer).
MIX = {"bundle": 0.30, "bundle-bytes": 0.15, "ndjson": 0.15, "folder": 0.08, "csv": 0.12,
       "cli-args": 0.10, "damage": 0.10}


def _one(job: tuple[str, int, float]) -> tuple[str, int, int | None, bool, bool, bool,
                                                float, str]:
    category, seed, limit = job
    if category == "damage":
        run = damage_run(seed)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
        try:
            run = run_cli(make_input(category, seed, tmp), limit, category, seed)
        except Exception as exc:  # noqa: BLE001 - a fuzzer bug, not the program's
            return category, seed, None, False, False, False, 0.0, f"fuzzer: {exc!r}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    problems = run.problems()
    return (category, seed, run.code, run.traceback is not None, run.timed_out,
            run.met_from_damage, run.seconds, problems[0][:2000] if problems else "")


def jobs(n: int, start: int, limit: float, only: list[str]) -> list[tuple[str, int, float]]:
    mix = {c: s for c, s in MIX.items() if not only or c in only}
    out = []
    for category, share in mix.items():
        count = round(n * share / sum(mix.values()))
        out += [(category, start + i, limit) for i in range(count)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=float, default=10.0, help="seconds before a run counts "
                    "as a hang")
    ap.add_argument("--start", type=int, default=0, help="first seed")
    ap.add_argument("--only", nargs="*", choices=sorted(MIX), default=[],
                    help="run only these categories")
    args = ap.parse_args()
    todo = jobs(args.inputs, args.start, args.limit, args.only)
    began = time.perf_counter()
    rows: dict[str, Counter] = defaultdict(Counter)
    problems: list[str] = []
    slowest: dict[str, float] = defaultdict(float)
    with multiprocessing.Pool(args.workers) as pool:
        for done, (cat, seed, code, tb, timeout, met, secs, problem) in enumerate(
                pool.imap_unordered(_one, todo, chunksize=20), 1):
            row = rows[cat]
            row["inputs"] += 1
            row[f"exit {code}"] += 1
            row["tracebacks"] += tb
            row["timeouts"] += timeout
            row["met from damage"] += met
            slowest[cat] = max(slowest[cat], secs)
            if problem:
                problems.append(f"{cat} seed {seed}: {problem}")
            if done % 5000 == 0:
                print(f"... {done}/{len(todo)} in {time.perf_counter() - began:.0f} s",
                      file=sys.stderr, flush=True)
            if done % 20000 == 0:  # so far, should the run be cut short
                print(_table(rows, slowest), file=sys.stderr, flush=True)
    print(_table(rows, slowest))
    print(f"\n{len(todo)} inputs in {time.perf_counter() - began:.0f} s on {args.workers} "
          f"workers; time limit {args.limit:g} s per run")
    for p in problems[:50]:
        print("\n" + p)
    return 1 if problems else 0


def _table(rows: dict[str, Counter], slowest: dict[str, float]) -> str:
    cols = ["inputs", "exit 0", "exit 1", "exit 2", "tracebacks", "timeouts",
            "met from damage"]
    w = {c: max(len(c) + 2, 9) for c in cols}
    head = f"{'category':<13}" + "".join(f"{c:>{w[c]}}" for c in cols) + f"{'slowest s':>11}"
    lines = [head, "-" * len(head)]
    total: Counter = Counter()
    for cat in MIX:
        row = rows.get(cat, Counter())
        total.update(row)
        lines.append(f"{cat:<13}" + "".join(f"{row[c]:>{w[c]}}" for c in cols)
                     + f"{slowest.get(cat, 0):>11.2f}")
    lines.append(f"{'all':<13}" + "".join(f"{total[c]:>{w[c]}}" for c in cols)
                 + f"{max(slowest.values(), default=0):>11.2f}")
    other = sorted(k for k in total if k.startswith("exit ") and k not in cols)
    if other:
        lines.append("other exit statuses: " + ", ".join(f"{k}: {total[k]}" for k in other))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
