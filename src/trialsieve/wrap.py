"""Text wrapping that stays linear in the length of a word (a 1 MB resource id)."""

from __future__ import annotations

import re


def chop_long_words(text: str, size: int) -> str:
    """Words longer than a line cut into line-sized pieces first: textwrap alone takes
    time quadratic in a word's length (a 1 MB id took seconds)."""
    if size < 1 or len(text) <= size or not re.search(rf"\S{{{size + 1}}}", text):
        return text

    def cut(m: re.Match) -> str:
        word = m[0]
        return " ".join(word[i:i + size] for i in range(0, len(word), size))

    return re.sub(rf"\S{{{size + 1},}}", cut, text)
