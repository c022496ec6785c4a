"""Limits on input, each refused with a message naming where: nothing a file holds may
crash, hang or exhaust the reader. Real FHIR stays far below every one of them."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

from trialsieve.fhir.errors import InputError

# A FHIR resource nests about 10 deep; 64 leaves room for extensions of extensions.
MAX_DEPTH = 64
# Python's own guard on int(str) (sys.int_info.default_max_str_digits), refused here with
# the file and line; a shorter integer past float range is an unreadable value.
MAX_DIGITS = 4300
# One string (an id, a text, an attachment's base64 data).
MAX_STRING = 10_000_000
# A .json file (a Bundle) is read whole; an NDJSON file is read line by line.
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024


class Refused(ValueError):
    """A value past a limit, found while parsing (the caller adds file and line)."""


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise Refused(f"a number of {digits} digits (more than {MAX_DIGITS})")
    return int(text)


def regular_file(path: Path, given: str) -> None:
    """Refuse anything but a regular file (a FIFO or /dev/zero would block or never end)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(given, f"cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        raise InputError(given, "not a regular file (a pipe, device or socket)")


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    regular_file(path, str(path))
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InputError(str(path), f"file larger than {limit // 2**20} MiB: not read")
    return data


def parse_json(file: str, text: str, where: str) -> Any:
    """json.loads with the limits above; errors name the file and the line."""
    try:
        doc = json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise InputError(file, f"not valid JSON ({exc.msg} at {where or _at(exc)})") from exc
    except RecursionError:
        raise InputError(file, f"JSON nested deeper than {MAX_DEPTH} levels"
                         + (f" ({where})" if where else "")) from None
    except Refused as exc:
        raise InputError(file, f"{exc}" + (f" ({where})" if where else _line(text))) \
            from None
    if len(text) > MAX_STRING:
        check_shape(file, doc, where)
    else:  # no string can be longer than the text: only the depth is left to check
        check_depth(file, doc, where)
    return doc


def _at(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno} column {exc.colno}"


def _line(text: str) -> str:
    """The line of the first integer literal past the limit (parse_int is not told where)."""
    m = re.search(rf"\d{{{MAX_DIGITS + 1},}}", text)
    return f" (line {text.count(chr(10), 0, m.start()) + 1})" if m else ""


def check_depth(file: str, doc: Any, where: str) -> None:
    """check_shape's depth check alone, a level of containers at a time (the scalars of
    one level need no visit: they are deeper than a limit only in a container at it)."""
    level, depth = [doc], 1
    while level:
        deeper: list = []
        for node in level:
            kind = type(node)
            items = node.values() if kind is dict else node if kind is list else ()
            if depth >= MAX_DEPTH and items:  # a value one level past the limit
                raise InputError(file, f"JSON nested deeper than {MAX_DEPTH} levels"
                                 + (f" ({where})" if where else ""))
            deeper += [v for v in items if type(v) is dict or type(v) is list]
        level, depth = deeper, depth + 1


def check_shape(file: str, doc: Any, where: str) -> None:
    """Depth and string length, walked without recursion."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(file, f"JSON nested deeper than {MAX_DEPTH} levels"
                             + (f" ({where})" if where else ""))
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth) for k in node)
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str) and len(node) > MAX_STRING:
            raise InputError(file, f"a string of {len(node)} characters (more than "
                             f"{MAX_STRING})" + (f" ({where})" if where else ""))
