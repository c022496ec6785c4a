"""What a population run writes: the attrition funnel (CSV and chart), one row per
patient, the candidates ranked, the per-patient JSON, streamed as patients come."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trialsieve.engine import ELIGIBLE, INCOMPLETE, NOT_ELIGIBLE
from trialsieve.population.evaluate import CRITERIA, NOT_EVALUATED, Screened
from trialsieve.population.funnel_chart import chart
from trialsieve.protocols.lumen import LUMEN

_FAILING = {"inclusion": "not_met", "exclusion": "met"}
DECEASED = "DECEASED"  # the funnel's first step
_SHORT = {c.id: c.short for c in LUMEN.criteria}
_RANK = {ELIGIBLE: 0, INCOMPLETE: 1}


@dataclass
class Step:
    """One criterion, applied to the patients that no earlier criterion removed."""

    criterion: str
    category: str
    short: str
    entering: int = 0
    met: int = 0
    not_met: int = 0
    unknown: int = 0
    removed: int = 0
    remaining_with_unknown: int = 0  # still in, with an unknown at this step or before

    @property
    def remaining(self) -> int:
        return self.entering - self.removed


@dataclass
class Funnel:
    """CONSORT-style attrition in protocol order; the unknown bucket is counted, not hidden:
    a patient with an unknown stays in (it may yet be met) and is shown as such."""

    # the deceased leave first, as their own step: a death decides whatever the criteria
    # say (protocol notes), so they are not counted under the first criterion they fail
    steps: list[Step] = field(default_factory=lambda: [
        Step(DECEASED, "status", "on or before the screening date"),
        *(Step(c.id, c.category, c.short) for c in LUMEN.criteria)])
    total: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: {
        ELIGIBLE: 0, INCOMPLETE: 0, NOT_ELIGIBLE: 0})

    def add(self, s: Screened) -> None:
        self.total += 1
        self.verdicts[s.verdict] = self.verdicts.get(s.verdict, 0) + 1
        dead = self.steps[0]
        dead.entering += 1
        if s.deceased:
            dead.met += 1
            dead.removed += 1
            return
        dead.not_met += 1
        unsure = False
        for step, status in zip(self.steps[1:], s.statuses, strict=True):
            step.entering += 1
            setattr(step, status, getattr(step, status) + 1)
            if status == _FAILING[step.category]:
                step.removed += 1
                return
            unsure = unsure or status == "unknown"
            step.remaining_with_unknown += unsure

    def rows(self) -> list[dict]:
        return [{"step": i, "criterion": s.criterion, "category": s.category,
                 "label": s.short, "entering": s.entering, "met": s.met,
                 "not_met": s.not_met, "unknown": s.unknown, "removed": s.removed,
                 "remaining": s.remaining,
                 "remaining_all_known": s.remaining - s.remaining_with_unknown,
                 "remaining_with_unknown": s.remaining_with_unknown}
                for i, s in enumerate(self.steps, 1)]


class Candidates:
    """The eligible and incomplete patients, ranked at the end: eligible first, then the
    fewest unknowns, then the earliest D0. Kept in a DuckDB table on disk, which sorts
    out of core, so memory stays bounded however many candidates there are."""

    COLUMNS = ("verdict_rank INTEGER, unknown INTEGER, earliest VARCHAR, patient VARCHAR, "
               "verdict VARCHAR, earliest_d0 VARCHAR, latest_d0 VARCHAR, missing VARCHAR")
    BATCH = 5000

    def __init__(self) -> None:
        import duckdb

        self._tmp = tempfile.TemporaryDirectory(prefix="trialsieve-candidates-")
        self._con = duckdb.connect(str(Path(self._tmp.name) / "candidates.duckdb"))
        self._con.execute(f"SET memory_limit = '256MB'; SET temp_directory = "
                          f"'{self._tmp.name}'; SET enable_progress_bar = false; "
                          f"CREATE TABLE c ({self.COLUMNS})")
        self._rows: list[tuple] = []

    def add(self, s: Screened) -> None:
        self._rows.append((_RANK[s.verdict], s.unknowns, s.earliest_d0 or "9999", s.pid,
                           s.verdict, s.earliest_d0, s.latest_d0, "; ".join(s.missing)))
        if len(self._rows) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            import pyarrow as pa

            names = [c.split()[0] for c in self.COLUMNS.split(", ")]
            batch = pa.table(dict(zip(names, zip(*self._rows, strict=True), strict=True)))
            self._con.register("batch", batch)
            self._con.execute("INSERT INTO c SELECT * FROM batch")
            self._con.unregister("batch")
            self._rows = []

    def write(self, path: Path) -> None:
        self._flush()
        target = str(path).replace("'", "''")
        self._con.execute(f"""
            COPY (SELECT row_number() OVER (ORDER BY verdict_rank, unknown, earliest, patient)
                         AS rank, patient, verdict, unknown, earliest_d0, latest_d0, missing
                  FROM c ORDER BY rank) TO '{target}' (HEADER, DELIMITER ',')""")
        self.discard()

    def discard(self) -> None:
        self._con.close()
        self._tmp.cleanup()


class Writer:
    """Opens the output files once and appends one patient at a time."""

    def __init__(self, out: Path) -> None:
        self.out = out  # the run's hidden staging folder (output/atomic.py)
        self.funnel = Funnel()
        self.candidates = Candidates()
        self.set_aside = 0  # patients the triage set aside
        self._results = open(out / "results.ndjson", "wb")  # noqa: SIM115
        self._patients_file = open(out / "patients.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._patients = csv.writer(self._patients_file, lineterminator="\n")
        self._patients.writerow(["patient", "verdict", "earliest_d0", "latest_d0", "unknown",
                                 *CRITERIA, "missing", "reason", "from_text"])

    def add(self, s: Screened) -> None:
        self.funnel.add(s)
        self.set_aside += s.statuses[-1] == NOT_EVALUATED
        self._results.write(s.document + b"\n")
        self._patients.writerow([s.pid, s.verdict, s.earliest_d0 or "", s.latest_d0 or "",
                                 s.unknowns, *s.statuses, "; ".join(s.missing), reason(s),
                                 " ".join(s.from_text)])
        if s.verdict in _RANK:
            self.candidates.add(s)

    def abort(self) -> None:
        """A run that stopped: its files are dropped with the staging folder."""
        self._results.close()
        self._patients_file.close()
        self.candidates.discard()

    def close(self) -> None:
        self._results.close()
        self._patients_file.close()
        self.candidates.write(self.out / "candidates.csv")
        rows = self.funnel.rows()
        with open(self.out / "funnel.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        chart(self.funnel, self.out)


def reason(s: Screened) -> str:
    """Why not eligible (a death, else each criterion that excludes), or what is pending;
    empty for the eligible."""
    if s.verdict == ELIGIBLE:
        return ""
    if s.deceased:
        return s.deceased
    failing = [f"{cid} {_SHORT[cid]}" for cid, (cat, status) in
               zip(CRITERIA, zip(_CATEGORIES, s.statuses, strict=True), strict=True)
               if status == _FAILING[cat]]
    if failing:
        return "; ".join(failing)
    return "pending: " + "; ".join(f"{cid} {_SHORT[cid]}" for cid, status in
                                   zip(CRITERIA, s.statuses, strict=True)
                                   if status == "unknown")


_CATEGORIES = tuple(c.category for c in LUMEN.criteria)
