"""FHIR of an earlier release (STU3, DSTU2), told apart from R4 by what R4 does not have.

An STU3 resource mostly parses as R4, and what does not (a status written as a code
where R4 has a CodeableConcept) would be read as damage of that one resource, so that a
whole record is screened on what is left of it. Such a file is named as what it is and
not read at all: a file is of one release, and the rest of it cannot be trusted either.

Only marks that cannot be valid R4 are used: a resource type R4 does not have, an element
R4 does not have, or one whose JSON type R4 changed. An R4 resource never carries them.
"""

from __future__ import annotations

from dataclasses import dataclass

STU3 = "FHIR STU3"
DSTU2 = "FHIR DSTU2"

# resource types of the earlier releases that R4 renamed or dropped
_TYPES = {
    **dict.fromkeys(("ProcedureRequest", "ReferralRequest"), f"{STU3} or DSTU2"),
    **dict.fromkeys(("BodySite", "DataElement", "DeviceComponent", "EligibilityRequest",
                     "EligibilityResponse", "ExpansionProfile", "ImagingManifest",
                     "ProcessRequest", "ProcessResponse", "Sequence", "ServiceDefinition"),
                    STU3),
    **dict.fromkeys(("MedicationOrder", "Order", "OrderResponse", "DiagnosticOrder",
                     "DeviceUseRequest", "Conformance"), DSTU2),
}

# elements R4 does not have, by resource type (the release that has them)
_ELEMENTS: dict[str, dict[str, str]] = {
    # DSTU2's marks first: an element both releases have is then STU3's
    "Condition": {"patient": DSTU2, "dateRecorded": DSTU2, "assertedDate": STU3,
                  "context": STU3},
    "AllergyIntolerance": {"assertedDate": STU3},
    "Observation": {"context": STU3},
    "MedicationStatement": {"patient": DSTU2, "wasNotTaken": DSTU2, "taken": STU3,
                            "notTaken": STU3, "reasonNotTaken": STU3},
    "MedicationRequest": {"context": STU3},
    "MedicationAdministration": {"patient": DSTU2, "wasNotGiven": DSTU2, "notGiven": STU3,
                                 "reasonNotGiven": STU3},
    "Procedure": {"notPerformed": DSTU2, "reasonNotPerformed": DSTU2, "notDone": STU3,
                  "notDoneReason": STU3, "context": STU3, "definition": STU3},
    "DiagnosticReport": {"context": STU3, "codedDiagnosis": f"{STU3} or DSTU2",
                         "image": f"{STU3} or DSTU2"},
    "Consent": {"consentingParty": STU3, "period": STU3, "except": STU3, "purpose": STU3,
                "dataPeriod": STU3, "actor": STU3},
    "QuestionnaireResponse": {"context": STU3, "parent": STU3},
    "Immunization": {"notGiven": STU3, "explanation": STU3, "date": STU3},
    "Patient": {"animal": f"{STU3} or DSTU2"},
}

# elements R4 made a CodeableConcept (or a canonical) that were a code (or a Reference)
_CODES = {"clinicalStatus": str, "verificationStatus": str}
_SHAPES: dict[str, dict[str, tuple[type, str, str]]] = {
    # DSTU2 (its Condition.patient) was told apart above
    "Condition": {f: (t, STU3, "a code here, a CodeableConcept in R4")
                  for f, t in _CODES.items()},
    "AllergyIntolerance": {f: (t, STU3, "a code here, a CodeableConcept in R4")
                           for f, t in _CODES.items()},
    "QuestionnaireResponse": {"questionnaire": (dict, STU3, "a Reference here, a canonical "
                                                "URL in R4")},
    "Consent": {"policyRule": (str, STU3, "a URI here, a CodeableConcept in R4")},
}


@dataclass(frozen=True)
class Earlier:
    """Why a resource is of an earlier FHIR release than R4."""

    release: str  # "FHIR STU3", "FHIR DSTU2", "FHIR STU3 or DSTU2"
    field: str  # the element that shows it ("resourceType" for a type)
    why: str

    @property
    def message(self) -> str:
        return f"{self.release} is not read; trialsieve reads R4 ({self.why})"


def earlier(res: dict) -> Earlier | None:
    """The first mark of an earlier release in `res`, or None (R4 as far as can be told)."""
    rtype = res.get("resourceType")
    if not isinstance(rtype, str):
        return None
    if rtype in _TYPES:
        return Earlier(_TYPES[rtype], "resourceType", f"{rtype} is not an R4 resource type")
    for name, release in _ELEMENTS.get(rtype, {}).items():
        if name in res:
            return Earlier(release, name, f"{rtype}.{name} is not an R4 element")
    for name, (shape, release, why) in _SHAPES.get(rtype, {}).items():
        if isinstance(res.get(name), shape):
            return Earlier(release, name, why)
    return None


