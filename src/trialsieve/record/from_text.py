"""What the reports say, as the coded facts they would be: pre-screening only (issue 21).

Under pre-screening an affirmed mention counts as the coded fact would: it becomes that
fact, dated by the mention, and the rules read it with their own time limits. Its
source is the document with the sentence's span ("DocumentReference/d1#text:120-168"),
so that every output can mark it "from text". Under screening nothing here is used: a
mention is a suggestion to confirm (rules.text_evidence).

Families with no coded counterpart a rule reads as a statement (a progression is a
calculation over measurements, a target lesion needs its PET and MRI) are not turned
into facts: they stay suggestions under both policies.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from trialsieve.record.facts import (
    Diagnosis,
    Ecog,
    Finding,
    Histology,
    Mention,
    PatientRecord,
    ProcedureRecord,
)

TEXT_SPAN = "#text:"

# Primary sites of gastro-entero-pancreatic origin (ICD-O-3 C16-C21, C25) as the text
# reader names them, English and French.
GEP_SITES = frozenset({
    "pancreas", "stomach", "small intestine", "duodenum", "jejunum", "ileum", "appendix",
    "colon", "caecum", "cecum", "rectum", "midgut", "hindgut", "foregut", "gastric",
    "pancréas", "estomac", "intestin grêle", "duodénum", "iléon", "appendice", "côlon",
    "grêle"})
NOT_GEP_SITES = frozenset({"lung", "bronchus", "thymus", "poumon", "bronche"})
# Radiotherapy sites that put the kidneys in the field (E5).
KIDNEY_WORDS = ("kidney", "renal", "rein", "rénal")
# Families counted here, and the fact each becomes.
COUNTED = frozenset({"net_diagnosis", "who_grade", "ki67", "primary_site", "metastatic",
                     "ecog", "pregnant", "breastfeeding", "postmenopausal", "sterilised",
                     "brain_metastases", "major_surgery", "radiotherapy"})


def text_source(m: Mention) -> str:
    """The source of a fact a sentence states: the document and the sentence's span."""
    return f"{m.document}{TEXT_SPAN}{m.start}-{m.end}"


def is_text_source(source: str) -> bool:
    return TEXT_SPAN in source


def _grade(value: object) -> int | None:
    text = str(value or "").upper().replace("GRADE", "G").replace(" ", "")
    return {"G1": 1, "G2": 2, "G3": 3}.get(text)


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _gep(site: str | None) -> bool | None:
    if site is None:
        return None
    site = site.lower()
    return True if site in GEP_SITES else False if site in NOT_GEP_SITES else None


def _detail(m: Mention, key: str) -> str | None:
    return next((v for k, v in m.details if k == key), None)


def _tumour(mentions: list[Mention]) -> list:
    """A NET named in a report: a diagnosis (with the primary site and stage the texts
    give), and, in a pathology report, a pathology result with its grade and Ki-67 from
    the same report."""
    nets = [m for m in mentions if m.fact == "net_diagnosis"]
    if not nets:
        return []
    sites = [m for m in mentions if m.fact == "primary_site" and m.value]
    # the newest report that names the site
    site = str(max(sites, key=lambda m: m.date or date.min).value) if sites else None
    advanced = True if any(m.fact == "metastatic" for m in mentions) else None
    facts: list = []
    for m in nets:
        same = [x for x in mentions if x.document == m.document]
        grade = next((_grade(x.value) for x in same if x.fact == "who_grade"
                      and _grade(x.value)), None)
        ki67 = next((_number(x.value) for x in same if x.fact == "ki67"
                     and _number(x.value) is not None), None)
        diff = m.value if m.value in ("well", "poor") else None
        facts.append(Diagnosis(text_source(m), m.sentence, m.date, True, site, _gep(site),
                               diff, advanced, grade))
        if m.kind == "pathology":  # histology-proven: the pathology report says so
            facts.append(Histology(text_source(m), m.date, diff, grade, m.sentence, True,
                                   ki67))
    return facts


def _fact(m: Mention) -> list:
    """The coded fact one affirmed mention states (tumour facts: `_tumour`)."""
    src = text_source(m)
    if m.fact == "ecog":
        score = _number(m.value)
        return [Ecog(src, m.date, int(score))] if score is not None and score in range(5) \
            else []
    if m.fact in ("pregnant", "breastfeeding"):
        fact = "pregnant" if m.fact == "pregnant" else "lactating"
        return [Finding(src, fact, True, m.date, display=m.sentence)]
    if m.fact in ("postmenopausal", "sterilised"):
        return [Finding(src, "childbearing_potential", False, m.date, display=m.sentence)]
    if m.fact == "metastatic":
        return [Finding(src, "metastatic", True, m.date, display=m.sentence)]
    if m.fact == "brain_metastases":
        said = _detail(m, "controlled")
        controlled = {"yes": True, "no": False}.get(said or "")
        return [Finding(src, "brain_metastases", True, m.date, controlled, m.sentence)]
    if m.fact == "major_surgery":
        return [ProcedureRecord(src, m.sentence, "surgery", m.date, major=True)]
    if m.fact == "radiotherapy":
        site = (_detail(m, "site") or "").lower()
        kidneys = True if any(w in site for w in KIDNEY_WORDS) else None
        return [ProcedureRecord(src, m.sentence, "radiotherapy", m.date,
                                kidneys_in_field=kidneys, external_beam=True,
                                sites=(site,) if site else ())]
    return []


def counted(m: Mention) -> bool:
    """Whether a mention becomes a fact under pre-screening."""
    return m.affirmed and m.fact in COUNTED


def with_text_facts(record: PatientRecord) -> PatientRecord:
    """The record with what its affirmed mentions state added as coded facts."""
    said = [m for m in record.mentions if counted(m)]
    if not said:
        return record
    facts = _tumour(said) + [f for m in said for f in _fact(m)]

    def of(kind: type) -> list:
        return [f for f in facts if isinstance(f, kind)]

    return replace(record, diagnoses=[*record.diagnoses, *of(Diagnosis)],
                   histology=[*record.histology, *of(Histology)],
                   ecog=[*record.ecog, *of(Ecog)],
                   findings=[*record.findings, *of(Finding)],
                   procedures=[*record.procedures, *of(ProcedureRecord)])
