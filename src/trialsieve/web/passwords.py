"""The password policy: long enough, not a common password dressed up with digits or
symbols, not the user name. Long passphrases pass; "password1234" does not."""

from __future__ import annotations

import re

MIN_PASSWORD = 12
# Bases of the passwords most often found in breaches (and this site's own words): a
# password that is one of these once digits and symbols are taken away is refused.
COMMON = frozenset("""
password passw0rd pass passwd qwerty qwertyuiop azerty asdfgh asdfghjkl zxcvbn
letmein welcome welcome1 admin administrator root user login iloveyou monkey dragon
football baseball soccer hockey master shadow sunshine princess superman batman trustno
abc abcdef abcdefg abcdefgh abcdefghijkl secret changeme default test testing hello
freedom whatever starwars pokemon computer internet summer winter spring autumn
trialsieve investigator coordinator monitor hospital research nurse doctor clinic
lumen patient screening motdepasse bonjour soleil
""".split())


class PasswordError(ValueError):
    pass


def check(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise PasswordError("a password has at most 1024 characters")
    core = re.sub(r"[\W\d_]+", "", password.lower())
    unit = re.fullmatch(r"(.+?)\1*", core)  # "adminadmin" is "admin" said twice
    if not core or core in COMMON or (unit and (unit[1] in COMMON or len(unit[1]) < 4)) or (
            len(set(password)) < 5):
        raise PasswordError("too common or too easy to guess: choose a passphrase of a few "
                            "unrelated words")
    if username and username.lower() in password.lower():
        raise PasswordError("a password must not contain the user name")
