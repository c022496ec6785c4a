"""What each target states: its value (a grade, a percentage, a size in mm, an ECOG),
its date, its details (organ, Krenning grade, control), read from its sentence.

A target whose sentence does not make it the fact it looks like is dropped here: a size
with no lesion in its sentence, an organ word with no NET or primary in its sentence, a
"grade 3" that is a Krenning grade or a toxicity grade, a radiotherapy that is PRRT.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from functools import cache, lru_cache

import trialsieve.text.numbers as numbers
from trialsieve.record.facts import NOT_AFFIRMED
from trialsieve.text.pipeline import rule_file
from trialsieve.text.triggers import quick

Found = tuple[str, str, int, tuple[str, ...]]  # fact, target text, offset in sentence, mods
Read = tuple[str, str | float | None, str | None, date | None, tuple[tuple[str, str], ...],
             tuple[str, ...]]

LESION_WORDS = quick(
    r"\b(?:lesions?|mass(?:es)?|metastas[ie]s|mets|nodules?|nodes?|tumou?rs?|foci|focus|"
    r"deposits?|adenopath(?:y|ies)|target|l[ée]sions?|masses?|m[ée]tastases?|"
    r"ad[ée]nopathies?|ganglions?|tumeurs?|cibles?|foyers?|implants?|primary|primitif|"
    r"primitive|measur(?:es|ing|ed)|mesur(?:e|ant|ée)|hypodens|hypervascular|fixante|"
    r"fixant|avid|uptake)")
NOT_LESION_SIZE = quick(r"\b(?:slice|thickness|[ée]paisseur|coupes?|margins?|marges?|"
                        r"distance|from the|[àa] \d+ ?mm de|biops)")
PRIMARY_WORDS = quick(r"\b(?:primary|primitif|primitive|primaire|origin|origine|"
                      r"arising|developed in|d[ée]velopp[ée]e?)\b")
NOT_WHO_GRADE = quick(r"(?:krenning|uptake|fixation|toxicit|ctcae|deauville|"
                      r"hyperfixation|intensit|neutrop|thrombop|lymphop|an[ée]mi|"
                      r"diarrh|naus|mucosit|fatigue|asth[ée]nie|h[ée]matolog)"
                      r"[^.;]{0,20}$")
# A size after these words is an earlier measurement: "45 mm (previously 38 mm)".
EARLIER = quick(r"\b(?:previously|prior|before|baseline|versus|vs\.?|compared|was|"
                r"auparavant|pr[ée]c[ée]demment|contre|initialement|initially)"
                r"\W+(?:\w+\W+)?$")
PRRT = quick(r"\b(?:PRRT|lutathera|177\s?Lu|lu-?177|lut[ée]tium|vectoris[ée]e|"
             r"radionuclide|radioligand|SIRT|radioembolization|radio-?embolisation|"
             r"yttrium|90Y|y-?90|radiom[ée]tabolique|radioactive iodine|iode)")
WELL = quick(r"\b(?:well|bien|highly)[- ]?(?:differentiated|diff[ée]renci[ée]e?s?)")
POOR = quick(r"\b(?:poorly|peu|mal|un)[- ]?(?:differentiated|diff[ée]renci[ée]e?s?)|"
             r"\bcarcinomes?\s+neuro-?endocrines?|neuro-?endocrine carcinomas?|"
             r"(?-i:\b(?:NEC|CNE)s?\b)")
SSTR = quick(r"\b(?:SSTR|somatostatin|DOTA\w*|octreoscan|octreotide scan|68\s?Ga|"
             r"ga-?68|gallium|TEP[- ]DOTA|scintigraph|Krenning|SRI|SRS)")
RECIST = quick(r"\bRECIST\b")
CONTROLLED = quick(r"\b(?:stable|controlled|treated|resected|irradiated|no progression|"
                   r"contr[ôo]l[ée]es?|stables?|trait[ée]es?|r[ée]s[ée]qu[ée]es?|"
                   r"irradi[ée]es?)\b")
UNCONTROLLED = quick(r"\b(?:uncontrolled|progressive|progressing|symptomatic|growing|"
                     r"untreated|active|non contr[ôo]l[ée]es?|[ée]volutives?|"
                     r"symptomatiques?|non trait[ée]es?|en progression)\b")
ECOG_SCORE = re.compile(r"([0-4])(?:\s*[-–/]\s*([0-4]))?\s*$")
KI67_VALUE = re.compile(r"(<=|>=|<|>|≤|≥|less than|below|under|up to|inf[ée]rieur [àa]|"
                        r"moins de|sup[ée]rieur [àa])?\s*(\d+(?:[.,]\d+)?)(?:\s*%?\s*"
                        r"(?:-|–|to|[àa])\s*(\d+(?:[.,]\d+)?))?\s*%\s*$", re.I)
_KRENNING_GRADE = re.compile(r"[0-4]")
_GRADE = re.compile(r"(?:\bG\s?|\b)([1-3]|III|II|I)\b", re.I)
_KARNOFSKY = re.compile(r"karnofsky|kps", re.I)
_SCORE = re.compile(r"(\d{1,3})\s*%?\s*$")
COMPARATORS = {"≤": "<=", "≥": ">=", "less than": "<", "below": "<", "under": "<",
               "up to": "<=", "moins de": "<"}


@cache
def organs() -> list[tuple[str, bool, re.Pattern]]:
    return [(o["organ"], o["primary"], quick(rf"\b(?:{o['pattern']})"))
            for o in rule_file("organs")["organs"]]


def organ_near(sentence: str, at: int, primary_only: bool = False) -> str | None:
    """The organ named nearest to offset `at` of the sentence."""
    best: tuple[int, str] | None = None
    for organ, primary, start, end in _organs_in(sentence):
        if primary_only and not primary:
            continue
        distance = min(abs(start - at), abs(end - at))
        if best is None or distance < best[0]:
            best = (distance, organ)
    return best[1] if best else None


@lru_cache(maxsize=256)
def _organs_in(sentence: str) -> tuple[tuple[str, bool, int, int], ...]:
    """Every organ named in the sentence, in the organs' order then the text's: kept, as
    a sentence's targets each ask for the organ nearest to them."""
    return tuple((organ, primary, m.start(), m.end()) for organ, primary, pattern in organs()
                 for m in pattern.finditer(sentence))


