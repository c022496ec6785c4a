"""The workbench under load: 1,000 patients, 20 concurrent readers, each looping over the
patient list, a patient's screening page and a signed checklist, for a fixed time.

    .venv/bin/python benchmarks/bench_web.py [--patients 1000] [--readers 20]
        [--seconds 60] [--workers N] [--database-url postgresql://owner@host/db]
        [--prepared DIR] [--list-only]

The server is `trialsieve serve`'s (uvicorn, --workers processes, default serve's) in a
process of its own, on SQLite in a temporary folder unless
--database-url is given (an empty database, migrated here). Patients are the examples of
examples/patients/ under new FHIR ids, imported as a coordinator would; the answers of
one in ten are confirmed by an investigator and its screening signed when decided, so
that checklists exist. A last phase has every reader on the list alone (the issue's target is
the list's). Latencies are reported as p50/p95 and as ratios to a floor
measured in the same run under the same concurrency: the stylesheet, a static file that
touches neither database nor engine. Reads are audited (one audit row each), as served.
The client is kept cheap (keep-alive sockets, requests prepared once, only the status
read), and its share of the CPU used during each phase is printed beside the figures: it
runs on the same cores as the server. So is the server's CPU per request (its process
tree's CPU seconds over the requests it served: less sensitive to the machine's load
than latency) and, for a PostgreSQL running on this machine, the database's.
--prepared DIR keeps what was prepared for the next run (SQLite: the database; with
--database-url: the audit key and the checklists' list, the database prepared then).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "patients"
AS_OF = date(2026, 11, 25)
PASSWORD = "bench password of the readers"
NOW = datetime(2026, 11, 25, 9, 0)


def copies(n: int) -> list[tuple[str, bytes]]:
    """n patients: the examples in turn, each under a new Patient id."""
    files = sorted(EXAMPLES.glob("*.json"))
    out = []
    for i in range(n):
        f = files[i % len(files)]
        bundle = json.loads(f.read_text())
        old = next(e["resource"]["id"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
        new = f"bench{i:05d}"
        text = json.dumps(bundle).replace(f'"Patient/{old}"', f'"Patient/{new}"')
        text = text.replace(f'"id": "{old}"', f'"id": "{new}"')
        out.append((f"{new}.json", text.encode()))
    return out


def prepare(url: str, n: int, readers: int) -> list[str]:
    """Migrate, add users, import n patients, sign some; the signed checklists' paths."""
    from trialsieve.web import audit, auth, entry, signature, store
    from trialsieve.web.db import Database, User
    from trialsieve.web.screening import screen_record

    db = Database(url)
    db.migrate()
    with db.write() as s:
        auth.add_user(s, NOW, "bench", "coordinator", PASSWORD, "coordinator")
        inv = auth.add_user(s, NOW, "bench", "investigator", PASSWORD, "investigator")
        for i in range(readers):
            auth.add_user(s, NOW, "bench", f"reader{i:02d}", PASSWORD, "coordinator")
    checklists = []
    for i, upload in enumerate(copies(n)):
        with db.write() as s:
            p = store.import_upload(s, NOW, "coordinator", [upload])[0]
            if i % 10:
                continue
            signer = s.get(User, inv.id)
            assert signer is not None
            ctx = entry.EntryContext(p.fhir_id, "Investigator (investigator)", AS_OF, NOW)
            rows = store.resources(s, p)
            for a in store.imported_answers(p, rows):  # as the confirm route does
                built = entry.build_attestation({
                    "question": a.question, "answer": "yes" if a.answer else "no",
                    "date": (a.date or AS_OF).isoformat()}, ctx)
                built[0]["derivedFrom"] = [{"reference": f"{a.row.resource_type}/"
                                                         f"{a.row.resource_id}"}]
                row = store.add_resource(s, NOW, "investigator", p, built[0], "entry")
                audit.record(s, NOW, "investigator", "confirm-attestation",
                             p.screening_number, new=built, covers=[row])
            rows = store.resources(s, p)
            sc = screen_record(store.record_of(p, rows), AS_OF, None, None,
                               with_window=False)
            if sc.result.verdict in signature.MEANINGS:
                sig = signature.sign(s, NOW, signer, p, sc.result.verdict, sc.result,
                                     store.record_hash(rows))
                checklists.append(f"/patients/{p.screening_number}/signatures/{sig.id}"
                                  "/checklist.html")
    db.dispose()
    return checklists


