"""The audit cache (SQLite): each site's check document, valid while the site's files, the spec and the tool are.

A site's stamp is a hash of every file's relative path, size and modification time: computing it stats files
and opens none, which is what makes a re-run over unchanged folders read nothing again. A changed, added or
removed file changes the stamp; so does another spec (its digest) or another ofsep-presets version.

The cache file sits in a folder other people may write to, so nothing in it is believed on its own word:
- each row carries an HMAC (SHA-256) keyed by the audit folder's secret (`auditfolder.py`: a 0600 file owned by
  the user running the audit) over its key, stamp, spec digest, tool version, report and page digest: a row
  written by anyone without that secret — a planted file, a cache copied from elsewhere, another key layout — is
  not ours and is dropped;
- each row's report is validated against the shape of a `check --format json` document, and its verdict must
  follow from its own sequence and session verdicts (a row cannot say "pass" over failing findings);
- it never carries HTML: the per-site pages are rendered again from the document through the autoescaped
  templates (the row keeps only a digest of the page we wrote, so an untouched page need not be rendered again);
- a cache that is not a SQLite file, has another schema or layout, or fails its integrity check is replaced; a row
  that fails any test is deleted and its site checked again. A damaged cache is never fatal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import fastjsonschema

from . import __version__
from .resources import spec_dir

SCHEMA = 2
LAYOUT = {
    "meta": ["name", "value"],
    "sites": ["key", "stamp", "spec", "tool", "report", "page", "mac"],
}
TABLES = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE sites (key TEXT PRIMARY KEY, stamp TEXT NOT NULL, spec TEXT NOT NULL, tool TEXT NOT NULL,
        report TEXT NOT NULL, page TEXT NOT NULL, mac TEXT NOT NULL)""",
)
RANK = {"pass": 0, "not-applicable": 0, "warn": 1, "unknown": 2, "fail": 3, "missing": 3}


def fingerprint(path: Path) -> str | None:
    """Stamp of a file or a folder tree from stat() alone; None when the path is neither."""
    digest = hashlib.sha256()
    try:
        top = os.stat(path)
    except OSError:
        return None
    if stat.S_ISREG(top.st_mode):
        entries = [(os.path.basename(path), top)]
    elif stat.S_ISDIR(top.st_mode):
        # os.path, not Path objects: a warm audit stamps every site's every file (20,000 Paths cost ~0.1 s).
        entries = []
        base = os.fspath(path)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            rel = os.path.relpath(root, base).replace(os.sep, "/")
            prefix = "" if rel == "." else rel + "/"
            for name in sorted(files):
                entries.append((prefix + name, os.lstat(os.path.join(root, name))))
    else:
        return None
    for rel, st in entries:
        name = rel.encode("utf-8", "surrogateescape")
        digest.update(name + f"\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_mode}\n".encode())
    return digest.hexdigest()


