"""trialsieve: clinical-trial eligibility screening."""

# The installed distribution's version, as pyproject.toml gives it (a test checks they
# agree): looking it up through importlib.metadata costs about 50 ms a command, most of
# a JSON screening's start.
__version__ = "0.1.0"
