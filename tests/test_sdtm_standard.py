"""SDTM as the SDTMIG writes it: IE holds no SUBJID (a DM variable), the datasets carry
the standard labels, and IE rows follow its keys (STUDYID, USUBJID, IETESTCD) with
IESEQ numbered in that order."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from builders import REPO

from trialsieve.cli import main
from trialsieve.output.identifiers import derived

EXAMPLES = REPO / "examples" / "patients"


def test_ie_without_subjid_with_standard_labels_sorted_by_its_keys(tmp_path: Path):
    import pyreadstat

    src = tmp_path / "in"
    src.mkdir()
    # example 24 fails EXCL02; example 05 with its GFR at 40 fails INCL06 and INCL07
    (src / "24.json").write_text((EXAMPLES / "24-major-surgery-5-weeks-before.json")
                                 .read_text())
    bundle = json.loads((EXAMPLES / "05-hb-5-5-mmol-per-l-fails.json").read_text())
    next(e["resource"] for e in bundle["entry"]
         if e["resource"].get("id") == "ex05-gfr")["valueQuantity"]["value"] = 40
    (src / "05.json").write_text(json.dumps(bundle))
    out = tmp_path / "out"
    assert main(["export", str(src), "--as-of", "2026-11-25", "--d0", "2026-12-01",
                 "--out", str(out)]) == 0
    with (out / "ie.csv").open() as f:
        rows = list(csv.DictReader(f))
    s05, s24 = (f"NCT01842165-{derived('NCT01842165', p)}" for p in ("ex05", "ex24"))
    expected = sorted([(s05, "INCL06"), (s05, "INCL07"), (s24, "EXCL02")])
    assert [(r["USUBJID"], r["IETESTCD"]) for r in rows] == expected
    seq = {(u, t): i + 1 - [x[0] for x in expected].index(u)
           for i, (u, t) in enumerate(expected)}
    assert [int(r["IESEQ"]) for r in rows] == [seq[(r["USUBJID"], r["IETESTCD"])]
                                              for r in rows]
    assert "SUBJID" not in rows[0]
    for name, label in (("ti", "Trial Inclusion/Exclusion Criteria"),
                        ("ie", "Inclusion/Exclusion Criteria Not Met")):
        _, meta = pyreadstat.read_xport(str(out / f"{name}.xpt"))
        assert meta.file_label == label
        assert "SUBJID" not in meta.column_names
