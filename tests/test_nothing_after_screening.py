"""Nothing after the screening date, whatever path it came by (issue 17, group 5; protocol
notes "Dates the criteria speak of", "Real records: Nothing after the screening date").

The man's NET (ICD-10-CM C7A.010) is advanced only through his liver metastases
(Condition ex02-liver-mets, onset 2024-03-01). Screened on 2026-11-25.
"""

from __future__ import annotations

from test_no_false_eligible import CLIN, MAN, Edit, cc, st


def mets(edit: Edit, **fields) -> Edit:
    res = next(e["resource"] for e in edit.bundle["entry"]
               if e["resource"].get("id") == "ex02-liver-mets")
    res.update(fields)
    return edit


def test_metastases_make_the_net_advanced(tmp_path):
    assert st(Edit(MAN).screen(tmp_path), "INCL02") == "met"


def test_metastasis_dated_after_the_screening_date_does_not_make_it_advanced(tmp_path):
    """Diagnosed 2026-12-10, after 2026-11-25: not in the record as it stood; the stage is
    unknown (was: merged while reading, before the filter: met)."""
    r = mets(Edit(MAN), onsetDateTime="2026-12-10").screen(tmp_path)
    assert st(r, "INCL02") == "unknown"
    assert any(i.source == "Condition/ex02-liver-mets" for i in r.ignored)


def test_metastasis_resolved_in_2024_does_not_make_it_advanced_now(tmp_path):
    r = mets(Edit(MAN), clinicalStatus=cc(CLIN, "resolved"),
             abatementDateTime="2024-09-01").screen(tmp_path)
    assert st(r, "INCL02") == "unknown"


def test_metastasis_resolved_after_the_screening_date_was_present_on_it(tmp_path):
    """Resolved 2027-01-15: a later fact; on 2026-11-25 the metastasis was present."""
    r = mets(Edit(MAN), clinicalStatus=cc(CLIN, "resolved"),
             abatementDateTime="2027-01-15").screen(tmp_path)
    assert st(r, "INCL02") == "met"
