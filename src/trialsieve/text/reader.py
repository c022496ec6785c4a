"""One document to the mentions it states: medspaCy finds the targets and their ConText
modifiers, `values` reads each target's value from its sentence."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import trialsieve.text.entities as entities
import trialsieve.text.stored as stored
from trialsieve.record import Document, Mention
from trialsieve.text.pipeline import (
    CUES,
    MATCHES,
    TARGETS,
    Hits,
    any_cue,
    cue_matcher,
    mentions_something,
    nlp,
    steps,
    targets_found,
)
from trialsieve.text.triggers import quick
from trialsieve.text.values import read as read_sentence

# ConText categories, as the modifiers a Mention carries.
MODIFIERS = {"NEGATED_EXISTENCE": "negated", "POSSIBLE_EXISTENCE": "uncertain",
             "HISTORICAL": "historical", "FAMILY": "family", "HYPOTHETICAL": "hypothetical"}

_FRENCH = quick(r"\b(?:le|la|les|des|du|une|est|pas|avec|sans|et|au|aux|de|sur|"
                r"dans|chez|elle|il)\b|[éèêàç]")
_ENGLISH = quick(r"\b(?:the|of|and|is|with|no|was|in|on|for|she|he|are|this)\b")


def language(text: str) -> str:
    """"fr" when French words outnumber English ones, else "en"."""
    return "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"


def read(document: Document) -> list[Mention]:
    """The mentions a document states, in text order, each with its sentence (offsets in
    the document text) and the ConText modifiers that applied. Pure."""
    if not mentions_something(document.text):
        return []
    lang, kept_in = language(document.text[:2000]), stored.folder()
    out: list[Mention] = []
    for offset, chunk in chunks(document.text):
        for fact, value, unit, when, details, mods, start, end, sentence in _read_chunk(
                lang, chunk, kept_in):
            out.append(Mention(fact, value, unit, document.source, document.kind,
                               when or document.date, sentence, offset + start,
                               offset + end, mods, details, lang))
    return _one_each(out)


@lru_cache(maxsize=4096)
def _read_chunk(lang: str, chunk: str, kept_in: Path | None) -> tuple[tuple, ...]:
    """What one paragraph states, offsets in the paragraph; its reading kept in the folder
    `kept_in` (`stored.folder`). Kept: notes repeat their paragraphs (a population's notes
    list the same procedures again and again)."""
    found = targets_found(chunk)
    if not found:  # no target in it: medspaCy is not even loaded for it
        return ()
    where = stored.where(lang, chunk, kept_in)
    kept = stored.load(where)
    if kept is None:
        kept = _read_with_medspacy(lang, chunk, found)
        stored.store(where, kept)
    return kept


def _read_with_medspacy(lang: str, chunk: str, found: Hits, short_way: bool = True
                        ) -> tuple[tuple, ...]:
    """What the paragraph states, read by medspaCy's pipeline. A one-sentence paragraph's
    entities are worked out from its tokens (`entities`), unless `short_way` is False (the
    tests compare the two); with no ConText cue in it that can give a modifier (only a
    scope's end, ";", or none at all) it goes no further: ConText would give its targets
    no modifier a Mention carries."""
    doc = nlp(lang).make_doc(chunk)
    # PyRuSH only where a piece may still hold more than one sentence
    one = not _INNER_STOP.search(chunk.strip())
    kept = entities.matches(lang, doc, found) if one and short_way else None
    if kept is None:
        doc.user_data[TARGETS] = found
        doc = _through(lang, doc, one)
        every = doc.ents
        return _facts(lang, chunk, [(sent.start_char, sent.end_char,
                                     [(e.label_, e.start_char, e.end_char, _modifiers(e))
                                      for e in every if sent.start <= e.start < sent.end])
                                    for sent in doc.sents])
    # one sentence: from its first token's start to its last's end
    sentence = (doc[0].idx, doc[-1].idx + len(doc[-1]))
    cues = cue_matcher(lang)(doc) if any_cue(lang, doc) else []
    if not any(cue[0] in _telling(lang) for cue in cues):  # ConText would give them none
        return _facts(lang, chunk, [(*sentence, [(*e, ()) for e in entities.of(lang, doc, kept)])])
    doc.user_data[MATCHES], doc.user_data[CUES] = kept, cues
    doc = _through(lang, doc, one)
    return _facts(lang, chunk, [(*sentence, [(e.label_, e.start_char, e.end_char, _modifiers(e))
                                             for e in doc.ents])])


@cache
def _telling(lang: str) -> frozenset[int]:
    """The ConText cues whose modifier a Mention carries (`MODIFIERS`), by match id: not
    those that only end another cue's scope or keep a phrase from being one."""
    strings = nlp(lang).vocab.strings
    return frozenset(strings[key] for key, rule in cue_matcher(lang).rule_map.items()
                     if rule.category in MODIFIERS)


def _through(lang: str, doc: Any, one: bool) -> Any:
    """The Doc through the pipeline: PyRuSH only where it may hold more than one sentence
    (otherwise `sentence_ends` makes it one)."""
    for name, component in steps(lang):
        if not (one and name == "medspacy_pyrush"):
            doc = component(doc)
    return doc


def _facts(lang: str, chunk: str, sentences: list[tuple[int, int, list]]
           ) -> tuple[tuple, ...]:
    """The facts of each sentence (its offsets in the paragraph) that holds entities (their
    family, offsets in the paragraph and modifiers)."""
    out = []
    for begin, end, ents in sentences:
        if not ents:
            continue
        text = chunk[begin:end]
        targets = [(fact, chunk[start:finish], start - begin, mods)
                   for fact, start, finish, mods in ents]
        for fact, value, unit, when, details, mods in read_sentence(targets, text, lang):
            out.append((fact, value, unit, when, details, mods, begin, end, text))
    return tuple(out)


# A stop with more text after it: where PyRuSH must say whether a sentence ends.
_INNER_STOP = re.compile(r"[.!?]\s+\S")
# A plain sentence end: a stop, space, a capital; not after an abbreviation or an initial.
_PLAIN_END = re.compile(r"[.!?](?=\s+[A-ZÀ-ÖØ-Þ])")
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "pr", "prof", "vs", "e.g", "i.e", "cf", "fig",
                  "no", "approx", "st", "seg", "mme", "m", "env", "dre", "mlle", "nb", "n°",
                  "etc", "al", "ca", "p"}
