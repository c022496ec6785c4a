"""The eligibility checklist for the trial master file, as HTML and as PDF (WeasyPrint).

It renders the versioned result document (json_result.to_json), so that a result kept
at screening time can be filed later unchanged, and the web workbench can render the
same page: `checklist_html(doc)` is the pure part, `checklist_pdf(doc)` adds WeasyPrint.

Two optional keys of the document are read when present: `screening_number` (the
site's own number) and `signature` ({"by", "at", "meaning"}: a recorded e-signature,
shown in place of the blank signature block). The workbench can file a signed
screening as
`checklist_pdf(json.loads(sig.result_json) | {"screening_number": number,
"signature": {"by": sig.display_name, "at": ..., "meaning": sig.statement}})`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from trialsieve.output.identifiers import screening_number
from trialsieve.output.units_display import readable

VERDICT = {"eligible": "ELIGIBLE", "not_eligible": "NOT ELIGIBLE", "incomplete": "INCOMPLETE"}


@cache
def _env() -> Environment:
    env = Environment(loader=PackageLoader("trialsieve.output", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["readable"] = readable
    return env


def lesions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The I13 lesion rows: the evidence on lesions (every qualifying lesion, or the
    lesions read when none qualifies), then the lesions set aside as not qualifying,
    with why ("lesion L3 fails: Krenning grade 3-4 (Krenning 2, ...)")."""
    i13 = next((c for c in doc["criteria"] if c["id"] == "INCL13"), None)
    if i13 is None:
        return []
    rows = [e for e in i13["evidence"] if e["what"].startswith("lesion")]
    pet = next((e["date"] for e in i13["evidence"] if e["what"] == "68Ga PET/CT"), None)
    for i in i13["ignored"]:
        name, sep, why = i["reason"].partition(" fails: ")
        if name.startswith("lesion ") and sep:
            rows.append({"date": pet, "what": f"{name} does not qualify",
                         "value": f"fails: {why}", "resource": i["resource"]})
    return rows


def _restored(doc: dict[str, Any]) -> dict[str, str]:
    """The published texts whose threshold signs the registry lost ("ECOG Performance
    Status = 1"), with the signs put back: shown beside the published text, which is
    kept as published."""
    from trialsieve.protocols.lumen import LUMEN

    if doc["protocol"]["id"] != LUMEN.id:
        return {}
    return {c.id: c.restored for c in LUMEN.criteria if c.restored}


def checklist_html(doc: dict[str, Any], generated: str = "") -> str:
    """The checklist page for one screening result document."""
    return _env().get_template("checklist.html.j2").render(
        restored=_restored(doc),
        doc=doc, verdict=VERDICT.get(doc["verdict"], doc["verdict"]),
        screening_number=screening_number(doc), lesions=lesions(doc),
        window=doc.get("window"), guidance=doc.get("guidance"),
        signature=doc.get("signature"), generated=generated,
        # a death decides: the criteria's rows must not read as a candidate's
        dead=bool(doc.get("deceased")) and not str(doc["deceased"]).startswith("possibly"))


def checklist_pdf(doc: dict[str, Any], generated: str = "") -> bytes:
    from weasyprint import HTML  # about 1 s to import: only when a PDF is asked for

    # PDF/A-3b: the archival PDF a trial master file keeps (fonts embedded, XMP metadata)
    pdf = HTML(string=checklist_html(doc, generated)).write_pdf(pdf_variant="pdf/a-3b")
    assert pdf is not None
    return bytes(pdf)