def read(found: list[Found], sentence: str, lang: str) -> Iterator[Read]:
    """The facts of one sentence's targets."""
    facts = {f for f, _, _, _ in found}
    when = next(iter(numbers.dates(sentence, day_first=lang == "fr")), None)
    krenning = [(t, at, mods) for f, t, at, mods in found
                if f == "lesion" and "krenning" in t.lower()]
    sizes = [(t, at, mods) for f, t, at, mods in found
             if f == "lesion" and "krenning" not in t.lower()]
    for fact, text, at, mods in found:
        if fact == "lesion":
            continue
        reader = READERS.get(fact)
        if reader is None:
            yield fact, None, None, when, (), mods
            continue
        if fact == "primary_site":
            mods = _as_the_net(mods, found, sentence)
        for value, unit, details in reader(text, sentence, at, facts):
            dated = when if fact in DATED else None
            yield fact, value, unit, dated, details, mods
        if fact == "new_lesion" and METASTASES.search(text):  # "new liver metastases"
            yield "metastatic", "metastatic", None, None, (), mods
    yield from _lesions(sizes, krenning, sentence)


def _as_the_net(mods: tuple[str, ...], found: list[Found], sentence: str
                ) -> tuple[str, ...]:
    """An organ that is a primary site because a NET is named beside it is stated as
    that NET is: "biopsie gastrique : absence de tumeur neuroendocrine" states no
    gastric primary."""
    nets = [m for f, _, _, m in found if f == "net_diagnosis"]
    if not nets or PRIMARY_WORDS.search(sentence):
        return mods
    unsaid = set.intersection(*(set(m) & NOT_AFFIRMED for m in nets))
    return tuple(sorted(set(mods) | unsaid))


def _lesions(sizes: list, krenning: list, sentence: str) -> Iterator[Read]:
    grade = None
    if krenning:
        grade = _KRENNING_GRADE.findall(krenning[0][0])[0]
    # a size is a lesion's where its sentence names one, and is not a slice or a margin
    kept = sizes if sizes and LESION_WORDS.search(sentence) and not NOT_LESION_SIZE.search(
        sentence) else []
    for text, at, mods in kept:
        if EARLIER.search(sentence[max(0, at - 30):at]):
            continue
        mm = numbers.sizes_mm(text)
        if not mm:
            continue
        details = [("organ", o) for o in [organ_near(sentence, at)] if o]
        if grade is not None:
            details.append(("krenning", grade))
        yield "lesion", mm[0][0], "mm", None, tuple(details), mods
    if not kept and krenning:
        text, at, mods = krenning[0]
        details = [("organ", o) for o in [organ_near(sentence, at)] if o]
        yield "lesion", None, None, None, (*details, ("krenning", grade or "")), mods


