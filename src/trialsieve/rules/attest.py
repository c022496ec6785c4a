"""Attestations: answers recorded by a person, the way judgement criteria are settled.

An answer is one statement of its fact among the others (record/statements.py): the
newest statement decides, whichever way it answers ("yes" asserts, "no" denies),
whichever resource made it; an answer dated before the period its question covers
(codes.ATTESTATIONS) is stale, and one with neither author nor date settles nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.codes import ATTESTATIONS
from trialsieve.logic import Tri
from trialsieve.record import PatientRecord
from trialsieve.record.statements import Said, Statement, about, newest, unordered
from trialsieve.rules.base import (
    Bound,
    Change,
    Context,
    Evidence,
    Outcome,
    absent,
    days,
    on_inclusion,
    outcome,
    stale_from,
)

CONFIRM = "confirm at inclusion"


def question_text(question: str) -> str:
    return ATTESTATIONS[question].text


def answered(question: str, value: bool) -> str:
    """The answer with its question quoted: 'attested no: resectable tumour ... intended'
    read as if the tumour were resectable; an answer alone ('attested') says nothing."""
    return f'attested "{"yes" if value else "no"}" to "{question_text(question)}?"'


def covered_from(question: str, ctx: Context) -> date | None:
    """The first day an answer must be dated on to be in date (None: it does not age).

    A question on a period ending at inclusion or screening: the period's first day. One
    on events up to the answer's date (E2/E3): `speaks_days_after` before inclusion."""
    q = ATTESTATIONS[question]
    if q.speaks_days_after is not None:
        return ctx.inclusion - days(q.speaks_days_after)
    if q.covers_days is None:
        return None
    anchor = ctx.inclusion if q.about == "inclusion" else ctx.as_of
    return anchor - days(q.covers_days)


def said(record: PatientRecord, question: str, ctx: Context) -> Said:
    """What the record's statements (answers, Conditions...) say to `question`, read for
    the evaluation's dates: the newest in date decides."""
    return newest(about(record, question, ctx.as_of), ctx.as_of, covered_from(question, ctx))


def said_changes(record: PatientRecord, question: str, as_of: date) -> list[Change]:
    """Where `said` can change for inclusion dates on or after `as_of`: an answer going
    stale as the period its question covers moves past it (`covered_from`); a question
    on the screening date's period, or one that does not age, is the same every day."""
    q = ATTESTATIONS[question]
    k = q.speaks_days_after if q.speaks_days_after is not None else (
        q.covers_days if q.about == "inclusion" else None)
    if k is None:
        return []
    return [on_inclusion(stale_from(s.stated, k)) for s in about(record, question, as_of)
            if s.stated is not None]


def deciding(record: PatientRecord, question: str, ctx: Context | None = None
             ) -> Statement | None:
    """The newest statement on `question` when it decides (None: none, or they disagree,
    or the newest is uncertain). Without the evaluation's dates, every statement in the
    record's view (nothing after the screening date reaches a rule) is read."""
    s = (said(record, question, ctx) if ctx is not None
         else newest(about(record, question), date.max))
    return s.statement if s.value is not None else None


def undecided(s: Said, text: str, settle: str) -> Outcome:
    """Unknown: the newest statements disagree, or the newest is uncertain."""
    names = ", ".join(x.source for x in s.newest)
    why = (f"statements disagree: {unordered(s)}" if s.conflict
           else f"the newest statement is uncertain ({names})")
    return outcome(Tri.UNKNOWN, f"{text}: {why}", evidence=[statement_evidence(x)
                                                            for x in s.newest],
                   ignored=s.ignored, missing=[f"{settle}, in place of {names}"])


def absent_unless_stale_yes(record: PatientRecord, question: str, ctx: Context, summary: str,
                            settle: str, assumed: Tri = Tri.NOT_MET) -> Outcome:
    """`absent()`, except after a stale "yes" to a question on a current state (pregnant,
    an uncontrolled condition): too old to decide, but the state may well continue, so
    pre-screening does not assume it away either."""
    every = newest(about(record, question, ctx.as_of), ctx.as_of)
    last = every.statement
    if last is not None and last.value and ATTESTATIONS[question].about == "as_of":
        return outcome(Tri.UNKNOWN, f"{summary}; stated yes on {last.stated or 'undated'}, "
                       "too old to decide", evidence=[statement_evidence(last)],
                       missing=[settle])
    return absent(ctx, summary, settle, assumed)


def answer_bound(s: Statement) -> list[Bound]:
    """An answer about the days before inclusion is in date for inclusion dates up to the
    end of the period it covers (E2/E3: up to its date and `speaks_days_after` days
    after it); after that it is stale."""
    q = ATTESTATIONS.get(s.fact)
    if q is None or s.stated is None:
        return []
    if q.speaks_days_after is not None:
        return [Bound("inclusion", "until", s.stated + days(q.speaks_days_after),
                      f"{s.fact.replace('-', ' ')} attestation of {s.stated} is valid for "
                      f"inclusion up to this date ({CONFIRM}: it speaks up to "
                      f"{q.speaks_days_after} days after its date)", s.source)]
    if q.covers_days is None or q.about != "inclusion":
        return []
    return [Bound("inclusion", "until", s.stated + days(q.covers_days),
                  f"{s.fact.replace('-', ' ')} attestation of {s.stated} is valid for "
                  f"inclusion up to this date (it covers the {q.covers_days} days before "
                  "inclusion)", s.source)]


def statement_evidence(s: Statement) -> Evidence:
    if s.origin == "answer":
        what = f"attestation: {question_text(s.fact)}" if s.fact in ATTESTATIONS else s.fact
        return Evidence(s.source, s.stated, what, s.shown(), s.note or "answered")
    if s.origin == "result":  # a test result: its value as recorded
        return Evidence(s.source, s.stated, s.display, s.note)
    return Evidence(s.source, s.stated, s.display or s.fact.replace("-", " "), s.shown(),
                    s.note)


def settle_text(question: str, ctx: Context) -> str:
    start = covered_from(question, ctx)
    when = f", dated on or after {start}" if start else ""
    return f"an investigator attestation: {question_text(question).lower()} (yes/no{when})"


@dataclass(frozen=True)
class Attested:
    """Met when the newest statement on `question` is yes (or no when `met_when` is False).

    With none: unknown under screening; under pre-screening `assumed` applies (None keeps
    it unknown: some judgements cannot be assumed). Statements that disagree unordered,
    or an uncertain newest one: unknown under both policies.
    """

    question: str
    met_when: bool = True
    assumed: Tri | None = None

    def describe(self) -> str:
        yes = "yes" if self.met_when else "no"
        return f"attestation '{self.question}' answered {yes}"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return said_changes(record, self.question, as_of)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        s = said(record, self.question, ctx)
        text = question_text(self.question).lower()
        settle = settle_text(self.question, ctx)
        if s.unsettled:
            return undecided(s, text, settle)
        if s.value is None:
            if self.assumed is None:
                return outcome(Tri.UNKNOWN, f"no attestation: {text}", missing=[settle],
                               ignored=s.ignored)
            out = absent_unless_stale_yes(record, self.question, ctx, f"no record: {text}",
                                          settle, self.assumed)
            return replace(out, ignored=s.ignored)
        last = s.newest[0]
        return outcome(Tri.of(s.value == self.met_when),
                       answered(self.question, bool(s.value)),
                       evidence=[statement_evidence(x) for x in s.newest], ignored=s.ignored,
                       bounds=answer_bound(last))
