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
        self._lock_fd: int | None = None
        self._lock_pid = 0

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
        try:
            fd = os.open(self.folder / HEAD_FILE, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            data = json.loads(os.read(fd, 4096))
        finally:
            os.close(fd)
        return int(data["id"]), str(data["hash"])

    def advance(self, row_id: int, row_hash: str) -> None:
        """Keep the newest row written. The head is read and replaced under a file lock, so
        that between processes (`serve --workers`, or several servers on PostgreSQL) a
        slower writer never moves it back to an older row. Every read of patient data
        moves it: plain system calls, and the lock file kept open by this process."""
        with self._lock:
            lock = self._lock_file()
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.head()
                if current is not None and current[0] >= row_id:
                    return
                tmp = self.folder / f".{HEAD_FILE}.{os.getpid()}.tmp"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.write(fd, json.dumps({"id": row_id, "hash": row_hash}).encode())
                finally:
                    os.close(fd)
                os.replace(tmp, self.folder / HEAD_FILE)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _lock_file(self) -> int:
        """This process's descriptor of the lock file (a descriptor inherited through a
        fork would share its lock with the parent: opened again in a new process)."""
        if self._lock_fd is None or self._lock_pid != os.getpid():
            self._lock_fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
            self._lock_pid = os.getpid()
        return self._lock_fd