Values = Iterator[tuple[str | float | None, str | None, tuple[tuple[str, str], ...]]]


def _net(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    near = sentence[max(0, at - 40): at + len(text) + 40]
    if POOR.search(text) or POOR.search(near):
        yield "poor", None, ()
    elif WELL.search(text) or WELL.search(near):
        yield "well", None, ()
    else:
        yield None, None, ()


def _grade(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    if NOT_WHO_GRADE.search(sentence[:at]):
        return
    found = _GRADE.findall(text)
    if found:
        g = found[-1].upper()
        yield f"G{g if g.isdigit() else numbers.ROMAN[g.lower()]}", None, ()


def _ki67(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    m = KI67_VALUE.search(text)
    if not m:
        return
    low, high = numbers.number(m.group(2)), m.group(3)
    details: list[tuple[str, str]] = []
    if m.group(1):
        comparator = m.group(1).lower()
        comparator = COMPARATORS.get(comparator, comparator)
        if comparator.startswith(("inf", "sup")):
            comparator = "<" if comparator.startswith("inf") else ">"
        details.append(("comparator", comparator))
    if high is not None:  # a range "5-10 %": its upper end, the range kept in details
        details.append(("range", f"{m.group(2)}-{high}"))
        low = numbers.number(high)
    if 0 <= low <= 100:
        yield low, "%", tuple(details)


def _primary(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    if "net_diagnosis" not in facts and not PRIMARY_WORDS.search(sentence):
        return
    organ = organ_near(text, 0, primary_only=True)
    if organ:
        yield organ, None, ()


def _metastatic(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    low = text.lower()
    advanced = any(w in low for w in ("locally", "localement", "résécable", "resectable",
                                      "inoperable", "inopérable", "unresectable",
                                      "resecable", "inoperab"))
    yield ("locally advanced" if advanced else "metastatic"), None, ()


def _progression(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    kind = "RECIST" if RECIST.search(sentence) else "SSTR" if SSTR.search(sentence) else None
    yield kind, None, ()


def _new_lesion(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    organ = organ_near(sentence, at)
    yield None, None, ((("organ", organ),) if organ else ())


METASTASES = re.compile(r"m[ée]tasta", re.I)


def _brain(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    rest = sentence[at:]
    if UNCONTROLLED.search(rest):
        yield None, None, (("controlled", "no"),)
    elif CONTROLLED.search(rest):
        yield None, None, (("controlled", "yes"),)
    else:
        yield None, None, ()


def _ecog(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    if _KARNOFSKY.search(text):
        score = _SCORE.search(text)
        ecog = numbers.karnofsky_to_ecog(int(score.group(1))) if score else None
        if ecog is not None and score is not None:
            yield ecog, None, (("karnofsky", score.group(1)),)
        return
    m = ECOG_SCORE.search(text)
    if m:  # "ECOG 0-1": the worse of the two, the range kept in details
        worst = max(int(g) for g in m.groups() if g)
        yield worst, None, ((("range", f"{m.group(1)}-{m.group(2)}"),) if m.group(2) else ())


def _radiotherapy(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    if PRRT.search(sentence):
        return  # peptide receptor radionuclide therapy, SIRT: not external radiotherapy
    organ = organ_near(sentence, at)
    yield None, None, ((("site", organ),) if organ else ())


def _surgery(text: str, sentence: str, at: int, facts: set[str]) -> Values:
    yield text.strip().lower(), None, ()


READERS = {"net_diagnosis": _net, "who_grade": _grade, "ki67": _ki67,
           "primary_site": _primary, "metastatic": _metastatic,
           "progression": _progression, "new_lesion": _new_lesion,
           "brain_metastases": _brain, "ecog": _ecog, "radiotherapy": _radiotherapy,
           "major_surgery": _surgery}
# The facts whose date is the event's, when the sentence gives one.
DATED = {"progression", "new_lesion", "major_surgery", "radiotherapy", "ecog"}
