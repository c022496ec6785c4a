"""Texts in FHIR (issue 21): report conclusions and attached text, documents (plain,
HTML, base64 or a Binary of the input), free-text values and notes become the record's
documents, with their dates and kinds; what cannot be read is a warning naming the
resource and field, never a traceback or a silent drop."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

from builders import SHARED_DATA

from trialsieve.fhir import reader

LOINC = "http://loinc.org"


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def bundle(tmp_path: Path, *resources: dict) -> Path:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in
               ({"resourceType": "Patient", "id": "p1", "gender": "female",
                 "birthDate": "1961-04-02"}, *resources)]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": entries}), encoding="utf-8")
    return path


def subject(res: dict) -> dict:
    return {**res, "subject": {"reference": "Patient/p1"}}


PATHOLOGY = subject({
    "resourceType": "DiagnosticReport", "id": "path1", "status": "final",
    "code": {"coding": [{"system": LOINC, "code": "60568-3"}]},
    "effectiveDateTime": "2026-03-02", "issued": "2026-03-05T10:00:00Z",
    "conclusion": "TNE bien différenciée G2, Ki-67 8 %.",
    "presentedForm": [{"contentType": "text/plain; charset=utf-8",
                       "data": b64("Absence de métastase cérébrale.")}]})
CT = subject({
    "resourceType": "DiagnosticReport", "id": "ct1", "status": "final",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                              "code": "RAD"}]}],
    "code": {"text": "CT thorax abdomen pelvis"}, "issued": "2026-04-01T09:00:00Z",
    "presentedForm": [{"contentType": "text/html",
                       "data": b64("<html><style>p{}</style><body><p>Liver segment VII "
                                   "lesion 34&nbsp;mm.</p><table><tr><td>ECOG</td><td>1"
                                   "</td></tr></table></body></html>")}]})
LETTER = subject({
    "resourceType": "DocumentReference", "id": "letter1", "status": "current",
    "type": {"coding": [{"system": LOINC, "code": "11488-4"}]}, "date": "2026-04-10T08:00:00Z",
    "content": [{"attachment": {"contentType": "text/plain", "url": "Binary/bin1"}}]})
BINARY = {"resourceType": "Binary", "id": "bin1", "contentType": "text/plain",
          "data": b64("No brain metastases. She is breastfeeding.")}
NOTE = subject({
    "resourceType": "Condition", "id": "c1", "recordedDate": "2026-01-15",
    "code": {"text": "pancreatic tumour"},
    "note": [{"text": "Well-differentiated pancreatic neuroendocrine tumour."}]})
VALUE = subject({
    "resourceType": "Observation", "id": "o1", "status": "final",
    "code": {"text": "performance status"}, "effectiveDateTime": "2026-04-11",
    "valueString": "Karnofsky 80 %"})


def read(tmp_path: Path, *resources: dict):
    (rec,) = reader.read(bundle(tmp_path, *resources)).records
    return rec


def test_each_source_is_a_document_with_its_date_and_kind(tmp_path: Path) -> None:
    rec = read(tmp_path, PATHOLOGY, CT, LETTER, BINARY, NOTE, VALUE)
    docs = {d.source: (d.kind, d.date, d.text) for d in rec.documents}
    assert docs == {
        # the report's effective date, before its issued date
        "DiagnosticReport/path1": ("pathology", date(2026, 3, 2),
                                   "TNE bien différenciée G2, Ki-67 8 %."),
        "DiagnosticReport/path1#presentedForm[0]": ("pathology", date(2026, 3, 2),
                                                    "Absence de métastase cérébrale."),
        # no effective date: issued; a RAD category: imaging; HTML as its text
        "DiagnosticReport/ct1#presentedForm[0]": ("imaging", date(2026, 4, 1),
                                                  "Liver segment VII lesion 34 mm.\nECOG 1"),
        # a url to a Binary of the input; the LOINC consult note code: clinic
        "DocumentReference/letter1#content[0]": ("clinic", date(2026, 4, 10),
                                                 "No brain metastases. She is breastfeeding."),
        "Condition/c1#note[0]": ("clinic", date(2026, 1, 15),
                                 "Well-differentiated pancreatic neuroendocrine tumour."),
        "Observation/o1": ("clinic", date(2026, 4, 11), "Karnofsky 80 %"),
    }
    assert not rec.warnings


def test_the_record_holds_what_its_texts_state(tmp_path: Path) -> None:
    rec = read(tmp_path, PATHOLOGY, CT, LETTER, BINARY, NOTE, VALUE)
    found = {(m.document, m.fact, m.value, m.modifiers) for m in rec.mentions}
    assert {("DiagnosticReport/path1", "net_diagnosis", "well", ()),
            ("DiagnosticReport/path1", "who_grade", "G2", ()),
            ("DiagnosticReport/path1", "ki67", 8.0, ()),
            ("DiagnosticReport/path1#presentedForm[0]", "brain_metastases", None,
             ("negated",)),
            ("DiagnosticReport/ct1#presentedForm[0]", "lesion", 34.0, ()),
            ("DiagnosticReport/ct1#presentedForm[0]", "ecog", 1, ()),
            ("DocumentReference/letter1#content[0]", "brain_metastases", None, ("negated",)),
            ("DocumentReference/letter1#content[0]", "breastfeeding", None, ()),
            ("Condition/c1#note[0]", "primary_site", "pancreas", ()),
            ("Observation/o1", "ecog", 1, ())} <= found
    ki67 = next(m for m in rec.mentions if m.fact == "ki67")
    doc = next(d for d in rec.documents if d.source == ki67.document)
    assert doc.text[ki67.start:ki67.end] == ki67.sentence == "TNE bien différenciée G2, Ki-67 8 %."
    assert (ki67.unit, ki67.date, ki67.kind, ki67.language) == ("%", date(2026, 3, 2),
                                                               "pathology", "fr")


def test_what_cannot_be_read_is_said(tmp_path: Path) -> None:
    bad = subject({
        "resourceType": "DocumentReference", "id": "bad1", "status": "current",
        "date": "2026-04-10",
        "content": [{"attachment": {"contentType": "text/plain", "data": "@@not base64@@"}},
                    {"attachment": {"contentType": "application/pdf", "data": b64("%PDF")}},
                    {"attachment": {"contentType": "text/plain", "url": "Binary/elsewhere"}},
                    {"attachment": {"contentType": "text/plain; charset=utf-8",
                                    "data": base64.b64encode(b"\xff\xfe\xfa").decode()}},
                    {"attachment": {"contentType": "text/plain", "data": b64("ECOG 0")}}]})
    rec = read(tmp_path, bad)
    said = {(w.source, w.field, w.message) for w in rec.warnings}
    assert said == {
        ("DocumentReference/bad1", "content[0].attachment.data",
         "not valid base64: text not read"),
        ("DocumentReference/bad1", "content[1].attachment.contentType",
         "content type 'application/pdf' is not text: not read"),
        ("DocumentReference/bad1", "content[2].attachment.url",
         "'Binary/elsewhere' is not in the input: text not read"),
        ("DocumentReference/bad1", "content[3].attachment.data",
         "not utf-8 text: not read"),
    }
    assert all(w.file.endswith("bundle.json") for w in rec.warnings)
    # the readable attachment beside them is read
    assert [(d.source, d.text) for d in rec.documents] == [
        ("DocumentReference/bad1#content[4]", "ECOG 0")]
    assert [(m.fact, m.value) for m in rec.mentions] == [("ecog", 0)]


def test_entered_in_error_text_is_not_read(tmp_path: Path) -> None:
    rec = read(tmp_path, {**PATHOLOGY, "status": "entered-in-error"})
    assert rec.documents == [] and rec.mentions == []


def test_a_record_without_text_has_no_mentions(tmp_path: Path) -> None:
    rec = read(tmp_path)
    assert rec.documents == [] and rec.mentions == []


def test_synthea_notes_read_without_error() -> None:
    """Synthea's own DocumentReference notes: every one read, none about a NET."""
    result = reader.read(SHARED_DATA / "synthea-bulk-ndjson" / "10-patients")
    docs = [d for r in result.records for d in r.documents]
    assert len(docs) == 1215
    assert all(d.kind == "clinic" and d.date is not None for d in docs)
    mentions = [m for r in result.records for m in r.mentions]
    assert not [m for m in mentions if m.fact in ("net_diagnosis", "who_grade", "ki67")]
    assert not [w for r in result.records for w in r.warnings if "text" in w.message]
