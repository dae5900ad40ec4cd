"""The audit cache (SQLite): each site's check document, valid while the site's files, the spec and the tool are.

A site's stamp is a hash of every file's relative path, size and modification time: computing it stats files
and opens none, which is what makes a re-run over unchanged folders read nothing again. A changed, added or
removed file changes the stamp; so does another spec (its digest) or another ofsep-presets version.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from . import __version__

SCHEMA = 1
TABLE = """CREATE TABLE IF NOT EXISTS sites (
    key TEXT PRIMARY KEY, stamp TEXT NOT NULL, spec TEXT NOT NULL, tool TEXT NOT NULL,
    report TEXT NOT NULL, page TEXT NOT NULL)"""


def fingerprint(path: Path) -> str | None:
    """Stamp of a file or a folder tree from stat() alone; None when the path is neither."""
    digest = hashlib.sha256()
    if path.is_file():
        entries = [(path.name, path.stat())]
    elif path.is_dir():
        entries = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(root, name)
                entries.append((full.relative_to(path).as_posix(), full.stat()))
    else:
        return None
    for rel, st in entries:
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def spec_digest(paths: list[Path]) -> str:
    """The spec's identity for the cache: the bytes of the spec file and every file it extends."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Cache:
    """Site results by (path, stamp, spec digest, tool version). A damaged cache file is replaced, never fatal."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.tool = f"{__version__}/{SCHEMA}"
        self.hits = 0
        try:
            self.db = self._open()
        except sqlite3.DatabaseError:
            if path is not None:
                path.unlink(missing_ok=True)
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:" if self.path is None else self.path)
        db.execute(TABLE)
        return db

    def get(self, key: str, stamp: str, spec: str) -> tuple[dict[str, Any], str] | None:
        row = self.db.execute(
            "SELECT report, page FROM sites WHERE key = ? AND stamp = ? AND spec = ? AND tool = ?",
            (key, stamp, spec, self.tool),
        ).fetchone()
        if row is None:
            return None
        self.hits += 1
        return json.loads(row[0]), row[1]

    def put(self, key: str, stamp: str, spec: str, report: dict[str, Any], page: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO sites (key, stamp, spec, tool, report, page) VALUES (?, ?, ?, ?, ?, ?)",
            (key, stamp, spec, self.tool, json.dumps(report, ensure_ascii=False), page),
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
