"""Rules on the tumour: diagnosis (I2), refractoriness (I4), brain metastases (E6), prior
radiotherapy (E5)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from trialsieve.codes import NET_SYSTEMIC
from trialsieve.logic import Tri, all_of
from trialsieve.record import Exposure, Ignored, PatientRecord
from trialsieve.record.statements import CONTROLLED, Statement, about, newest
from trialsieve.rules.attest import (
    answered,
    said,
    said_changes,
    settle_text,
    statement_evidence,
    undecided,
)
from trialsieve.rules.base import (
    PRE_SCREENING,
    Change,
    Context,
    Evidence,
    Outcome,
    absent,
    outcome,
    yes_no,
)
from trialsieve.rules.progression_evidence import i3_progressions, progression_facts

WELL = "well differentiated NET (not NEC, not MiNEN)"
BRAIN = "known-brain-metastases"


# what a record with no neuroendocrine tumour at all lacks first: every other criterion
# is moot until it is there (output/guidance.py says it alone)
NO_DIAGNOSIS = "a diagnosis of GEP-NET with its pathology report"


@dataclass(frozen=True)
class GepNet:
    """Histology-proven, well-differentiated, advanced GEP neuroendocrine tumour."""

    def describe(self) -> str:
        return ("a NET (well differentiated, G1-G3) of GEP origin (ICD-O-3 C16-C21, C25), "
                "confirmed by a pathology result, metastatic or locally advanced")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return []  # read at the screening date

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        if ctx.policy == PRE_SCREENING and no_neuroendocrine_neoplasm(record):
            return outcome(Tri.NOT_MET, "no diagnosis of a neuroendocrine neoplasm on record",
                           assumptions=["no neuroendocrine neoplasm on record: read as no "
                                        "GEP-NET (pre-screening)"])
        nets = [d for d in record.diagnoses if d.net]
        ev = [Evidence(d.source, d.date, "diagnosis", d.display,
                       ", ".join(filter(None, [d.site, d.differentiation and
                                               f"{d.differentiation} differentiated"])))
              for d in nets]
        # "Histology-proven": the pathology itself says neuroendocrine (its morphology
        # code or coded conclusion); one of another tumour, or uncoded, proves nothing.
        proof = [h for h in record.histology if h.net]
        ignored = [Ignored(h.source, "pathology of another tumour (" + h.display + ")"
                           if h.net is False else "pathology content not coded: does not "
                           "show a neuroendocrine tumour") for h in record.histology
                   if not h.net]
        ev += [Evidence(h.source, h.date, "histology", h.display, h.about or None)
               for h in proof]
        # Metastases make the NET advanced when present at the screening date: the view
        # holds none dated after it; one resolved (or abated) by then does not count.
        mets = [f for f in record.findings_of("metastatic") if f.present_on(ctx.as_of)]
        ev += [Evidence(f.source, f.date, "metastasis", f.display) for f in mets]
        if not nets and not proof:
            return outcome(Tri.UNKNOWN, "no neuroendocrine tumour diagnosis on record",
                           ignored=ignored, missing=[NO_DIAGNOSIS])
        diffs = {d.differentiation for d in nets} | {h.differentiation for h in proof}
        checks = {
            WELL: Tri.NOT_MET if diffs & {"poor", "mixed"}
            else Tri.MET if "well" in diffs else Tri.UNKNOWN,
            "GEP primary": _any_known([d.gep for d in nets]),
            "histology-proven": Tri.MET if proof else Tri.UNKNOWN,
            "advanced": _any_known([d.advanced for d in nets] + [True for _ in mets],
                                   absent_is=None),
        }
        status = all_of(checks.values())
        failed = [k for k, v in checks.items() if v is Tri.NOT_MET]
        unknown = [k for k, v in checks.items() if v is Tri.UNKNOWN]
        settle = {WELL: "the tumour's differentiation (WHO grade)",
                  "GEP primary": "the primary site (ICD-O-3 topography)",
                  "histology-proven": "a pathology result coding a neuroendocrine tumour "
                                      "(ICD-O-3 morphology or coded conclusion)",
                  "advanced": "the stage: metastatic or locally advanced/unresectable"}
        summary = ("not: " + ", ".join(failed)) if failed else (
            "unknown: " + ", ".join(unknown) if unknown else "histology-proven advanced GEP-NET")
        return outcome(status, summary, evidence=ev, ignored=ignored,
                       missing=[settle[k] for k in unknown] if not failed else [])


def no_neuroendocrine_neoplasm(record: PatientRecord) -> bool:
    """No diagnosis on record names a neuroendocrine neoplasm, and no pathology result is
    on record (judgement: one whose content is not coded might name one)."""
    return not any(d.net for d in record.diagnoses) and not record.histology


def _any_known(values: list[bool | None], absent_is: bool | None = None) -> Tri:
    if any(v is True for v in values):
        return Tri.MET
    if values and all(v is False for v in values):
        return Tri.NOT_MET
    return Tri.of(absent_is) if absent_is is not None else Tri.UNKNOWN


@dataclass(frozen=True)
class Refractory:
    """Progression during or after an SSA or a standard systemic NET therapy."""

    def describe(self) -> str:
        return ("progression by I3's definitions (RECIST PD, SSTR progression, or clinical "
                "and biochemical progression together), at any date, during or after an SSA, "
                "everolimus, sunitinib or chemotherapy; or attested")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        # progressions are history (any date): only the answers can move
        return (said_changes(record, "refractory-disease", as_of)
                + said_changes(record, "prior-net-systemic-therapy", as_of))

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        a = said(record, "refractory-disease", ctx)
        if a.value is not None:
            return outcome(Tri.of(a.value), "refractory disease attested" if a.value
                           else "not refractory (attested)",
                           evidence=[statement_evidence(a.newest[0])], ignored=a.ignored)
        never = said(record, "prior-net-systemic-therapy", ctx)
        therapies = [e for e in record.exposures if e.drug_class in NET_SYSTEMIC]
        if never.value is False and not therapies:
            return outcome(Tri.NOT_MET, "never received an SSA or systemic NET therapy",
                           evidence=[statement_evidence(never.newest[0])])
        ev = [Evidence(e.source, e.start, e.drug, e.drug_class) for e in therapies]
        # A progression by I3's own definitions ((a), (b), or (c) with both parts; a
        # symptom or marker rise alone is not one), at any date: refractoriness is history.
        doubts: list[str] = []
        for p in reversed(i3_progressions(progression_facts(record, ctx.as_of), 12)):
            counted = [e for e in therapies if after_12_weeks(e, p.date) is True]
            if counted:
                e = counted[0]
                return outcome(Tri.MET, f"progression on {p.date} during or after "
                               f"{e.drug} (started {_started(e)}, at least "
                               f"{EXPOSURE_DAYS} days before)",
                               evidence=[Evidence(p.sources[0] if p.sources else "", p.date,
                                                  "progression", p.text), *ev])
            doubts += [f"whether {e.drug} ({e.source}, started {_started(e)}) started at "
                          f"least {EXPOSURE_DAYS} days before the progression of {p.date}"
                          for e in therapies if after_12_weeks(e, p.date) is None]
        if doubts:
            return outcome(Tri.UNKNOWN, "a progression may lie less than 12 weeks after "
                           "the start of therapy", evidence=ev,
                           missing=[*dict.fromkeys(doubts), "or an attestation of "
                                    "refractory disease"])
        if not therapies:
            return outcome(Tri.UNKNOWN, "no SSA or systemic NET therapy on record",
                           missing=["the SSA/systemic therapy history, or an attestation "
                                    "of refractory disease"])
        return outcome(Tri.UNKNOWN, "no progression on record during or after therapy",
                       evidence=ev, missing=["progression evidence during or after "
                                             "therapy, or an attestation of refractory disease"])


# Judgement (notes, I4): a progression counts as "during or after" a therapy when it is
# documented at least 12 weeks after that therapy started; a shorter exposure is too short
# to judge, and does not make the disease refractory to it.
EXPOSURE_DAYS = 84


def after_12_weeks(e: Exposure, progression: date) -> bool | None:
    """Whether `progression` is at least 12 weeks after `e` started: True from its latest
    possible start (a month-only start is any day of that month), False before its
    earliest, None in between (or with no start recorded)."""
    if e.start is None:
        return None
    if progression >= (e.latest_start or e.start) + timedelta(days=EXPOSURE_DAYS):
        return True
    if progression < e.start + timedelta(days=EXPOSURE_DAYS):
        return False
    return None


def _started(e: Exposure) -> str:
    late = e.latest_start
    return f"{e.start}" if late in (None, e.start) else f"between {e.start} and {late}"


@dataclass(frozen=True)
class UncontrolledBrainMetastases:
    """E6 from every statement on brain metastases (Conditions, refuted ones included,
    and answers): the newest decides whether they are known; then the newest statement
    on their control made since they became known decides (one made before the
    metastases were known does not speak of them)."""

    def describe(self) -> str:
        return "known brain metastases not controlled (treated and stable ones do not count)"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return []  # every statement is read at the screening date

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        # every Condition, whatever its clinical status: metastases in remission are
        # known metastases, and their status says they are controlled (mapping)
        stated = about(record, BRAIN, None)
        known = newest(stated, ctx.as_of)
        settle = "a statement on brain metastases (refuted condition or attestation)"
        if known.unsettled:
            return undecided(known, "brain metastases", settle)
        if known.value is None:
            return replace(absent(ctx, "no record of brain metastases", settle),
                           ignored=known.ignored)
        shown = [statement_evidence(x) for x in known.newest]
        if known.value is False:
            return outcome(Tri.NOT_MET, "no known brain metastases", evidence=shown,
                           ignored=known.ignored)
        since = _became_known(stated, ctx)
        control = newest(about(record, CONTROLLED, None), ctx.as_of, since)
        ignored = [*known.ignored, *control.ignored]
        how = "whether the brain metastases are treated and stable"
        if control.unsettled:
            out = undecided(control, "brain metastases control", how)
            return replace(out, evidence=(*shown, *out.evidence), ignored=tuple(ignored))
        if control.value is None:
            return outcome(Tri.UNKNOWN, "brain metastases, control not stated"
                           + (f" since they became known ({since})" if since else ""),
                           evidence=shown, ignored=ignored, missing=[how])
        shown += [statement_evidence(x) for x in control.newest
                  if statement_evidence(x) not in shown]
        return outcome(Tri.of(not control.value), "brain metastases " + (
            "controlled" if control.value else "uncontrolled"), evidence=shown,
            ignored=ignored)


def _became_known(stated: list[Statement], ctx: Context) -> date | None:
    """The day the brain metastases on record became known: the first statement of them
    after the last that denied them."""
    dated = [(s.stated, s.value) for s in stated if s.stated is not None
             and s.stated <= ctx.as_of]
    denied = max((when for when, value in dated if value is False), default=None)
    return min((when for when, value in dated if value and (denied is None or when > denied)),
               default=None)


@dataclass(frozen=True)
class PriorRadiotherapyKidneyOrMarrow:
    marrow_share: float = 0.25

    def describe(self) -> str:
        return (f"prior external-beam radiotherapy with the kidneys in the field or more than "
                f"{self.marrow_share:.0%} of the bone marrow")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return (said_changes(record, "prior-rt-kidney-or-marrow", as_of)
                + said_changes(record, "radiotherapy-history-complete", as_of))

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        rts = [p for p in record.procedures if p.kind == "radiotherapy" and p.external_beam]
        ev = {p.source: Evidence(p.source, p.date, p.display,
                                 f"kidneys in field: {yes_no(p.kidneys_in_field)}; marrow share: "
                                 + ("unknown" if p.marrow_share is None
                                    else f"{p.marrow_share:.0%}")) for p in rts}
        hits = [p for p in rts if p.kidneys_in_field or (p.marrow_share or 0) > self.marrow_share]
        if hits:
            return outcome(Tri.MET, "external-beam radiotherapy on kidneys or >25 % marrow",
                           evidence=[ev[p.source] for p in hits])
        # the investigator's answer covers every course, described or not
        a = said(record, "prior-rt-kidney-or-marrow", ctx)
        if a.unsettled:
            return undecided(a, "prior radiotherapy on kidneys or marrow",
                             settle_text("prior-rt-kidney-or-marrow", ctx))
        if a.value is not None:
            return outcome(Tri.of(a.value), answered("prior-rt-kidney-or-marrow", a.value),
                           evidence=[statement_evidence(a.newest[0])])
        doubt = [p for p in rts if p.kidneys_in_field is None or p.marrow_share is None]
        if doubt:
            return outcome(Tri.UNKNOWN, "radiotherapy fields not fully described",
                           evidence=[ev[p.source] for p in doubt],
                           missing=[f"the field of {p.display} ({p.source}): kidneys in field "
                                    "and share of bone marrow" for p in doubt])
        # A record is not a complete history: courses that spared the kidneys and marrow
        # settle E5 only when the radiotherapy history is declared complete (notes).
        h = said(record, "radiotherapy-history-complete", ctx)
        if h.value:
            return outcome(Tri.NOT_MET, "radiotherapy on record spared kidneys and marrow; "
                           "the radiotherapy history is declared complete" if rts else
                           "no radiotherapy: the radiotherapy history is declared complete",
                           evidence=[*ev.values(), statement_evidence(h.newest[0])])
        spared = "the radiotherapy on record spared kidneys and marrow, and a record is not " \
            "a complete history" if rts else "no external-beam radiotherapy on record"
        out = absent(ctx, spared, "an attestation on prior radiotherapy to the kidneys or "
                     "> 25 % of the marrow, or that the radiotherapy history is complete")
        return replace(out, evidence=tuple(ev.values()))

