"""Pre-screen a population: stream patient groups from an engine into the per-patient
evaluator, write the outputs as they come, and account for everything skipped.

Memory stays bounded: groups come sorted by patient from disk (DuckDB) or from Spark's
partitions, at most a few batches are in flight, and only small per-patient keys are
kept (for the ranked candidates list).
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from trialsieve.fhir import concept_map
from trialsieve.fhir.concept_map import ConceptMapping
from trialsieve.output.atomic import staged
from trialsieve.population.evaluate import Job, Screened
from trialsieve.population.evaluate import evaluate_or_problem as _one
from trialsieve.population.outputs import Writer
from trialsieve.population.settings import Settings
from trialsieve.population.source import (
    BundlePeople,
    Group,
    Problem,
    Row,
    Source,
    bundle_groups,
    bundle_people,
    discover,
    duckdb_batches,
    groups_of,
    held_back,
)
from trialsieve.population.triage import Look, look
from trialsieve.protocols.lumen import LUMEN
from trialsieve.rules.base import PRE_SCREENING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Incomplete", "Settings", "Strict", "prescreen", "stderr_progress"]

BATCH = 64  # bundle patients per task sent to a worker process
Batch: TypeAlias = "pa.Table | list[Group]"  # whole patients: a scanned table, or bundles' groups
OUTPUTS = ["funnel.csv", "funnel.png", "funnel.svg", "patients.csv", "candidates.csv",
           "results.ndjson", "run.json"]


class Strict(Exception):
    """--strict: the first problem stops the run."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.file}" + (f": line {problem.line}" if problem.line else "")
                         + (f": {problem.resource}" if problem.resource else "")
                         + f": {problem.reason}")
        self.problem = problem


class Incomplete(Exception):
    """The run stopped part-way (an engine failed): the outputs hold only the patients
    screened before, and no run.json vouches for them."""

    def __init__(self, screened: int, cause: Exception) -> None:
        first = (str(cause).strip().splitlines() or [""])[0][:300]
        super().__init__(f"the run stopped after {screened} patients: "
                         f"{type(cause).__name__}: {first}")


# --- evaluation, in this process or in workers ----------------------------------------
_WORKER: dict = {}


def _init_worker(job: Job) -> None:
    """A worker process: its modules, protocol and lookups are never garbage, so the
    cyclic collector need not scan them again for every patient."""
    gc.freeze()
    # Ctrl-C reaches every process of the terminal's group: the parent alone answers it
    # (one line, exit 130); a worker would print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["job"] = job


def _evaluate_batch(batch: Batch) -> list[Screened | Problem]:
    return [_one(g, _WORKER["job"]) for g in _groups(batch)]


def _groups(batch: Batch) -> Iterable[Group]:
    return groups_of(batch) if not isinstance(batch, list) else batch


def _bundle_batches(src: Source, people: BundlePeople, held: dict[str, list[Row]]
                    ) -> Iterator[Batch]:
    batch: list[Group] = []
    for g in bundle_groups(src, people, held):
        batch.append(g)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def batches_for(src: Source, s: Settings, triage: Look | None = None) -> Iterator[Batch]:
    """Whole patients a batch: Arrow tables from the DuckDB scan, then bundles' Groups.
    A patient in both (two exports of one hospital) is one patient, as `screen` reads
    it: the scan keeps their NDJSON rows whole and holds them back for their bundle
    rows; screened in two parts, the part without an exclusion's record could say
    "eligible"."""
    people = bundle_people(src) if src.bundles else None
    held: dict[str, list[Row]] = {}
    wanted = None
    for table in duckdb_batches(src, s.jobs, triage=triage, people=people):
        if wanted is None and people and people.last:  # known once the scan has resolved
            import pyarrow as pa

            wanted = pa.array(sorted(people.last), pa.string())
        table = held_back(table, wanted, held)
        if table.num_rows:
            yield table
    if people:
        yield from _bundle_batches(src, people, held)


