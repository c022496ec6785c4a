"""Every statement the record makes about one fact, whichever resource carries it.

A fact ("pregnant", "known-brain-metastases", "informed-consent"...) may be stated by a
Condition, a Consent, an Observation, an answer to a question (Observation or
QuestionnaireResponse item) or a test result. Each becomes a `Statement` with when it was
made, the interval it places the fact in, its certainty and its source. `newest` is the
one reading of them all (protocol notes, "Real records"): the newest statement decides,
by when it was made, not by the onset of what it describes; statements that disagree with
no way to order them, or an uncertain newest one, leave the fact unknown.

Rules ask `about(record, fact)` and `newest(...)`; they never read resources themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date

from trialsieve.record.facts import (
    Attestation,
    ConsentRecord,
    Finding,
    Ignored,
    LabResult,
    PatientRecord,
    condition_present,
)

# A Condition's fact name -> the fact (question key) it states, where they differ.
_FINDING_FACT = {"brain_metastases": "known-brain-metastases",
                 "childbearing_potential": "childbearing-potential"}
CONTROLLED = "brain-metastases-controlled"
# How a Condition's statement reads, asserted or denied.
WORDS = {"pregnant": ("pregnant", "not pregnant"), "lactating": ("lactating", "not lactating"),
         "known-brain-metastases": ("present", "refuted"),
         CONTROLLED: ("controlled", "uncontrolled"),
         "childbearing-potential": ("of childbearing potential",
                                    "not of childbearing potential"),
         "informed-consent": ("permits", "denies")}


@dataclass(frozen=True)
class Statement:
    """What one resource says about a fact: True asserts it, False denies it, None neither
    (an uncertain Condition, an equivocal or unreadable test)."""

    fact: str
    value: bool | None
    stated: dt.date | None  # when it was said (recordedDate, authored, effective...)
    source: str
    origin: str  # "Condition", "Consent", "answer", "result"
    by: str | None = None
    time: str | None = None  # time of day of `stated` as written, when given
    display: str = ""
    # The interval it places the fact in (a Condition's onset to its abatement).
    onset: dt.date | None = None
    ends: dt.date | None = None
    note: str | None = None  # shown next to it (clinical status, answered by...)

    @property
    def order(self) -> tuple[date, str]:
        return (self.stated or date.min, self.time or "")

    def shown(self) -> str:
        """The value in the words of its fact ("not pregnant", "uncontrolled")."""
        if self.value is None:
            return "uncertain"
        yes, no = WORDS.get(self.fact, ("yes", "no")) if self.origin != "answer" else (
            "yes", "no")
        return yes if self.value else no


@dataclass(frozen=True)
class Said:
    """What the record says about a fact for a period: `value` True / False, or None when
    nothing in date says it, when the newest statements disagree unordered (`conflict`) or
    when the newest is uncertain."""

    value: bool | None
    newest: tuple[Statement, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    conflict: bool = False

    @property
    def statement(self) -> Statement | None:
        return self.newest[0] if self.newest else None

    @property
    def unsettled(self) -> bool:
        """Statements there are, but they do not decide: they disagree, or the newest is
        uncertain (unlike "nothing said", which the policy may assume away)."""
        return bool(self.newest) and self.value is None

    @property
    def stated(self) -> date | None:
        return self.newest[0].stated if self.newest else None


def from_answer(a: Attestation) -> Statement:
    return Statement(a.question, a.answer, a.date, a.source, "answer", a.by, a.time,
                     note=f"answered by {a.by}" if a.by else None)


def from_finding(f: Finding, fact: str | None = None, value: bool | None = None) -> Statement:
    return Statement(fact or _FINDING_FACT.get(f.fact, f.fact),
                     (f.present if value is None else value) if f.certain else None,
                     f.stated or f.date, f.source, "Condition", time=f.time,
                     display=f.display, onset=f.date, ends=f.abated,
                     note=f.status and f"clinical status {f.status}")


def from_result(r: LabResult, fact: str, reading: bool | None, what: str) -> Statement:
    """A test result stating a fact (a serum hCG: pregnant or not); None: equivocal."""
    return Statement(fact, reading, r.date, r.source, "result", time=r.time, display=what,
                     note=r.shown())  # shown as the value (rules/attest.py)


def from_consent(c: ConsentRecord) -> Statement:
    return Statement("informed-consent", c.permit, c.date, c.source, "Consent", time=c.time,
                     display="research consent", note=f"{c.status}, names "
                     + (", ".join(c.studies) or "no study"))


def about(record: PatientRecord, fact: str, on: date | None = None) -> list[Statement]:
    """Every statement of `fact` in the record's answers and Conditions.

    A Condition no longer present on `on` (resolved, abated) no longer asserts it: it is
    left out (see `no_longer_present`)."""
    said = [from_answer(a) for a in record.attestations if a.question == fact]
    for f in record.findings:
        if _FINDING_FACT.get(f.fact, f.fact) == fact:
            if on is not None and not condition_present(f.status, f.abated, on):
                continue
            said.append(from_finding(f))
        if fact == CONTROLLED and f.fact == "brain_metastases" and f.present and (
                f.controlled is not None):
            said.append(from_finding(f, CONTROLLED, f.controlled))
    return said


def no_longer_present(record: PatientRecord, fact: str, on: date) -> list[Ignored]:
    """The Conditions `about` left out: present once, no longer on `on`."""
    return [Ignored(f.source, f"{f.fact}: no longer present on {on} (clinical status "
                    f"{f.status or 'not given'}, abated {f.abated or 'not recorded'})")
            for f in record.findings
            if _FINDING_FACT.get(f.fact, f.fact) == fact
            and not condition_present(f.status, f.abated, on)]


def attributable(s: Statement) -> bool:
    """An answer with neither author nor date settles nothing (notes)."""
    return s.origin != "answer" or s.by is not None or s.stated is not None


def newest(statements: list[Statement], until: date, since: date | None = None) -> Said:
    """What the newest statements made on or before `until` say.

    `since`: statements made before it are stale (the period a question covers). An
    undated statement cannot be placed: it is stale where a period is asked for, and
    otherwise unordered against the dated ones (it decides only when they agree)."""
    ignored: list[Ignored] = []
    kept: list[Statement] = []
    for s in statements:
        if not attributable(s):
            ignored.append(Ignored(s.source, "an answer with neither author nor date "
                                   "settles nothing"))
        elif s.stated is not None and s.stated > until:
            ignored.append(Ignored(s.source, f"stated {s.stated}, after {until}"))
        elif since is not None and (s.stated is None or s.stated < since):
            ignored.append(Ignored(s.source, f"stale: stated {s.stated or 'undated'}, before "
                                   f"the period it must cover (from {since})"))
        else:
            kept.append(s)
    if not kept:
        return Said(None, ignored=tuple(ignored))
    dated = [s for s in kept if s.stated is not None]
    top = _latest(dated) + [s for s in kept if s.stated is None]
    values = {s.value for s in top}
    older = [Ignored(s.source, f"superseded by {top[0].source} of {top[0].stated}")
             for s in kept if s not in top]
    if None in values:  # the newest is uncertain: it neither proves nor refutes
        return Said(None, tuple(top), tuple(ignored + older))
    if len(values) > 1:
        return Said(None, tuple(top), tuple(ignored + older), conflict=True)
    return Said(values.pop(), tuple(top), tuple(ignored + older))


def _latest(dated: list[Statement]) -> list[Statement]:
    """The newest statements: those of the last day, ordered by time of day where every
    one of that day has one; otherwise the whole day (they cannot be ordered)."""
    if not dated:
        return []
    last = max(s.stated for s in dated if s.stated is not None)
    day = [s for s in dated if s.stated == last]
    if all(s.time for s in day):
        at = max(s.time or "" for s in day)
        return [s for s in day if s.time == at]
    return day


def unordered(said: Said) -> str:
    """How to say a conflict: the sources and their values."""
    return ", ".join(f"{s.source} {s.shown()}" for s in said.newest)