def serve(url: str, port: int, workers: int) -> None:
    """The server as `trialsieve serve --workers N` runs it."""
    try:
        from trialsieve.web.serving import run
    except ImportError:  # older code (a `git archive` on PYTHONPATH): one process
        import uvicorn

        from trialsieve.web.app import create_app
        from trialsieve.web.db import Database

        uvicorn.run(create_app(Database(url), as_of=AS_OF), host="127.0.0.1", port=port,
                    log_level="warning")
        return
    run(url, os.environ["TRIALSIEVE_AUDIT_DIR"], host="127.0.0.1", port=port, as_of=AS_OF,
        trusted_proxy=None, workers=workers)


class Client:
    """One reader's keep-alive connection and session cookie, kept cheap: it runs on the
    same cores as the server. A measured GET is bytes prepared once, sent; the answer is
    read up to its Content-Length and only its status is looked at."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.cookies: dict[str, str] = {}
        self._prepared: dict[str, bytes] = {}

    def _send(self, data: bytes) -> tuple[int, bytes, bytes]:
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=300)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(data)
                return self._answer()
            except (ConnectionError, EOFError):
                self.sock.close()  # a keep-alive the server closed: once more, anew
                self.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _answer(self) -> tuple[int, bytes, bytes]:
        assert self.sock is not None
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        at = head.lower().find(b"content-length:")
        if at < 0:
            raise SystemExit("an answer without Content-Length")
        length = int(head[at + 15:head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0
                          else None])
        while len(body) < length:
            chunk = self.sock.recv(max(65536, length - len(body)))
            if not chunk:
                raise EOFError
            body += chunk
        return int(head[9:12]), head, body

    def _bytes(self, method: str, path: str, body: str | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        data = (body or "").encode()
        if body is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded",
                      f"Content-Length: {len(data)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data

    def request(self, method: str, path: str, body: str | None = None
                ) -> tuple[int, str, dict[str, str]]:
        """Unmeasured (login): headers parsed, cookies kept."""
        self._prepared.clear()  # cookies may change
        status, head, raw = self._send(self._bytes(method, path, body))
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                cname, cvalue = value.strip().split(";", 1)[0].split("=", 1)
                self.cookies[cname] = cvalue
            headers[name.lower()] = value.strip()
        return status, raw.decode(), headers

    def get(self, path: str) -> int:
        data = self._prepared.get(path)
        if data is None:
            data = self._prepared[path] = self._bytes("GET", path, None)
        return self._send(data)[0]


def login(port: int, username: str) -> Client:
    c = Client(port)
    found = re.search(r'name="csrf" value="([^"]+)"', c.request("GET", "/login")[1])
    if found is None:
        raise SystemExit("no login form")
    token = found.group(1)
    status, _, headers = c.request("POST", "/login", urlencode(
        {"username": username, "password": PASSWORD, "csrf": token}))
    if status != 303 or "/password" in headers.get("location", ""):
        raise SystemExit(f"login of {username} failed: {status} {headers.get('location')}")
    return c


def cpu_of_tree(pid: int, reaped: bool = False) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc; `reaped`:
    with those of the children it waited for (PostgreSQL's ended backends)."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            if reaped and p == pid:
                total += (int(fields[13]) + int(fields[14])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo += [int(k) for k in kids]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class Phase:
    """What one phase measured: seconds per request by kind, and the CPU seconds of the
    client (this process: every reader thread) and of the server (its process tree)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.client_cpu = self.server_cpu = self.seconds = 0.0
        self.database_cpu: float | None = None  # PostgreSQL on this machine: its server's

    @property
    def client_share(self) -> float:
        return self.client_cpu / ((self.client_cpu + self.server_cpu) or 1)

    @property
    def database_ms_per_request(self) -> str:
        if self.database_cpu is None:
            return "-"
        return f"{self.database_cpu * 1000 / (sum(map(len, self.times.values())) or 1):.1f}"

    @property
    def cpu_per_request(self) -> float:
        """Server CPU seconds per request served in the phase (every kind together)."""
        return self.server_cpu / (sum(len(v) for v in self.times.values()) or 1)


