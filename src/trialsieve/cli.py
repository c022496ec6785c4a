"""The command line: a thin shell around the engine. Exit status: see EXIT_STATUS."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from trialsieve.dates import EARLIEST, LATEST, in_range
from trialsieve.fhir import concept_map
from trialsieve.fhir.errors import InputError
from trialsieve.output.atomic import OutputError
from trialsieve.protocols.lumen import LUMEN

EXIT_STATUS = """exit status:
  0  every input read and screened (whatever the verdicts)
  1  screened, but some input was not read (a damaged file, NDJSON line or Bundle
     entry, a file that is not FHIR R4 JSON, a folder that could not be read):
     each one is named on stderr
  2  bad usage, nothing could be screened, or (with --strict) damaged input
  3  an output could not be written (a folder not writable, a file held open by
     another program, a full disk): the file is named; no output file was changed
130  interrupted (Ctrl-C): no output file was changed"""
MAX_HORIZON_DAYS = 3660  # ten years: a D0 further away is not a screening question


def _date(text: str) -> date:
    try:
        d = date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc
    if not in_range(d):
        raise argparse.ArgumentTypeError(f"{text}: a date between {EARLIEST} and {LATEST} "
                                         "is needed")
    return d


def _days(text: str) -> int:
    try:
        n = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from exc
    if not 0 <= n <= MAX_HORIZON_DAYS:
        raise argparse.ArgumentTypeError(f"{text}: between 0 and {MAX_HORIZON_DAYS} days "
                                         "is needed")
    return n


def _strict(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true", help="stop at the first damaged file, "
                   "line or entry (exit 2) instead of skipping it (exit 1)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="trialsieve", description="Clinical-trial eligibility "
                                "screening from FHIR R4 records (LuMEn, NCT01842165).",
                                epilog=EXIT_STATUS,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("screen", help="screen the patient(s) in a FHIR file or folder",
                       epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("path")
    s.add_argument("--as-of", type=_date, default=None, help="screening date (default today)")
    s.add_argument("--inclusion", type=_date, default=None, help="inclusion date")
    s.add_argument("--d0", type=_date, default=None, help="first injection date (D0)")
    s.add_argument("--policy", choices=["screening", "pre-screening"], default="screening")
    s.add_argument("--format", choices=["table", "json", "ndjson"], default="table",
                   help="json: one object with every result; ndjson: one result per line")
    s.add_argument("--verbose", action="store_true", help="list every record behind each "
                   "criterion")
    concept_map.add_argument(s)
    _strict(s)
    w = sub.add_parser("window", help="the D0 dates on which the patient would be eligible, "
                       "with next steps and what-if", epilog=EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("path")
    w.add_argument("--as-of", type=_date, default=None, help="screening date (default today)")
    w.add_argument("--horizon", type=_days, default=180, help="days after the screening date")
    w.add_argument("--inclusion-offset", type=_days, default=0,
                   help="days from inclusion to D0 (inclusion = D0 - offset)")
    w.add_argument("--policy", choices=["screening", "pre-screening"], default="screening")
    w.add_argument("--format", choices=["table", "json"], default="table")
    concept_map.add_argument(w)
    _strict(w)
    rp = sub.add_parser("report", help="the eligibility checklist for the trial master file "
                        "(HTML or PDF), from FHIR input or a saved JSON result",
                        epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("path")
    rp.add_argument("--format", choices=["html", "pdf"], default=None,
                    help="default: that of the --out file's name, else pdf")
    rp.add_argument("--out", default=None, help="output file (one patient: a name ending "
                    "in .pdf or .html) or folder, made if need be (default: here); each "
                    "checklist in a folder is checklist-<screening number>.<format>")
    ex = sub.add_parser("export", help="CDISC SDTM TI/IE (CSV, XPT), the screening log "
                        "(CSV, XLSX) and FHIR ResearchSubjects, from FHIR input or saved "
                        "JSON results", epilog=EXIT_STATUS,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("path")
    ex.add_argument("--out", default=".", help="folder to write the files to")
    ex.add_argument("--site", default="", help="the site, as the screening log names it")
    ex.add_argument("--investigator", default="", help="the investigator, as the "
                    "screening log names them")
    for q in (rp, ex):
        _strict(q)
        q.add_argument("--as-of", type=_date, default=None, help="screening date, FHIR input "
                       "(default today)")
        q.add_argument("--inclusion", type=_date, default=None)
        q.add_argument("--d0", type=_date, default=None)
        q.add_argument("--policy", choices=["screening", "pre-screening"], default="screening")
        concept_map.add_argument(q)
    c = sub.add_parser("criteria", help="list the protocol's criteria and their readings")
    c.add_argument("--format", choices=["table", "json"], default="table")
    r = sub.add_parser("recist", help="RECIST 1.1 time-point table from FHIR or a CSV of "
                       "measurements", epilog=EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("path")
    r.add_argument("--format", choices=["table", "json"], default="table")
    concept_map.add_argument(r)
    _strict(r)
    from trialsieve.web.cli import add_commands  # serve, users, audit: the workbench

    add_commands(sub, _date)
    from trialsieve.population.cli import add_commands as add_population

    COMMANDS.update(add_population(sub, _date))  # prescreen, synth
    return p


def _version() -> str:
    from trialsieve import __version__

    return __version__


class _Version(argparse.Action):
    """--version."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"trialsieve {_version()}")
        parser.exit()


