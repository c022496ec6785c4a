"""Mutation fuzzing of the command line, shared by tests/test_fuzz.py (hypothesis, a few
hundred inputs in the normal test run) and benchmarks/fuzz_campaign.py (10^5 inputs).

An input is built from a seed (random.Random), so any finding is reproduced by its
category and seed. Seeds of inputs: examples/patients, tests/data/bad, the shared FHIR
and Synthea data (../shared/data) and the RECIST CSV of tests/clinical/data.

What every run must do (`Run.problems`): exit 0, 1 or 2 as the README documents, no
traceback, done within the time limit. What damage must never do (`damage_lab`): turn a
criterion reading the damaged lab result into met (or an exclusion into not met).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import random
import re
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from trialsieve.cli import main
from trialsieve.codes import LAB_BY_CODE
from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.protocols.lumen import LUMEN
from trialsieve.units import _registry

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRIALSIEVE_SHARED_DATA", REPO.parent / "shared" / "data"))
EXAMPLES = sorted((REPO / "examples" / "patients").glob("*.json"))
# The bad-input fixtures that are JSON (the others are damaged bytes already).
BAD = [p for p in sorted((REPO / "tests" / "data" / "bad").glob("*.json"))
       if p.read_text().strip().startswith("{") and p.read_text().strip().endswith("}")]
RECIST_CSV = REPO / "tests" / "clinical" / "data" / "recist_example.csv"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]
_DEEP = re.compile(r'"__DEEP_(\d+)__"')
CATEGORIES = ("bundle", "bundle-bytes", "ndjson", "folder", "csv", "cli-args", "damage")

# Values that real records never hold in that place (JSON-able; NaN and Infinity are
# written as the non-standard literals Python's json reads).
HOSTILE = [None, True, False, 0, -1, -0.0, 1e308, -1e308, math.inf, -math.inf, math.nan,
           10 ** 400, -(10 ** 400), 2 ** 63, "", " ", "x" * 5000, "\u2028", "\x00", "NaN",
           "9999-12-31", "0001-01-01", "2026-02-30", "2026", "1e999", [], {}, [None], [{}],
           {"a": 1}, [[[[[[[[[[[]]]]]]]]]]], "<", "≤", "~", "Cel", "1" * 300, "[IU]", "10*9",
           "%", "{", "}", "Patient/", "urn:uuid:", 12.5, 7]
COMPARATORS = ["<", "<=", ">=", ">", "≤", "≥", "~", " <", "ad", "", 5, None, "<<"]
BAD_UNITS = ["", " ", "1", "[IU]", "10*9", "Cel", "degF", "1" * 120, "((", "{x}", "m",
             "kg", "mol", "10*9/L/L", "%%", 5, None, [], "g/dL/dL"]


@dataclass
class Run:
    """One command run: what a user would see, and what it must not be."""

    category: str
    seed: int
    argv: list[str]
    code: int | None = None
    seconds: float = 0.0  # CPU time
    wall: float = 0.0
    traceback: str | None = None
    timed_out: bool = False
    out: str = ""
    err: str = ""
    met_from_damage: bool = False
    notes: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = []
        if self.timed_out:
            found.append(f"ran past the time limit ({self.seconds:.1f} s CPU, "
                         f"{self.wall:.1f} s wall)")
        if self.traceback:
            found.append("traceback:\n" + self.traceback)
        elif self.code not in (0, 1, 2):
            found.append(f"exit status {self.code!r}")
        if "Traceback" in self.err or "Traceback" in self.out:
            found.append("a traceback printed")
        if self.met_from_damage:
            found.append("met from damage: " + "; ".join(self.notes))
        return found


class _TimeUp(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` swallows it."""


def run_cli(argv: list[str], limit: float = 10.0, category: str = "", seed: int = 0) -> Run:
    """main(argv) in this process, its output captured, stopped after `limit` seconds of
    CPU time (a loop) or 6 x `limit` seconds of wall time (a blocked read): CPU time, so
    that a machine shared with other work does not pass for a hang."""
    _registry()  # built once before any alarm: an interrupted build would break later runs
    run = Run(category, seed, argv)
    out, err = io.StringIO(), io.StringIO()

    def alarm(signum, frame):  # noqa: ARG001
        raise _TimeUp

    old = {sig: signal.signal(sig, alarm) for sig in (signal.SIGALRM, signal.SIGVTALRM)}
    signal.setitimer(signal.ITIMER_VIRTUAL, limit)
    signal.setitimer(signal.ITIMER_REAL, 6 * limit)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run.code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        run.code = exc.code if isinstance(exc.code, int) else 2
    except _TimeUp:
        run.timed_out = True
    except Exception:  # noqa: BLE001 - a traceback is what we are looking for
        run.traceback = traceback.format_exc(limit=-8)
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in old.items():
            signal.signal(sig, handler)
        run.seconds = time.process_time() - cpu
        run.wall = time.perf_counter() - start
    run.out, run.err = out.getvalue(), err.getvalue()
    return run


