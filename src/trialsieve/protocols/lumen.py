# ruff: noqa: E501  (published texts are kept verbatim)
"""The LuMEn study (NCT01842165): 13 inclusion and 9 exclusion criteria as data.

Readings follow the project's protocol notes; where a reading is a judgement it says so.
"""

from __future__ import annotations

from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION, Criterion, Protocol
from trialsieve.rules.attest import Attested
from trialsieve.rules.base import AllOf, Rule, Undamaged
from trialsieve.rules.baseline import BaselineWithin
from trialsieve.rules.disease import (
    GepNet,
    PriorRadiotherapyKidneyOrMarrow,
    Refractory,
    UncontrolledBrainMetastases,
)
from trialsieve.rules.imaging_criteria import (
    DiffuseMarrowInfiltration,
    ProgressionWithin,
    TargetLesion,
)
from trialsieve.rules.labs import LabThreshold
from trialsieve.rules.patient import AgeAtLeast, ConsentBeforeInclusion, EcogAtMost
from trialsieve.rules.reproduction import (
    ContraceptionAndPregnancyTest,
    PregnantOrLactating,
    RefusesContraception,
)
from trialsieve.rules.timing import EventWithin, SsaWashout

# Published texts, verbatim from the registry (seed/eligibility-criteria.txt).
PUBLISHED = {
    "INCL01": '1. Age above or equal to 18 years.',
    "INCL02": '2. Histology-proven advanced GEP-NETs.',
    "INCL03": '3. Disease progression defined as follows (at least one of the following):\n- Radiological disease progression (according to RECIST 1.1) on an MRI or CT over the\nlast 12 months Or\n- Disease progression on a somatostatin receptor-imaging, PET/CT or SPECT/CT over the\nlast 12 months [apparition of new lesion(s) or increase in the transaxial plane\ndiameter of more than 30% on the same imaging modality] Or\n- Both of the following criteria (a+b):\n1. clinical progression:\n- sustained (for more than 2 weeks) increase of NET-specific hormonal\nhypersecretion related symptom frequency by 50% or,\n- sustained (for more than 2 weeks) increase of severity by 1 grade (according\nto NCI-CTCAE version 4.03).\n2. biochemical progression: by increase of NET-specific tumor markers (plasma\nChromogranin A, plasma NSE, urine 5-HIAA or other) in two successive\nmeasurements.',
    "INCL04": "4. Disease refractory to SSA's and/or standard systemic therapy available in Belgium at\nthe time of inclusion criteria.",
    "INCL05": '5. Long-acting SSAs should be discontinued at least 4 weeks before study treatment start\ndate and, if needed, switched to short-acting analogues which should be stopped 48h\nbefore the treatment date.',
    "INCL06": '6. Adequate renal function with GFR = 50 mL/min/1.73m2 (evaluated by 51Cr-EDTA test).',
    "INCL07": '7. Adequate bone marrow function with hemoglobin = 9 g/dL; neutrophil = 1.5·103/µL;\nplatelet count = 100·103/µL.',
    "INCL08": '8. Adequate liver function with total bilirubin = 2 x ULN and transaminases = 5 x ULN,\nserum albumin > 3 g/dL with normal prothrombin time (> 70%).',
    "INCL09": '9. ECOG Performance Status = 1.',
    "INCL10": '10. Women of childbearing potential and men with partners of childbearing potential must\nagree to use a highly-effective form of contraception for the duration of study\nparticipation and up to six months after the end of the treatment. A pregnancy test\n(serum) must be performed within 4 weeks prior to inclusion for every female patient\nof childbearing potential and it must be negative.',
    "INCL11": "11. Patient's written informed consent obtained prior to any study procedure.",
    "INCL12": '12. All necessary baseline procedures should be performed within 4 weeks prior to first\n177Lu-octreotate injection (D0).',
    "INCL13": '13. The patient must have at least one target lesion fulfilling all of the below criteria:\n- On the 68Ga-octreotate PET/CT: tumor uptake higher than the physiological liver\nuptake (grade III or IV of the Rotterdam visual score) in a lesion with longest\ntransaxial plane diameter =20mm (measured on the CT, part of the PET/CT);\n- At least one of these lesions morphologically measurable according to RECIST 1.1\nand progressive on the MRI (or CT if MRI is not applicable);\n- Target lesion should not have been previously irradiated.',
    "EXCL01": '1. Resectable tumor with curative intent.',
    "EXCL02": '2. Any major surgery within the last 6 weeks prior to inclusion in the study',
    "EXCL03": '3. Radiotherapy, chemotherapy, embolization, mammalian target of rapamycin\n(mTOR)-inhibitors, receptor tyrosine-kinase inhibitors, interferon, or other\ninvestigational therapy within the last 12 weeks prior to inclusion in the study.',
    "EXCL04": '4. Diffuse bone marrow infiltration on the baseline 68Ga-octreotate PET/CT confirmed by\nMRI.',
    "EXCL05": '5. Prior external beam radiotherapy on kidneys or on more than 25% of bone marrow.',
    "EXCL06": '6. Patients with known uncontrolled brain metastases.',
    "EXCL07": "7. Patients with a significant medical, neuro-psychiatric, or surgical condition,\ncurrently uncontrolled by treatment, which, in the investigator's opinion, may\ninterfere with completion of the study.",
    "EXCL08": '8. Pregnant or lactating patients.',
    "EXCL09": '9. Women of childbearing potential and men with partners of child-bearing potential\nrefusing an adequate contraception.',
}

