"""Childbearing potential, contraception, pregnancy test (I10), pregnancy/lactation (E8),
refusal of contraception (E9)."""

from __future__ import annotations

from dataclasses import dataclass

from trialsieve.codes import HCG_NEGATIVE, HCG_POSITIVE
from trialsieve.logic import Tri, all_of, any_of
from trialsieve.record import Ignored, LabResult, PatientRecord
from trialsieve.rules.attest import answer_evidence, latest_answer
from trialsieve.rules.base import Bound, Context, Evidence, Outcome, absent, days, outcome, yes_no
from trialsieve.rules.labs import lab_values

# Quantitative serum hCG below 5 IU/L is negative; 5-25 IU/L is equivocal (judgement:
# the usual laboratory cut-offs), so it neither confirms nor rules out pregnancy.
HCG_NEGATIVE_BELOW = 5.0
HCG_POSITIVE_FROM = 25.0


def childbearing_potential(record: PatientRecord) -> tuple[Tri, list[Evidence], str]:
    """Whether contraception rules apply: a woman of childbearing potential, or a man
    whose partner is. Returns the status, its evidence and who it concerns."""
    sex = record.patient.sex
    if sex == "male":
        a, _ = latest_answer(record, "partner-childbearing-potential")
        who = "a man with a partner of childbearing potential"
        return (Tri.UNKNOWN, [], who) if a is None else (Tri.of(a.answer), [answer_evidence(a)],
                                                          who)
    if sex != "female":
        return Tri.UNKNOWN, [], "a patient of unrecorded sex"
    who = "a woman of childbearing potential"
    a, _ = latest_answer(record, "childbearing-potential")
    if a is not None:
        return Tri.of(a.answer), [answer_evidence(a)], who
    found = [f for f in record.findings_of("childbearing_potential")]
    if found:
        f = max(found, key=lambda f: (f.date is not None, f.date))
        return Tri.of(f.present), [Evidence(f.source, f.date, f.display or
                                            "childbearing potential", yes_no(f.present))], who
    return Tri.UNKNOWN, [], who


def hcg_reading(r: LabResult) -> bool | None:
    """True positive, False negative, None equivocal or unreadable."""
    codes = set(r.coded_value)
    if codes & HCG_NEGATIVE:
        return False
    if codes & HCG_POSITIVE:
        return True
    if r.std_value is None or r.problem:
        return None
    if r.std_value < HCG_NEGATIVE_BELOW or (r.comparator == "<" and
                                            r.std_value <= HCG_NEGATIVE_BELOW):
        return False
    return True if r.std_value >= HCG_POSITIVE_FROM else None



@dataclass(frozen=True)
class SerumPregnancyTest:
    """A negative serum hCG within `fresh_days` before inclusion (urine does not count)."""

    fresh_days: int = 28

    def describe(self) -> str:
        return f"negative serum hCG within {self.fresh_days} days before inclusion"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        urine = [Ignored(r.source, "urine hCG: the protocol requires a serum test")
                 for r in record.labs_of("hcg_urine")]
        dated = [r for r in record.labs_of("hcg_serum")
                 if r.date is not None and r.date <= ctx.inclusion]
        lo = ctx.inclusion - days(self.fresh_days)
        settle = f"a serum hCG (pregnancy test) dated from {lo} to {ctx.inclusion}"
        if not dated:
            return outcome(Tri.UNKNOWN, "no serum pregnancy test", ignored=urine,
                           missing=[settle])
        last = max(dated, key=lambda r: r.date)  # type: ignore[arg-type,return-value]
        bound = Bound("inclusion", "until", last.date + days(self.fresh_days),  # type: ignore[operator]
                      f"serum hCG of {last.date} is valid for inclusion up to this date",
                      last.source)
        ev = Evidence(last.source, last.date, "serum hCG", last.shown(), **lab_values(last))
        if last.date < lo:  # type: ignore[operator]
            return outcome(Tri.UNKNOWN, f"serum hCG of {last.date} is too old",
                           ignored=[*urine, Ignored(last.source, "older than "
                                                    f"{self.fresh_days} days")],
                           missing=[settle], bounds=[bound])
        reading = hcg_reading(last)
        if reading is None:
            return outcome(Tri.UNKNOWN, f"serum hCG {last.shown()} equivocal", evidence=[ev],
                           ignored=urine, missing=["a repeat serum hCG"], bounds=[bound])
        return outcome(Tri.of(not reading), f"serum hCG {'positive' if reading else 'negative'}"
                       f" on {last.date}", evidence=[ev], ignored=urine, bounds=[bound])


