"""How a population run is made: its own module, so that the engines (run.py for
DuckDB, spark_job.py for Spark) read it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Settings:
    as_of: date
    policy: str
    engine: str = "duckdb"
    jobs: int = 1
    strict: bool = False
    master: str | None = None  # Spark master URL (default local[jobs])
    window: bool = False  # each patient's D0 window: ~180 screenings a patient
    concept_maps: tuple[str, ...] = ()  # --concept-map files: the site's own codes
    full: bool = False  # --full: every criterion for every patient (no triage)