def line_patterns() -> dict[str, str]:
    """By resource type, a regular expression (Python's and Java's alike) that the JSON
    text of every resource of that type holding a mark matches (a mark's key at any
    depth: a cheap superset, for a scan that reads `earlier` of the lines it finds); an
    earlier release's own types match anything."""
    out = {t: "" for t in _TYPES}
    out.update({t: _keys(t) for t in dict.fromkeys((*_ELEMENTS, *_SHAPES))})
    return out


def _keys(rtype: str) -> str:
    keys = [f'"{name}"' + r"\s*:" for name in _ELEMENTS.get(rtype, {})]
    keys += [f'"{name}"' + r"\s*:\s*" + _STARTS[shape]
             for name, (shape, _, _) in _SHAPES.get(rtype, {}).items()]
    return "|".join(keys)


# --- the same marks, as SQL for the DuckDB scan of `prescreen` ------------------------
SQL_MARK = "\x03"  # starts the scan's reason of a line of an earlier release

# JSON types (DuckDB's json_type) of the shapes above
_JSON_TYPE: dict[type, str] = {str: "VARCHAR", dict: "OBJECT"}


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def elements(types: frozenset[str] | None = None) -> list[str]:
    """The element names a scan fetches to find the marks (of `types`; None: all)."""
    names = {name for table in (_ELEMENTS, _SHAPES) for rtype, marks in table.items()
             if types is None or rtype in types for name in marks}
    return sorted(names)


def _found(e: Earlier) -> str:
    """The scan's reason for a mark: SQL_MARK, the element, SQL_MARK, the message."""
    return _quoted(f"{SQL_MARK}{e.field}{SQL_MARK}{e.message}")


# a JSON value's first character, by the shape R4 changed
_STARTS: dict[type, str] = {str: '"', dict: r"\{"}


def _of_type(rtype: str, value, line: str | None = None) -> str:
    """SQL: the first mark of a resource of type `rtype`, in the order of `earlier`.
    `line`: the column of the raw JSON text, looked at first with one regular expression
    for the marks' keys (a key at any depth, a cheap superset): the JSON is parsed again
    only for a line that may hold one (an R4 Condition holds its clinicalStatus as an
    object, so a line whose key is not followed by a string is never parsed)."""
    whens = [f"WHEN {value(name)} IS NOT NULL THEN "
             f"{_found(Earlier(release, name, f'{rtype}.{name} is not an R4 element'))}"
             for name, release in _ELEMENTS.get(rtype, {}).items()]
    whens += [f"WHEN json_type({value(name)}) = '{_JSON_TYPE[shape]}' THEN "
              f"{_found(Earlier(release, name, why))}"
              for name, (shape, release, why) in _SHAPES.get(rtype, {}).items()]
    if not whens:
        return "NULL"
    if line is None:
        return f"CASE {' '.join(whens)} END"
    return f"CASE WHEN regexp_matches({line}, {_quoted(_keys(rtype))}) THEN " \
           f"CASE {' '.join(whens)} END END"


def sql(rtype: str, value, first: object = None, types: frozenset[str] | None = None,
        line: str | None = None) -> str:
    """SQL: the first mark of an earlier release of a row (as `earlier` finds it), as
    SQL_MARK + element + SQL_MARK + message, or NULL. `rtype`: the column of the type;
    `value(name)`: SQL for the element's JSON (NULL when absent); `first`: the type of
    most rows (answered by one comparison); `types`: the row types to look at (None:
    all, the earlier releases' own types included); `line`: the column of the JSON text,
    when `value` parses it (`_of_type`)."""
    marked = [t for t in (*_ELEMENTS, *_SHAPES) if types is None or t in types]
    whens = [f"WHEN {rtype} = {_quoted(t)} THEN {_of_type(t, value, line)}"
             for t in dict.fromkeys(marked)]
    if types is None:
        whens = [f"WHEN {rtype} = {_quoted(t)} THEN "
                 f"{_found(Earlier(release, 'resourceType', f'{t} is not an R4 resource type'))}"
                 for t, release in _TYPES.items()] + whens
    if not whens:
        return "NULL"
    whole = f"CASE {' '.join(whens)} END"
    if not isinstance(first, str) or (types is not None and first not in types):
        return whole
    mine = (_found(Earlier(_TYPES[first], "resourceType", f"{first} is not an R4 resource "
                           "type")) if first in _TYPES and types is None
            else _of_type(first, value, line))
    return f"CASE WHEN {rtype} = {_quoted(first)} THEN {mine} ELSE {whole} END"
