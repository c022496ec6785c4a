"""Input problems, each naming the file, the resource and the field."""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be read at all: the command stops with exit status 2."""

    def __init__(self, file: str, message: str, resource: str = "", field: str = "") -> None:
        self.file, self.resource, self.field = file, resource, field
        self.message = message
        where = ": ".join(x for x in (file, resource, field) if x)
        super().__init__(f"{where}: {message}")


class FieldError(ValueError):
    """A field with a value of the wrong type or form; the resource is set aside."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class Skip(Exception):
    """The resource is read but does not count (status, no value): listed as ignored."""


class NotRelevant(Skip):
    """No criterion reads this resource: counted only."""
