"""The text reader's readings kept on disk between runs (issue 20, the command's time; issue
21, the reader's): a paragraph read once gives the same mentions from its stored reading,
without medspaCy, in a later process; a damaged stored reading is read again, never
believed; and the cache can be turned off."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import text_corpus as corpus

from trialsieve import text
from trialsieve.record import Document
from trialsieve.text import reader

pytestmark = pytest.mark.skipif(not text.available(), reason="no text reader on this Python")

REPO = Path(__file__).resolve().parent.parent
CASES = corpus.sentences() + corpus.reports()


def _documents() -> list[Document]:
    return [Document(f"DocumentReference/{i}", c.kind, dt.date(2026, 11, 2), c.text)
            for i, c in enumerate(CASES)]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALSIEVE_CACHE", str(tmp_path))
    monkeypatch.delenv("TRIALSIEVE_TEXT_CACHE", raising=False)
    reader._read_chunk.cache_clear()
    yield tmp_path / "text"
    reader._read_chunk.cache_clear()


def _refuse_medspacy(monkeypatch):
    def refuse(*args):
        raise AssertionError("medspaCy was asked for a paragraph already read")
    monkeypatch.setattr(reader, "_read_with_medspacy", refuse)


def test_the_whole_corpus_reads_the_same_from_its_stored_readings(cache, monkeypatch):
    documents = _documents()
    fresh = [text.read(d) for d in documents]
    assert sum(map(len, fresh)) > 400  # the corpus states its facts
    assert len(list(cache.rglob("*.json"))) > 200
    reader._read_chunk.cache_clear()
    _refuse_medspacy(monkeypatch)
    assert [text.read(d) for d in documents] == fresh


def test_a_damaged_stored_reading_is_read_again_not_believed(cache, monkeypatch):
    document = Document("DiagnosticReport/p", "pathology", dt.date(2026, 3, 2),
                        "TNE bien différenciée G2, Ki-67 8 %. Absence de métastase cérébrale.")
    fresh = text.read(document)
    assert {m.fact for m in fresh} >= {"net_diagnosis", "who_grade", "ki67"}
    for n, path in enumerate(sorted(cache.rglob("*.json"))):
        # cut short, not JSON, or JSON of another shape
        path.write_text(['[["ki67", 8.0', "\0\0", '{"ki67": 80}'][n % 3])
    reader._read_chunk.cache_clear()
    assert text.read(document) == fresh


def test_turned_off_every_text_is_read_afresh(cache, monkeypatch):
    monkeypatch.setenv("TRIALSIEVE_TEXT_CACHE", "off")
    document = _documents()[0]
    text.read(document)
    assert not cache.exists()


def test_a_later_command_reads_a_report_without_loading_medspacy(tmp_path):
    """The user-visible gain: the second screening of a patient whose facts are in reports
    does not load medspaCy (about two seconds), and prints the same."""
    patient = next((REPO / "examples" / "patients").glob("82-*"))
    env = {**os.environ, "TRIALSIEVE_CACHE": str(tmp_path)}
    env.pop("TRIALSIEVE_TEXT_CACHE", None)
    code = ("import sys\nfrom trialsieve.cli import main\n"
            f"code = main(['screen', {str(patient)!r}, '--as-of', '2026-11-25', "
            "'--d0', '2026-12-01'])\n"
            "print('medspacy loaded:', 'medspacy' in sys.modules)\nsys.exit(code)")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env) for _ in range(2)]
    assert runs[0].stdout.rstrip().endswith("medspacy loaded: True")
    assert runs[1].stdout.rstrip().endswith("medspacy loaded: False")
    assert runs[0].stdout.replace("True", "") == runs[1].stdout.replace("False", "")
    assert "suggested by" in runs[1].stdout
