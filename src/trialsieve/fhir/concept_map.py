"""A site's own codes, read as the concepts trialsieve knows, through FHIR R4 ConceptMap
resources (--concept-map FILE, repeatable; a file holds one ConceptMap or a Bundle of them).

Loading validates the whole map before any patient is read: a malformed map, a target that
is not a concept trialsieve reads, or a source code given two targets stops the command
(InputError, exit 2) naming the file and the element. Applying the map is pure: the reader
gets a copy of each resource in which every coding of a mapped source code is followed by a
coding of its target; nothing else changes.

Equivalence (R4 reads it from target to source) decides whether a site code may stand for
the target: `equivalent`, `equal`, `wider` (the target is wider: the site code is a kind of
it) and `subsumes` may; `narrower`, `specializes`, `inexact` and `relatedto` may not (a
site's "GFR, any method" must never read as the 51Cr-EDTA GFR), and are refused.
`unmatched` or `disjoint` with no target code declares a site code that has no trialsieve
concept: it is known, not read, and not reported as an unknown code.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialsieve import codes as C
from trialsieve.fhir.errors import InputError
from trialsieve.record import Warning

ACCEPTED = {"equivalent", "equal", "wider", "subsumes"}
NO_TARGET = {"unmatched", "disjoint"}  # any other equivalence is refused
Code = tuple[str, str]


@dataclass(frozen=True)
class Target:
    """The trialsieve concept a site code reads as, and where the map said so."""

    system: str
    code: str
    display: str
    origin: str  # "file: ConceptMap/id group[0].element[3]"


@dataclass(frozen=True)
class ConceptMapping:
    targets: dict[Code, Target] = field(default_factory=dict)
    unmatched: dict[Code, str] = field(default_factory=dict)  # known site codes, not read

    def known(self, code: Code) -> bool:
        return code in self.targets or code in self.unmatched


EMPTY = ConceptMapping()


# --- loading ---------------------------------------------------------------------------
def load(paths: Iterable[str | Path]) -> ConceptMapping:
    """The maps of these files as one mapping; InputError naming file and element."""
    targets: dict[Code, Target] = {}
    unmatched: dict[Code, str] = {}
    for path in paths:
        for cmap in _concept_maps(Path(path)):
            _read_map(str(path), cmap, targets, unmatched)
    return ConceptMapping(targets, unmatched)


def _concept_maps(path: Path) -> list[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), f"cannot read the concept map: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"not valid JSON: {exc}") from exc
    kind = doc.get("resourceType") if isinstance(doc, dict) else None
    if kind == "ConceptMap":
        return [doc]
    if kind != "Bundle":
        raise InputError(str(path), f"expected a ConceptMap or a Bundle of them, found "
                         f"{kind or type(doc).__name__}", "", "resourceType")
    maps = []
    for i, entry in enumerate(doc.get("entry") or []):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") != "ConceptMap":
            found = res.get("resourceType") if isinstance(res, dict) else "no resource"
            raise InputError(str(path), f"expected a ConceptMap, found {found}",
                             f"Bundle/{doc.get('id', '?')}", f"entry[{i}].resource")
        maps.append(res)
    return maps


def _read_map(file: str, cmap: dict, targets: dict[Code, Target],
              unmatched: dict[Code, str]) -> None:
    name = f"ConceptMap/{cmap.get('id', '?')}"
    groups = cmap.get("group")
    if not isinstance(groups, list) or not groups:
        raise InputError(file, "a ConceptMap needs at least one group", name, "group")
    for g, group in enumerate(groups):
        where = f"group[{g}]"
        source, target = (_text(file, name, group, where, k) for k in ("source", "target"))
        if target not in C.CODE_SYSTEMS:
            raise InputError(file, f"{target!r} is not a code system trialsieve reads "
                             f"({', '.join(sorted(C.CODE_SYSTEMS))})", name, where + ".target")
        if "unmapped" in group:
            raise InputError(file, "group.unmapped is not supported: list each code", name,
                             where + ".unmapped")
        elements = group.get("element")
        if not isinstance(elements, list):
            raise InputError(file, "missing or not a list", name, where + ".element")
        for e, element in enumerate(elements):
            at = f"{where}.element[{e}]"
            if not isinstance(element, dict):
                raise InputError(file, "expected an object", name, at)
            code = _text(file, name, element, at, "code")
            if C.is_concept(source, code):
                raise InputError(file, f"{source}|{code} is a code trialsieve already reads: "
                                 "a map cannot change its meaning", name, at + ".code")
            _read_element(file, name, at, (source, code), target, element, targets, unmatched)


def _read_element(file: str, name: str, at: str, src: Code, system: str, element: dict,
                  targets: dict[Code, Target], unmatched: dict[Code, str]) -> None:
    found = element.get("target")
    if not isinstance(found, list) or not found:
        raise InputError(file, "missing: give a target or equivalence unmatched", name,
                         at + ".target")
    origin = f"{file}: {name} {at}"
    for t, target in enumerate(found):
        tat = f"{at}.target[{t}]"
        equivalence = _text(file, name, target, tat, "equivalence")
        if equivalence not in ACCEPTED | NO_TARGET:
            raise InputError(file, f"equivalence {equivalence!r}: the site code cannot be read "
                             f"as the target (use {', '.join(sorted(ACCEPTED))}, or unmatched)",
                             name, tat + ".equivalence")
        if equivalence in NO_TARGET:
            mapped = targets.get(src)
            _no_clash(file, name, at, src, mapped.origin if mapped else None)
            unmatched[src] = origin
            continue
        code = _text(file, name, target, tat, "code")
        if not C.is_concept(system, code):
            raise InputError(file, f"{system}|{code} is not a code trialsieve reads", name,
                             tat + ".code")
        new = Target(system, code, str(target.get("display") or ""), origin)
        old = targets.get(src)
        if old and (old.system, old.code) != (system, code):
            raise InputError(file, f"{src[0]}|{src[1]} has two targets: {old.system}|"
                             f"{old.code} ({old.origin}) and {system}|{code}", name, at)
        _no_clash(file, name, at, src, unmatched.get(src))
        targets.setdefault(src, new)


def _no_clash(file: str, name: str, at: str, src: Code, other: str | None) -> None:
    if other:
        raise InputError(file, f"{src[0]}|{src[1]} has two targets: unmatched and mapped "
                         f"({other})", name, at)


def _text(file: str, name: str, obj: Any, where: str, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InputError(file, "missing or not a string", name, f"{where}.{key}")
    return value.strip()


# --- applying --------------------------------------------------------------------------
def apply(mapping: ConceptMapping, res: dict) -> tuple[dict, tuple[tuple[Code, Target], ...]]:
    """A copy of `res` with each mapped coding followed by its target coding, and the
    mappings that applied. The input is not changed."""
    if not mapping.targets:
        return res, ()
    used: list[tuple[Code, Target]] = []
    return _walk(mapping, res, used), tuple(used)


def _walk(mapping: ConceptMapping, obj: Any, used: list) -> Any:
    """`obj`, or a copy of the parts that hold a mapped coding (the rest is shared)."""
    if isinstance(obj, list):
        items = [_walk(mapping, x, used) for x in obj]
        return obj if all(a is b for a, b in zip(items, obj, strict=True)) else items
    if not isinstance(obj, dict):
        return obj
    out = {k: _walk(mapping, v, used) for k, v in obj.items()}
    for key in ("coding", "modality"):  # CodeableConcept.coding; ImagingStudy.modality
        if isinstance(out.get(key), list):
            out[key] = _with_targets(mapping, out[key], used)
    return obj if all(out[k] is v for k, v in obj.items()) else out


def _with_targets(mapping: ConceptMapping, codings: list, used: list) -> list:
    out = codings
    for c in codings:
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            src = (c.get("system") or "", c["code"])
            t = mapping.targets.get(src)
            if t and not any(isinstance(x, dict) and (x.get("system"), x.get("code")) ==
                             (t.system, t.code) for x in out):
                out = [*out, {"system": t.system, "code": t.code, "display": t.display}]
                used.append((src, t))
    return out


# --- command line ----------------------------------------------------------------------
def add_argument(parser: argparse.ArgumentParser) -> None:
    """--concept-map FILE (repeatable), for every command that reads patient data."""
    parser.add_argument("--concept-map", action="append", default=[], metavar="FILE",
                        help="FHIR R4 ConceptMap (or Bundle of them) mapping the site's own "
                        "codes to those trialsieve reads; repeatable")


def from_args(args: argparse.Namespace) -> ConceptMapping:
    paths: Sequence[str] = getattr(args, "concept_map", None) or []
    return load(paths) if paths else EMPTY


# --- what the report says ----------------------------------------------------------------
LOINC_SHAPE = re.compile(r"^(\d{1,7}-\d|L[APG]\d{1,8}-\d)$")  # a code, an answer, a part


@dataclass
class Uses:
    """What one patient's resources owed to the map, and the LOINC-system codes that are
    not LOINC codes and that no map declares (an OpenMRS export writes its concept ids so).
    Each warning names the file of the first resource it cites (a bulk export spreads a
    patient over one file per type)."""

    mapped: dict[tuple[Code, Target], list[tuple[str, str]]] = field(default_factory=dict)
    not_loinc: dict[str, int] = field(default_factory=dict)
    first: tuple[str, str] = ("", "")  # file and resource of the first such code

    def saw(self, mapping: ConceptMapping, res: dict, file: str) -> None:
        concept = res.get("code") if res.get("resourceType") == "Observation" else None
        coding = concept.get("coding") if isinstance(concept, dict) else None
        # a coding that is not a list is the mapper's to report (values.codings)
        for c in coding if isinstance(coding, list) else []:
            if (isinstance(c, dict) and c.get("system") == C.LOINC
                    and isinstance(c.get("code"), str) and not LOINC_SHAPE.match(c["code"])
                    and not mapping.known((C.LOINC, c["code"]))):
                self.not_loinc[c["code"]] = self.not_loinc.get(c["code"], 0) + 1
                if not self.first[0]:
                    self.first = (file, f"Observation/{res.get('id', '?')}")

    def used(self, applied: Iterable[tuple[Code, Target]], source: str, file: str) -> None:
        for m in applied:
            self.mapped.setdefault(m, []).append((file, source))

    def warnings(self) -> list[Warning]:
        out = [Warning(sources[0][0], sources[0][1], "code", f"{src[0]}|{src[1]} read as "
                       f"{t.code}{' ' + t.display if t.display else ''} (concept map "
                       f"{t.origin})" + (f"; also {', '.join(s for _, s in sources[1:])}"
                                         if len(sources) > 1 else ""))
               for (src, t), sources in self.mapped.items()]
        if self.not_loinc:
            shown = ", ".join(f"{c} ({n})" for c, n in sorted(self.not_loinc.items())[:5])
            more = len(self.not_loinc) - 5
            out.append(Warning(*self.first, "code", f"{sum(self.not_loinc.values())} "
                               f"observations carry codes under {C.LOINC} that are not LOINC "
                               f"codes: {shown}{f' and {more} more' if more > 0 else ''}; "
                               "they are not read. A --concept-map can say what they mean."))
        return out