TRIAL_IDS = ("NCT01842165", "2012-003666-41")  # ClinicalTrials.gov, EudraCT
BASELINE_LABS = ("gfr_51cr", "hemoglobin", "neutrophils", "platelets", "bilirubin", "alt",
                 "ast", "albumin", "pt_percent")

READINGS: dict[str, tuple[str, str, Rule]] = {
    "INCL01": ("age >= 18", "Age >= 18 years on the inclusion date (D0 when inclusion is not "
               "given). A partial birth date (1968-05) may be any day of that month: decided "
               "only when every such day gives the same answer.", AgeAtLeast(18)),
    "INCL02": ("GEP-NET, histology-proven, advanced",
               "A well-differentiated neuroendocrine tumour (WHO G1-G3) of gastro-entero-"
               "pancreatic origin (ICD-O-3 C16-C21, C25), confirmed by a pathology result that "
               "itself codes a neuroendocrine tumour (ICD-O-3 morphology or coded conclusion: "
               "a pathology of another tumour, or uncoded, does not prove it), metastatic or "
               "locally advanced/unresectable. The WHO grade and Ki-67 of the pathology are "
               "shown. Judgement: a poorly differentiated neuroendocrine carcinoma (NEC) is "
               "not a NET: not met; a well-differentiated NET G3 is a NET. Judgement: a mixed "
               "neuroendocrine-non-neuroendocrine neoplasm (MiNEN, ICD-O-3 8154/3) is not a "
               "pure NET (its non-neuroendocrine part drives the disease): not met. ICD-10 "
               "C7A.095/C7A.096 (midgut/hindgut NOS) are GEP by definition; a secondary NET "
               "(C7B.0x, C7B.8) makes it advanced, a secondary Merkel cell carcinoma (C7B.1) "
               "does not. Under pre-screening a record with no diagnosis of a neuroendocrine "
               "neoplasm at all reads as no GEP-NET (not met, marked as an assumption).",
               GepNet()),
    "INCL03": ("progression in last 12 months",
               "(a) RECIST 1.1 PD on CT/MRI, (b) SSTR-imaging progression (new lesion or "
               "transaxial diameter > +30 %, same modality), or (c) clinical and biochemical "
               "progression, within the 12 months before inclusion. Judgement: the 12-month "
               "window also applies to (c). Not met only when the record decides each arm "
               "not met: (a) every follow-up CT/MRI in the 12 months evaluable and none PD "
               "(after a PD the series restarts; targets flagged at baseline keep their "
               "flag, re-selected on the new baseline scan by its own flags or as the "
               "previous targets still measurable); (b) SSTR scans in the 12 months "
               "compared with an earlier one of the same modality, none progressing; (c) "
               "either part not met: symptom recordings compared with their baseline show "
               "no sustained rise (> 14 days = end minus start >= 15 days; an ongoing "
               "episode runs to the screening date; an unknown baseline grade is unknown, "
               "not 0), or three successive results of a NET marker did not rise twice (a "
               "result that cannot be read leaves its triple undecided). No scans, or no "
               "marker and no symptom: unknown.",
               ProgressionWithin(12)),
    "INCL04": ("refractory to SSA/systemic therapy",
               "Progression during or after an SSA or a standard systemic NET therapy "
               "(everolimus, sunitinib or another TKI used in NET, chemotherapy such as "
               "capecitabine/temozolomide, streptozocin/5-FU/doxorubicin, platinum/etoposide); "
               "not met when the patient never received any; otherwise settled by attestation. "
               "Judgement: another antineoplastic (e.g. gemcitabine, a taxane) is not a "
               "standard NET therapy: it counts for E3, not here. A progression is one by I3's "
               "own definitions, at any date: RECIST PD, SSTR progression, or a clinical and a "
               "biochemical progression together (judgement: within 12 months of each other, "
               "dated at the later); a symptom or marker rise alone is not one.",
               Refractory()),
    "INCL05": ("SSA wash-out",
               "Last long-acting (LAR/depot/autogel) SSA >= 28 days before D0; short-acting SSA "
               ">= 48 hours (2 days) before D0. The form comes from the product, route or "
               "schedule, not ATC. With no SSA on record: unknown under screening, assumed "
               "met under pre-screening. A course stopped with no end date ended some day "
               "from its start to its status date (or the screening date): unknown until "
               "even that latest day is far enough before D0.", SsaWashout()),
    "INCL06": ("GFR >= 50 by 51Cr-EDTA",
               "Measured GFR >= 50 mL/min/1.73 m2 by 51Cr-EDTA within the 28 days before D0. "
               "eGFR or creatinine clearance does not satisfy it (shown as context).",
               LabThreshold("gfr_51cr", ">=", 50, context=("egfr", "creatinine_clearance"))),
    "INCL07": ("Hb, ANC, platelets",
               "Latest results within 28 days before D0: Hb >= 9 g/dL, neutrophils >= 1.5 "
               "x10^3/uL, platelets >= 100 x10^3/uL (the lost signs read as >=).",
               AllOf((LabThreshold("hemoglobin", ">=", 9), LabThreshold("neutrophils", ">=", 1.5),
                      LabThreshold("platelets", ">=", 100)))),
    "INCL08": ("bilirubin, ALT/AST, albumin, PT",
               "Latest results within 28 days before D0: total bilirubin <= 2 x ULN, ALT <= 5 x "
               "ULN and AST <= 5 x ULN (ULN from the result's own reference range), albumin "
               "> 3 g/dL (strict), prothrombin time > 70 % (strict).",
               AllOf((LabThreshold("bilirubin", "<=", 2, uln=True),
                      LabThreshold("alt", "<=", 5, uln=True),
                      LabThreshold("ast", "<=", 5, uln=True),
                      LabThreshold("albumin", ">", 3), LabThreshold("pt_percent", ">", 70)))),
    "INCL09": ("ECOG 0-1", "ECOG performance status <= 1 within the 28 days before D0; "
               "the most recent decides, and when it cannot be read I9 is unknown (an older "
               "score never decides in its place).",
               EcogAtMost(1)),
    "INCL10": ("contraception, serum hCG",
               "For a woman of childbearing potential or a man with such a partner: attested "
               "agreement to highly effective contraception; for the woman also a negative "
               "SERUM hCG within 28 days before inclusion (urine does not count; judgement: "
               "quantitative < 5 IU/L negative, 5-25 IU/L equivocal). Others: met, not "
               "applicable.", ContraceptionAndPregnancyTest()),
    "INCL11": ("written informed consent",
               "Written informed consent to this study: an active research consent (scope or "
               "category research) naming the trial (its ResearchStudy or the identifier "
               "NCT01842165 / EudraCT 2012-003666-41), dated on or before the inclusion "
               "date; or an attestation. A treatment or privacy consent, or a research "
               "consent naming no study or another one, does not count and is listed with "
               "why.", ConsentBeforeInclusion(TRIAL_IDS)),
    "INCL12": ("baseline within 28 days of D0",
               "The baseline assessments the other criteria rely on (labs of I6-I8, ECOG, "
               "serum hCG when applicable, the PET/CT and MRI/CT of I13) are dated within the "
               "28 days before D0. Missing or stale: unknown (repeat it), also once D0 has "
               "passed: absence of a record is not evidence of absence.",
               BaselineWithin(BASELINE_LABS)),
    "INCL13": ("target lesion on 68Ga PET/CT",
               "At least one lesion: Krenning 3-4 with transaxial diameter >= 20 mm on the CT "
               "of the 68Ga PET/CT; RECIST-measurable and progressive on MRI (CT when MRI not "
               "applicable): judgement, +20 % and +5 mm between two scans within 12 months, "
               "or new; not previously irradiated. The PET/CT read is the baseline one (28 "
               "days before D0, I12): the latest with lesion measurements, said so when a "
               "later one has none; with none, unknown. Not irradiated: a statement on the "
               "lesion, or the radiotherapy history attested complete with no recorded course "
               "on that lesion or its organ (a course with no recorded site leaves it "
               "unknown); a course on the lesion fails it. Every qualifying lesion is listed.",
               TargetLesion()),
    "EXCL01": ("resectable, curative intent",
               "Tumour board decision or attestation that the tumour is resectable with "
               "curative intent; judgement only.", Attested("resectable-curative-intent", assumed=Tri.NOT_MET)),
    "EXCL02": ("major surgery < 6 weeks",
               "Major surgery in the 42 days before inclusion; 42 days or more is a completed "
               "wait. A record is not a complete history: older operations do not show that "
               "none was recent, so under screening recent surgery is ruled out only on an explicit negative "
               "(an attestation of none in the 42 days, or that the surgical history on record "
               "is complete); an attestation 'yes' asserts it. An answer given more than 42 "
               "days before inclusion is stale. Pre-screening: assumed absent, said so.",
               EventWithin("major surgery", 42, "recent-major-surgery",
                           "surgery-history-complete")),
    "EXCL03": ("RT/chemo/embolisation/... < 12 weeks",
               "Radiotherapy (external or radionuclide), chemotherapy, embolisation, mTOR "
               "inhibitor, TKI, interferon or investigational therapy, last dose or session in "
               "the 84 days before inclusion; 84 days or more is a completed wait. Judgement: "
               "any antineoplastic agent (ATC L01, every kinase inhibitor included) counts as "
               "chemotherapy here. A course "
               "stopped with no end date ended some day from its start to its status date "
               "(or the screening date): unknown until even that latest day is 84 days past; "
               "one in progress is ongoing. As for E2, it is ruled out only on an explicit negative (an "
               "attestation of none in the 84 days, or that this history on record is "
               "complete); a stale answer (more than 84 days before inclusion) settles "
               "nothing. Pre-screening: assumed absent, said so.",
               EventWithin("anticancer therapy", 84, "recent-anticancer-therapy",
                           "anticancer-therapy-history-complete")),
    "EXCL04": ("diffuse marrow infiltration",
               "Diffuse bone-marrow infiltration on the baseline 68Ga PET/CT confirmed by MRI: "
               "present only with both; PET-suspected without MRI is unknown. Both are baseline "
               "assessments, dated within the 28 days before D0: an older MRI does not "
               "confirm or exclude.",
               DiffuseMarrowInfiltration()),
    "EXCL05": ("prior EBRT kidneys or >25 % marrow",
               "Any prior external-beam radiotherapy with the kidneys in the field or on more "
               "than 25 % of the bone marrow. Courses on record that spared both settle it "
               "only when the radiotherapy history is declared complete (attestation); "
               "otherwise, with no attestation on E5 itself, unknown under screening, assumed "
               "absent under pre-screening.", PriorRadiotherapyKidneyOrMarrow()),
    "EXCL06": ("uncontrolled brain metastases",
               "Known brain metastases not controlled; treated, stable ones do not exclude. "
               "The newest statement decides (older ones are listed as superseded); "
               "statements of the same day that disagree: unknown.",
               UncontrolledBrainMetastases()),
    "EXCL07": ("significant uncontrolled condition",
               "Investigator's opinion: attestation only, dated within the 28 days before "
               "screening (judgement: an opinion on a current state). Under pre-screening, "
               "with no attestation, assumed absent like every exclusion nothing asserts "
               "(marked as an assumption).",
               Attested("uncontrolled-significant-condition", assumed=Tri.NOT_MET)),
    "EXCL08": ("pregnant or lactating",
               "Pregnant or lactating at screening. Any positive pregnancy test (serum or "
               "urine) or pregnancy finding more recent than the last negative serum hCG means "
               "pregnant; a pregnancy or lactation Condition counts while present by its "
               "clinical status and abatement (not by its onset date). Not pregnant: a "
               "negative serum hCG, a 'not pregnant' finding or attestation within the 28 "
               "days before screening (older ones are stale). Pre-screening: assumed absent "
               "when nothing asserts it.", PregnantOrLactating()),
    "EXCL09": ("refuses contraception",
               "Refusal of adequate contraception (attestation) by a woman of childbearing "
               "potential or a man with such a partner; for others it is absent. Applicability comes "
               "first: a refusal by a patient not known to be one of those leaves E9 unknown. "
               "Pre-screening: with no answer, assumed absent (marked).",
               RefusesContraception()),
}


