"""Sites: which patients a user sees. A patient belongs to the site of whoever imported
it (chosen on import when they work at several); a user sees the patients of their
sites only, and a patient of another site is answered as if it did not exist. A
workbench that names no site puts everyone at the default one."""

from __future__ import annotations

import re

from trialsieve.web.db import DEFAULT_SITE, PatientRow, User

_SITE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


class SiteError(ValueError):
    """Site names that cannot be used, said as the user should read it."""


def parse(text: str) -> tuple[str, ...]:
    """Site names typed (comma- or space-separated), or the default site when none."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in re.split(r"[,\s]+", text or "")
                                if n.strip()))
    for n in names:
        if not _SITE.fullmatch(n):
            raise SiteError(f"a site name has 1-32 lower-case letters, digits or '-': {n!r}")
    joined = ",".join(names) or DEFAULT_SITE
    if len(joined) > 256:
        raise SiteError("too many sites for one user (256 characters)")
    return names or (DEFAULT_SITE,)


def of(user: User) -> tuple[str, ...]:
    return tuple(n for n in (user.sites or DEFAULT_SITE).split(",") if n)


def sees(user: User, patient: PatientRow) -> bool:
    return patient.site in of(user)


def for_import(user: User, chosen: str) -> str:
    """The site an upload belongs to: the importer's only site, or the one they chose
    among theirs."""
    mine = of(user)
    if len(mine) == 1 and not chosen:
        return mine[0]
    if chosen not in mine:
        raise SiteError("choose the site the patient is screened at (one of yours: "
                        f"{', '.join(mine)})")
    return chosen
