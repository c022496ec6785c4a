"""I13 "not previously irradiated", lesion by lesion (protocol notes, I13 and "Real
records"): a recorded course on the lesion, a TARE/SIRT of its liver, a statement on the
lesion, or a radiotherapy history declared complete with no course on it or its site.

Sites are compared by code (codes.body_site: SNOMED body structures, ICD-O-3
topography), never by words: a site the program cannot place leaves the lesion unknown.
Prior PRRT, being systemic, is not irradiation of a lesion (judgement, shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trialsieve.codes import body_site
from trialsieve.record import Lesion, PatientRecord, ProcedureRecord
from trialsieve.record.statements import Statement
from trialsieve.rules.body_sites import COVERS, PART, UNPLACED, lesion_place, relation

# TARE/SIRT with no lobe recorded treats the whole liver (protocol notes, I13).
WHOLE_LIVER = "liver"


@dataclass(frozen=True)
class Irradiation:
    """Whether the lesion was spared (True), irradiated (False) or unknown (None), and
    the record that says so."""

    spared: bool | None
    source: str | None = None
    date: date | None = None
    text: str = ""


def irradiating_courses(record: PatientRecord) -> list[ProcedureRecord]:
    """External-beam courses and TARE/SIRT; PRRT is not among them (systemic)."""
    return [p for p in record.procedures if p.kind == "radiotherapy" or p.radioembolisation]


def course_sites(course: ProcedureRecord) -> list[str | None]:
    """The places a course treated (None: a site it cannot place); a TARE with no site
    recorded treated the whole liver."""
    sites = [body_site(s, c) for s, c in course.site_codes]
    if not sites and course.radioembolisation:
        return [WHOLE_LIVER]
    return sites


def _relations(course: ProcedureRecord, place: str | None) -> set[str]:
    return {relation(site, place) for site in course_sites(course)}


def lesion_irradiation(lesion: Lesion, record: PatientRecord,
                       history_complete: Statement | None) -> Irradiation:
    courses = irradiating_courses(record)
    on_lesion = [p for p in courses if lesion.is_target_of(p.targets)]
    if on_lesion:  # a recorded course on the lesion outweighs any statement
        p = on_lesion[0]
        return Irradiation(False, p.source, p.date, f"{p.display} targeted this lesion")
    place = lesion_place(lesion)
    for p in (p for p in courses if p.radioembolisation):
        found = _relations(p, place)
        if COVERS in found:
            return Irradiation(False, p.source, p.date, f"{p.display} (TARE/SIRT) treated "
                               f"the {_treated(p)}: its lesions are irradiated")
    doubt = [p for p in courses if _doubt(p, place)]
    stated = _statements(lesion, record)
    if any(irradiated for _, irradiated, _ in stated):
        when, _, src = next(s for s in stated if s[1])
        return Irradiation(False, src, when, "stated previously irradiated")
    if stated:
        when, _, src = stated[-1]
        # a course on its site after the statement: the statement no longer speaks for it
        later = [p for p in doubt if p.date is None or when is None or p.date >= when]
        if not later:
            return Irradiation(True, src, when, "stated not previously irradiated")
        return _unknown(later[0], f"a course after the statement of {when}")
    if history_complete is None or not history_complete.value:
        return Irradiation(None)
    if doubt:
        return _unknown(doubt[0], "radiotherapy history declared complete")
    where = f"the {lesion.organ}" if place else "its site"
    return Irradiation(True, history_complete.source, history_complete.stated,
                       "radiotherapy history declared complete; no recorded course on "
                       f"this lesion or {where}")


def _doubt(course: ProcedureRecord, place: str | None) -> bool:
    """A course that may have irradiated a lesion at `place`: one on its place or a part
    of it, one whose site cannot be placed, or one with neither site nor target."""
    if not course.site_codes and not course.targets and not course.radioembolisation:
        return True
    return bool(_relations(course, place) & {COVERS, PART, UNPLACED})


def _unknown(course: ProcedureRecord, why: str) -> Irradiation:
    sites = course_sites(course)
    if not course.site_codes and not course.radioembolisation:
        what = "its site is not recorded"
    elif None in sites:
        what = "its site cannot be placed by its code (" + ", ".join(
            f"{s}|{c}" for s, c in course.site_codes) + ")"
    else:
        what = f"it treated the {', '.join(str(s) for s in sites)}"
    return Irradiation(None, course.source, course.date,
                       f"{why}; {course.display}: {what}: irradiation of this lesion unknown")


def _treated(course: ProcedureRecord) -> str:
    sites = course_sites(course)
    if not course.site_codes:
        return "liver (lobe not recorded: the whole liver)"
    return ", ".join(str(s) for s in sites)


def _statements(lesion: Lesion, record: PatientRecord
                ) -> list[tuple[date | None, bool, str]]:
    """Statements on the lesion (a measurement's "previously irradiated"), oldest first.
    A measurement that does not say (None) neither confirms nor denies irradiation."""
    found = [(s.date, bool(x.irradiated), x.source) for s in record.imaging
             for x in s.lesions if x.lesion_id == lesion.lesion_id and x.irradiated is not None]
    return sorted(found, key=lambda f: (f[0] is not None, f[0] or date.min))


def systemic_note(record: PatientRecord) -> list[tuple[str, str]]:
    """Prior PRRT, shown with the judgement that leaves it out (protocol notes, I13)."""
    return [(p.source, f"{p.display} ({p.date}): PRRT, being systemic, does not make a "
             "lesion previously irradiated (judgement, protocol notes)")
            for p in record.procedures if p.kind == "radionuclide"]
