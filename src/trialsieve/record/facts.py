"""The facts the criteria read, free of FHIR or any storage.

Every fact keeps `source`, the resource it came from ("Observation/hb-1"), so that a
result can cite it. Dates are `datetime.date`; a fact whose date is unknown has None.
(In a class with a field named `date`, annotations say `dt.date`: there the bare name
is the field, which the type checker rejects as a type.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from trialsieve.codes import coded_display


class Dated(Protocol):
    """A fact with a date, None when unknown."""

    @property
    def date(self) -> dt.date | None: ...


def day(fact: Dated) -> date:
    """The date of a fact that a filter on `date is not None` kept."""
    if fact.date is None:
        raise ValueError(f"{fact!r} has no date: only dated facts are kept here")
    return fact.date


def newest_of_day(results: list[LabResult]) -> list[LabResult]:
    """The newest of dated results: those of the last day, narrowed to the latest time of
    day when every one of that day has a time; otherwise the whole day, which cannot be
    ordered (notes, "Same day": two that disagree are then unknown). Times are compared
    as written, with no time-zone conversion (notes, "Calendar")."""
    if not results:
        return []
    last = max(day(r) for r in results)
    same = [r for r in results if r.date == last]
    if all(r.time for r in same):
        at = max(r.time or "" for r in same)
        return [r for r in same if r.time == at]
    return same


@dataclass(frozen=True)
class Death:
    """A recorded death: the day, or the interval of days of a partial date."""

    date: dt.date | None  # first possible day; None: deceased, date not recorded
    latest: dt.date | None = None  # last possible day of a partial date (None: `date`)


@dataclass(frozen=True)
class Patient:
    id: str
    birth_date: date | None  # first possible day (the day itself when known)
    sex: str | None  # FHIR administrative gender: female, male, other, unknown
    source: str
    # The site's identifier (the medical record number when one is typed MR), so that a
    # report names the patient as the site knows them, not by a FHIR id.
    identifier: str | None = None
    identifier_system: str | None = None
    identifier_is_mrn: bool = False  # typed MR (HL7 v2-0203)
    birth_latest: date | None = None  # last possible day of a partial birth date
    deceased: Death | None = None

    def deceased_by(self, day: date) -> bool | None:
        """Dead on or before `day`: True, False, or None when a partial date straddles it."""
        d = self.deceased
        if d is None:
            return False
        if d.date is None or (d.latest or d.date) <= day:
            return True
        return None if d.date <= day else False


# A condition's clinicalStatus: these say it is no longer present (FHIR condition-clinical).
NO_LONGER_PRESENT = frozenset({"resolved", "inactive", "remission"})


def condition_present(status: str | None, abated: date | None, on: date) -> bool:
    """Whether a condition recorded as present still is on `on` (protocol notes): present
    when its clinical status is active, recurrence or relapse, or not given; resolved,
    inactive or remission, or an abatement on or before `on`, mean no longer present.
    Refuted and entered-in-error records never reach here (the reader sets them aside)."""
    if abated is not None:
        # An abatement dates the end: one after `on` is a later fact (nothing after the
        # screening date is used), so on `on` the condition was still present, whatever
        # status the record now gives it.
        return abated > on
    return status not in NO_LONGER_PRESENT


@dataclass(frozen=True)
class Diagnosis:
    """A tumour diagnosis read from a Condition (and what its codes say)."""

    source: str
    display: str
    date: dt.date | None
    net: bool  # a neuroendocrine neoplasm by its codes
    site: str | None  # primary organ
    gep: bool | None  # gastro-entero-pancreatic origin
    differentiation: str | None  # "well" (NET) / "poor" (NEC) / None
    advanced: bool | None  # metastatic or locally advanced / unresectable
    grade: int | None = None  # WHO grade 1-3


@dataclass(frozen=True)
class Histology:
    """A pathology result: the morphology found on tissue, the WHO grade and Ki-67."""

    source: str
    date: dt.date | None
    differentiation: str | None
    grade: int | None  # WHO grade 1-3
    display: str
    # True: its morphology code says neuroendocrine neoplasm; False: it codes another
    # tumour; None: its content is not coded (or not in a code list read here).
    net: bool | None = None
    ki67: float | None = None  # Ki-67 index, %

    @property
    def about(self) -> str:
        """Grade and Ki-67, as shown next to the pathology."""
        parts = [f"G{self.grade}" if self.grade else "",
                 f"Ki-67 {self.ki67:g} %" if self.ki67 is not None else ""]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class LabResult:
    source: str
    test: str  # key of codes.LAB_TESTS
    date: dt.date | None
    value: float | None  # in `unit`, as recorded
    unit: str  # UCUM code as recorded
    comparator: str | None = None  # <, <=, >=, >
    ref_high: float | None = None  # in `ref_unit`
    ref_unit: str | None = None
    coded_value: tuple[tuple[str, str], ...] = ()  # qualitative results
    # value and ULN converted to the unit of codes.LAB_TESTS[test] (None: not convertible)
    std_value: float | None = None
    std_ref_high: float | None = None
    # Why the value cannot be read (unit not convertible, value missing, ...). Such a
    # result is kept: when it is the newest, the criterion is unknown and names it; an
    # older result never decides in its place.
    problem: str | None = None
    # Why no upper limit of normal applies to this patient (reference ranges that differ,
    # none chosen by appliesTo sex or age): a ULN criterion is then unknown and says so.
    ref_problem: str | None = None
    time: str | None = None  # time of day of the sample as written ("08:15:00"), if given

    def shown(self) -> str:
        if self.value is None:
            return ", ".join(coded_display(c) for c in self.coded_value) or "no value"
        return f"{self.comparator or ''}{self.value:g} {self.unit}".strip()


@dataclass(frozen=True)
class Exposure:
    """A medicine given or taken over [start, end]."""

    source: str
    drug: str  # display name
    drug_class: str  # codes.ATC_CLASSES value: ssa, mtor, tki, chemotherapy, ...
    start: date | None
    end: date | None  # None: ongoing (or a single administration at start)
    status: str
    ssa_form: str | None = None  # long / short / None (unknown), SSAs only
    single_dose: bool = False
    end_latest: date | None = None  # `end` was a partial date: its last possible day
    status_date: date | None = None  # when the status was stated (dateAsserted)
    # `start` was a partial date (2026-09): its last possible day. A month-only single
    # administration was given on some day of that month, not on the 1st (notes, "Dates").
    start_latest: date | None = None

    @property
    def latest_start(self) -> date | None:
        """The last day the exposure may have started (I4 measures 12 weeks from it)."""
        return self.start_latest or self.start


@dataclass(frozen=True)
class ProcedureRecord:
    source: str
    display: str
    kind: str  # surgery, radiotherapy, radionuclide, embolisation, other
    date: dt.date | None  # last day performed (first possible day of a partial date)
    major: bool | None = None  # surgery only
    kidneys_in_field: bool | None = None  # radiotherapy only
    marrow_share: float | None = None  # radiotherapy: share of bone marrow, 0-1
    external_beam: bool = False
    start: dt.date | None = None  # first day of a course
    date_latest: dt.date | None = None  # `date` was a partial date: its last possible day
    ongoing: bool = False  # in progress at the screening date (date: planned end, if any)
    # A course with a start and no end, marked completed or stopped: it ended on an unknown
    # day from its start to the screening date (notes, "Dates"), not on its start day.
    open_end: bool = False
    # radiotherapy: the sites treated (bodySite text, lower case) and the lesions targeted
    # (BodyStructure ids and identifiers), for I13 "not previously irradiated"
    sites: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    site_codes: tuple[tuple[str, str], ...] = ()  # bodySite codings, matched by code
    radioembolisation: bool = False  # TARE/SIRT: irradiates the treated liver (I13)


@dataclass(frozen=True)
class Finding:
    """A present/absent fact with a date: pregnancy, lactation, brain metastases, ..."""

    source: str
    fact: str  # pregnant, lactating, brain_metastases, childbearing_potential, ...
    present: bool
    date: dt.date | None
    controlled: bool | None = None  # brain metastases only
    display: str = ""
    status: str | None = None  # Condition.clinicalStatus code, when from a Condition
    abated: dt.date | None = None  # Condition.abatement (last possible day)
    # When the statement was made (Condition.recordedDate, the Observation's effective
    # date): what orders it against other statements, not `date` (the onset of what it
    # describes). None: `date`.
    stated: dt.date | None = None
    time: str | None = None  # time of day of `stated` as written ("16:40"), when given
    # False: verificationStatus unconfirmed, provisional or differential: the statement
    # neither proves nor refutes (notes, "Uncertain conditions").
    certain: bool = True

    def present_on(self, day: dt.date) -> bool:
        """An explicit "present" that still holds on `day` (condition status)."""
        return self.present and condition_present(self.status, self.abated, day)


@dataclass(frozen=True)
class Ecog:
    source: str
    date: dt.date | None
    score: int | None
    problem: str | None = None  # why the score cannot be read (kept, as for LabResult)


@dataclass(frozen=True)
class ConsentRecord:
    source: str
    date: dt.date | None
    status: str
    research: bool = False  # scope or category research
    studies: tuple[str, ...] = ()  # identifiers of the studies it names (NCT..., EudraCT)
    permit: bool = True  # provision.type: "deny" is a refusal, not a consent
    time: str | None = None  # time of day of `date` as written, when given


@dataclass(frozen=True)
class Attestation:
    """An answer given by a person: who, when, which question, yes or no."""

    source: str
    question: str  # key of codes.ATTESTATIONS
    answer: bool
    by: str | None
    date: dt.date | None
    time: str | None = None  # time of day of `date` as written ("08:15"), when given


@dataclass(frozen=True)
class Lesion:
    """One lesion as measured on one imaging study (mCODE TumorSize on a Tumor)."""

    source: str
    study: str  # the study's resource id ("ImagingStudy/ct-1")
    lesion_id: str  # the Tumor BodyStructure identifier: stable across studies
    organ: str = "unknown"
    nodal: bool = False
    longest_mm: float | None = None
    short_axis_mm: float | None = None
    transaxial_mm: float | None = None  # on the CT of a PET/CT
    krenning: int | None = None  # Rotterdam / Krenning visual grade 0-4
    new: bool = False
    equivocal: bool = False  # an equivocal new lesion (RECIST: dated once confirmed)
    bone_type: str | None = None  # lytic / mixed / blastic, as recorded
    soft_tissue_mm: float | None = None  # a bone lesion's soft-tissue component
    irradiated: bool | None = None
    target: bool = False
    nontarget_status: str | None = None  # present / absent / unequivocal_progression
    too_small: bool = False
    disappeared: bool = False
    # The lesion's identity: identifier "system|value" (no system: "|value"), and the
    # BodyStructure id. Lesions are one lesion only when system and value both match
    # (protocol notes): `lesion_id` is the value, qualified by the system where two
    # systems use one value (fhir.reader).
    identifier: str | None = None
    body: str | None = None
    # The organ as codes (BodyStructure.location: SNOMED body structure, ICD-O-3
    # topography), matched with radiotherapy sites by code, never by words.
    organ_codes: tuple[tuple[str, str], ...] = ()
    suv_max: float | None = None  # SUVmax on the PET/CT, g/mL: shown, never a grade

    def is_target_of(self, targets: tuple[str, ...]) -> bool:
        """Whether a procedure that targeted `targets` (BodyStructure ids, "system|value"
        identifiers, or bare lesion ids of records built without FHIR) targeted it."""
        keys = {self.identifier, self.body} if self.identifier or self.body else {
            self.lesion_id}
        return bool(keys & set(targets))


@dataclass(frozen=True)
class Study:
    """An imaging study: CT, MRI, SSTR PET/CT (68Ga/64Cu) or SSTR SPECT/CT."""

    source: str
    date: dt.date | None
    modality: str  # CT, MRI, SSTR_PET, SSTR_SPECT
    slice_thickness_mm: float | None = None
    lesions: tuple[Lesion, ...] = ()
    marrow_infiltration: bool | None = None  # diffuse bone-marrow infiltration seen
    tracer: str | None = None  # SSTR PET/CT tracer when recorded (codes.STUDY_TRACERS)
    # The body regions the study covers (codes.STUDY_REGIONS), and the region codes that
    # cannot be placed ("system|code"): with those, or with no region recorded, what the
    # study covers is unknown.
    regions: tuple[str, ...] = ()
    unplaced_regions: tuple[str, ...] = ()

    def covers(self, places: frozenset[str]) -> bool | None:
        """Whether the study covers one of `places`: True, False, or None when its region
        is not recorded or a region code cannot be placed (it may lie there)."""
        if set(self.regions) & places:
            return True
        return None if self.unplaced_regions or not self.regions else False

    def shown_regions(self) -> str:
        named = list(self.regions) + [f"{c} (not placed)" for c in self.unplaced_regions]
        return ", ".join(named) or "region not recorded"

    @property
    def baseline_label(self) -> str | None:
        """The I12 baseline assessment this study stands for."""
        return {"SSTR_PET": "68Ga PET/CT", "MRI": "MRI/CT", "CT": "MRI/CT"}.get(self.modality)


@dataclass(frozen=True)
class Symptom:
    """A hormone-related symptom recording: daily frequency and/or CTCAE v4.03 grade.

    `date` is the day recorded (effectiveDateTime) or the episode's start
    (effectivePeriod); `end` the episode's end. An episode with a start and no end is
    `ongoing` (ongoing on the screening date)."""

    source: str
    symptom: str
    date: dt.date | None
    frequency: float | None = None
    grade: int | None = None
    end: dt.date | None = None
    ongoing: bool = False
    # One symptom is one code, or one name whatever its spelling (notes, I3 c): the key
    # its recordings are grouped by (fhir.imaging_mapping.symptom_key).
    key: str = ""


@dataclass(frozen=True)
class Document:
    """A text the record holds: a report's conclusion or attached text, a document's
    attachment, an Observation's valueString, a Condition's or Procedure's note."""

    source: str  # "DiagnosticReport/r1", a part of it "DiagnosticReport/r1#presentedForm[0]"
    kind: str  # "pathology", "imaging" (radiology and nuclear medicine) or "clinic"
    date: dt.date | None  # the report's effective (else issued) date, else the document's
    text: str


