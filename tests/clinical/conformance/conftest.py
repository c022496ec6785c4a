"""A pytest plugin that collects the RECIST 1.1 conformance suite: one CSV file per
section of the guideline (Eisenhauer 2009) or 2016 clarification (Schwartz 2016), each
case a lesion table and the response expected at each time point.

File format: `#` lines first (the section and the source, read by people), then the
measurement CSV of `trialsieve.clinical.recist_csv` with three more columns:

* `case`: the case's name (a test item); its rows are one patient's scans;
* `expect`: the overall response at that row's date (`baseline` for a baseline), on
  every row of the date or only some (the filled ones must agree);
* `expect_target`, `expect_nontarget` (optional): the target and non-target responses.

Each case is assessed as `screen` and `recist` assess (the series restarting after a
PD). Expected values are written from the publications, never from program output.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest

from trialsieve.clinical.recist import assess
from trialsieve.clinical.recist_csv import parse_measurements_csv

EXPECT_COLUMNS = ("expect", "expect_target", "expect_nontarget")


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    if file_path.suffix == ".csv" and file_path.parent == Path(__file__).parent:
        return ConformanceFile.from_parent(parent, path=file_path)
    return None


class ConformanceFile(pytest.File):
    def collect(self):
        lines = self.path.read_text(encoding="utf-8").splitlines()
        body = [line for line in lines if line.strip() and not line.startswith("#")]
        rows = list(csv.DictReader(io.StringIO("\n".join(body) + "\n")))
        cases: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            cases[row["case"]].append(row)
        for name, case_rows in cases.items():
            yield ConformanceCase.from_parent(self, name=name, rows=case_rows)


class ConformanceCase(pytest.Item):
    def __init__(self, *, rows: list[dict[str, str]], **kw) -> None:
        super().__init__(**kw)
        self.rows = rows

    def runtest(self) -> None:
        columns = [c for c in self.rows[0] if c != "case" and c not in EXPECT_COLUMNS]
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        points = assess(parse_measurements_csv(out.getvalue(), self.name),
                        restart_after_pd=True)
        expected = _expected(self.rows)
        got = {}
        for p in points:
            got[(p.date.isoformat(), "expect")] = "baseline" if p.is_baseline else p.overall.value
            got[(p.date.isoformat(), "expect_target")] = p.target.value
            got[(p.date.isoformat(), "expect_nontarget")] = p.nontarget.value
        wrong = {k: (v, got.get(k)) for k, v in expected.items() if got.get(k) != v}
        if wrong:
            raise ConformanceError(wrong, points)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ConformanceError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"RECIST conformance: {self.name}"


def _expected(rows: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        for column in EXPECT_COLUMNS:
            value = (row.get(column) or "").strip()
            if not value:
                continue
            key = (row["date"].strip(), column)
            if found.setdefault(key, value) != value:
                raise ValueError(f"{row['case']}: {column} on {key[0]} disagrees")
    return found


class ConformanceError(AssertionError):
    def __init__(self, wrong: dict, points: list) -> None:
        lines = [f"{date} {column}: expected {want}, got {got}"
                 for (date, column), (want, got) in sorted(wrong.items())]
        lines += [f"  {p.date} {p.overall.value}: {'; '.join(p.reasons + p.notes)}"
                  for p in points]
        super().__init__("\n".join(lines))