# --- seeds ----------------------------------------------------------------------------
@cache
def _json(path: Path) -> object:
    return json.loads(path.read_text())


@cache
def shared_files() -> tuple[Path, ...]:
    """Small files of the shared data (FHIR spec examples, the smallest Synthea bundles)."""
    spec = sorted((SHARED / "fhir-r4-spec-examples").glob("*.json"))
    synthea = sorted((SHARED / "synthea-openmrs-bundles").glob("*.json"),
                     key=lambda p: p.stat().st_size)[:3]
    return tuple(spec + synthea)


@cache
def ndjson_seed() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A few lines of each Synthea bulk NDJSON file (whole files are too slow to fuzz)."""
    folder = SHARED / "synthea-bulk-ndjson" / "10-patients"
    out = []
    for f in sorted(folder.glob("*.ndjson")):
        with open(f, encoding="utf-8") as fh:
            lines = [fh.readline().rstrip("\n") for _ in range(6)]
            out.append((f.name, tuple(line for line in lines if line)))
    return tuple(out)


def seed_document(rnd: random.Random) -> object:
    pick = rnd.random()
    if pick < 0.75 or not shared_files():
        return copy.deepcopy(_json(rnd.choice(EXAMPLES)))
    if pick < 0.85:
        return copy.deepcopy(_json(rnd.choice(BAD)))
    return copy.deepcopy(_json(rnd.choice(shared_files())))


# --- mutations ------------------------------------------------------------------------
def _places(doc: object) -> list[tuple[object, object]]:
    """Every (container, key) in a JSON document, found without recursion."""
    out, stack = [], [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for k, v in items:
            out.append((node, k))
            if isinstance(v, dict | list):
                stack.append(v)
    return out


def mutate_json(doc: object, rnd: random.Random, n: int = 0) -> object:
    """1-3 structural changes: a value replaced by a hostile one, a key removed, an entry
    duplicated, a resource type changed, deep nesting, or a string/number grown."""
    for _ in range(n or rnd.randint(1, 3)):
        places = _places(doc)
        if not places:
            return rnd.choice(HOSTILE)
        node, key = rnd.choice(places)
        op = rnd.random()
        if op < 0.5:
            node[key] = copy.deepcopy(rnd.choice(HOSTILE))  # type: ignore[index]
        elif op < 0.65 and isinstance(node, dict):
            del node[key]
        elif op < 0.75 and isinstance(node, list):
            node.append(copy.deepcopy(node[key]))  # type: ignore[index]
        elif op < 0.82:  # written out as nested arrays by dumps()
            node[key] = f"__DEEP_{rnd.randint(50, 3000)}__"  # type: ignore[index]
        elif op < 0.9 and isinstance(node[key], str):  # type: ignore[index]
            node[key] = node[key] * rnd.randint(100, 20000)  # type: ignore[index]
        elif isinstance(node[key], int | float) and not isinstance(node[key], bool):  # type: ignore[index]
            factor = rnd.choice([-1, 10 ** 6, 10 ** 300, 10 ** rnd.randint(300, 5000)])
            node[key] = node[key] * factor if isinstance(node[key], int) else (  # type: ignore[index]
                rnd.choice([-node[key], node[key] * 1e6, 1e300]))  # type: ignore[index]
        else:
            node[key] = rnd.choice(HOSTILE)  # type: ignore[index]
    return doc


def dumps(doc: object) -> str:
    """JSON text of a mutated document; "__DEEP_n__" strings become n nested arrays."""
    try:
        text = json.dumps(doc, allow_nan=True)
    except ValueError:  # an integer past str() limits
        return json.dumps({"resourceType": "Bundle", "entry": "?"})
    return _DEEP.sub(lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)


def mutate_bytes(data: bytes, rnd: random.Random) -> bytes:
    """Byte damage: truncation, flipped bytes, invalid UTF-8, a chunk repeated or cut."""
    if not data:
        return b"\xff"
    op = rnd.random()
    i = rnd.randrange(len(data))
    if op < 0.25:
        return data[:i]
    if op < 0.5:
        out = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            out[rnd.randrange(len(out))] = rnd.randrange(256)
        return bytes(out)
    if op < 0.65:
        return data[:i] + rnd.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\r"]) \
            + data[i:]
    if op < 0.8:
        j = min(len(data), i + rnd.randint(1, 200))
        return data[:j] + data[i:j] * rnd.randint(2, 50) + data[j:]
    j = min(len(data), i + rnd.randint(1, 200))
    return data[:i] + data[j:]


# --- inputs by category ---------------------------------------------------------------
def make_input(category: str, seed: int, tmp: Path) -> list[str]:
    """Write the input of (category, seed) under `tmp`; the command line to run on it."""
    rnd = random.Random(f"{category}:{seed}")
    tmp.mkdir(parents=True, exist_ok=True)
    fmt = ["--format", rnd.choice(["json", "table"])]
    if category == "bundle":
        path = tmp / "p.json"
        path.write_text(dumps(mutate_json(seed_document(rnd), rnd)))
        return [rnd.choice(["screen", "screen", "screen", "window", "recist"]), str(path),
                *_dates(rnd), *fmt]
    if category == "bundle-bytes":
        path = tmp / "p.json"
        path.write_bytes(mutate_bytes(dumps(seed_document(rnd)).encode(), rnd))
        return ["screen", str(path), *DATES, *fmt]
    if category in ("ndjson", "folder"):
        folder = tmp / "in"
        folder.mkdir()
        (_ndjson if category == "ndjson" else _folder)(folder, rnd)
        return ["screen", str(folder), *DATES, *fmt] + (["--strict"] if rnd.random() < 0.1
                                                        else [])
    if category == "csv":
        path = tmp / "m.csv"
        path.write_bytes(_csv(rnd))
        return ["recist", str(path), *fmt]
    if category == "cli-args":
        return _argv(rnd, tmp)
    raise ValueError(category)


def _dates(rnd: random.Random) -> list[str]:
    return DATES if rnd.random() < 0.8 else ["--as-of", "2026-11-25"]


def _ndjson(folder: Path, rnd: random.Random) -> None:
    """Resources of one example as bulk NDJSON (one file per type), plus Synthea lines;
    then one line damaged (JSON, bytes or a line separator inside a string)."""
    doc = _json(rnd.choice(EXAMPLES))
    by_type: dict[str, list[str]] = {}
    for e in doc["entry"]:  # type: ignore[index]
        r = e["resource"]
        by_type.setdefault(r["resourceType"], []).append(json.dumps(r, ensure_ascii=False))
    if rnd.random() < 0.3:
        for name, lines in ndjson_seed():
            by_type.setdefault(name.split(".")[0], []).extend(lines)
    files = {t: "\n".join(lines).encode() + b"\n" for t, lines in by_type.items()}
    target = rnd.choice(sorted(files))
    lines = files[target].split(b"\n")
    k = rnd.randrange(len(lines))
    op = rnd.random()
    if op < 0.4 and lines[k]:
        lines[k] = dumps(mutate_json(json.loads(lines[k]), rnd)).encode()
    elif op < 0.7:
        lines[k] = mutate_bytes(lines[k], rnd)
    elif op < 0.85:
        lines[k] = lines[k].replace(b'"final"', '"fi\u2028n\u0085al"'.encode(), 1)
    else:
        lines.insert(k, rnd.choice([b"{}", b"[", b"null", b'"x"', b"\xff\xfe", b" " * 10]))
    files[target] = b"\n".join(lines)
    for t, data in files.items():
        (folder / f"{t}.ndjson").write_bytes(data)


def _folder(folder: Path, rnd: random.Random) -> None:
    """Several patient files, some damaged, perhaps a subfolder, a log, an empty file."""
    for i in range(rnd.randint(1, 4)):
        doc = copy.deepcopy(_json(rnd.choice(EXAMPLES)))
        data = dumps(doc).encode()
        pick = rnd.random()
        if pick < 0.3:
            data = mutate_bytes(data, rnd)
        elif pick < 0.6:
            data = dumps(mutate_json(doc, rnd)).encode()
        sub = folder / ("sub" if rnd.random() < 0.3 else "")
        sub.mkdir(exist_ok=True)
        (sub / f"p{i}.json").write_bytes(data)
    extra = rnd.random()
    if extra < 0.2:
        (folder / "log.ndjson").write_text('{"level": "info"}\n')
    elif extra < 0.3:
        (folder / "empty.json").write_bytes(b"")
    elif extra < 0.4:
        (folder / "notes.txt").write_text("not read")


def _csv(rnd: random.Random) -> bytes:
    lines = RECIST_CSV.read_bytes().split(b"\n")
    for _ in range(rnd.randint(1, 3)):
        k = rnd.randrange(len(lines))
        cells = lines[k].split(b",")
        c = rnd.randrange(len(cells))
        op = rnd.random()
        if op < 0.5:
            cells[c] = rnd.choice([b"", b"-1", b"inf", b"nan", b"1e999", b"x" * 200_000,
                                   b"\xff", b"yes", b"L1", b"2025-02-30", b"9999-12-31",
                                   b"\"", b"a,b", b"CT", b"absent", b"0", b"1" * 400])
        elif op < 0.7:
            cells.insert(c, b"extra")
        elif op < 0.8:
            del cells[c]
        else:
            lines[k] = mutate_bytes(lines[k], rnd)
            continue
        lines[k] = b",".join(cells)
    if rnd.random() < 0.2:  # lesions merged into themselves, or into others
        lines[0] += b",merged_into"
        lines[1:] = [ln + b"," + rnd.choice([b"L1", b"", b"N1"]) if ln else ln
                     for ln in lines[1:]]
    return b"\n".join(lines)


_OPTIONS = {
    "--as-of": ["2026-11-25", "9999-12-31", "0001-01-05", "0001-06-01", "1799-12-31",
                "2199-12-31", "1800-01-01", "2026-02-29", "x", "", "2026-11-25T10:00"],
    "--d0": ["2026-12-01", "9999-12-31", "0001-01-01", "2026-11-01", "2199-12-31"],
    "--inclusion": ["2026-11-30", "2026-12-31", "0001-01-01", "2199-12-31"],
    "--horizon": ["180", "0", "-1", "1000000000", "3660", "3661", "1e3", "x", "99999999999"],
    "--inclusion-offset": ["0", "7", "-1000000000", "181", "3660"],
    "--policy": ["screening", "pre-screening", "x"],
    "--format": ["json", "table", "csv"],
    "--strict": [None],
}


def _argv(rnd: random.Random, tmp: Path) -> list[str]:
    """Command lines from a grammar of the real ones, with hostile option values."""
    command = rnd.choice(["screen", "window", "recist", "criteria", "nope", "", "--help"])
    few = tmp / "few"  # a folder of two patients (all the examples take a minute to window)
    few.mkdir(exist_ok=True)
    for example in EXAMPLES[:2]:
        (few / example.name).write_bytes(example.read_bytes())
    paths = [str(EXAMPLES[1]), str(few), str(RECIST_CSV), str(tmp / "missing.json"),
             str(tmp), "/dev/null", "-", ""]
    argv = [command] + ([rnd.choice(paths)] if command not in ("criteria", "--help") else [])
    for opt in rnd.sample(sorted(_OPTIONS), rnd.randint(0, 4)):
        value = rnd.choice(_OPTIONS[opt])
        argv += [opt] if value is None else [opt, value]
    if command == "screen" and "--d0" not in argv and rnd.random() < 0.7:
        argv += ["--d0", "2026-12-01"]  # the window of every D0 is slow: seldom
    return argv


# --- damage never produces met --------------------------------------------------------
LAB_CRITERIA = {  # lab test -> (criterion, status the damage must not produce)
    "hemoglobin": [("INCL07", "met")], "neutrophils": [("INCL07", "met")],
    "platelets": [("INCL07", "met")], "bilirubin": [("INCL08", "met")],
    "alt": [("INCL08", "met")], "ast": [("INCL08", "met")], "albumin": [("INCL08", "met")],
    "pt_percent": [("INCL08", "met")], "gfr_51cr": [("INCL06", "met")],
    "hcg_serum": [("INCL10", "met"), ("EXCL08", "not_met")],
}


def damage_lab(doc: dict, rnd: random.Random, failing: frozenset[str] = frozenset()
               ) -> tuple[str, str, str] | None:
    """Damage one lab result of the Bundle so that it cannot be a real value: returns
    (resource id, lab test, what was done), or None when the Bundle has no lab value.
    Mostly a result of a test whose criterion is in `failing` (not met undamaged): damage
    there is what could turn a patient eligible."""
    labs = []
    for e in doc.get("entry", []):
        r = e["resource"]
        codes = [(c.get("system"), c.get("code")) for c in r.get("code", {}).get("coding", [])]
        test = next((LAB_BY_CODE[c].key for c in codes if c in LAB_BY_CODE), None)
        if r["resourceType"] == "Observation" and test in LAB_CRITERIA:
            labs.append((r, test))
    if not labs:
        return None
    deciding = [(r, t) for r, t in labs if any(c in failing for c, _ in LAB_CRITERIA[t])]
    res, test = rnd.choice(deciding if deciding and rnd.random() < 0.7 else labs)
    q = res.get("valueQuantity")
    op = rnd.random()
    if q is None or op < 0.1:
        res.pop("valueCodeableConcept", None)
        res["valueQuantity"] = {"value": rnd.choice([-1, -0.001, math.nan, math.inf]),
                                "unit": "[IU]/L", "code": "[IU]/L"}
        what = "a quantity that cannot be"
    elif op < 0.55:
        q["value"] = rnd.choice([-abs(q.get("value") or 1), -1e-9, math.inf, -math.inf,
                                 math.nan, 1e308, 1e300, 10 ** 400, "12.5", True, None, [],
                                 {}, 0 if test != "hcg_serum" else -1])
        what = f"value {q['value']!r}"[:60]
    elif op < 0.75:
        q["code"] = q["unit"] = rnd.choice(BAD_UNITS)
        what = f"unit {q['code']!r}"[:60]
    elif op < 0.9:
        q["comparator"] = rnd.choice([c for c in COMPARATORS if c not in ("<", "<=", ">=",
                                                                           ">")])
        what = f"comparator {q['comparator']!r}"
    else:
        high = res.setdefault("referenceRange", [{"high": {"value": 1, "code": q.get("code")}}])
        high[0].setdefault("high", {})["value"] = rnd.choice([math.inf, 0, -1, 1e308,
                                                              math.nan])
        what = f"ULN {high[0]['high']['value']!r}"
    return res.get("id", "?"), test, what


@cache
def undamaged_statuses(example: Path) -> tuple[str, dict[str, str]]:
    return _statuses(example.read_text())


def _statuses(text: str) -> tuple[str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.json"
        path.write_text(text)
        (rec,) = read(path).records
    r = screen(LUMEN, rec, Dates.resolve(date(2026, 11, 25), None, date(2026, 12, 1)))
    return r.verdict, {c.criterion.id: c.status.value for c in r.results}


@cache
def _lab_failures() -> dict[Path, frozenset[str]]:
    """Examples in which a criterion reading a lab is not favourable, and those criteria."""
    out = {}
    for example in EXAMPLES:
        _, statuses = undamaged_statuses(example)
        bad = frozenset(c for pairs in LAB_CRITERIA.values() for c, worse in pairs
                        if statuses[c] != worse)
        if bad:
            out[example] = bad
    return out


def damage_run(seed: int) -> Run:
    """One example with one lab value damaged, screened: the criteria reading that lab
    (and the verdict) must not become more favourable than undamaged."""
    rnd = random.Random(f"damage:{seed}")
    failing = _lab_failures()
    example = rnd.choice(sorted(failing) if rnd.random() < 0.7 else EXAMPLES)
    doc = copy.deepcopy(_json(example))
    run = Run("damage", seed, [example.name])
    start = time.perf_counter()
    done = damage_lab(doc, rnd, failing.get(example, frozenset()))  # type: ignore[arg-type]
    if done is None:
        run.code = 0
        return run
    rid, test, what = done
    try:
        verdict, statuses = _statuses(dumps(doc))
    except Exception:  # noqa: BLE001
        run.traceback = traceback.format_exc(limit=-8)
        return run
    run.code, run.seconds = 0, time.perf_counter() - start
    before_verdict, before = undamaged_statuses(example)
    for cid, bad in LAB_CRITERIA[test]:
        if statuses[cid] == bad and before[cid] != bad:
            run.met_from_damage = True
            run.notes.append(f"{example.name} {rid} {what}: {cid} {before[cid]} -> {bad}")
    if verdict == "eligible" and before_verdict != "eligible":
        run.met_from_damage = True
        run.notes.append(f"{example.name} {rid} {what}: verdict {before_verdict} -> eligible")
    return run
