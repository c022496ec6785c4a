"""The error of a unit that cannot be read or converted: its own module, so that
`units` and the table of laboratory spellings in front of it (`unit_spellings`) both
raise it without importing each other."""


class UnitError(ValueError):
    """A unit that cannot be parsed or converted to the unit a rule needs."""
