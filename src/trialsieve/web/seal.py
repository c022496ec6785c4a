"""What the database does not hold, so that its owner cannot forge the audit trail: the
key of the chain's HMAC, and the chain's head (the newest row the app wrote, with its
hash). Whoever can edit the database can then neither rewrite the chain with recomputed
hashes (no key) nor cut its end off (the head names a row that must still be there).

Both live in a folder of their own (`--audit-dir`, by default the data folder): keep it
out of reach of the database's administrators and back it up apart from the database.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path

KEY_FILE = "audit.key"
HEAD_FILE = "audit-head.json"
LOCK_FILE = ".audit-head.lock"


class Seal:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._key = self._load_key()
        self._lock = threading.Lock()

    def _load_key(self) -> bytes:
        path = self.folder / KEY_FILE
        if not path.exists():
            # O_EXCL: two processes starting together keep the same key, the first one's.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
        return bytes.fromhex(path.read_text().strip())

    def mac(self, blob: bytes) -> str:
        return hmac.new(self._key, blob, hashlib.sha256).hexdigest()

    def head(self) -> tuple[int, str] | None:
        path = self.folder / HEAD_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return int(data["id"]), str(data["hash"])

    def advance(self, row_id: int, row_hash: str) -> None:
        """Keep the newest row written. The head is read and replaced under a file lock, so
        that between processes (`serve --workers`, or several servers on PostgreSQL) a
        slower writer never moves it back to an older row."""
        with self._lock, open(self.folder / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            current = self.head()
            if current is not None and current[0] >= row_id:
                return
            tmp = self.folder / f".{HEAD_FILE}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps({"id": row_id, "hash": row_hash}))
            os.replace(tmp, self.folder / HEAD_FILE)
