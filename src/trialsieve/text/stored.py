"""What a paragraph states, kept on disk between runs (TRIALSIEVE_CACHE, as the unit
factors are): loading medspaCy costs about two seconds a process, and a nurse screens
the same reports again and again. A paragraph read once is not read again until its text,
the reader (this package's code and rules) or medspaCy and spaCy change: the key holds a
fingerprint of all of them, so a stored reading can never outlive what produced it.

A file that cannot be read, parsed or written only costs time: the paragraph is read
again. Set TRIALSIEVE_TEXT_CACHE=off to read every text afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
from functools import cache
from pathlib import Path

import trialsieve

# One row per fact a paragraph states, as `reader._read_chunk` gives it:
# (fact, value, unit, date, details, modifiers, start, end, sentence).
Row = tuple


@cache
def _fingerprint() -> str:
    """The reader's code and rules, the units it converts with, and the versions of
    medspaCy and spaCy: what a stored reading depends on."""
    package = Path(__file__).parent
    files = sorted([*package.glob("*.py"), *package.glob("rules/*.json"),
                    Path(trialsieve.__file__).parent / "units.py"])
    digest = hashlib.sha256(trialsieve.__version__.encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("medspacy", "spacy"):
        digest.update(_installed(name).encode())
    return digest.hexdigest()


def _installed(name: str) -> str:
    """The package's dist-info folder name (it holds the version), without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return f"{name}: absent"
    site = Path(spec.origin).parent.parent
    return ",".join(sorted(p.name for p in site.glob(f"{name}-*.dist-info")))


def folder() -> Path | None:
    """Where readings are kept (TRIALSIEVE_CACHE), or None when the store is turned off
    (TRIALSIEVE_TEXT_CACHE=off): asked once a document, not once a paragraph."""
    if os.environ.get("TRIALSIEVE_TEXT_CACHE", "").lower() in ("off", "0", "no"):
        return None
    root = os.environ.get("TRIALSIEVE_CACHE") or Path.home() / ".cache" / "trialsieve"
    return Path(root) / "text"


def where(lang: str, paragraph: str, kept_in: Path | None) -> Path | None:
    """Where the paragraph's reading is kept in the folder (`folder`), or None (the store
    turned off)."""
    if kept_in is None:
        return None
    key = hashlib.sha256(f"{_fingerprint()}\0{lang}\0{paragraph}".encode()).hexdigest()
    return kept_in / key[:2] / f"{key}.json"


def load(path: Path | None) -> tuple[Row, ...] | None:
    """The stored reading of a paragraph (`where`), or None (never read, or unreadable)."""
    try:
        return decode(json.loads(path.read_text(encoding="utf-8"))) if path else None
    except (OSError, ValueError, TypeError, IndexError):
        return None


def store(path: Path | None, rows: tuple[Row, ...]) -> None:
    if path is None:
        return
    try:  # written whole, then moved into place: a reader never sees half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(encode(rows)), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def encode(rows: tuple[Row, ...]) -> list[list]:
    return [[fact, value, unit, when.isoformat() if when else None, [list(d) for d in details],
             list(mods), start, end, sentence]
            for fact, value, unit, when, details, mods, start, end, sentence in rows]


def decode(data: list[list]) -> tuple[Row, ...]:
    return tuple((fact, value, unit, dt.date.fromisoformat(when) if when else None,
                  tuple(tuple(d) for d in details), tuple(mods), start, end, sentence)
                 for fact, value, unit, when, details, mods, start, end, sentence in data)
