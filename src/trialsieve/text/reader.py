"""One document to the mentions it states: medspaCy finds the targets and their ConText
modifiers, `values` reads each target's value from its sentence."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

from trialsieve.record import Document, Mention
from trialsieve.text.pipeline import mentions_something, nlp
from trialsieve.text.values import read as read_sentence

# ConText categories, as the modifiers a Mention carries.
MODIFIERS = {"NEGATED_EXISTENCE": "negated", "POSSIBLE_EXISTENCE": "uncertain",
             "HISTORICAL": "historical", "FAMILY": "family", "HYPOTHETICAL": "hypothetical"}

_FRENCH = re.compile(r"\b(?:le|la|les|des|du|une|est|pas|avec|sans|et|au|aux|de|sur|"
                     r"dans|chez|elle|il)\b|[éèêàç]", re.I)
_ENGLISH = re.compile(r"\b(?:the|of|and|is|with|no|was|in|on|for|she|he|are|this)\b", re.I)


def language(text: str) -> str:
    """"fr" when French words outnumber English ones, else "en"."""
    return "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"


def read(document: Document) -> list[Mention]:
    """The mentions a document states, in text order, each with its sentence (offsets in
    the document text) and the ConText modifiers that applied. Pure."""
    if not mentions_something(document.text):
        return []
    lang = language(document.text)
    out: list[Mention] = []
    for offset, chunk in chunks(document.text):
        with warnings.catch_warnings():  # [W036]: a pipeline without token patterns
            warnings.simplefilter("ignore", UserWarning)
            doc = nlp(lang)(chunk)
        for sent in doc.sents:
            ents = [e for e in doc.ents if sent.start <= e.start < sent.end]
            if not ents:
                continue
            found = [(e.label_, e.text, e.start_char - sent.start_char,
                      _modifiers(e)) for e in ents]
            for fact, value, unit, when, details, mods in read_sentence(found, sent.text,
                                                                         lang):
                out.append(Mention(fact, value, unit, document.source, document.kind,
                                   when or document.date, sent.text,
                                   offset + sent.start_char, offset + sent.end_char, mods,
                                   details, lang))
    return _one_each(out)


_BREAK = re.compile(r"\n[ \t]*\n\s*|(?<=[.:;!?|])[ \t]*\n\s*|\n(?=[ \t]*(?:[-*•#]|\d+[.)] ))")


def chunks(text: str) -> list[tuple[int, str]]:
    """The paragraphs, list items and table rows of a text that name a fact, with their
    offsets: only those go through medspaCy (PyRuSH takes time in proportion to the
    text). A line that wraps a sentence (no stop at its end) stays with the next."""
    out, start = [], 0
    for m in _BREAK.finditer(text):
        out.append((start, text[start:m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return [(at, chunk) for at, chunk in out if chunk.strip() and mentions_something(chunk)]


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
