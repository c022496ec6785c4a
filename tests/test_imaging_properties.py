"""Property (issue 22): relabelling lesions, reordering the record's scans, or splitting a
patient's scans across modalities (CT / MRI) never changes a response that does not
depend on them.

The generated patient has one liver target of constant size on every scan (so no sum
ever shows progression) and unequivocal new lesions appearing on some follow-ups, each
present on every later scan. By the notes ("A new lesion counts whatever the modality of
the scan that shows it"; "A progression counts at the date of the first scan that shows
it"), I3 (a)'s progressions are exactly the scans that show a new lesion, whatever the
modality of each scan, the order of the record and the names of the lesions.
"""

from __future__ import annotations

from datetime import date, timedelta

from builders import record
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve.record import Lesion, Study
from trialsieve.rules.progression_evidence import progression_facts

AS_OF = date(2027, 1, 1)


@st.composite
def patients(draw):
    n = draw(st.integers(2, 6))
    gaps = draw(st.lists(st.integers(20, 120), min_size=n - 1, max_size=n - 1))
    days = [date(2025, 1, 1)]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap))
    shows_new = [False] + draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    modalities = draw(st.lists(st.sampled_from(["CT", "MRI"]), min_size=n, max_size=n))
    names = draw(st.lists(st.text("ABCXYZ0123", min_size=1, max_size=4), min_size=n + 1,
                          max_size=n + 1, unique=True))
    order = draw(st.permutations(range(n)))
    return days, shows_new, modalities, names, order


def build(days, shows_new, modalities, names, order) -> list[Study]:
    target, new_ids = names[0], names[1:]
    studies = []
    for k, when in enumerate(days):
        sid = f"DiagnosticReport/s{k}"
        lesions = [Lesion(f"Observation/s{k}-t", sid, target, organ="liver", longest_mm=30,
                          target=True)]
        for j in range(1, k + 1):
            if shows_new[j]:  # new on scan j, present on every later scan
                lesions.append(Lesion(f"Observation/s{k}-{j}", sid, new_ids[j], organ="liver",
                                      longest_mm=12, nontarget_status="present",
                                      new=(j == k)))
        studies.append(Study(sid, when, modalities[k], 5.0, tuple(lesions)))
    return [studies[i] for i in order]


def recist_progressions(studies: list[Study]) -> list[date]:
    r = record()
    r.imaging = studies
    return sorted({p.date for p in progression_facts(r, AS_OF).events if p.arm == "a"})


@settings(max_examples=150, deadline=None)
@given(patients(), st.data())
def test_modality_order_and_names_do_not_change_progression(patient, data) -> None:
    days, shows_new, modalities, names, order = patient
    expected = [d for d, new in zip(days, shows_new, strict=True) if new]
    assert recist_progressions(build(*patient)) == expected
    # the same scans split across modalities otherwise, in another order, other names
    other = data.draw(st.lists(st.sampled_from(["CT", "MRI"]), min_size=len(days),
                               max_size=len(days)))
    renamed = data.draw(st.lists(st.text("abc789", min_size=1, max_size=5),
                                 min_size=len(names), max_size=len(names), unique=True))
    shuffled = data.draw(st.permutations(range(len(days))))
    assert recist_progressions(build(days, shows_new, other, renamed, shuffled)) == expected
