"""A protocol as data: criteria with ids, published text, the reading applied, the rule."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property

from trialsieve.rules.base import Rule

INCLUSION = "inclusion"
EXCLUSION = "exclusion"
_IETESTCD = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")


@dataclass(frozen=True)
class Criterion:
    id: str  # a CDISC IETESTCD: INCL01, EXCL01
    category: str  # inclusion / exclusion
    text: str  # as published
    reading: str  # how it is read (protocol notes), judgements included
    rule: Rule
    short: str = ""  # a label for tables
    # The published text with the signs the publication lost put back (">=" for "="),
    # for CDISC IETEST, where a sponsor reads it without the reading; "" = text is whole.
    restored: str = ""

    def __post_init__(self) -> None:
        if not _IETESTCD.match(self.id):
            raise ValueError(f"criterion id {self.id!r} is not a valid CDISC IETESTCD")
        if self.category not in (INCLUSION, EXCLUSION):
            raise ValueError(f"criterion {self.id}: category must be inclusion or exclusion")


@dataclass(frozen=True)
class Protocol:
    id: str
    title: str
    version: str
    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError(f"protocol {self.id}: duplicate criterion ids")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "hash": self.hash,
            "criteria": [
                {"id": c.id, "category": c.category, "short": c.short, "text": c.text,
                 "reading": c.reading, "rule": c.rule.describe()}
                for c in self.criteria
            ],
        }

    @cached_property
    def hash(self) -> str:
        """Content hash over ids, texts, readings and rules: changes when any of them does."""
        content = [(c.id, c.category, c.text, c.reading, repr(c.rule))
                   + ((c.restored,) if c.restored else ()) for c in self.criteria]
        blob = json.dumps([self.id, self.version, content], ensure_ascii=False)
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()[:16]