# ConText modifiers under which a mention states nothing about the patient now.
NOT_AFFIRMED = frozenset({"negated", "uncertain", "family", "hypothetical"})


@dataclass(frozen=True)
class Mention:
    """One fact a text states, as the text reader found it (`trialsieve.text`).

    Never a decision by itself: under screening it is a suggestion to confirm; under
    pre-screening an affirmed mention counts, marked "from text" (notes and issue 21)."""

    fact: str  # a family of `trialsieve.text.FACTS`: "net_diagnosis", "ki67", ...
    value: str | float | None  # "G2", 8.0 (Ki-67 %), 34.0 (mm), "pancreas", 1 (ECOG)...
    unit: str | None  # UCUM, for a number: "%", "mm"
    document: str  # Document.source
    kind: str  # Document.kind
    date: dt.date | None  # the date the text gives the event, else the document's date
    sentence: str  # the sentence as written
    start: int  # character offsets of the sentence in Document.text
    end: int
    modifiers: tuple[str, ...] = ()  # ConText: negated, uncertain, historical, family, hypothetical
    details: tuple[tuple[str, str], ...] = ()  # ("organ", "liver"), ("krenning", "3")...
    language: str = "en"  # "en" or "fr"

    @property
    def affirmed(self) -> bool:
        return not NOT_AFFIRMED & set(self.modifiers)


