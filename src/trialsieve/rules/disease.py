"""Rules on the tumour: diagnosis (I2), refractoriness (I4), brain metastases (E6), prior
radiotherapy (E5)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from trialsieve.codes import NET_SYSTEMIC
from trialsieve.logic import Tri, all_of
from trialsieve.record import Ignored, PatientRecord
from trialsieve.rules.attest import answer_evidence, latest_answer
from trialsieve.rules.base import (
    PRE_SCREENING,
    Context,
    Evidence,
    Outcome,
    absent,
    outcome,
    yes_no,
)
from trialsieve.rules.progression_evidence import i3_progressions, progression_facts

WELL = "well differentiated NET (not NEC, not MiNEN)"


@dataclass(frozen=True)
class GepNet:
    """Histology-proven, well-differentiated, advanced GEP neuroendocrine tumour."""

    def describe(self) -> str:
        return ("a NET (well differentiated, G1-G3) of GEP origin (ICD-O-3 C16-C21, C25), "
                "confirmed by a pathology result, metastatic or locally advanced")

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
        if not nets and not proof:
            return outcome(Tri.UNKNOWN, "no neuroendocrine tumour diagnosis on record",
                           ignored=ignored,
                           missing=["a diagnosis of GEP-NET with its pathology report"])
        diffs = {d.differentiation for d in nets} | {h.differentiation for h in proof}
        checks = {
            WELL: Tri.NOT_MET if diffs & {"poor", "mixed"}
            else Tri.MET if "well" in diffs else Tri.UNKNOWN,
            "GEP primary": _any_known([d.gep for d in nets]),
            "histology-proven": Tri.MET if proof else Tri.UNKNOWN,
            "advanced": _any_known([d.advanced for d in nets], absent_is=None),
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

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        a, older = latest_answer(record, "refractory-disease")
        if a is not None:
            return outcome(Tri.of(a.answer), "refractory disease attested" if a.answer
                           else "not refractory (attested)", evidence=[answer_evidence(a)],
                           ignored=older)
        never, _ = latest_answer(record, "prior-net-systemic-therapy")
        therapies = [e for e in record.exposures if e.drug_class in NET_SYSTEMIC]
        if never is not None and not never.answer and not therapies:
            return outcome(Tri.NOT_MET, "never received an SSA or systemic NET therapy",
                           evidence=[answer_evidence(never)])
        ev = [Evidence(e.source, e.start, e.drug, e.drug_class) for e in therapies]
        # A progression by I3's own definitions ((a), (b), or (c) with both parts; a
        # symptom or marker rise alone is not one), at any date: refractoriness is history.
        for p in reversed(i3_progressions(progression_facts(record, ctx.as_of), 12)):
            before = [e for e in therapies if e.start is not None and e.start <= p.date]
            if before:
                return outcome(Tri.MET, f"progression on {p.date} during or after "
                               f"{before[0].drug} (started {before[0].start})",
                               evidence=[Evidence(p.sources[0] if p.sources else "", p.date,
                                                  "progression", p.text), *ev])
        if not therapies:
            return outcome(Tri.UNKNOWN, "no SSA or systemic NET therapy on record",
                           missing=["the SSA/systemic therapy history, or an attestation "
                                    "of refractory disease"])
        return outcome(Tri.UNKNOWN, "no progression on record during or after therapy",
                       evidence=ev, missing=["progression evidence during or after "
                                             "therapy, or an attestation of refractory disease"])


@dataclass(frozen=True)
class UncontrolledBrainMetastases:
    def describe(self) -> str:
        return "known brain metastases not controlled (treated and stable ones do not count)"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        found = sorted(record.findings_of("brain_metastases"),
                       key=lambda f: (f.date is not None, f.date))
        ev = {f.source: Evidence(f.source, f.date, "brain metastases", "present" if f.present
                                 else "refuted", None if f.controlled is None
                                 else "controlled" if f.controlled else "uncontrolled")
              for f in found}
        # The newest statement decides: an older "uncontrolled" says nothing of today.
        newest = [f for f in found if f.date == found[-1].date] if found else []
        older = [Ignored(f.source, f"superseded by the statement of {found[-1].date}")
                 for f in found if f not in newest]
        shown = [ev[f.source] for f in newest]
        states = {(f.present, f.controlled) for f in newest}
        if len(states) > 1:
            return outcome(Tri.UNKNOWN, f"brain metastases statements of {found[-1].date} "
                           "disagree", evidence=shown, ignored=older,
                           missing=["whether brain metastases are present and controlled"])
        present = [f for f in newest if f.present]
        if present:
            if present[0].controlled is False:
                return outcome(Tri.MET, "uncontrolled brain metastases", evidence=shown,
                               ignored=older)
            if present[0].controlled is True:
                return outcome(Tri.NOT_MET, "brain metastases controlled", evidence=shown,
                               ignored=older)
            a, _ = latest_answer(record, "brain-metastases-controlled")
            if a is not None:
                return outcome(Tri.of(not a.answer), "brain metastases " + (
                    "controlled (attested)" if a.answer else "uncontrolled (attested)"),
                    evidence=[*shown, answer_evidence(a)], ignored=older)
            return outcome(Tri.UNKNOWN, "brain metastases, control not stated",
                           evidence=shown, ignored=older,
                           missing=["whether the brain metastases are treated and stable"])
        if found:
            return outcome(Tri.NOT_MET, "brain metastases refuted", evidence=shown,
                           ignored=older)
        a, _ = latest_answer(record, "known-brain-metastases")
        if a is not None and not a.answer:
            return outcome(Tri.NOT_MET, "no known brain metastases (attested)",
                           evidence=[answer_evidence(a)])
        if a is not None:  # "yes" asserts them: whether they are controlled decides
            c, _ = latest_answer(record, "brain-metastases-controlled")
            if c is None:
                return outcome(Tri.UNKNOWN, "known brain metastases (attested), control not "
                               "stated", evidence=[answer_evidence(a)],
                               missing=["whether the brain metastases are treated and stable"])
            return outcome(Tri.of(not c.answer), "known brain metastases (attested), "
                           + ("controlled" if c.answer else "uncontrolled"),
                           evidence=[answer_evidence(a), answer_evidence(c)])
        return absent(ctx, "no record of brain metastases",
                      "a statement on brain metastases (refuted condition or attestation)")


@dataclass(frozen=True)
class PriorRadiotherapyKidneyOrMarrow:
    marrow_share: float = 0.25

    def describe(self) -> str:
        return (f"prior external-beam radiotherapy with the kidneys in the field or more than "
                f"{self.marrow_share:.0%} of the bone marrow")

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
        a, _ = latest_answer(record, "prior-rt-kidney-or-marrow", ctx)
        if a is not None:
            return outcome(Tri.of(a.answer), "attested", evidence=[answer_evidence(a)])
        doubt = [p for p in rts if p.kidneys_in_field is None or p.marrow_share is None]
        if doubt:
            return outcome(Tri.UNKNOWN, "radiotherapy fields not fully described",
                           evidence=[ev[p.source] for p in doubt],
                           missing=[f"the field of {p.display} ({p.source}): kidneys in field "
                                    "and share of bone marrow" for p in doubt])
        # A record is not a complete history: courses that spared the kidneys and marrow
        # settle E5 only when the radiotherapy history is declared complete (notes).
        h, _ = latest_answer(record, "radiotherapy-history-complete", ctx)
        if h is not None and h.answer:
            return outcome(Tri.NOT_MET, "radiotherapy on record spared kidneys and marrow; "
                           "the radiotherapy history is declared complete" if rts else
                           "no radiotherapy: the radiotherapy history is declared complete",
                           evidence=[*ev.values(), answer_evidence(h)])
        spared = "the radiotherapy on record spared kidneys and marrow, and a record is not " \
            "a complete history" if rts else "no external-beam radiotherapy on record"
        out = absent(ctx, spared, "an attestation on prior radiotherapy to the kidneys or "
                     "> 25 % of the marrow, or that the radiotherapy history is complete")
        return replace(out, evidence=tuple(ev.values()))

