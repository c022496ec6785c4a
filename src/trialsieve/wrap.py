"""Text wrapping that stays linear in the length of a word (a 1 MB resource id)."""

from __future__ import annotations

import re

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
