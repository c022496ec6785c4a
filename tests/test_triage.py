"""The pre-screening triage's look (population/triage.py) may be wider than the reader,
never narrower: whatever record the reader reads a neuroendocrine neoplasm or a pathology
result from, the look finds something in its text, in Python and in DuckDB's SQL alike.
And it must not fire on what every hospital record is full of (narratives with escaped
quotes, accented names, ids), or it would set no one aside.

The JSON lines are written by hand, escapes included, as an exporter could write them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve import codes as C
from trialsieve.fhir import concept_map
from trialsieve.fhir.concept_map import EMPTY, ConceptMapping
from trialsieve.fhir.reader import _record
from trialsieve.population.triage import look, might_be_net
from trialsieve.rules.disease import no_neuroendocrine_neoplasm

PATIENT = '{"resourceType": "Patient", "id": "p", "birthDate": "1960-01-01"}'
SQL = duckdb.connect()
REPO = Path(__file__).resolve().parent.parent


def reads_net(lines: list[str], mapping: ConceptMapping = EMPTY) -> bool:
    """What the reader finds: a neuroendocrine diagnosis or a pathology result."""
    items = [("in.ndjson", orjson.loads(x)) for x in [PATIENT, *lines]]
    return not no_neuroendocrine_neoplasm(_record("p", items, lambda _: None, mapping))


def looks(lines: list[str], mapping: ConceptMapping = EMPTY) -> bool:
    """The look in Python; the scan's SQL (DuckDB's RE2) must say the same of each line."""
    lk = look(mapping)
    for x in lines:
        assert SQL.execute(f"SELECT {lk.sql('x')} FROM (SELECT ? AS x)", [x]).fetchone()[0] \
            == might_be_net([x], lk), x
    return might_be_net(lines, lk)


def condition(coding: str) -> str:
    return ('{"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"}, '
            '"code": {"coding": [' + coding + "]}}")


ICD10 = '"system": "http://hl7.org/fhir/sid/icd-10-cm", '
ICDO3 = '"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", '


@pytest.mark.parametrize("line", [
    condition('{' + ICD10 + '"code": "C7A.010"}'),
    condition('{' + ICD10 + '"code": "c7a.010"}'),  # the reader reads any case
    condition('{' + ICD10 + '"code": "C.7.A.0.1.0"}'),  # and drops every dot
    condition('{' + ICD10 + '"code": ".C254"}'),
    condition('{' + ICD10 + '"code":"C25.4"}'),
    condition('{' + ICD10 + '"code"\t:  "C7B.02"}'),  # JSON whitespace
    condition('{' + ICD10 + '"code": "C\\u0037A.010"}'),  # an escape in the value
    condition('{' + ICD10 + '"co\\u0064e": "C7A.010"}'),  # an escape in the key
    condition('{' + ICDO3 + '"code": "8240/3"}'),
    condition('{' + ICDO3 + '"code": "8240\\/3"}'),  # JSON may escape the slash
    condition('{"system": "' + C.PROJECT + '", "code": "gep-net"}'),
    '{"resourceType": "Observation", "id": "o", "status": "final", "subject": {"reference": '
    '"Patient/p"}, "code": {"coding": [{"system": "http://loinc.org", "code": "59847-4"}]}}',
    '{"resourceType": "DiagnosticReport", "id": "d", "status": "final", "subject": '
    '{"reference": "Patient/p"}, "code": {"coding": [{"system": "http://loinc.org", '
    '"code": "60567-5"}]}, "conclusionCode": [{"coding": [{' + ICDO3 + '"code": "8246/3"}]}]}',
])
def test_what_the_reader_reads_as_a_net_or_a_pathology_the_look_finds(line):
    assert reads_net([line]), "the case must be one the reader reads"
    assert looks([line])


@pytest.mark.parametrize("line", [
    condition('{"system": "http://snomed.info/sct", "code": "44054006"}'),  # diabetes
    condition('{' + ICD10 + '"code": "C18.9"}'),  # colon cancer, not a NET
    condition('{' + ICD10 + '"code": "C25.0"}'),  # pancreatic adenocarcinoma
    condition('{' + ICDO3 + '"code": "82403"}'),
    '{"resourceType": "Patient", "id": "c7a10b2e", "name": [{"family": "Dupr\\u00e9"}], '
    '"text": {"div": "<div xmlns=\\"http://www.w3.org/1999/xhtml\\">Dupr\\u00e9</div>"}}',
    '{"resourceType": "Observation", "id": "c7a1", "status": "final", "subject": '
    '{"reference": "urn:uuid:c254aa"}, "code": {"coding": [{"system": "http://loinc.org", '
    '"code": "718-7"}]}, "note": [{"text": "see \\"C7A\\" \\/ 8240\\/3"}]}',
])
def test_the_look_does_not_fire_on_what_every_record_holds(line):
    assert not reads_net([line])
    assert not looks([line])


def test_a_site_code_mapped_to_a_net_is_looked_for(tmp_path: Path):
    cmap = tmp_path / "map.json"
    cmap.write_text(json.dumps({"resourceType": "ConceptMap", "id": "dx", "status": "active",
                                "group": [{"source": "urn:site:dx", "target": C.ICD10CM,
                                           "element": [{"code": code, "target": [
                                               {"code": "C7A.010", "equivalence": "equivalent"}]}
                                               for code in ("NET-SI", 'N"1')]}]}))
    mapping = concept_map.load([str(cmap)])
    for code in ('"NET-SI"', '"N\\"1"'):
        line = condition('{"system": "urn:site:dx", "code": ' + code + "}")
        assert not reads_net([line]) and not looks([line])  # without the map: nothing
        assert reads_net([line], mapping) and looks([line], mapping)


# --- generated codings: wider, never narrower -------------------------------------------
SYSTEMS = [C.ICD10, C.ICD10CM, C.ICDO3, C.PROJECT, C.SNOMED, C.LOINC, ""]
KNOWN = sorted({*C.ICDO3_WELL, *C.ICDO3_POOR, *C.ICDO3_MIXED, "gep-net", "C7A.010",
                "C7B.00", "C25.4", "C7A.1", *(c for _, c in C.PATHOLOGY_REPORTS)})


@st.composite
def codes(draw) -> str:
    """A known code bent as exporters bend them (case, dots, padding), or noise."""
    code = draw(st.one_of(st.sampled_from(KNOWN),
                          st.text(alphabet="Cc7AaBb254.0/3-8 é\"\\", max_size=9)))
    if draw(st.booleans()):
        code = code.lower() if draw(st.booleans()) else code.upper()
    if draw(st.booleans()):
        at = draw(st.integers(0, len(code)))
        code = code[:at] + "." * draw(st.integers(1, 2)) + code[at:]
    return code


@st.composite
def resources(draw) -> dict:
    coding = [{"system": draw(st.sampled_from(SYSTEMS)), "code": draw(codes())}
              for _ in range(draw(st.integers(1, 3)))]
    rtype = draw(st.sampled_from(["Condition", "Observation", "DiagnosticReport"]))
    res: dict = {"resourceType": rtype, "id": "r", "subject": {"reference": "Patient/p"},
                 "code": {"coding": coding}}
    if rtype != "Condition":
        res["status"] = "final"
    if rtype == "DiagnosticReport" and draw(st.booleans()):
        res["code"] = {"coding": [{"system": C.LOINC, "code": "60567-5"}]}
        res["conclusionCode"] = [{"coding": coding}]
    return res


@settings(max_examples=400, deadline=None)
@given(resources(), st.booleans(), st.sampled_from([(", ", ": "), (",", ":"), (" ,", " :  ")]))
def test_the_look_finds_every_generated_net_the_reader_reads(res, ascii_only, separators):
    line = json.dumps(res, ensure_ascii=ascii_only, separators=separators)
    if reads_net([line]):
        assert looks([line]), line
    else:
        looks([line])  # Python and DuckDB still agree


# --- texts (issue 21): a NET written only in a report is never set aside ----------------
def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _report(field: str, value: object) -> str:
    res = {"resourceType": "DiagnosticReport", "id": "r", "status": "final",
           "subject": {"reference": "Patient/p"}, field: value}
    return json.dumps(res)


def _attached(text: str, ensure_ascii: bool = True) -> str:
    res = {"resourceType": "DocumentReference", "id": "d", "status": "current",
           "subject": {"reference": "Patient/p"},
           "content": [{"attachment": {"contentType": "text/plain", "data": _b64(text)}}]}
    return json.dumps(res, ensure_ascii=ensure_ascii)


REPORT_NETS = [
    "Conclusion : TNE bien différenciée G2, Ki-67 8 %.",
    "Well-differentiated neuroendocrine tumour (NET), grade 2.",
    "Tumeur neuro\u2011endocrine du pancréas.",  # a non-breaking hyphen, escaped in JSON
    "Carcinoïde de l'iléon.",
    "History:\npNET, liver metastases.",
    "NEC G3",
]


@pytest.mark.parametrize("text", REPORT_NETS)
def test_a_net_written_only_in_a_report_is_looked_at(text):
    """Wider than the text reader's net_diagnosis rules: the words they match, in a
    report's conclusion, an Observation's valueString, a note, or a base64 attachment."""
    for ea in (True, False):
        assert looks([json.dumps({"resourceType": "Observation", "id": "o",
                                  "valueString": text}, ensure_ascii=ea)]), (text, ea)
        assert looks([_report("conclusion", text)]), text
        assert looks([json.dumps({"resourceType": "Condition", "id": "c",
                                  "note": [{"text": text}]}, ensure_ascii=ea)]), text
        assert looks([_attached(text, ea)]), text


def test_an_attachment_that_does_not_decode_is_looked_at():
    line = _report("presentedForm", [{"contentType": "text/plain", "data": "not base64!"}])
    assert looks([line])


@pytest.mark.parametrize("text", [
    "Hypertension, well controlled. Internet access at home.",
    "Adenocarcinoma of the colon, ONE lesion; NETWORK of care.",
])
def test_a_report_with_no_net_word_is_not_looked_at(text):
    assert not looks([_report("conclusion", text)])
    assert not looks([_attached(text)])


def test_the_look_does_not_fire_on_synthea_notes():
    """Synthea's own notes (base64 DocumentReferences) name no NET: their patients are
    still set aside (issue 21, targets)."""
    bundles = sorted((REPO.parent / "shared" / "data" / "synthea-openmrs-bundles").glob(
        "*.json"))[:8]
    assert bundles
    for path in bundles:
        entries = json.loads(path.read_text())["entry"]
        lines = [json.dumps(e["resource"]) for e in entries]
        assert any('"data"' in x for x in lines), path.name
        assert not might_be_net(lines, look(EMPTY)), path.name


# The attachments' base64 as exporters write it: several attachments, JSON spaces around
# the colon, escaped slashes and line breaks in the base64, a "data" that is a text's
# word or another key's value, not an attachment.
ATTACHED_TEXTS = [*REPORT_NETS, "Routine follow-up. Vitals stable.", "no net word here",
                  "data", '"data": "TkVU"']


@st.composite
def attachment_lines(draw) -> tuple[str, bool]:
    """A DocumentReference line with attachments, and whether one of them says a NET."""
    texts = draw(st.lists(st.sampled_from(ATTACHED_TEXTS), min_size=1, max_size=3))
    says = any(t in REPORT_NETS for t in texts)
    parts = []
    for t in texts:
        data = _b64(t)
        if draw(st.booleans()):
            data = data.replace("/", "\\/")
        if draw(st.booleans()) and len(data) > 4:
            data = data[:4] + "\\n" + data[4:]  # a line break written in the base64
        colon = draw(st.sampled_from([":", " : ", ":\t", "\n:\n  "]))
        before = draw(st.sampled_from(["", '"title": "data", ', '"title": "\\"data\\"", ']))
        parts.append('{"attachment": {' + before + '"contentType": "text/plain", "data"'
                     + colon + '"' + data + '"}}')
    line = ('{"resourceType": "DocumentReference", "id": "d", "status": "current", '
            '"subject": {"reference": "Patient/p"}, "content": [' + ", ".join(parts) + "]}")
    json.loads(line)  # a JSON line, as the reader would read it
    return line, says


@settings(max_examples=300, deadline=None)
@given(attachment_lines())
def test_an_attachment_that_says_a_net_is_looked_at_however_written(case):
    """Each "data" key's base64 is decoded and looked at, however the JSON around it is
    spaced, in Python and DuckDB alike (the SQL cuts the line at each "data" key)."""
    line, says = case
    if says:
        assert looks([line]), line
    else:
        looks([line])  # Python and DuckDB still agree


# --- an attachment at a url (issue 21): the reader follows it to a Binary of the input --
def _at_url(url: str, field: str = "attachment") -> str:
    att = {"contentType": "text/plain", "url": url}
    res = ({"resourceType": "DocumentReference", "id": "d", "status": "current",
            "subject": {"reference": "Patient/p"}, "content": [{"attachment": att}]}
           if field == "attachment" else
           {"resourceType": "DiagnosticReport", "id": "r", "status": "final",
            "subject": {"reference": "Patient/p"}, "presentedForm": [att]})
    return json.dumps(res)


@pytest.mark.parametrize("field", ["attachment", "presentedForm"])
@pytest.mark.parametrize("url", ["Binary/b1", "urn:uuid:0b5d3c9e-1111-4c2b-9d1e-3f0a7e6b2a10"])
def test_a_net_written_only_in_a_binary_at_a_url_is_looked_at(field, url):
    """The reader follows the url to the Binary and reads the NET there; the look, which
    sees one line at a time, finds the url (Python and DuckDB alike) and keeps the patient."""
    binary = {"resourceType": "Binary", "id": url.split("/")[-1].removeprefix("urn:uuid:"),
              "contentType": "text/plain", "data": _b64(REPORT_NETS[0])}
    line = _at_url(url, field)
    lookup = {binary["id"]: binary, f"Binary/{binary['id']}": binary, url: binary}
    items = [("in.ndjson", orjson.loads(x)) for x in [PATIENT, line]]
    from trialsieve import text

    if text.available():
        rec = _record("p", items, lookup.get, EMPTY)
        assert any(m.fact == "net_diagnosis" for m in rec.mentions)
    assert looks([line])


def test_a_url_that_is_not_an_attachment_is_not_looked_at():
    """Every extension has a "url": only an attachment's keeps a patient."""
    line = json.dumps({"resourceType": "Observation", "id": "o", "status": "final",
                       "extension": [{"url": "http://example.org/x", "valueString": "y"}],
                       "code": {"text": "weight"}})
    assert not looks([line])