def job_for(src: Source, s: Settings, mapping: ConceptMapping) -> Job:
    """Only under pre-screening does the triage set patients aside (under screening, no
    neuroendocrine diagnosis on record leaves INCL02 unknown, not "not met")."""
    triage = look(mapping) if s.policy == PRE_SCREENING and not s.full else None
    return Job(src.files, src.shared, s.as_of, s.policy, s.window, mapping, triage,
               src.identities)


# CPU seconds: a worker's start (its imports: about a second), a patient evaluated in
# full, a patient set aside (its Patient resource only); the window's screenings
WORKER_START, EVALUATED, SET_ASIDE, WINDOW = 1.0, 0.003, 0.0002, 100


def _worth_workers(src: Source, window: bool) -> bool:
    """Whether the work left after the scan pays for starting worker processes: at 10^3
    patients mostly set aside it does not (the workers' imports cost more than the
    patients), and the patients are evaluated here, with the same results."""
    if src.bundles or src.patients is None or src.evaluated is None:
        return True
    work = src.evaluated * EVALUATED * (WINDOW if window else 1)
    return work + (src.patients - src.evaluated) * SET_ASIDE > WORKER_START


def _screen_batches(batches: Iterable[Batch], job: Job, jobs: int,
                    src: Source | None = None) -> Iterator[Screened | Problem]:
    """In input order; with jobs > 1 across worker processes, a bounded number of batches
    in flight, when the scan (`src`) leaves enough work for them. This process only cuts
    batches and writes: the workers build the groups."""
    batches = iter(batches)
    first = next(batches, None)  # runs the scan: the shared lookups are known after it
    if first is None:
        return
    if jobs <= 1 or (src is not None and not _worth_workers(src, job.window)):
        for batch in itertools.chain([first], batches):
            for g in _groups(batch):
                yield _one(g, job)
        return
    pending: list[Future] = []
    # spawn, not fork: the parent runs DuckDB threads, which a fork would copy mid-flight.
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(job,)) as pool:
        try:
            for batch in itertools.chain([first], batches):
                pending.append(pool.submit(_evaluate_batch, batch))
                while len(pending) > 2 * jobs:
                    yield from pending.pop(0).result()
            for f in pending:
                yield from f.result()
        except BaseException:  # a stopped run (Ctrl-C, --strict): no batch more
            pool.shutdown(wait=False, cancel_futures=True)
            # nor wait for the batches under way (minutes with --window): its outputs are
            # dropped anyway (Python 3.14 has pool.terminate_workers() for this)
            for worker in list((getattr(pool, "_processes", None) or {}).values()):
                worker.terminate()
            raise


# --- the run ---------------------------------------------------------------------------
def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def prescreen(path: str | Path, out: str | Path, s: Settings,
              progress: Callable[[int, float], None] | None = None) -> dict:
    """Screen every patient under `path`; write the outputs into `out`; return run.json."""
    t0 = time.monotonic()
    gc.freeze()  # what is loaded so far is never garbage: spare the collector rescanning it
    try:
        return _prescreen(path, out, s, progress, t0)
    finally:
        gc.unfreeze()


def _prescreen(path: str | Path, out: str | Path, s: Settings,
               progress: Callable[[int, float], None] | None, t0: float) -> dict:
    src = discover(path)
    if s.strict and src.problems:  # a folder's FHIR XML, say: stopped before any work
        raise Strict(src.problems[0])
    mapping = concept_map.load(s.concept_maps)  # a bad map stops the run before any output
    # hashed on a thread of its own (hashlib lets go of the GIL) while the run goes on
    hashing = ThreadPoolExecutor(1)
    digests = [hashing.submit(_sha256, f) for f in src.files]
    # every output is written into a hidden folder and moved into place at the end: a
    # run that stops (Ctrl-C, --strict, an engine failing) leaves the earlier run's
    # outputs exactly as they were
    with staged(out) as stage:
        run = _run(src, s, mapping, stage.dir, progress, t0, digests, hashing)
        for name in OUTPUTS:
            stage.path(name)
    return run


