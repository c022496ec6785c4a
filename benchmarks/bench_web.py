"""The workbench under load: 1,000 patients, 20 concurrent readers, each looping over the
patient list, a patient's screening page and a signed checklist, for a fixed time.

    .venv/bin/python benchmarks/bench_web.py [--patients 1000] [--readers 20]
        [--seconds 60] [--database-url postgresql://owner@host/db]

The server is `uvicorn` in a process of its own, on SQLite in a temporary folder unless
--database-url is given (an empty database, migrated here). Patients are the examples of
examples/patients/ under new FHIR ids, imported as a coordinator would; the answers of
one in ten are confirmed by an investigator and its screening signed when decided, so
that checklists exist. A last phase has every reader on the list alone (the issue's target is
the list's). Latencies are reported as p50/p95 and as ratios to a floor
measured in the same run under the same concurrency: the stylesheet, a static file that
touches neither database nor engine. Reads are audited (one audit row each), as served.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
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


def serve(url: str, port: int) -> None:
    import uvicorn

    from trialsieve.web.app import create_app
    from trialsieve.web.db import Database

    app = create_app(Database(url), as_of=AS_OF, secure_cookies=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning",
                timeout_keep_alive=600)


class Client:
    """One reader's keep-alive connection and session cookie (standard library only)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None
                ) -> tuple[int, str, dict[str, str]]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()  # a keep-alive the server closed: once more, connected anew
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
        text = r.read().decode()
        for h in r.headers.get_all("set-cookie") or []:
            name, value = h.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return r.status, text, dict(r.headers)

    def get(self, path: str) -> int:
        return self.request("GET", path)[0]


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


def run_readers(port: int, readers: int, seconds: float, paths) -> dict[str, list[float]]:
    """Each reader logged in, looping over `paths()` until the time is up; seconds per
    request, by kind."""
    clients = [login(port, f"reader{i:02d}") for i in range(readers)]
    times: dict[str, list[float]] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
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
                    times.setdefault(kind, []).append(dt)

    threads = [threading.Thread(target=reader, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return times


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--database-url", default=None,
                    help="an empty PostgreSQL database (its owner); default SQLite")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-web-")
    os.environ["TRIALSIEVE_AUDIT_DIR"] = tmp
    from trialsieve.web.db import database_url

    url = database_url(args.database_url, tmp)
    t0 = time.monotonic()
    checklists = prepare(url, args.patients, args.readers)
    print(f"prepared {args.patients} patients ({len(checklists)} signed) in "
          f"{time.monotonic() - t0:.0f} s on {url.split(':')[0]}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)])
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
            number = rnd.randrange(args.patients)
            from trialsieve.output.identifiers import derived
            from trialsieve.protocols.lumen import LUMEN

            return [("list", f"/?page={rnd.randrange(pages)}"),
                    ("patient", f"/patients/{derived(LUMEN.id, f'bench{number:05d}')}"),
                    ("checklist", rnd.choice(checklists))]

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
        run_readers(port, args.readers, 5, day)
        fl = run_readers(port, args.readers, args.seconds / 4, floor)["floor"]
        times = run_readers(port, args.readers, args.seconds, day)
        # the target is the list's: every reader on the list alone, so that the
        # list does not queue behind patient pages screened for the first time
        alone = run_readers(port, args.readers, args.seconds / 2, lambda rnd: [
            ("list alone", f"/?page={rnd.randrange(pages)}")])
    finally:
        server.terminate()
        server.wait()
    f50, f95 = pct(fl, 50), pct(fl, 95)
    print(f"{args.readers} concurrent readers, {args.seconds:g} s, {os.cpu_count()} cores")
    print(f"{'page':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p50/floor':>10} "
          f"{'p95/floor':>10}")
    print(f"{'floor':<10} {len(fl):>8} {f50 * 1000:>8.1f} {f95 * 1000:>8.1f} {1:>10.1f} "
          f"{1:>10.1f}")
    for kind in ("list", "patient", "checklist", "list alone"):
        v = alone[kind] if kind == "list alone" else times[kind]
        print(f"{kind:<10} {len(v):>8} {pct(v, 50) * 1000:>8.1f} {pct(v, 95) * 1000:>8.1f} "
              f"{pct(v, 50) / f50:>10.1f} {pct(v, 95) / f95:>10.1f}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main())
