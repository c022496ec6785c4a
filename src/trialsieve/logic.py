"""Kleene three-valued logic: the only place where MET / NOT_MET / UNKNOWN combine."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Tri(Enum):
    """Whether a criterion's condition holds: met, not met, or not decidable from the record."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    @staticmethod
    def of(value: bool | None) -> Tri:
        if value is None:
            return Tri.UNKNOWN
        return Tri.MET if value else Tri.NOT_MET

    def __invert__(self) -> Tri:
        return {Tri.MET: Tri.NOT_MET, Tri.NOT_MET: Tri.MET}.get(self, Tri.UNKNOWN)


def at_least(k: int, values: Iterable[Tri]) -> Tri:
    """MET when at least k values are met, NOT_MET when that is no longer possible.

    AND is at_least(n), OR is at_least(1): one combinator, as in OHDSI Circe.
    """
    vals = list(values)
    met = sum(v is Tri.MET for v in vals)
    unknown = sum(v is Tri.UNKNOWN for v in vals)
    if met >= k:
        return Tri.MET
    if met + unknown >= k:
        return Tri.UNKNOWN
    return Tri.NOT_MET


def all_of(values: Iterable[Tri]) -> Tri:
    vals = list(values)
    return at_least(len(vals), vals)


def any_of(values: Iterable[Tri]) -> Tri:
    return at_least(1, values)
