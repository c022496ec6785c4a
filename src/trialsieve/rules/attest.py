"""Attestations: answers recorded by a person, the way judgement criteria are settled.

One place reads them (`latest_answer`): the most recent answer decides, whichever way it
answers ("yes" asserts, "no" denies), and an answer dated before the period its question
covers (codes.ATTESTATIONS) is stale and settles nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.codes import ATTESTATIONS
from trialsieve.logic import Tri
from trialsieve.record import Attestation, Ignored, PatientRecord
from trialsieve.rules.base import Bound, Context, Evidence, Outcome, absent, days, outcome


def question_text(question: str) -> str:
    return ATTESTATIONS[question].text


def covered_from(question: str, ctx: Context) -> date | None:
    """The first day of the period the question covers (None: it does not age)."""
    q = ATTESTATIONS[question]
    if q.covers_days is None:
        return None
    anchor = ctx.inclusion if q.about == "inclusion" else ctx.as_of
    return anchor - days(q.covers_days)


def latest_answer(record: PatientRecord, question: str,
                  ctx: Context | None = None) -> tuple[Attestation | None, list[Ignored]]:
    """The most recent answer to `question` still in date, and the others as ignored.

    A question that covers a period needs the evaluation's dates (`ctx`) to be read."""
    answers = sorted(record.answers(question), key=lambda a: (a.date is not None, a.date))
    if not answers:
        return None, []
    last = answers[-1]
    older = [Ignored(a.source, f"superseded by the answer of {last.date}") for a in answers[:-1]]
    if ATTESTATIONS[question].covers_days is not None:
        if ctx is None:
            raise TypeError(f"question {question!r} covers a period: pass the dates")
        start = covered_from(question, ctx)
        if last.date is None or start is None or last.date < start:
            when = last.date or "undated"
            return None, older + [Ignored(last.source, f"stale: answered {when}, before the "
                                          f"period the question covers (from {start})")]
    return last, older


def absent_unless_stale_yes(record: PatientRecord, question: str, ctx: Context, summary: str,
                            settle: str, assumed: Tri = Tri.NOT_MET) -> Outcome:
    """`absent()`, except after a stale "yes" to a question on a current state (pregnant,
    an uncontrolled condition): too old to decide, but the state may well continue, so
    pre-screening does not assume it away either."""
    answers = record.answers(question)
    last = max(answers, key=lambda a: (a.date is not None, a.date)) if answers else None
    if last is not None and last.answer and ATTESTATIONS[question].about == "as_of":
        return outcome(Tri.UNKNOWN, f"{summary}; answered yes on {last.date or 'undated'}, "
                       "too old to decide", evidence=[answer_evidence(last)],
                       missing=[settle])
    return absent(ctx, summary, settle, assumed)


def answer_bound(a: Attestation) -> list[Bound]:
    """An answer about the days before inclusion is in date for inclusion dates up to the
    end of the period it covers; after that it is stale."""
    q = ATTESTATIONS[a.question]
    if q.covers_days is None or q.about != "inclusion" or a.date is None:
        return []
    return [Bound("inclusion", "until", a.date + days(q.covers_days),
                  f"{a.question.replace('-', ' ')} attestation of {a.date} is valid for "
                  f"inclusion up to this date (it covers the {q.covers_days} days before "
                  "inclusion)", a.source)]


def answer_evidence(a: Attestation) -> Evidence:
    by = f" by {a.by}" if a.by else ""
    return Evidence(a.source, a.date, f"attestation: {question_text(a.question)}",
                    "yes" if a.answer else "no", f"answered{by}")


def settle_text(question: str, ctx: Context) -> str:
    start = covered_from(question, ctx)
    when = f", dated on or after {start}" if start else ""
    return f"an investigator attestation: {question_text(question).lower()} (yes/no{when})"


@dataclass(frozen=True)
class Attested:
    """Met when the latest answer to `question` is yes (or no when `met_when` is False).

    With no answer: unknown under screening; under pre-screening `assumed` applies
    (None keeps it unknown: some judgements cannot be assumed).
    """

    question: str
    met_when: bool = True
    assumed: Tri | None = None

    def describe(self) -> str:
        yes = "yes" if self.met_when else "no"
        return f"attestation '{self.question}' answered {yes}"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        a, older = latest_answer(record, self.question, ctx)
        text = question_text(self.question).lower()
        if a is None:
            settle = settle_text(self.question, ctx)
            if self.assumed is None:
                return outcome(Tri.UNKNOWN, f"no attestation: {text}", missing=[settle],
                               ignored=older)
            out = absent_unless_stale_yes(record, self.question, ctx, f"no record: {text}",
                                          settle, self.assumed)
            return replace(out, ignored=tuple(older))
        status = Tri.of(a.answer == self.met_when)
        return outcome(status, f"attested {'yes' if a.answer else 'no'}: {text}",
                       evidence=[answer_evidence(a)], ignored=older, bounds=answer_bound(a))