def postgres_pid(url: str) -> int | None:
    """The PostgreSQL server's process, when it runs on this machine and /proc shows it
    (the parent of this connection's backend): its CPU is the database's share."""
    if not url.startswith("postgresql"):
        return None
    import psycopg

    try:
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, psycopg.Error, IndexError, ValueError):
        return None


DATABASE: int | None = None  # the PostgreSQL server's pid, when measured

def run_readers(port: int, server: int, readers: int, seconds: float, paths) -> Phase:
    """Each reader logged in, looping over `paths()` until the time is up."""
    clients = [login(port, f"reader{i:02d}") for i in range(readers)]
    out = Phase()
    lock = threading.Lock()
    errors: list[str] = []

    def reader(c, seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < stop:
            for kind, path in paths(rnd):
                t0 = time.perf_counter()
                status = c.get(path)
                dt = time.perf_counter() - t0
                if status != 200:
                    errors.append(f"{path}: {status}")
                with lock:
                    out.times.setdefault(kind, []).append(dt)

    threads = [threading.Thread(target=reader, args=(c, i)) for i, c in enumerate(clients)]
    cpu0, server0 = time.process_time(), cpu_of_tree(server)
    database0 = cpu_of_tree(DATABASE, reaped=True) if DATABASE else 0.0
    stop = time.monotonic() + seconds
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.seconds = time.monotonic() - stop + seconds
    out.client_cpu = time.process_time() - cpu0
    out.server_cpu = cpu_of_tree(server) - server0
    if DATABASE:
        out.database_cpu = cpu_of_tree(DATABASE, reaped=True) - database0
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return out


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    try:
        from trialsieve.web.serving import default_workers
    except ImportError:  # older code: one process
        def default_workers() -> int:
            return 1

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=default_workers(),
                    help="server processes (default: serve's)")
    ap.add_argument("--database-url", default=None,
                    help="an empty PostgreSQL database (its owner); default SQLite")
    ap.add_argument("--prepared", default=None, metavar="DIR",
                    help="keep the audit key and the signed checklists in DIR (SQLite: the "
                    "database too) and use them again on the next run, with the database "
                    "prepared then (the audit rows of the runs before stay in it)")
    ap.add_argument("--list-only", action="store_true",
                    help="only the floor and the list alone (the issue's target)")
    ap.add_argument("--profile", default=None, metavar="FILE",
                    help="py-spy (on PATH) records the server's processes during the list "
                    "alone, GIL holders only, as collapsed stacks into FILE")
    args = ap.parse_args()
    tmp = args.prepared or tempfile.mkdtemp(prefix="bench-web-")
    os.environ["TRIALSIEVE_AUDIT_DIR"] = tmp
    from trialsieve.web.db import database_url

    url = database_url(args.database_url, tmp)
    t0 = time.monotonic()
    if args.prepared and (Path(tmp) / "checklists.json").exists():
        from trialsieve.web.db import Database

        again = Database(url)
        again.migrate()  # prepared by older code, maybe
        again.dispose()
        print(f"prepared database of {tmp} used again")
    else:
        checklists = prepare(url, args.patients, args.readers)
        (Path(tmp) / "checklists.json").write_text(json.dumps(checklists))
        print(f"prepared {args.patients} patients ({len(checklists)} signed) in "
              f"{time.monotonic() - t0:.0f} s on {url.split(':')[0]}")
    checklists = json.loads((Path(tmp) / "checklists.json").read_text())
    global DATABASE
    DATABASE = postgres_pid(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port),
                               str(args.workers)])
    from trialsieve.output.identifiers import derived
    from trialsieve.protocols.lumen import LUMEN

    patient_pages = [f"/patients/{derived(LUMEN.id, f'bench{n:05d}')}"
                     for n in range(args.patients)]
    phases: dict[str, Phase] = {}
    try:
        for _ in range(300):
            try:
                Client(port).get("/login")
                break
            except OSError:
                time.sleep(0.2)
        pages = (args.patients + 49) // 50

        def floor(rnd):
            return [("floor", "/static/style.css")]

        def day(rnd):
            return [("list", f"/?page={rnd.randrange(pages)}"),
                    ("patient", rnd.choice(patient_pages)),
                    ("checklist", rnd.choice(checklists))]

        def list_alone(rnd):
            return [("list alone", f"/?page={rnd.randrange(pages)}")]

        # warm-up: every page of the list once (the verdicts cached by record hash), then
        # the same mix as measured for a few seconds
        warm = time.monotonic()
        pool = [threading.Thread(target=lambda p: login(
            port, f"reader{p % args.readers:02d}").get(f"/?page={p}"), args=(p,))
            for p in range(pages)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        print(f"warm-up: the {pages} list pages once each, {time.monotonic() - warm:.0f} s")
        run_readers(port, server.pid, args.readers, 5, list_alone if args.list_only else day)
        phases["floor"] = run_readers(port, server.pid, args.readers, args.seconds / 4, floor)
        if not args.list_only:
            phases["day"] = run_readers(port, server.pid, args.readers, args.seconds, day)
        # the target is the list's: every reader on the list alone, so that the
        # list does not queue behind patient pages screened for the first time
        spy = None
        if args.profile:
            spy = subprocess.Popen([shutil.which("py-spy") or "py-spy", "record", "--gil",
                                    "--subprocesses", "--format", "raw",
                                    "-o", args.profile, "--pid", str(server.pid),
                                    "--duration", str(int(args.seconds / 2))],
                                   stdout=subprocess.DEVNULL)
        phases["list alone"] = run_readers(port, server.pid, args.readers, args.seconds / 2,
                                           list_alone)
        if spy is not None:
            spy.wait()
    finally:
        server.terminate()
        server.wait()
    fl = phases["floor"].times["floor"]
    f50, f95 = pct(fl, 50), pct(fl, 95)
    print(f"{args.readers} concurrent readers, {args.seconds:g} s, {os.cpu_count()} cores, "
          f"{args.workers} server process(es); load average after: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'page':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p50/floor':>10} "
          f"{'p95/floor':>10} {'client CPU':>10} {'server cores':>12} {'CPU ms/req':>10} "
          f"{'/floor':>7} {'db ms/req':>9}")
    # CPU per request: the server's CPU seconds in the phase over the requests it served
    # (a day's phase: its mix of pages); less sensitive to the machine's load than latency
    floor_cpu = phases["floor"].cpu_per_request
    for phase in phases.values():
        for kind, v in phase.times.items():
            print(f"{kind:<10} {len(v):>8} {pct(v, 50) * 1000:>8.1f} "
                  f"{pct(v, 95) * 1000:>8.1f} {pct(v, 50) / f50:>10.1f} "
                  f"{pct(v, 95) / f95:>10.1f} {phase.client_share:>10.0%} "
                  f"{phase.server_cpu / phase.seconds:>12.2f} "
                  f"{phase.cpu_per_request * 1000:>10.1f} "
                  f"{phase.cpu_per_request / (floor_cpu or 1):>7.1f} "
                  f"{phase.database_ms_per_request:>9}")
    print("CPU ms/req: the server's CPU over the requests it served (a day's phase: its "
          "mix); db ms/req: PostgreSQL's, when it runs on this machine")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main())
