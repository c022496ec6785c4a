"""The texts a record holds (issue 21): report conclusions and attached text, document
attachments, Observation valueString, Condition and Procedure notes, each as a `Document`
with its date and kind. What cannot be read (bad base64, a PDF, a url outside the input)
is a warning naming the resource and field, never a silent drop.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from typing import Any

from trialsieve import codes as C
from trialsieve.fhir.errors import FieldError
from trialsieve.fhir.values import codings, effective, get_list, parse_date
from trialsieve.record import Document

Lookup = Callable[[str], dict | None]
Problem = tuple[str, str, str]  # (source, field, message): a warning, its file added by the reader

# Types that may hold text, and the statuses under which their text does not count.
TEXT_TYPES = frozenset({"DiagnosticReport", "DocumentReference", "Observation", "Condition",
                        "Procedure"})
VOID = {"entered-in-error", "cancelled", "refuted"}
READABLE = {"text/plain", "text/html", "application/xhtml+xml"}


def documents(res: dict, lookup: Lookup) -> tuple[list[Document], list[Problem]]:
    """The texts of one resource, and the problems met reading them."""
    rtype, status = res.get("resourceType"), res.get("status")
    if rtype not in TEXT_TYPES or (isinstance(status, str) and status in VOID):
        return [], []  # (a status of the wrong type is the mapper's warning to give)
    src = f"{rtype}/{res.get('id', '?')}"
    found: list[tuple[str, str]] = []  # (source, text)
    problems: list[Problem] = []

    def add(source: str, text: Any) -> None:
        if isinstance(text, str) and text.strip():
            found.append((source, text))

    if rtype == "DiagnosticReport":
        add(src, res.get("conclusion"))
        for i, att in enumerate(get_list(res, "presentedForm")):
            add(f"{src}#presentedForm[{i}]",
                _attachment(att, lookup, src, f"presentedForm[{i}]", problems))
    elif rtype == "DocumentReference":
        for i, content in enumerate(get_list(res, "content")):
            att = content.get("attachment") if isinstance(content, dict) else None
            add(f"{src}#content[{i}]",
                _attachment(att, lookup, src, f"content[{i}].attachment", problems))
    elif rtype == "Observation":
        add(src, res.get("valueString"))
    for i, note in enumerate(get_list(res, "note")):
        if isinstance(note, dict):
            add(f"{src}#note[{i}]", note.get("text"))
    if not found:  # most resources hold no text: their date and kind are not worked out
        return [], problems
    dated: list[Problem] = []
    when, kind = _date(res, src, dated), _kind(res)
    return [Document(source, kind, when, text) for source, text in found], dated + problems


def _date(res: dict, src: str, problems: list[Problem]) -> date | None:
    """The report's effective date, else issued; the document's date; a Condition's
    recorded date; a Procedure's performed date. An unreadable one is said, not guessed."""
    rtype = res["resourceType"]
    try:
        if rtype in ("DiagnosticReport", "Observation"):
            return effective(res, "effective")[0] or parse_date(res.get("issued"), "issued")
        if rtype == "DocumentReference":
            return parse_date(res.get("date"), "date")
        if rtype == "Procedure":
            return effective(res, "performed")[0]
        return parse_date(res.get("recordedDate"), "recordedDate")
    except FieldError as exc:
        problems.append((src, exc.field, f"{exc}: the text is read without a date"))
        return None


def _kind(res: dict) -> str:
    """pathology, imaging or clinic: from the LOINC document or report code, then the
    category, else the resource type (a note or a free-text value is a clinic text)."""
    for field in ("type", "code"):
        try:
            for c in codings(res.get(field), field):
                if c in C.DOCUMENT_KINDS:
                    return C.DOCUMENT_KINDS[c]
                if c in C.PATHOLOGY_REPORTS:
                    return "pathology"
                if c in C.STUDY_MODALITIES:
                    return "imaging"
        except FieldError:
            pass
    # a list in most resources, one CodeableConcept in an R4 Procedure
    cats = res.get("category")
    for cat in cats if isinstance(cats, list) else [cats] if cats is not None else []:
        try:
            found = [C.DOCUMENT_KINDS[c] for c in codings(cat, "category")
                     if c in C.DOCUMENT_KINDS]
        except FieldError:
            continue
        if found:
            return found[0]
    return "clinic"


def _attachment(att: Any, lookup: Lookup, src: str, field: str,
                problems: list[Problem]) -> str | None:
    """The text of an Attachment (inline base64 data, or a url to a Binary or another
    resource of the input), HTML reduced to its text; None, with a problem said, when
    it cannot be read."""
    if not isinstance(att, dict):
        problems.append((src, field, "not an Attachment object: text not read"))
        return None
    kind, charset = _content_type(att.get("contentType"))
    if kind not in READABLE:
        problems.append((src, field + ".contentType",
                         f"content type {kind!r} is not text: not read"))
        return None
    if "data" in att:
        raw, where = att["data"], field + ".data"
    elif isinstance(att.get("url"), str):
        raw, where = _resolved(att["url"], lookup, src, field, problems), field + ".url"
        if raw is None:
            return None
    else:
        return None  # an attachment without content (a title only): nothing to read
    text = _decoded(raw, charset, src, where, problems)
    if text is None:
        return None
    return html_text(text) if kind != "text/plain" else text


def _content_type(value: Any) -> tuple[str, str]:
    """(media type, charset); no contentType is read as plain UTF-8 text."""
    if not isinstance(value, str) or not value.strip():
        return "text/plain", "utf-8"
    parts = [p.strip() for p in value.split(";")]
    charset = next((p.split("=", 1)[1].strip('"\' ') for p in parts[1:]
                    if p.lower().startswith("charset=")), "utf-8")
    return parts[0].lower(), charset


def _resolved(url: str, lookup: Lookup, src: str, field: str,
              problems: list[Problem]) -> Any:
    """The base64 data of the resource a url names inside the input (a Binary's data,
    else its own Attachment); None, said, when it is not in the input."""
    target = lookup(url) or lookup(url.removeprefix("urn:uuid:").rstrip("/").split("/")[-1])
    if target is None:
        problems.append((src, field + ".url", f"{url!r} is not in the input: text not read"))
        return None
    if "data" in target:
        return target["data"]
    problems.append((src, field + ".url", f"{url!r} holds no data: text not read"))
    return None


def _decoded(raw: Any, charset: str, src: str, field: str,
             problems: list[Problem]) -> str | None:
    if not isinstance(raw, str):
        problems.append((src, field, "expected base64 text: not read"))
        return None
    try:
        data = base64.b64decode(re.sub(r"\s+", "", raw), validate=True)
    except (binascii.Error, ValueError):
        problems.append((src, field, "not valid base64: text not read"))
        return None
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        problems.append((src, field, f"not {charset} text: not read"))
        return None


class _Text(HTMLParser):
    """The text of an HTML document: blocks become lines, scripts and styles dropped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "section", "article", "ul", "ol", "pre", "title", "td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS and tag not in ("td", "th"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
