"""The eligibility checklist as the trial master file keeps it: the registry's lost
threshold signs marked beside the published text, the date it was made, PDF/A-3b."""

from __future__ import annotations

import re
import subprocess
import zlib
from datetime import UTC, datetime

from builders import REPO

from trialsieve.cli import main

MAN = REPO / "examples" / "patients" / "02-eligible-man.json"


def test_checklist_marks_lost_signs_is_dated_and_pdf_a(tmp_path):
    pdf = tmp_path / "c.pdf"
    assert main(["report", str(MAN), "--as-of", "2026-11-25", "--d0", "2026-12-01",
                 "--out", str(pdf)]) == 0
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    # I9 as published with a mark beside it, then the reading with the sign put back
    assert ("9. ECOG Performance Status = 1. † † As published, the threshold signs were "
            "lost (each \"=\" stands for ≥ or ≤); read as: 9. ECOG Performance Status <= 1.") \
        in text
    # the five texts that lost their signs (notes, "The lost symbols"), marked, and one
    # footnote with the reading applied; the published text stays as published
    assert text.count("= 1. †") == 1 and text.count(" † † As published") == 5
    assert ("† The registry's published text of INCL06, INCL07, INCL08, INCL09, INCL13 "
            "lost its “greater or equal” and “less or equal” signs: every “=” in a "
            "threshold is one of them.") in text
    assert ("Bounds published as strict stay strict (albumin > 3 g/dL, prothrombin time "
            "> 70 %).") in text
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert re.search(rf"Produced by trialsieve \S+ on {today} \d\d:\d\d UTC", text), text[-300:]
    data = pdf.read_bytes()
    xmp = b"".join(zlib.decompress(m) if not m.startswith(b"<") else m
                   for m in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S)
                   if _inflates(m))
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp


def _inflates(raw: bytes) -> bool:
    if raw.startswith(b"<"):
        return True
    try:
        zlib.decompress(raw)
    except zlib.error:
        return False
    return True


def test_a_deceased_patients_checklist_marks_every_criterion_not_assessed(tmp_path):
    """Example 56 (deceased 2026-10-02): the checklist read "Verdict: NOT ELIGIBLE" with
    no reason above 22 criteria reading MET or ABSENT, as a candidate's would."""
    pdf = tmp_path / "d.pdf"
    assert main(["report", str(REPO / "examples" / "patients" /
                               "56-deceased-before-screening.json"),
                 "--as-of", "2026-11-25", "--d0", "2026-12-01", "--out", str(pdf)]) == 0
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "Verdict: NOT ELIGIBLE: deceased on 2026-10-02" in text
    assert "No criterion below is assessed" in text
    assert text.count("NOT ASSESSED (the record gives met)") == 13
    assert text.count("NOT ASSESSED (the record gives absent)") == 9