# The kinds of record each criterion reads (record.Damaged.about, from
# fhir.mapping.fact_kind). When one of them could not be read (set aside with a warning),
# the criterion cannot come out in the patient's favour: the lost record might have
# changed it. Lab criteria handle their own results (rules.labs: the newest decides).
MEDICINES = ("medication", "Procedure", "attestation")
READS: dict[str, tuple[str, ...]] = {
    "INCL02": ("Condition", "histology"),
    "INCL03": ("imaging", "symptom", "chromogranin_a", "nse", "hiaa_24h"),
    "INCL04": MEDICINES,
    "INCL05": ("medication",),
    "INCL09": ("ecog",),
    "INCL10": ("hcg_serum", "pregnancy", "Condition", "attestation"),
    "INCL11": ("Consent", "attestation"),
    "INCL12": ("imaging", "ecog"),
    "INCL13": ("imaging",),
    "EXCL01": ("attestation",),
    "EXCL02": ("Procedure", "attestation"),
    "EXCL03": MEDICINES,
    "EXCL04": ("imaging",),
    "EXCL05": ("Procedure", "attestation"),
    "EXCL06": ("Condition", "attestation"),
    "EXCL07": ("attestation",),
    "EXCL08": ("hcg_serum", "pregnancy", "Condition", "attestation"),
    "EXCL09": ("attestation",),
}
# The published texts whose "greater/less than or equal" signs were lost (protocol notes,
# "The lost symbols"), with them put back: what the sponsor's SDTM TI/IE carries.
RESTORED = {
    "INCL06": "6. Adequate renal function with GFR >= 50 mL/min/1.73m2 (evaluated by 51Cr-EDTA "
              "test).",
    "INCL07": "7. Adequate bone marrow function with hemoglobin >= 9 g/dL; neutrophil >= "
              "1.5x10^3/uL; platelet count >= 100x10^3/uL.",
    "INCL08": "8. Adequate liver function with total bilirubin <= 2 x ULN and transaminases <= "
              "5 x ULN, serum albumin > 3 g/dL with normal prothrombin time (> 70%).",
    "INCL09": "9. ECOG Performance Status <= 1.",
    "INCL13": PUBLISHED["INCL13"].replace("diameter =20mm", "diameter >= 20mm"),
}
# Whatever the rest of the record says: a record that cannot be read might have decided
# the other way, so the favourable answer is never given without it.
DAMAGE_READING = (" If a record this criterion needs cannot be read (it is set aside with a "
                  "warning), the criterion is unknown: the rest of the record alone {}.")


def _criterion(cid: str) -> Criterion:
    short, reading, rule = READINGS[cid]
    category = INCLUSION if cid.startswith("INCL") else EXCLUSION
    if cid in READS:
        favourable = Tri.MET if category == INCLUSION else Tri.NOT_MET
        rule = Undamaged(rule, READS[cid], favourable)
        reading += DAMAGE_READING.format("never makes it met" if category == INCLUSION
                                         else "never rules it out")
    return Criterion(cid, category, PUBLISHED[cid], reading, rule, short,
                     RESTORED.get(cid, ""))


LUMEN = Protocol(
    id="NCT01842165",
    title="LuMEn: 177Lu-octreotate in progressive advanced GEP-NETs",
    version="2026.11-1",
    criteria=tuple(_criterion(cid) for cid in PUBLISHED),
)
