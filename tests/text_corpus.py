"""The hand-annotated text corpus of tests/data/text (issue 21), read and scored: shared
by tests/test_text_corpus.py (the targets on counts) and benchmarks/bench_text.py (the
table and the times)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from trialsieve.record import Document, Mention
from trialsieve.record.facts import NOT_AFFIRMED

HERE = Path(__file__).resolve().parent / "data" / "text"
SHORT = {"neg": "negated", "unc": "uncertain", "hist": "historical", "fam": "family",
         "hyp": "hypothetical"}
TARGET_PRECISION, TARGET_RECALL = 0.97, 0.90
# Values not scored: the name of a surgery is shown as written.
UNSCORED_VALUES = {"major_surgery"}


@dataclass(frozen=True)
class Expected:
    fact: str
    value: str | None
    modifiers: frozenset[str]


@dataclass
class Case:
    name: str
    text: str
    expected: list[Expected]
    kind: str = "clinic"


def _expected(spec: str) -> list[Expected]:
    spec = spec.strip()
    if spec == "-":
        return []
    out = []
    for item in filter(None, (s.strip() for s in spec.split(";"))):
        m = re.fullmatch(r"([a-z_0-9]+)(?::([^{]+))?(?:\{([a-z,]+)\})?", item)
        if not m:
            raise ValueError(f"bad expectation {item!r}")
        mods = frozenset(SHORT[x] for x in (m.group(3) or "").split(",") if x)
        out.append(Expected(m.group(1), (m.group(2) or "").strip() or None, mods))
    return out


def sentences() -> list[Case]:
    cases = []
    for path in sorted(HERE.glob("sentences_*.txt")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("#"):
                text, spec = line.split(" => ")
                cases.append(Case(f"{path.name}:{n}", text, _expected(spec)))
    return cases


def reports() -> list[Case]:
    """reports.txt: blocks "### name | kind", the report, a line "=> expected",
    one expectation per line after it ("-" none)."""
    cases = []
    raw = (HERE / "reports.txt").read_text(encoding="utf-8")
    for block in raw.split("\n### ")[1:]:
        head, rest = block.split("\n", 1)
        text, spec = rest.split("\n=>\n")
        name, kind = (s.strip() for s in head.split("|"))
        expected = [e for line in spec.splitlines() if line.strip() and not
                    line.startswith("#") for e in _expected(line)]
        cases.append(Case(name, text.strip("\n"), expected, kind))
    return cases


def document(case: Case) -> Document:
    return Document(f"DocumentReference/{case.name}", case.kind, date(2026, 11, 2), case.text)


def value_of(fact: str, value: object) -> str | None:
    if fact in UNSCORED_VALUES or value is None:
        return None
    if isinstance(value, float | int):
        return f"{float(value):g}"
    return str(value)


def _matches(e: Expected, m: Mention) -> bool:
    """Fact, value and whether it is affirmed agree; each modifier expected is there
    (historical too when expected; found and not expected, it does not count: a past
    fact is still stated)."""
    exp_value = None if e.fact in UNSCORED_VALUES or e.value is None else (
        f"{float(e.value):g}" if re.fullmatch(r"[\d.]+", e.value) else e.value)
    return (e.fact == m.fact and exp_value == value_of(m.fact, m.value)
            and e.modifiers & NOT_AFFIRMED == set(m.modifiers) & NOT_AFFIRMED
            and e.modifiers <= set(m.modifiers))


@dataclass
class Score:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    # a negated, uncertain, family or hypothetical mention read as affirmed
    misread: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def add(self, case: Case, found: list[Mention]) -> None:
        left = list(found)
        for e in case.expected:
            hit = next((m for m in left if _matches(e, m)), None)
            if hit is not None:
                left.remove(hit)
                self.tp[e.fact] += 1
                continue
            self.fn[e.fact] += 1
            self.errors.append(f"{case.name}: missed {e}")
            if e.modifiers & NOT_AFFIRMED and any(
                    m.fact == e.fact and m.affirmed for m in left):
                self.misread[e.fact] += 1
                self.errors.append(f"{case.name}: {e.fact} read as affirmed")
        for m in left:
            self.fp[m.fact] += 1
            self.errors.append(f"{case.name}: found {m.fact}={m.value} {m.modifiers} "
                               f"in {m.sentence!r}")

    def precision(self, fact: str) -> float:
        n = self.tp[fact] + self.fp[fact]
        return self.tp[fact] / n if n else 1.0

    def recall(self, fact: str) -> float:
        n = self.tp[fact] + self.fn[fact]
        return self.tp[fact] / n if n else 1.0


def score(cases: list[Case], read) -> Score:
    s = Score()
    for case in cases:
        s.add(case, read(document(case)))
    return s


def said(text: str, kind: str = "clinic", on: date = date(2026, 11, 2)) -> list[Mention]:
    """What `trialsieve.text.read` finds in one text."""
    from trialsieve.text import read

    return read(Document("DocumentReference/t1", kind, on, text))


def facts_of(text: str) -> set[tuple[str, object, tuple[str, ...]]]:
    """(fact, value, modifiers) of each mention of a text; historical left out (a past
    fact is still stated: the modifier tests look at it)."""
    return {(m.fact, m.value, tuple(x for x in m.modifiers if x != "historical"))
            for m in said(text)}
