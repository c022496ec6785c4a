"""Text wrapping that stays linear in the length of a word (a 1 MB resource id)."""

from __future__ import annotations

import re
import textwrap

# textwrap's cost grows with the square of a word's length: harmless for a file path,
# seconds for a 1 MB id. Words longer than this are cut before textwrap sees them.
LONG_WORD = 1000


def chop_long_words(text: str, size: int) -> str:
    """Words of more than LONG_WORD characters cut into pieces of `size` (a line), so that
    textwrap takes linear time; shorter words are left for textwrap to break as usual."""
    if size < 1 or len(text) <= LONG_WORD:
        return text
    long_word = re.compile(rf"\S{{{LONG_WORD + 1},}}")
    if not long_word.search(text):
        return text

    def cut(m: re.Match) -> str:
        word = m[0]
        return " ".join(word[i:i + size] for i in range(0, len(word), size))

    return long_word.sub(cut, text)


_SEPARATOR = re.compile(r"(?<=[/\\])")


class _Wrapper(textwrap.TextWrapper):
    """textwrap, but a path longer than a line breaks after a separator ("/", "\\") and
    never at a hyphen: cut anywhere else, "…/56-deceased-" + "before-screening.json"
    reads as another file. A shorter path (or unit, "mL/min/1.73 m²") stays whole."""

    def _split(self, text: str) -> list[str]:
        room = self.width - max(len(self.initial_indent), len(self.subsequent_indent))
        chunks: list[str] = []
        for chunk in self.wordsep_simple_re.split(text):  # at whitespace only
            if not chunk:
                continue
            if "/" in chunk or "\\" in chunk:
                chunks += ([c for c in _SEPARATOR.split(chunk) if c] if len(chunk) > room
                           else [chunk])
            elif self.break_on_hyphens:
                chunks += [c for c in self.wordsep_re.split(chunk) if c]
            else:
                chunks.append(chunk)
        return chunks


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "",
         break_on_hyphens: bool = True) -> list[str]:
    """textwrap.wrap with paths broken at their separators only (`_Wrapper`)."""
    return _Wrapper(width, initial_indent=initial_indent, subsequent_indent=subsequent_indent,
                    break_on_hyphens=break_on_hyphens).wrap(text)