def _unicode_out() -> bool:
    """Whether stdout takes any character; if not, text falls back to ASCII spellings
    (x10^3/uL, >=) instead of failing, and JSON escapes what it cannot print."""
    encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower().replace("-", "")
    if encoding.startswith(("utf", "ucs")):
        return True
    import trialsieve.output.units_display  # noqa: F401  (the "trialsieve-ascii" handler)

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="trialsieve-ascii")
    return False


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.unicode = _unicode_out()
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"trialsieve: error: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"trialsieve: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        # one line, no traceback: the outputs are written all or nothing (atomic.py)
        print("\ntrialsieve: interrupted: no output file was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _screen(args: argparse.Namespace) -> int:
    from trialsieve.engine import Dates
    from trialsieve.fhir.reader import read
    from trialsieve.output.load import screened

    as_of = args.as_of or date.today()
    try:
        dates = Dates.resolve(as_of, args.inclusion, args.d0)
    except ValueError as exc:
        print(f"trialsieve: error: {exc}", file=sys.stderr)
        return 2
    data = read(args.path, concept_map.from_args(args), args.strict)
    for w in data.warnings:
        print(f"trialsieve: warning: {w}", file=sys.stderr)
    # A person reading the table always sees the window; JSON has it when no date is given.
    window = args.format == "table" or (args.d0 is None and args.inclusion is None)
    pairs = screened(LUMEN, data.records, dates, args.policy, window)
    for r, _ in pairs:  # also in the report; stderr so that a pipeline sees them
        for w in r.warnings:
            print(f"trialsieve: warning: {w}", file=sys.stderr)
    if args.format in ("json", "ndjson"):
        from trialsieve.output.json_result import document, to_json

        docs = [to_json(r, w) for r, w in pairs]
        if args.format == "ndjson":
            print("\n".join(json.dumps(d, ensure_ascii=not args.unicode) for d in docs))
        else:
            print(json.dumps(document(docs, data.warnings), indent=2,
                             ensure_ascii=not args.unicode))
    else:
        from trialsieve.output.terminal import Style, render

        style = Style.of(sys.stdout)
        print("\n\n".join(render(r, w, style=style, verbose=args.verbose) for r, w in pairs))
        if len(pairs) > 1:  # thousands of lines above: the count a reader looks for last
            print(f"\n{_tally([r.verdict for r, _ in pairs])}")
    return _status(data)


def _tally(verdicts: list[str]) -> str:
    n = {v: verdicts.count(v) for v in ("eligible", "not_eligible", "incomplete")}
    return (f"{len(verdicts)} patients screened: {n['eligible']} eligible, "
            f"{n['not_eligible']} not eligible, {n['incomplete']} incomplete")


def _status(data) -> int:
    """0, or 1 when damaged input was skipped (each named above, counted last)."""
    if data.skipped:
        print(f"trialsieve: {_inputs(len(data.skipped))} not read (named above): the "
              "results do not cover them; exit status 1", file=sys.stderr)
    return 1 if data.skipped else 0


def _inputs(n: int) -> str:
    """'1 input', '2 inputs': a file, an NDJSON line, a Bundle entry or a folder each."""
    return f"{n} input{'s' if n != 1 else ''}"


def _window(args: argparse.Namespace) -> int:
    from trialsieve.fhir.reader import read
    from trialsieve.window import eligibility_window
    from trialsieve.window_report import window_table, window_to_json

    as_of = args.as_of or date.today()
    if args.horizon < 0 or args.inclusion_offset < 0 or args.inclusion_offset > args.horizon:
        print("trialsieve: error: need 0 <= inclusion offset <= horizon", file=sys.stderr)
        return 2
    data = read(args.path, concept_map.from_args(args), args.strict)
    for warning in [*data.warnings, *(w for rec in data.records for w in rec.warnings)]:
        print(f"trialsieve: warning: {warning}", file=sys.stderr)
    wins = [(rec, eligibility_window(LUMEN, rec, as_of, args.horizon,
                                     args.inclusion_offset, args.policy))
            for rec in data.records]
    from trialsieve.engine import Dates, screen
    from trialsieve.output.guidance import repeats_now

    def fastest(rec, w):  # a repeat done now, read at the window's first D0
        dates = Dates.resolve(as_of, w.first - timedelta(days=args.inclusion_offset), w.first)
        return repeats_now(screen(LUMEN, rec, dates, args.policy))

    if args.format == "json":
        from trialsieve.output.json_result import warning_to_json

        doc = {"warnings": [warning_to_json(w) for w in data.warnings],
               "windows": [{"patient": rec.patient.id, **window_to_json(w, fastest(rec, w))}
                           for rec, w in wins]}
        print(json.dumps(doc, indent=2, ensure_ascii=not args.unicode))
    else:
        from trialsieve.output.terminal import who_lines

        print("\n\n".join("\n".join(who_lines(rec.patient, rec.patient.id, rec.file,
                                                f"; policy {w.policy}"))
                           + f"\n{window_table(w, fastest(rec, w))}" for rec, w in wins))
    return _status(data)


def _criteria(args: argparse.Namespace) -> int:
    from trialsieve.report import criteria_table

    if args.format == "json":
        print(json.dumps(LUMEN.to_dict(), indent=2, ensure_ascii=not args.unicode))
    else:
        print(criteria_table(LUMEN))
    return 0


def _recist(args: argparse.Namespace) -> int:
    from trialsieve.clinical.recist import assess, format_table, timepoints_to_json
    from trialsieve.clinical.recist_csv import MeasurementError, read_measurements_csv

    mapping = concept_map.from_args(args)  # validated even when the input is a CSV
    data = None
    titles: dict[str, str] = {}  # series name -> the patient as staff find them
    if args.path.endswith(".csv"):
        try:
            series = {"measurements": read_measurements_csv(args.path)}
        except (MeasurementError, OSError) as exc:
            print(f"trialsieve: error: {exc}", file=sys.stderr)
            return 2
    else:
        from trialsieve.fhir.reader import read
        from trialsieve.rules.progression_evidence import RECIST_MODALITIES, recist_series

        data = read(args.path, mapping, args.strict)
        for w in [*data.warnings, *(w for rec in data.records for w in rec.warnings)]:
            print(f"trialsieve: warning: {w}", file=sys.stderr)
        from trialsieve.output.terminal import who_lines

        series = {}
        for rec in data.records:
            for modality, scans in recist_series(rec.imaging, RECIST_MODALITIES).items():
                series[f"{rec.patient.id} {modality}"] = scans
                titles[f"{rec.patient.id} {modality}"] = "\n".join(who_lines(
                    rec.patient, rec.patient.id, rec.file, f"; {modality}"))
    if not any(series.values()):
        print(f"trialsieve: error: {args.path}: no CT, MRI or chest X-ray lesion measurements",
              file=sys.stderr)
        return 2
    try:
        # the series restarts after a PD, as screen reads it (notes, I3 a)
        assessed = {name: assess(scans, restart_after_pd=True)
                    for name, scans in series.items() if scans}
    except ValueError as exc:
        print(f"trialsieve: error: {args.path}: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps({k: timepoints_to_json(v) for k, v in assessed.items()}, indent=2))
    else:
        print("\n\n".join(f"{titles.get(name, name)}\n{format_table(points)}"
                           for name, points in assessed.items()))
    return _status(data) if data else 0


def _results(args: argparse.Namespace) -> tuple[list[dict], int]:
    """The result documents to file, and how many damaged inputs were skipped."""
    from trialsieve.output.load import results

    try:
        docs, warnings, skipped = results(args.path, LUMEN, args.as_of,
                                          args.inclusion, args.d0, args.policy,
                                          concept_map.from_args(args), args.strict)
    except ValueError as exc:  # inclusion after D0
        raise InputError(args.path, str(exc)) from exc
    for w in warnings:
        print(f"trialsieve: warning: {w}", file=sys.stderr)
    if not docs:
        raise InputError(args.path, "no patient and no screening result in it: nothing to "
                         "file")
    return docs, skipped


def _skipped(count: int) -> int:
    """Exit status 0, or 1 when damaged input was skipped (as `screen`)."""
    if count:
        print(f"trialsieve: {_inputs(count)} not read (named above): the files written "
              "do not cover them; exit status 1", file=sys.stderr)
    return 1 if count else 0


def _folder(path: Path) -> Path:
    """An output folder, made if need be; a clear error when a file is in the way."""
    from trialsieve.output.atomic import make_folder

    try:
        return make_folder(path)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InputError(str(path), "cannot be an output folder: a file of that name is "
                         "in the way") from exc


def _report(args: argparse.Namespace) -> int:
    from trialsieve.output.atomic import staged
    from trialsieve.output.checklist import checklist_html, checklist_pdf
    from trialsieve.output.identifiers import screening_number

    docs, skipped = _results(args)
    out = Path(args.out) if args.out else Path(".")
    one_file = out.suffix.lower() in (".pdf", ".html", ".htm")  # else a folder
    if one_file and len(docs) > 1:
        raise InputError(str(out), f"{len(docs)} patients: --out must be a folder")
    named = "html" if out.suffix.lower() in (".html", ".htm") else "pdf" if one_file else None
    if args.format and named and args.format != named:  # HTML in a .pdf opens as nothing
        raise InputError(str(out), f"--format {args.format} but the file name ends in "
                         f"{out.suffix}: name it .{args.format}, or leave --format out")
    args.format = args.format or named or "pdf"
    from datetime import UTC, datetime

    # the generation date: a filed document says when it was made
    by = f"trialsieve {_version()} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    folder = _folder(out.parent if one_file else out)
    # every checklist is made before any is filed: all appear, or none changes
    with staged(folder) as stage:
        for doc in docs:
            name = out.name if one_file else f"checklist-{screening_number(doc)}.{args.format}"
            if args.format == "pdf":
                stage.path(name).write_bytes(checklist_pdf(doc, by))
            else:
                stage.path(name).write_text(checklist_html(doc, by), encoding="utf-8")
    print("\n".join(str(folder / n) for n in stage.names))
    return _skipped(skipped)


def _export(args: argparse.Namespace) -> int:
    from trialsieve.output import research_subject, screening_log, sdtm
    from trialsieve.output.atomic import staged

    docs, skipped = _results(args)
    ti, ie = sdtm.ti(LUMEN), sdtm.ie(docs, LUMEN)
    problems = sdtm.check(ti) + sdtm.check(ie, {r["IETESTCD"] for r in ti.rows})
    if problems:  # a file that breaks the SDTMIG is not written
        for problem in problems:
            print(f"trialsieve: error: SDTM: {problem}", file=sys.stderr)
        return 2
    # the SDTM files, the log and the bundle are one filing: all replaced, or none
    with staged(_folder(Path(args.out))) as stage:
        for ds in (ti, ie):
            sdtm.write_csv(ds, stage.path(f"{ds.name.lower()}.csv"))
            sdtm.write_xpt(ds, stage.path(f"{ds.name.lower()}.xpt"))
        who = (args.site, args.investigator)
        screening_log.write_csv(docs, stage.path("screening-log.csv"), *who)
        screening_log.write_xlsx(docs, stage.path("screening-log.xlsx"), *who)
        stage.path("research-subjects.json").write_text(json.dumps(
            research_subject.bundle(docs, LUMEN), indent=2, ensure_ascii=False),
            encoding="utf-8")
    print("\n".join(str(stage.target / n) for n in stage.names))
    return _skipped(skipped)


COMMANDS = {"screen": _screen, "report": _report, "export": _export, "criteria": _criteria,
            "recist": _recist, "window": _window}


def _web(args: argparse.Namespace) -> int:
    from trialsieve.web.cli import COMMANDS as WEB

    return WEB[args.command](args)


COMMANDS.update(dict.fromkeys(("serve", "users", "audit"), _web))

if __name__ == "__main__":
    sys.exit(main())
