"""`trialsieve prescreen` and `trialsieve synth`: subcommands registered by trialsieve.cli.

Exit status of prescreen, as for `screen`: 0 when every line and patient was read; 1 when
the run went to the end but skipped something (listed in run.json, "skipped"); 2 on bad
usage, when no patient could be screened, and at the first problem with --strict; 3 when
the outputs could not be written, 130 on Ctrl-C. A run that does not finish changes no
output file (output/atomic.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from trialsieve.fhir import concept_map


def add_commands(sub: Any, as_date: Callable[[str], date]) -> dict[str, Callable]:
    p = sub.add_parser("prescreen", help="pre-screen a population (bulk NDJSON or bundles): "
                       "funnel, candidates, per-patient results")
    p.add_argument("path")
    p.add_argument("--out", required=True, help="folder for the outputs")
    p.add_argument("--as-of", type=as_date, default=None, help="screening date (default today)")
    p.add_argument("--policy", choices=["screening", "pre-screening"], default="pre-screening")
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    p.add_argument("--jobs", type=int, default=1, help="processes (duckdb) or local[N] (spark)")
    p.add_argument("--master", default=None, help="Spark master URL (default local[JOBS])")
    p.add_argument("--strict", action="store_true", help="stop at the first bad line or file")
    p.add_argument("--window", action="store_true", help="each patient's D0 window (earliest "
                   "and latest D0): about 180 screenings a patient")
    p.add_argument("--full", action="store_true", help="evaluate every criterion for every "
                   "patient: no pre-screening triage (slower; see docs/population.md)")
    concept_map.add_argument(p)
    s = sub.add_parser("synth", help="write a synthetic population as bulk NDJSON")
    s.add_argument("--patients", type=int, required=True)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--out", required=True)
    s.add_argument("--anchor", type=as_date, default=None,
                   help="date the NET screening histories are built around (default 2026-11-25)")
    return {"prescreen": prescreen, "synth": synth}


def prescreen(args: argparse.Namespace) -> int:
    from trialsieve.population.run import OUTPUTS, Incomplete, Settings, Strict, stderr_progress
    from trialsieve.population.run import prescreen as run

    if args.jobs < 1:
        print("trialsieve: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    settings = Settings(args.as_of or date.today(), args.policy, args.engine, args.jobs,
                        args.strict, args.master, args.window, tuple(args.concept_map),
                        args.full)
    tty = sys.stderr.isatty()
    try:
        result = run(args.path, args.out, settings, stderr_progress if tty else None)
    except Strict as exc:
        print(f"trialsieve: error: {exc} (--strict: stopped; no output file in {args.out} "
              "was changed)", file=sys.stderr)
        return 2
    except Incomplete as exc:
        print(f"trialsieve: error: {exc}; no output file in {args.out} was changed",
              file=sys.stderr)
        return 2
    if tty:
        sys.stderr.write("\n")
    # named as `screen` names them: a folder's files not read, and the files skipped
    # whole (lines and patients skipped are many: run.json lists them)
    for note in result["not_input"]:
        print(f"trialsieve: warning: {note}", file=sys.stderr)
    for p in result["skipped"]:
        if p["reason"].endswith("file skipped"):
            where = [f"line {p['line']}" if p["line"] else "", p["resource"] or ""]
            print(": ".join(x for x in ["trialsieve: warning", p["file"], *where, p["reason"]]
                            if x), file=sys.stderr)
    c = result["counts"]
    v = c["verdicts"]
    skipped = c["patients_skipped"] + c["lines_or_files_skipped"]
    print(f"{c['patients']} patients pre-screened ({settings.policy}, as of "
          f"{settings.as_of}) in {result['timings']['seconds']} s: {v['eligible']} eligible, "
          f"{v['incomplete']} incomplete, {v['not_eligible']} not eligible")
    if c["set_aside"]:
        print(f"{c['set_aside']} of the not eligible set aside in bulk: no code of a "
              "neuroendocrine neoplasm on record (--full evaluates every criterion)")
    if skipped:
        print(f"{skipped} skipped (bad lines, files or patients): see run.json")
    print(f"outputs in {args.out}: {' '.join(OUTPUTS)}")
    if not c["patients"]:  # as `screen`: nothing could be screened
        print(f"trialsieve: error: {args.path}: no patient could be screened (no Patient "
              "resource and no resource with a subject was read): see run.json",
              file=sys.stderr)
        return 2
    return 1 if skipped else 0


def synth(args: argparse.Namespace) -> int:
    from trialsieve.population.synth import ANCHOR, generate

    if args.patients < 0:
        print("trialsieve: error: --patients must be >= 0", file=sys.stderr)
        return 2
    from trialsieve.output.atomic import staged

    with staged(args.out) as stage:  # all the files appear together, or none changes
        counts = generate(args.patients, args.seed, stage.dir, args.anchor or ANCHOR)
        for f in sorted(stage.dir.iterdir()):
            stage.path(f.name)
    print(f"{args.patients} patients, {sum(counts.values())} resources in {args.out}")
    return 0