@dataclass(frozen=True)
class Confirmation:
    """A report's sentence an investigator confirmed (issue 21): the coded resource that
    records it points to the sentence's span (fhir/confirmation.py), so that every output
    shows the suggestion as confirmed, by whom, when and in which resource."""

    span: str  # the sentence, as record.from_text.text_source: "DocumentReference/d#text:0-56"
    resource: str  # the confirming resource: "Condition/net-1a2b"
    by: str | None  # who confirmed, as recorded
    on: str | None  # when, as recorded (a date or a date-time)


@dataclass(frozen=True)
class Ignored:
    source: str
    reason: str


@dataclass(frozen=True)
class Damaged(Ignored):
    """A record set aside because a field could not be read, with the kind of fact it
    would have stated ("imaging", "symptom", a lab test key): a criterion reading that
    kind of fact cannot be met on the rest (the missing record might have changed it)."""

    about: str = ""


@dataclass(frozen=True)
class Warning:
    """A problem in the input that left the rest of the record usable."""

    file: str
    source: str
    field: str
    message: str
    line: int | None = None  # of an NDJSON file: a resource is found by its file and line

    def __str__(self) -> str:
        at = f"line {self.line}" if self.line is not None else ""
        return ": ".join(x for x in (self.file, at, self.source, self.field, self.message)
                         if x)


@dataclass
class PatientRecord:
    patient: Patient
    diagnoses: list[Diagnosis] = field(default_factory=list)
    histology: list[Histology] = field(default_factory=list)
    labs: list[LabResult] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)
    procedures: list[ProcedureRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ecog: list[Ecog] = field(default_factory=list)
    consents: list[ConsentRecord] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)
    imaging: list[Study] = field(default_factory=list)
    symptoms: list[Symptom] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)  # texts, read by trialsieve.text
    mentions: list[Mention] = field(default_factory=list)  # what those texts state
    confirmations: list[Confirmation] = field(default_factory=list)  # of those sentences
    ignored: list[Ignored] = field(default_factory=list)  # records not counted, with why
    # read, and of no use to any criterion (a type none reads, a lab none needs): why
    unused: list[Ignored] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    # resources by type: read (for this patient), used (became a fact), ignored
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    file: str = ""

    def labs_of(self, test: str) -> list[LabResult]:
        return [lab for lab in self.labs if lab.test == test]

    def answers(self, question: str) -> list[Attestation]:
        return [a for a in self.attestations if a.question == question]

    def findings_of(self, fact: str) -> list[Finding]:
        return [f for f in self.findings if f.fact == fact]
