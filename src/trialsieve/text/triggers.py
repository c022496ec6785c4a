"""The words a family's target patterns cannot match without, derived from the patterns
themselves (not a hand list that could fall behind them): a text holding none of a
family's words holds none of its targets, and is not searched for them.

For each pattern, `_needed` reads its parsed form and returns a set of lower-case
strings one of which every match contains: the literal runs of its branches, with small
character classes ("[ée]") and optional parts multiplied out. A pattern for which no such
set exists (it could match with no fixed text at all) makes its family always searched.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import cache
from itertools import product
from typing import Any

# The regular-expression parser of the standard library (Python 3.11+), private but stable.
parser: Any = importlib.import_module("re._parser")
C: Any = importlib.import_module("re._constants")

# Above this many alternatives a run is cut where it is (the set must stay small).
MAX_ALTERNATIVES = 64
# Literals are shortened to this many characters: what is needed stays needed, and the
# literals of one family mostly fold together ("pancreas", "pancreatic" -> "pancr").
KEEP = 5

Sets = tuple[frozenset[str] | None, frozenset[str] | None]  # exact texts, needed texts


def needed(pattern: str) -> frozenset[str] | None:
    """Strings (lower case, at most KEEP characters) one of which every match of the
    pattern contains, or None when the pattern needs no fixed text."""
    _, need = _sequence(list(parser.parse(pattern, re.I)))
    if need is None or "" in need:
        return None
    return frozenset(s[:KEEP] for s in need)


def _sequence(items: list) -> Sets:
    """A run of items: their exact texts multiplied out while that stays small; the
    needed set is the best of the runs and of the items' own needed sets."""
    candidates: list[frozenset[str]] = []
    run: frozenset[str] | None = frozenset({""})
    whole = True
    for op, arg in items:
        exact, need = _item(op, arg)
        if exact is not None and run is not None and len(run) * len(exact) <= MAX_ALTERNATIVES:
            run = frozenset(a + b for a, b in product(run, exact))
            continue
        whole = False
        if run is not None and "" not in run:
            candidates.append(run)
        if need is not None:
            candidates.append(need)
        run = exact if exact is not None else frozenset({""})
    if run is not None and "" not in run:
        candidates.append(run)
    best = max(candidates, key=lambda s: min(len(x) for x in s), default=None)
    return (run if whole else None), best


def _item(op, arg) -> Sets:  # noqa: C901 - one branch per kind of regex node
    if op is C.LITERAL:
        return frozenset({chr(arg).lower()}), None
    if op is C.IN:
        chars = _chars(arg)
        return (frozenset(chars), None) if chars else (None, None)
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):  # zero width
        return frozenset({""}), None
    if op is C.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is C.BRANCH:
        parts = [_sequence(list(b)) for b in arg[1]]
        exacts = [e for e, _ in parts if e is not None]
        needs = [n if n is not None else e for e, n in parts]
        exact = (frozenset().union(*exacts) if len(exacts) == len(parts)
                 and sum(len(e) for e in exacts) <= MAX_ALTERNATIVES else None)
        known = [n for n in needs if n is not None and "" not in n]
        return exact, (frozenset().union(*known) if len(known) == len(parts) else None)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, sub = arg
        exact, need = _sequence(list(sub))
        if low == 0:
            return (exact | {""} if exact is not None and high == 1 else None), None
        if low == high == 1:
            return exact, need
        return None, need if need is not None else exact
    return None, None


def _chars(arg) -> set[str] | None:
    """The characters of a small class ("[ée]", "[-–/]"), lower case; None otherwise."""
    out: set[str] = set()
    for op, value in arg:
        if op is C.LITERAL:
            out.add(chr(value).lower())
        elif op is C.RANGE and value[1] - value[0] < 10:
            out |= {chr(c).lower() for c in range(value[0], value[1] + 1)}
        else:
            return None
    return out


@cache
def family_words(patterns: tuple[str, ...]) -> frozenset[str] | None:
    """What a family's patterns need, together; None when one of them needs nothing."""
    out: set[str] = set()
    for p in patterns:
        need = needed(p)
        if need is None:
            return None
        out |= need
    return frozenset(out)


def trie_regex(words: Iterable[str]) -> re.Pattern:
    """One pattern finding any of the words, as a trie ("pa(?:nc|ro)"): the regex engine
    then reads each position once, not once per word. Each hit is the longest word at its
    place (a lookahead, so words that overlap are all seen)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return re.compile(f"(?=({build(trie)}))")


def first_class(pattern: str) -> str | None:
    """A character class that holds every character a match of the pattern can begin
    with (matched ignoring case, as the targets are), or None when a match can begin with
    anything or with nothing. A regular expression that starts with this class as a
    lookahead matches exactly what the pattern matches, but spends almost nothing at the
    places where no match begins (most places: a large alternation of surgery names
    otherwise tries each name at each word)."""
    parts, nullable = _first(list(parser.parse(pattern, re.I)))
    if parts is None or nullable or not parts:
        return None
    return "[" + "".join(sorted(parts)) + "]"


First = tuple[set[str] | None, bool]  # class parts (None: anything), whether it can be empty


def _first(items: list) -> First:
    out: set[str] = set()
    for op, arg in items:
        parts, nullable = _first_item(op, arg)
        if parts is None:
            return None, False
        out |= parts
        if not nullable:
            return out, False
    return out, True


def _first_item(op, arg) -> First:  # noqa: PLR0911 - one branch per kind of regex node
    if op is C.LITERAL:
        return {_in_class(chr(arg))}, False
    if op is C.IN:
        parts: set[str] = set()
        for kind, value in arg:
            if kind is C.LITERAL:
                parts.add(_in_class(chr(value)))
            elif kind is C.RANGE:
                parts.add(f"{_in_class(chr(value[0]))}-{_in_class(chr(value[1]))}")
            elif kind is C.CATEGORY and value in _CATEGORIES:
                parts.add(_CATEGORIES[value])
            else:  # a negated class, or one spaCy-style tooling wrote oddly
                return None, False
        return parts, False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):  # zero width: the next item begins the match
        return set(), True
    if op is C.SUBPATTERN:
        return _first(list(arg[-1]))
    if op is C.BRANCH:
        out: set[str] = set()
        empty = False
        for branch in arg[1]:
            parts_b, nullable = _first(list(branch))
            if parts_b is None:
                return None, False
            out |= parts_b
            empty = empty or nullable
        return out, empty
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, _, sub = arg
        parts_r, nullable = _first(list(sub))
        return parts_r, nullable or low == 0
    return None, False


def _in_class(ch: str) -> str:
    """A character as it is written inside a class."""
    return "\\" + ch if ch in "\\]^-[" else ch


_CATEGORIES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
               C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w",
               C.CATEGORY_NOT_WORD: r"\W"}


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")
# Each expression `quick` compiled, as it was written (the tests compare the two).
WRITTEN: dict[re.Pattern, str] = {}


def quick(pattern: str) -> re.Pattern:
    """The pattern compiled ignoring case, behind a lookahead of the characters one of its
    matches can begin with (`first_class`): the same matches, the places where none can
    begin passed over at once."""
    plain = re.compile(pattern, re.I)
    first = first_class(pattern)
    flags = _GLOBAL_FLAGS.match(pattern)  # they must stay at the start: the pattern's flags
    if first is None or plain.flags & re.X:
        return plain
    try:
        out = re.compile(f"(?={first})(?:{pattern[flags.end() if flags else 0:]})",
                         plain.flags)
    except re.error:  # more flags further on, say: as it is
        return plain
    WRITTEN[out] = pattern
    return out
