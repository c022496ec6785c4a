"""Reading the reports: the facts pathology, radiology and clinic texts state (issue 21).

`Document` and `Mention` (in `trialsieve.record`) are the contract between the reader,
which gathers a patient's texts into `PatientRecord.documents`, the text reader, which
turns them into `PatientRecord.mentions`, and the rules, which show a mention as a
suggestion to confirm (screening) or count an affirmed one "from text" (pre-screening).
"""

from trialsieve.record.facts import Document, Mention

# The fact families a text can state, with the criterion each informs.
FACTS: dict[str, str] = {
    "net_diagnosis": "INCL02",  # value: "well", "poor" or None (differentiation)
    "who_grade": "INCL02",  # value: "G1", "G2", "G3"
    "ki67": "INCL02",  # value: percent, unit "%"
    "primary_site": "INCL02",  # value: "pancreas", "small intestine", ...
    "metastatic": "INCL02",  # value: "metastatic" or "locally advanced"
    "progression": "INCL03",  # value: "RECIST" or "SSTR" or None; date: of the scan
    "new_lesion": "INCL03",  # details: organ
    "lesion": "INCL13",  # value: size (unit "mm"); details: organ, krenning
    "marrow_infiltration": "EXCL04",
    "brain_metastases": "EXCL06",  # details: ("controlled", "yes"/"no") when said
    "ecog": "INCL09",  # value: 0-4 (a Karnofsky score converted, details: karnofsky)
    "pregnant": "EXCL08",
    "breastfeeding": "EXCL08",
    "postmenopausal": "INCL10",  # and EXCL08, EXCL09 (childbearing potential)
    "sterilised": "INCL10",
    "major_surgery": "EXCL02",  # date: of the operation
    "radiotherapy": "EXCL03",  # and EXCL05, INCL13; details: site; date: of the course
}


def read(document: Document) -> list[Mention]:
    """The mentions a document states (medspaCy, loaded on first use): each with its
    sentence, the sentence's character offsets in `document.text`, and the ConText
    modifiers that applied. Pure: the same document gives the same mentions."""
    from trialsieve.text.reader import read as read_document

    return read_document(document)
