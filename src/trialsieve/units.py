"""Unit conversion through pint with UCUM parsing (ucumvert).

The registry takes about 0.6 s to build, so it is built lazily, only when a value is
not already in the unit a rule asks for, and the factors it computes are kept in a small
cache file (TRIALSIEVE_CACHE, default ~/.cache/trialsieve) so that a later command does
not pay that again. Molar <-> mass conversions need the analyte's molar mass, which comes
from the code table (codes.LAB_TESTS), not from this module.
"""

from __future__ import annotations

import json
import os
from functools import cache
from math import isfinite
from pathlib import Path
from typing import Any

from trialsieve import unit_spellings
from trialsieve.unit_error import UnitError

__all__ = ["UnitError", "convert"]


# Real UCUM codes are short ("mL/min/{1.73_m2}"); the parser is slow on long ones.
MAX_UNIT_LENGTH = 64


@cache
def _registry() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


def _annotations(code: str) -> tuple[str, ...]:
    parts, depth, cur = [], 0, ""
    for ch in code:
        if ch == "{":
            depth, cur = depth + 1, ""
        elif ch == "}":
            depth -= 1
            parts.append(cur)
        elif depth:
            cur += ch
    return tuple(sorted(parts))


def _strip(code: str) -> str:
    """The unit without its annotations. An annotation that stands for a whole term
    ("mL/min/{1.73_m2}", "{cells}/uL") is the unit 1 in UCUM, so it becomes "1"."""
    out, depth, alone = "", 0, False
    for ch in code:
        if ch == "{":
            if not depth:
                alone = out.rstrip() == "" or out.rstrip()[-1] in "/.("
            depth += 1
        elif ch == "}":
            depth -= 1
            if not depth and alone:
                out += "1"
        elif not depth:
            out += ch
    return out.strip() or "1"


def _cache_file() -> Path:
    root = os.environ.get("TRIALSIEVE_CACHE") or Path.home() / ".cache" / "trialsieve"
    return Path(root) / "unit-factors.json"


@cache
def _stored() -> dict[str, float]:
    try:
        data = json.loads(_cache_file().read_text())
        return {k: float(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _store(key: str, factor: float) -> None:
    stored = _stored()
    stored[key] = factor
    try:  # a cache that cannot be written only costs time
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass


@cache
def _factor(source: str, target: str, molar_mass: float | None) -> float:
    key = f"{source}|{target}|{molar_mass}"
    if key in _stored():
        return _stored()[key]
    factor = _compute(source, target, molar_mass)
    _store(key, factor)
    return factor


def _compute(source: str, target: str, molar_mass: float | None) -> float:
    """Multiplier taking a value in UCUM unit `source` to UCUM unit `target`."""
    # UCUM annotations ({1.73_m2}, {INR}) carry meaning pint drops: they must agree.
    if _annotations(source) != _annotations(target):
        raise UnitError(f"unit {source!r} cannot be converted to {target!r}")
    # Arbitrary units ([IU]) compare with nothing else (UCUM), and a percentage (of normal
    # activity, of cells) cannot be derived from a ratio, a count or a unitless number.
    if _arbitrary(source) != _arbitrary(target) or (target == "%") != (source == "%"):
        raise UnitError(f"unit {source!r} cannot be converted to {target!r}")
    ureg = _registry()
    try:
        src = ureg.from_ucum(_strip(source))
        dst = ureg.from_ucum(_strip(target))
    except Exception as exc:  # ucumvert raises lark and pint errors alike
        raise UnitError(f"unit {source!r} is not a valid UCUM unit") from exc
    candidates = [lambda: src]
    if molar_mass:
        g_per_mol = ureg.from_ucum("g/mol") * molar_mass
        candidates += [lambda: src * g_per_mol, lambda: src / g_per_mol]
    for candidate in candidates:
        try:  # pint raises dimensionality, offset-unit and overflow errors alike
            factor = float(candidate().to(dst).magnitude)
        except Exception:
            continue
        if isfinite(factor) and factor != 0:
            return factor
    raise UnitError(f"unit {source!r} cannot be converted to {target!r}")


def _arbitrary(code: str) -> frozenset[str]:
    return frozenset(t for t in ("[IU]", "[iU]", "[arb'U]") if t in code)


def convert(value: float, source: str, target: str, molar_mass: float | None = None) -> float:
    """Convert `value` from UCUM `source` to UCUM `target`; raise UnitError when impossible."""
    if not isinstance(source, str) or not source.strip():
        raise UnitError(f"no unit (found {source!r})")
    if len(source) > MAX_UNIT_LENGTH:
        raise UnitError(f"unit too long ({len(source)} characters, at most {MAX_UNIT_LENGTH})")
    if source == target:
        return value
    source = unit_spellings.ucum(source, target)  # spellings labs write (unit_spellings.py)
    # Rounded so that 90 g/L is exactly 9 g/dL at a bound, not 8.999999999.
    return round(value * _factor(source, target, molar_mass), 9)


def is_unit_parseable(code: str) -> bool:
    if len(code) > MAX_UNIT_LENGTH:
        return False
    try:
        _registry().from_ucum(_strip(code))
    except Exception:
        return False
    return True