_LAST_WORD = re.compile(r"(\S+)$")
_INITIAL = re.compile(r"[a-zà-þ]")
_BREAK = re.compile(r"\n[ \t]*\n\s*|(?<=[.:;!?|])[ \t]*\n\s*|\n(?=[ \t]*(?:[-*•#]|\d+[.)] ))")


def chunks(text: str) -> list[tuple[int, str]]:
    """The paragraphs, list items and table rows of a text that may name a fact, with
    their offsets: only those go through medspaCy (PyRuSH takes time in proportion to
    the text). A line that wraps a sentence (no stop at its end) stays with the next."""
    out, start = [], 0
    for m in _BREAK.finditer(text):
        out.append((start, text[start:m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return [piece for at, chunk in out for piece in _sentences(at, chunk)
            if piece[1].strip() and mentions_something(piece[1])]


def _sentences(at: int, chunk: str) -> list[tuple[int, str]]:
    """A paragraph cut at its plain sentence ends; what is left unsure (a stop after an
    abbreviation) PyRuSH decides. Most of a report's stops are plain, and PyRuSH reads
    character by character in Python: most of the reader's time otherwise."""
    out, start = [], 0
    for m in _PLAIN_END.finditer(chunk):
        word = _LAST_WORD.search(chunk[start:m.start()])
        before = word.group(1).lower() if word else ""
        if before in _ABBREVIATIONS or _INITIAL.fullmatch(before):
            continue
        out.append((at + start, chunk[start:m.end()]))
        start = m.end() + len(chunk[m.end():]) - len(chunk[m.end():].lstrip())
    out.append((at + start, chunk[start:]))
    return out


def _modifiers(ent) -> tuple[str, ...]:
    return tuple(sorted({MODIFIERS[m.category] for m in ent._.modifiers
                         if m.category in MODIFIERS}))


def _one_each(mentions: list[Mention]) -> list[Mention]:
    """One mention per fact, value and sentence (a sentence may name a fact twice)."""
    seen: dict[tuple, Mention] = {}
    for m in mentions:
        key = (m.fact, m.value, m.start, m.details)
        if key in seen:
            # never affirmed where one reading of it is not
            merged = tuple(sorted(set(seen[key].modifiers) | set(m.modifiers)))
            seen[key] = replace(seen[key], modifiers=merged)
        else:
            seen[key] = m
    return list(seen.values())