def _run(src: Source, s: Settings, mapping: ConceptMapping, out: Path,
         progress: Callable[[int, float], None] | None, t0: float,
         digests: list[Future], hashing: ThreadPoolExecutor) -> dict:
    writer = Writer(out)
    job = job_for(src, s, mapping)
    if s.engine == "spark":
        from trialsieve.population.spark_job import spark_screen

        stream: Iterable[Screened | Problem] = spark_screen(src, s, job)
    else:
        stream = _screen_batches(batches_for(src, s, job.triage), job, s.jobs, src)
    checked = 0
    skipped_patients: list[Problem] = []
    try:
        for item in stream:  # the engines list bad lines and files before any patient
            if s.strict and src.problems:
                raise Strict(src.problems[0])
            if isinstance(item, Problem):
                if s.strict:
                    raise Strict(item)
                skipped_patients.append(item)
                continue
            writer.add(item)
            checked += 1
            if progress and checked % 200 == 0:
                progress(checked, time.monotonic() - t0)
        if s.strict and src.problems:
            raise Strict(src.problems[0])
    except BaseException as exc:
        hashing.shutdown(wait=False, cancel_futures=True)  # a stopped run waits for no hash
        writer.abort()
        if type(exc).__name__ == "InterruptException":  # DuckDB's own, on Ctrl-C
            raise KeyboardInterrupt from exc
        if isinstance(exc, Exception) and not isinstance(exc, Strict):
            raise Incomplete(checked, exc) from exc  # an engine failure: not "finished"
        raise
    screened = time.monotonic()
    writer.close()
    elapsed = time.monotonic() - t0
    run = {
        "protocol": {"id": LUMEN.id, "version": LUMEN.version, "hash": LUMEN.hash},
        "policy": s.policy,
        "dates": {"as_of": s.as_of.isoformat(), "inclusion": s.as_of.isoformat(),
                  "d0": s.as_of.isoformat(), "window": s.window},
        # pre-screening sets aside, in bulk, the patients with no code of a neuroendocrine
        # neoplasm and no pathology result (population/triage.py); --full: nobody
        "triage": job.triage is not None,
        "engine": {"name": s.engine, "jobs": s.jobs,
                   **({"master": s.master or f"local[{s.jobs}]"} if s.engine == "spark"
                      else {})},
        "inputs": [{"file": f, "bytes": Path(f).stat().st_size, "sha256": d.result()}
                   for f, d in zip(src.files, digests, strict=True)],  # waits for them
        "concept_maps": [{"file": f, "bytes": Path(f).stat().st_size, "sha256": _sha256(f)}
                         for f in s.concept_maps],
        "counts": {"patients": checked, "verdicts": writer.funnel.verdicts,
                   "set_aside": writer.set_aside,  # by the triage: see "triage"
                   "patients_skipped": len(skipped_patients),
                   "lines_or_files_skipped": len(src.problems),
                   "resources_about_no_patient": src.unattached},
        "skipped": [p.to_json() for p in src.problems + skipped_patients],
        # the folder's other files (a README, a CSV export): named, not counted
        "not_input": src.notes,
        "timings": {"seconds": round(elapsed, 3),
                    "patients_per_second": round(checked / elapsed, 1) if elapsed else None,
                    # where the time went: the DuckDB scan (Spark reads as it screens),
                    # then sorting by patient and screening, then writing the outputs
                    "scan_seconds": round(src.scanned - t0, 3) if src.scanned else None,
                    "screening_seconds": round(screened - (src.scanned or t0), 3),
                    "outputs_seconds": round(t0 + elapsed - screened, 3)},
        "outputs": OUTPUTS,
    }
    (out / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
    return run


def stderr_progress(done: int, seconds: float) -> None:
    sys.stderr.write(f"\rscreened {done} patients, {done / max(seconds, 1e-9):.0f}/s")
    sys.stderr.flush()
