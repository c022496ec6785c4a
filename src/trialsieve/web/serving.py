"""Serving the workbench with uvicorn, in one process or several (`serve --workers N`).

Several worker processes let the list's Python run on every core (one process is held to
one core by the GIL). That is safe because nothing a request relies on lives only in one
process: the audit chain's append is serialised across processes by the database
(`Database.write`: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock), the chain's
head outside the database is moved under a file lock (web.seal), sessions, login
throttles and form tokens are rows, and the in-process caches are keyed by what decides
their content (record hash, protocol hash, dates; a summary row's fields and MAC), so a
worker that has not seen a write simply misses its cache.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

# How a worker process learns what the parent was told: uvicorn starts each worker anew
# and builds its app with the factory below, which reads this variable.
CONFIG_ENV = "TRIALSIEVE_SERVE_CONFIG"


def default_workers() -> int:
    """2, or the number of cores when there are more."""
    return max(2, os.cpu_count() or 1)


def run(url: str, audit_dir: str | Path | None, *, host: str, port: int,
        as_of: date | None, trusted_proxy: str | None, workers: int,
        secure_cookies: bool = True) -> None:
    import uvicorn

    # server_header off: the server's name and version tell an attacker what to try.
    common = dict(host=host, port=port, log_level="warning",
                  proxy_headers=bool(trusted_proxy), forwarded_allow_ips=trusted_proxy or "",
                  server_header=False)
    if workers <= 1:
        uvicorn.run(_app(url, audit_dir, as_of, secure_cookies), **common)  # type: ignore[arg-type]
        return
    os.environ[CONFIG_ENV] = json.dumps({
        "url": url, "audit_dir": str(audit_dir) if audit_dir else None,
        "as_of": as_of.isoformat() if as_of else None, "secure_cookies": secure_cookies})
    uvicorn.run("trialsieve.web.serving:app_from_environment", factory=True,
                workers=workers, **common)  # type: ignore[arg-type]


def app_from_environment():
    """The app of one worker process, as the parent process described it."""
    cfg = json.loads(os.environ[CONFIG_ENV])
    return _app(cfg["url"], cfg["audit_dir"],
                date.fromisoformat(cfg["as_of"]) if cfg["as_of"] else None,
                cfg["secure_cookies"])


def _app(url: str, audit_dir: str | Path | None, as_of: date | None, secure_cookies: bool):
    from trialsieve.web.app import create_app
    from trialsieve.web.db import Database

    return create_app(Database(url, audit_dir), as_of=as_of, secure_cookies=secure_cookies)