@dataclass(frozen=True)
class ContraceptionAndPregnancyTest:
    """I10: applies to women of childbearing potential and men with such partners."""

    def describe(self) -> str:
        return ("if of childbearing potential (or partner of): contraception agreement "
                "attested; women: negative serum hCG within 28 days before inclusion; "
                "otherwise met (not applicable)")

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        applies, ev, who = childbearing_potential(record)
        if applies is Tri.NOT_MET:
            return outcome(Tri.MET, f"not applicable: not {who}", evidence=ev)
        a, older = latest_answer(record, "contraception-agreement")
        parts = [outcome(Tri.UNKNOWN, "no contraception agreement",
                         missing=["attestation of agreement to highly effective "
                                  "contraception"])
                 if a is None else
                 outcome(Tri.of(a.answer), "agrees to contraception" if a.answer else
                         "refuses contraception", evidence=[answer_evidence(a)], ignored=older)]
        if record.patient.sex != "male":
            parts.append(SerumPregnancyTest().evaluate(record, ctx))
        status = all_of(p.status for p in parts)
        if applies is Tri.UNKNOWN:
            # Met either way when the requirements are met; otherwise we must know.
            status = Tri.MET if status is Tri.MET else Tri.UNKNOWN
            parts.append(outcome(Tri.UNKNOWN, f"whether the patient is {who}", missing=[
                f"whether the patient is {who} (attestation)"]))
        return Outcome(status, "; ".join(p.summary for p in parts),
                       tuple(ev) + tuple(e for p in parts for e in p.evidence),
                       tuple(i for p in parts for i in p.ignored),
                       () if status is Tri.MET else tuple(m for p in parts for m in p.missing),
                       (), tuple(b for p in parts for b in p.bounds))


@dataclass(frozen=True)
class PregnantOrLactating:
    """E8 at the screening date. A negative serum hCG within 28 days is an explicit 'not
    pregnant'; men and women not of childbearing potential are not concerned."""

    fresh_days: int = 28

    def describe(self) -> str:
        return "pregnant or lactating at screening"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        if record.patient.sex == "male":
            return outcome(Tri.NOT_MET, "not applicable: male patient")
        applies, ev, _ = childbearing_potential(record)
        if applies is Tri.NOT_MET:
            return outcome(Tri.NOT_MET, "not of childbearing potential", evidence=ev)
        parts = [self._pregnant(record, ctx), self._lactating(record, ctx)]
        status = any_of(p.status for p in parts)
        return Outcome(status, "; ".join(p.summary for p in parts),
                       tuple(e for p in parts for e in p.evidence),
                       tuple(i for p in parts for i in p.ignored),
                       () if status is not Tri.UNKNOWN else tuple(m for p in parts
                                                                 for m in p.missing),
                       tuple(a for p in parts for a in p.assumptions))

    def _pregnant(self, record: PatientRecord, ctx: Context) -> Outcome:
        lo = ctx.as_of - days(self.fresh_days)
        facts = [(f.date, f.present, Evidence(f.source, f.date, "pregnancy status",
                                              "pregnant" if f.present else "not pregnant"))
                 for f in record.findings_of("pregnant") if f.date and f.date >= lo]
        facts += [(r.date, hcg_reading(r),
                   Evidence(r.source, r.date, "serum hCG", r.shown(), **lab_values(r)))
                  for r in record.labs_of("hcg_serum") if r.date and r.date >= lo]
        known = [f for f in facts if f[1] is not None]
        a, _ = latest_answer(record, "pregnant")
        if a is not None:
            known.append((a.date, a.answer, answer_evidence(a)))
        if not known:
            return absent(ctx, "no current pregnancy status",
                          f"a pregnancy status or serum hCG dated on or after {lo}")
        when, value, ev = max(known, key=lambda f: (f[0] is not None, f[0]))
        return outcome(Tri.of(value), "pregnant" if value else "not pregnant", evidence=[ev])

    def _lactating(self, record: PatientRecord, ctx: Context) -> Outcome:
        facts = [(f.date, f.present, Evidence(f.source, f.date, "lactation",
                                              "yes" if f.present else "no"))
                 for f in record.findings_of("lactating")]
        a, _ = latest_answer(record, "lactating")
        if a is not None:
            facts.append((a.date, a.answer, answer_evidence(a)))
        if not facts:
            return absent(ctx, "no lactation status", "a statement on lactation (attestation)")
        when, value, ev = max(facts, key=lambda f: (f[0] is not None, f[0]))
        return outcome(Tri.of(value), "lactating" if value else "not lactating", evidence=[ev])


@dataclass(frozen=True)
class RefusesContraception:
    def describe(self) -> str:
        return "of childbearing potential (or partner of) and refusing adequate contraception"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        applies, ev, who = childbearing_potential(record)
        if applies is Tri.NOT_MET:
            return outcome(Tri.NOT_MET, f"not applicable: not {who}", evidence=ev)
        a, older = latest_answer(record, "contraception-agreement")
        if a is not None:
            return outcome(Tri.of(not a.answer), "refuses contraception" if not a.answer
                           else "agrees to contraception", evidence=[answer_evidence(a), *ev],
                           ignored=older)
        return outcome(Tri.UNKNOWN, "contraception not discussed on record",
                       missing=["attestation of agreement to (or refusal of) contraception"])