def spec_digest(paths: list[Path]) -> str:
    """The spec's identity for the cache: the bytes of the spec file and every file it extends."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def page_digest(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


@cache
def _validator() -> Any:
    """The check-report schema compiled to Python (fastjsonschema: ~10× jsonschema, and a warm audit validates
    every cached row)."""
    schema = json.loads((spec_dir() / "schema" / "check-report.schema.json").read_text(encoding="utf-8"))
    return fastjsonschema.compile(schema)


def report_problem(report: Any) -> str | None:
    """Why `report` is not a `check --format json` document we could have written, or None when it is one."""
    try:
        _validator()(report)
    except fastjsonschema.JsonSchemaException as error:
        return str(error.message)[:160]
    worst = "pass"
    for item in [*report["sequences"], *report["session"]]:
        if RANK[item["status"]] > RANK[worst]:
            worst = "fail" if item["status"] == "missing" else item["status"]
    if report["status"] != worst:
        return f"its verdict {report['status']!r} does not follow from its findings ({worst!r})"
    for seq in report["sequences"]:
        checks = [c["status"] for c in seq["checks"]]
        if seq["status"] == "pass" and any(RANK[s] >= RANK["fail"] for s in checks):
            return f"sequence {seq['id']} passes over a failing check"
    return None


class Cache:
    """Site results by (path, stamp, spec digest, tool version), signed with the folder's secret.

    `Cache(None, ...)` keeps the rows in memory (one run, nothing written). `notes` says, in words, what was
    found damaged or foreign and dropped; `hits` and `rejected` count rows used and refused.
    """

    def __init__(self, path: Path | None, secret: bytes) -> None:
        self.path = path
        self.secret = secret
        self.tool = f"{__version__}/{SCHEMA}"
        self.hits = 0
        self.texts: dict[str, str] = {}
        self.rejected = 0
        self.notes: list[str] = []
        self.db: sqlite3.Connection | None
        try:
            self.db = self._open()
            problem = self._problem()
        except sqlite3.DatabaseError as exc:
            problem = f"not a readable SQLite file ({exc})"
        if problem is not None:
            self.notes.append(f"the cache was replaced: {problem}")
            self._reset()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:" if self.path is None else str(self.path), timeout=5)
        db.execute("PRAGMA trusted_schema = OFF")  # a planted view or trigger never runs our SQL
        return db

    def _problem(self) -> str | None:
        assert self.db is not None
        tables = {
            name: [col[1] for col in self.db.execute(f"PRAGMA table_info({name})")]
            for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not tables:
            self._create()
            return None
        if tables != LAYOUT:
            return "another table layout"
        if self.db.execute("PRAGMA quick_check").fetchone() != ("ok",):
            return "it failed SQLite's integrity check"
        meta = dict(self.db.execute("SELECT name, value FROM meta"))
        if meta.get("schema") != str(SCHEMA):
            return f"schema {meta.get('schema')!r}, not {SCHEMA}"
        return None

    def _create(self) -> None:
        assert self.db is not None
        with self.db:
            for statement in TABLES:
                self.db.execute(statement)
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))

    def _reset(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None
        if self.path is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        try:
            self.db = self._open()
            self._create()
        except sqlite3.DatabaseError as exc:  # e.g. a read-only folder: the audit runs without a cache
            self.notes.append(f"no cache this run ({exc})")
            self.db = None

    def _mac(self, *fields: str) -> str:
        return hmac.new(self.secret, "\0".join(fields).encode("utf-8", "surrogateescape"), "sha256").hexdigest()

    def get(self, key: str, stamp: str, spec: str) -> tuple[dict[str, Any], str] | None:
        """The site's document and the digest of the page written from it, or None (then check the site)."""
        if self.db is None:
            return None
        try:
            row = self.db.execute(
                "SELECT report, page, mac FROM sites WHERE key = ? AND stamp = ? AND spec = ? AND tool = ?",
                (key, stamp, spec, self.tool),
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            self.notes.append(f"the cache could not be read ({exc}); sites were checked again")
            self.db = None
            return None
        if row is None:
            return None
        problem = self._row_problem(key, stamp, spec, row)
        report = None
        if problem is None:
            try:
                report = json.loads(row[0])
            except ValueError:
                problem = "not JSON"
        if problem is not None:
            self.rejected += 1
            self._drop(key)
            return None
        self.hits += 1
        self.texts[key] = row[0]  # the document as signed: audit.json takes it as it is, not dumped again
        return report, row[1]

    def _row_problem(self, key: str, stamp: str, spec: str, row: tuple[Any, ...]) -> str | None:
        text, page, mac = row
        if not all(isinstance(v, str) for v in row):
            return "a field is not text"
        if not hmac.compare_digest(self._mac(key, stamp, spec, self.tool, text, page), mac):
            return "not signed with this folder's secret"
        # Signed with this folder's secret: the row is one `put` wrote, after `report_problem` found nothing
        # wrong with it; a warm audit does not validate a thousand signed rows again.
        return None

    def noted(self, name: str) -> str | None:
        """A value `note` kept under `name` (signed like the rows), or None when absent or not ours."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT value FROM meta WHERE name = ?", (f"note:{name}",)).fetchone()
        except sqlite3.DatabaseError:
            return None
        if row is None or not isinstance(row[0], str) or " " not in row[0]:
            return None
        value, _, mac = row[0].rpartition(" ")
        return value if hmac.compare_digest(self._mac("note", name, self.tool, value), mac) else None

    def note(self, name: str, value: str) -> None:
        """Keep a small signed value for the next run (what the last audit.html was rendered from)."""
        if self.db is None:
            return
        signed = f"{value} {self._mac('note', name, self.tool, value)}"
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (f"note:{name}", signed))
        except sqlite3.DatabaseError:
            pass

    def _drop(self, key: str) -> None:
        try:
            with self.db:  # type: ignore[union-attr]
                self.db.execute("DELETE FROM sites WHERE key = ?", (key,))  # type: ignore[union-attr]
        except sqlite3.DatabaseError:
            pass

    def put(self, key: str, stamp: str, spec: str, report: dict[str, Any], page: str) -> None:
        """Keep a site's document and the digest of its page (never the page itself)."""
        if self.db is None:
            return
        if report_problem(report) is not None:  # what is signed was validated once, here
            return
        try:
            text = json.dumps(report, ensure_ascii=False, allow_nan=False)
        except ValueError:  # a value JSON cannot carry: this site is checked again next time
            return
        mac = self._mac(key, stamp, spec, self.tool, text, page)
        try:
            with self.db:
                self.db.execute(
                    "INSERT OR REPLACE INTO sites (key, stamp, spec, tool, report, page, mac) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, stamp, spec, self.tool, text, page, mac),
                )
        except sqlite3.DatabaseError as exc:
            self.notes.append(f"the cache could not be written ({exc}); this run's results are not kept")
            self.db = None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
