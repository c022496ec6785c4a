"""A stored patient screened by the engine, and what the screening page shows with it:
blocking and unknown criteria, the forms that settle each, the I13 lesion table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from trialsieve.codes import ATTESTATIONS, LAB_TESTS
from trialsieve.engine import NOT_ELIGIBLE, CriterionResult, Dates, ScreeningResult, screen
from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import PatientRecord
from trialsieve.window import Window, eligibility_window

# The entry forms that can settle each criterion (docs/data-dictionary.md: which fact
# each criterion reads). Routing for the page only: the rules decide nothing here.
_LABS_BASELINE = ("gfr_51cr", "hemoglobin", "neutrophils", "platelets", "bilirubin", "alt",
                  "ast", "albumin", "pt_percent")
SETTLED_BY: dict[str, tuple[tuple[str, str], ...]] = {
    "INCL03": (("scan", ""), ("lesion", ""), ("symptom", ""), ("marker", "chromogranin_a")),
    "INCL04": (("attestation", "refractory-disease"),
               ("attestation", "prior-net-systemic-therapy")),
    "INCL05": (("attestation", "prior-net-systemic-therapy"),),
    "INCL06": (("lab", "gfr_51cr"),),
    "INCL07": (("lab", "hemoglobin"), ("lab", "neutrophils"), ("lab", "platelets")),
    "INCL08": tuple(("lab", k) for k in ("bilirubin", "alt", "ast", "albumin", "pt_percent")),
    "INCL09": (("ecog", ""),),
    "INCL10": (("attestation", "childbearing-potential"),
               ("attestation", "partner-childbearing-potential"),
               ("attestation", "contraception-agreement"), ("lab", "hcg_serum")),
    "INCL11": (("attestation", "informed-consent"),),
    "INCL12": (),  # the baseline items it names (below)
    "INCL13": (("scan", ""), ("lesion", ""),
               ("attestation", "radiotherapy-history-complete")),
    "EXCL01": (("attestation", "resectable-curative-intent"),),
    "EXCL02": (("attestation", "recent-major-surgery"),),
    "EXCL03": (("attestation", "recent-anticancer-therapy"),),
    "EXCL04": (("scan", ""),),
    "EXCL05": (("attestation", "prior-rt-kidney-or-marrow"),),
    "EXCL06": (("attestation", "known-brain-metastases"),
               ("attestation", "brain-metastases-controlled")),
    "EXCL07": (("attestation", "uncontrolled-significant-condition"),),
    "EXCL08": (("attestation", "pregnant"), ("attestation", "lactating"),
               ("attestation", "childbearing-potential"), ("lab", "hcg_serum")),
    "EXCL09": (("attestation", "contraception-agreement"),
               ("attestation", "childbearing-potential"),
               ("attestation", "partner-childbearing-potential")),
}
def criteria_reading(question: str) -> list[str]:
    """The criteria an attestation question can settle (the table above, inverted)."""
    return [cid for cid, forms in SETTLED_BY.items() if ("attestation", question) in forms]


FORM_LABELS = {"scan": "record a scan", "lesion": "record a lesion measurement",
               "symptom": "record a symptom", "ecog": "record ECOG"}


@dataclass(frozen=True)
class Link:
    kind: str  # entry kind
    preset: str  # attestation question or lab test, "" for none
    label: str


def settle_links(c: CriterionResult) -> list[Link]:
    """The forms that record what a criterion misses: its own list, and any lab test or
    attestation its missing items name (I12 names the baseline tests it lacks)."""
    wanted = list(SETTLED_BY.get(c.criterion.id, ()))
    text = " ".join(c.outcome.missing).lower()
    wanted += [("lab", k) for k in _LABS_BASELINE + ("hcg_serum",)
               if _names(LAB_TESTS[k].label, text)]
    wanted += [("attestation", q) for q, t in ATTESTATIONS.items() if _names(t, text)]
    wanted += [("ecog", "")] if _names("ecog", text) else []
    wanted += [("scan", ""), ("lesion", "")] if _names("pet", text) or _names("mri", text) \
        else []
    out = []
    for kind, preset in dict.fromkeys(wanted):
        if kind == "attestation":
            label = f"attest: {ATTESTATIONS[preset].lower()}"
        elif kind in ("lab", "marker"):
            label = f"record {LAB_TESTS[preset].label}"
        else:
            label = FORM_LABELS[kind]
        out.append(Link(kind, preset, label))
    return out


def _names(term: str, text: str) -> bool:
    """`text` names `term` as words ("AST" is not in "last")."""
    return re.search(rf"(?<!\w){re.escape(term.lower())}(?!\w)", text) is not None


@dataclass(frozen=True)
class Screening:
    result: ScreeningResult
    window: Window | None  # the D0 dates on which the patient would be eligible
    record: PatientRecord

    @property
    def blocking(self) -> list[CriterionResult]:
        return blocking(self.result)

    @property
    def unknown(self) -> list[CriterionResult]:
        return [r for r in self.result.results if r.status is Tri.UNKNOWN]


def blocking(result: ScreeningResult) -> list[CriterionResult]:
    return [r for r in result.results
            if (r.criterion.category == INCLUSION and r.status is Tri.NOT_MET)
            or (r.criterion.category == EXCLUSION and r.status is Tri.MET)]


def screen_record(record: PatientRecord, as_of: date, inclusion: date | None,
                  d0: date | None, with_window: bool = True) -> Screening:
    result = screen(LUMEN, record, Dates.resolve(as_of, inclusion, d0))
    window = eligibility_window(LUMEN, record, as_of) if with_window else None
    return Screening(result, window, record)


def reasons(result: ScreeningResult) -> list[str]:
    """Reasons for non-inclusion (screening log): the blocking criteria, else the unknown."""
    rows = blocking(result) if result.verdict == NOT_ELIGIBLE else [
        r for r in result.results if r.status is Tri.UNKNOWN]
    return [f"{r.criterion.id} {r.criterion.short}" for r in rows]


@dataclass(frozen=True)
class LesionRow:
    lesion_id: str
    organ: str
    cells: dict[str, str]  # scan label -> what was measured
    qualifies: bool  # listed by I13 as a qualifying lesion


def lesion_table(s: Screening) -> tuple[list[str], list[LesionRow]]:
    """Every lesion across the scans (columns: scans by date), and whether I13 lists it."""
    studies = [st for st in s.record.imaging if st.lesions]
    cols = [f"{st.modality.replace('_', ' ')} {st.date or 'undated'}" for st in studies]
    i13 = next((r for r in s.result.results if r.criterion.id == "INCL13"), None)
    # When I13 is met its evidence holds the qualifying lesions only, as "lesion <id>".
    listed = {e.what for e in i13.outcome.evidence} if i13 and i13.status is Tri.MET else set()
    rows: dict[str, LesionRow] = {}
    for col, st in zip(cols, studies, strict=True):
        for lz in st.lesions:
            row = rows.setdefault(lz.lesion_id, LesionRow(
                lz.lesion_id, lz.organ, {}, f"lesion {lz.lesion_id}" in listed))
            row.cells[col] = _measured(lz)
    return cols, list(rows.values())


def _measured(lz) -> str:
    parts = []
    if lz.longest_mm is not None:
        parts.append(f"{lz.longest_mm:g} mm")
    if lz.short_axis_mm is not None:
        parts.append(f"short axis {lz.short_axis_mm:g} mm")
    if lz.transaxial_mm is not None:
        parts.append(f"transaxial {lz.transaxial_mm:g} mm")
    if lz.krenning is not None:
        parts.append(f"Krenning {lz.krenning}")
    flags = [name for name, on in (("target", lz.target), ("nodal", lz.nodal),
                                   ("new", lz.new), ("irradiated", lz.irradiated)) if on]
    return ", ".join(parts + flags) or "seen"
