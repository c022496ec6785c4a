"""Attestations: answers recorded by a person, the way judgement criteria are settled."""

from __future__ import annotations

from dataclasses import dataclass

from trialsieve.codes import ATTESTATIONS
from trialsieve.logic import Tri
from trialsieve.record import Attestation, Ignored, PatientRecord
from trialsieve.rules.base import Context, Evidence, Outcome, absent, outcome


def latest_answer(record: PatientRecord, question: str) -> tuple[Attestation | None, list]:
    """The most recent answer to `question`, and the older ones as ignored."""
    answers = sorted(record.answers(question), key=lambda a: (a.date is not None, a.date))
    if not answers:
        return None, []
    last = answers[-1]
    older = [Ignored(a.source, f"superseded by the answer of {last.date}") for a in answers[:-1]]
    return last, older


def answer_evidence(a: Attestation) -> Evidence:
    by = f" by {a.by}" if a.by else ""
    return Evidence(a.source, a.date, f"attestation: {ATTESTATIONS[a.question]}",
                    "yes" if a.answer else "no", f"answered{by}")


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
        a, older = latest_answer(record, self.question)
        text = ATTESTATIONS[self.question]
        if a is None:
            settle = f"an investigator attestation: {text.lower()} (yes/no)"
            if self.assumed is None:
                return outcome(Tri.UNKNOWN, f"no attestation: {text.lower()}", missing=[settle])
            return absent(ctx, f"no record: {text.lower()}", settle, self.assumed)
        status = Tri.of(a.answer == self.met_when)
        return outcome(status, f"attested {'yes' if a.answer else 'no'}: {text.lower()}",
                       evidence=[answer_evidence(a)], ignored=older)
