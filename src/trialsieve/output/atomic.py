"""All-or-nothing outputs: every command that writes files writes them into a hidden
folder inside the target folder (same file system, so a rename moves them) and moves
them into place only once all are complete.

A run that stops (Ctrl-C, --strict, a failing engine, a full disk) or that cannot
replace one of its files (a folder it may not write to, a file another program holds
open: Windows refuses to rename over it) leaves the files of the earlier run exactly
as they were. The move is in two steps for that reason: every earlier file is first
moved aside (any refusal puts back those already moved and stops), then the new ones
are moved in, then the earlier ones are deleted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = ".trialsieve-partial-"


class OutputError(Exception):
    """An output could not be written: exit status 3 (not the input's fault), nothing
    changed in the target folder."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path}: {why}; no output file was changed")
        self.path = str(path)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class Stage:
    """The hidden folder new files are written into (`path(name)`)."""

    def __init__(self, target: Path, folder: Path) -> None:
        self.target = target
        self.dir = folder
        self.names: list[str] = []

    def path(self, name: str) -> Path:
        if name not in self.names:
            self.names.append(name)
        return self.dir / name

    def commit(self) -> list[Path]:
        """Move the staged files into the target folder, all or none."""
        old = self.dir / ".earlier"
        old.mkdir()
        moved: list[str] = []
        for name in self.names:
            if (self.target / name).exists() or (self.target / name).is_symlink():
                try:
                    os.replace(self.target / name, old / name)
                except OSError as exc:
                    self._put_back(moved, old)
                    raise OutputError(self.target / name, f"cannot be replaced "
                                      f"({_why(exc)}: is it open in another program?)"
                                      ) from exc
                moved.append(name)
        placed: list[str] = []
        for name in self.names:
            try:
                os.replace(self.dir / name, self.target / name)
            except OSError as exc:
                for p in placed:
                    os.replace(self.target / p, self.dir / p)
                self._put_back(moved, old)
                raise OutputError(self.target / name, f"cannot be written ({_why(exc)})"
                                  ) from exc
            placed.append(name)
        return [self.target / n for n in self.names]

    def _put_back(self, moved: list[str], old: Path) -> None:
        for name in moved:
            os.replace(old / name, self.target / name)


def make_folder(folder: Path) -> Path:
    """The target folder, made if need be; an OutputError when it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise  # a file in the way: a usage error, said by the caller
    except OSError as exc:
        raise OutputError(folder, f"cannot make the output folder ({_why(exc)})") from exc
    return folder


@contextmanager
def staged(folder: Path | str) -> Iterator[Stage]:
    """Files written through `stage.path(name)` appear in `folder` together when the
    block ends; on any exception (KeyboardInterrupt included) none do, and the hidden
    folder is removed."""
    target = make_folder(Path(folder))
    try:
        tmp = Path(tempfile.mkdtemp(prefix=PREFIX, dir=target))
    except OSError as exc:
        raise OutputError(target, f"cannot write in this folder ({_why(exc)})") from exc
    stage = Stage(target, tmp)
    try:
        try:
            yield stage
        except OSError as exc:  # a full disk, a quota: while writing the new files
            name = Path(exc.filename).name if exc.filename else ""
            where = target / name if name else target
            raise OutputError(where, f"cannot be written ({_why(exc)})") from exc
        stage.commit()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
