"""The text reader's cheap look before medspaCy (issue 21, speed): the words a family's
targets cannot match without are derived from the target patterns, so a text is given to
medspaCy only when a target is in it, and a record whose notes name no fact never loads
medspaCy (Synthea's newborn note, "new" in "newborn", loaded it for 1.5 s)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import text_corpus as corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve.text import numbers, reader, values
from trialsieve.text.pipeline import (
    _quick,
    facts,
    families_named,
    families_stated,
    mentions_something,
    rule_file,
    targets_found,
)
from trialsieve.text.triggers import WRITTEN, first_class, needed
from trialsieve.text.values import organs

REPO = Path(__file__).resolve().parent.parent
SYNTHEA = REPO.parent / "shared" / "data" / "synthea-openmrs-bundles"
TEXTS = [c.text for c in corpus.sentences() + corpus.reports()]


def _targets() -> dict[str, tuple[re.Pattern, ...]]:
    """Each family's target patterns as written, compiled as medspaCy's regex matcher
    compiles them (ignoring case): what the reader's quick forms must match alike."""
    return {fact: tuple(re.compile(r["pattern"], re.I)
                        for r in rule_file(fact)["target_rules"]) for fact in facts()}


def _with_a_target(text: str) -> set[str]:
    """Every pattern of every family tried on the text: what the prefilter must not lose."""
    return {fact for fact, patterns in _targets().items()
            if any(p.search(text) for p in patterns)}


def test_what_a_pattern_needs_is_read_from_the_pattern():
    assert needed(r"(?i)\bpancr[ée]as\b") == {"pancr"}
    assert needed(r"(?i)\bki-?67\b") == {"ki-67", "ki67"}
    assert needed(r"\d+\s*(?:mm|cm)\b") == {"mm", "cm"}
    assert needed(r"(?i)\b(?:whipple|duod[ée]nectomie)") == {"whipp", "duode", "duodé"}
    assert needed(r"\w+") is None  # nothing fixed: the family is always searched


def test_what_a_match_can_begin_with_is_read_from_the_pattern():
    assert first_class(r"(?i)\b(?:whipple|(?:distal|total) pancreatectomy)") == "[dtw]"
    assert first_class(r"(?<![\w.,])\d+\s*(?:mm|cm)\b") == r"[\d]"
    assert first_class(r"(?:right|left)? ?hepatectomy") == "[ hlr]"  # the optional parts
    assert first_class(r"[-^\]]x") == r"[\-\]\^]"
    assert first_class(r"x?") is None  # may match nothing
    assert first_class(r"[^x]y") is None and first_class(r".y") is None


def test_each_target_pattern_behind_its_first_class_finds_what_it_found():
    texts = [chunk for text in TEXTS for chunk in re.split(r"(?<=[.!?])\s+|\n+", text)]
    for fact, patterns in _targets().items():
        for plain, quick in zip(patterns, _quick()[fact], strict=True):
            for text in texts:
                assert ([m.span() for m in quick.finditer(text)]
                        == [m.span() for m in plain.finditer(text)]), (quick.pattern, text)


def test_each_organ_pattern_behind_its_first_class_finds_what_it_found():
    texts = [chunk for text in TEXTS for chunk in re.split(r"(?<=[.!?])\s+|\n+", text)]
    for (organ, _, quick), o in zip(organs(), rule_file("organs")["organs"], strict=True):
        plain = re.compile(rf"\b(?:{o['pattern']})", re.I)
        assert quick.pattern != plain.pattern
        for text in texts:
            assert ([m.span() for m in quick.finditer(text)]
                    == [m.span() for m in plain.finditer(text)]), (organ, text)


# The value readers' expressions that are compiled behind their first characters.
QUICK_READERS = [(values, name) for name in (
    "LESION_WORDS", "NOT_LESION_SIZE", "PRIMARY_WORDS", "NOT_WHO_GRADE", "EARLIER", "PRRT",
    "WELL", "POOR", "SSTR", "RECIST", "CONTROLLED", "UNCONTROLLED")] + [
    (numbers, "DATES"), (reader, "_FRENCH"), (reader, "_ENGLISH")]


def _plain_and_quick() -> list[tuple[str, re.Pattern, re.Pattern]]:
    return [(name, re.compile(WRITTEN[getattr(module, name)], re.I), getattr(module, name))
            for module, name in QUICK_READERS]


def test_each_value_reader_behind_its_first_class_finds_what_it_found():
    texts = [chunk for text in TEXTS for chunk in re.split(r"(?<=[.!?])\s+|\n+", text)]
    # the readers look at a sentence's beginning too (before a target: "sentence[:at]")
    texts += [t[:m.start()] for t in texts for m in re.finditer(r"\b", t)]
    for name, plain, quick in _plain_and_quick():
        assert quick.pattern != plain.pattern, name
        for text in texts:
            assert ([m.span() for m in quick.finditer(text)]
                    == [m.span() for m in plain.finditer(text)]), (name, text)


def test_a_newborn_is_no_new_lesion():
    note = "# History of Present Illness\nLoren192\n is a newborn non-hispanic black male."
    assert families_stated(note) == frozenset()
    assert families_stated("New hepatic lesions in segment VII.") >= {"new_lesion"}


def test_every_target_in_the_corpus_passes_the_prefilter():
    for text in TEXTS:
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
            assert families_stated(sentence) == _with_a_target(sentence), sentence


FRAGMENTS = st.sampled_from([w for t in TEXTS for w in re.findall(r"\S+", t)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=6)), max_size=25))
def test_no_target_is_ever_lost_by_the_prefilter(words):
    text = " ".join(words)
    assert families_stated(text) == _with_a_target(text)
    assert families_named(text) >= _with_a_target(text)
    assert targets_found(text) == _every_match(text)


def _every_match(text: str) -> tuple:
    """Every pattern of every family tried on the text, in the rules' order: the matches
    medspaCy's regex matcher is given (pattern by pattern, the words first looked for)."""
    return tuple((fact, n, spans) for fact, patterns in _targets().items()
                 for n, p in enumerate(patterns)
                 if (spans := tuple(m.span() for m in p.finditer(text))))


def test_the_targets_found_are_every_match_of_every_pattern():
    for text in TEXTS:
        assert targets_found(text) == _every_match(text), text


def test_a_synthea_record_without_a_fact_in_its_notes_does_not_load_medspacy():
    bundles = sorted((p for p in SYNTHEA.glob("*.json")
                      if not p.name.startswith(("hospital", "practitioner"))),
                     key=lambda p: p.stat().st_size)
    largest = bundles[-1]
    code = ("import sys\nfrom trialsieve.fhir.reader import read\n"
            f"records = read({str(largest)!r})\n"
            "print(sum(len(r.documents) for r in records.records), 'medspacy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert int(out[0]) > 40  # its notes were read
    assert out[1] == "False"
    assert not any(mentions_something(t) and families_stated(t) for t in ["", " "])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=6)), max_size=25))
def test_the_value_readers_behind_their_first_class_find_what_they_found_anywhere(words):
    text = " ".join(words)
    for name, plain, quick in _plain_and_quick():
        assert ([m.span() for m in quick.finditer(text)]
                == [m.span() for m in plain.finditer(text)]), (name, text)
