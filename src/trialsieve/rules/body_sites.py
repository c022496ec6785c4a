"""Where a lesion or a treatment is in the body, by code (codes.body_site: SNOMED CT body
structures, ICD-O-3 topography), never by words (protocol notes, "Real records")."""

from __future__ import annotations

from trialsieve.codes import body_site
from trialsieve.record import Lesion

# How a course's site stands to a lesion's place.
COVERS = "covers"  # the site is the lesion's place or contains it (liver -> liver lesion)
PART = "part"  # the site is a part of the lesion's place (right lobe; lesion: liver)
APART = "apart"
UNPLACED = "unplaced"  # the site or the lesion's place cannot be placed by its codes


def lesion_place(lesion: Lesion) -> str | None:
    """The lesion's place in the body from its organ codes (the first one placed)."""
    return next((p for s, c in lesion.organ_codes if (p := body_site(s, c))), None)


def relation(site: str | None, place: str | None) -> str:
    if site is None or place is None:
        return UNPLACED
    if place == site or place.startswith(site + "/"):
        return COVERS
    if site.startswith(place + "/"):
        return PART
    return APART
