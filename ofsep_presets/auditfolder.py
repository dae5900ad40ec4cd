"""An audit's --out folder: it proves it is ours before it is reused, and one audit at a time writes into it.

The folder is shared ground (a lab's network drive, a CI workspace), so nothing in it is followed or believed:
- every name the audit writes (`audit.*`, `cache.sqlite*`, `sites/`, the marker and the lock) must be a plain file
  or folder: a symbolic link there is refused (exit 2) before anything is written, so nothing is written through
  it and no file where it points is deleted;
- the marker `.ofsep-audit` is written first into a new folder: it holds the cache's secret (see cache.py), is
  readable by its owner only, and must be owned by the user running the audit. A folder with the marker, or one
  holding only names an audit writes (an audit killed before it wrote its first report), or an earlier audit's
  folder (`audit.json` from before the marker) is ours; anything else is someone's folder and is refused;
- an exclusive `flock` on `.ofsep-audit.lock` keeps a second audit out while one runs (it exits 2 naming the
  first one's pid). The kernel drops the lock when its process dies, even by kill -9, so a stale lock file of a
  dead audit never blocks the next one; that next run deletes the temporary files the dead one left.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import stat
from pathlib import Path
from types import TracebackType

from .errors import OfsepError
from .output import _umask, write_atomic

MARK = "ofsep-presets audit"
MARKER = ".ofsep-audit"
LOCK = ".ofsep-audit.lock"
SITES = "sites"
CACHE = "cache.sqlite"
OURS = {
    "audit.html",
    "audit.csv",
    "audit.json",
    CACHE,
    f"{CACHE}-journal",
    f"{CACHE}-wal",
    f"{CACHE}-shm",
    SITES,
    MARKER,
    LOCK,
}
TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")  # what write_atomic leaves behind when killed mid-write


class FolderError(OfsepError):
    """The --out folder cannot be used (exit 2): someone else's, a link where a file should be, or busy."""


class AuditFolder:
    """The --out folder of one audit run: checked and locked on enter, unlocked on exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.secret = b""
        self.repaired: list[str] = []
        self._lock: int | None = None

    # -- checking ------------------------------------------------------------------------------------------
    def _refuse_links(self) -> None:
        for name in sorted(OURS):
            try:
                st = (self.path / name).lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode):
                raise FolderError(
                    f"{self.path / name} is a symbolic link; an audit folder holds none and nothing is written "
                    f"through one. Remove it or choose another --out."
                )
            wanted = stat.S_ISDIR if name == SITES else stat.S_ISREG
            if not wanted(st.st_mode):
                kind = "folder" if name == SITES else "plain file"
                raise FolderError(f"{self.path / name} is not a {kind}; remove it or choose another --out.")

    def _is_ours(self, names: set[str]) -> bool:
        if MARKER in names:
            return True
        if names <= OURS | {n for n in names if TEMP.match(n)}:
            return True  # only what an audit writes: one killed before its first report, or an empty folder
        try:
            doc = json.loads((self.path / "audit.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return False
        return isinstance(doc, dict) and doc.get("audit") == MARK

    def _check_marker(self) -> bytes | None:
        """The folder's secret, None when there is no marker yet; refused when it is not the user's own."""
        marker = self.path / MARKER
        try:
            st = marker.lstat()
        except FileNotFoundError:
            return None
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise FolderError(
                f"{marker} belongs to another user or others may read it; this folder is not your audit's. "
                f"Choose another --out."
            )
        text = marker.read_text(encoding="ascii", errors="replace").strip()
        if not re.fullmatch(r"[0-9a-f]{64}", text):
            return None  # damaged: a new secret (and so a new cache) is made
        return bytes.fromhex(text)

    def _write_marker(self) -> bytes:
        key = secrets.token_bytes(32)
        marker = self.path / MARKER
        marker.unlink(missing_ok=True)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
        return key

    def _take_lock(self) -> None:
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise FolderError(
                f"another audit (pid {holder}) is writing {self.path}; wait for it to finish or choose another --out."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd

    def _repair(self) -> None:
        """Delete the temporary files an audit killed mid-write left (ours by name, plain files only)."""
        for folder in (self.path, self.path / SITES):
            if not folder.is_dir() or folder.is_symlink():
                continue
            for entry in os.scandir(folder):
                if TEMP.match(entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    self.repaired.append(entry.name)

    def __enter__(self) -> AuditFolder:
        path = self.path
        if path.is_symlink():
            raise FolderError(f"{path} is a symbolic link; pass the folder it points to as --out.")
        if path.exists() and not path.is_dir():
            raise FolderError(f"{path} exists and is not a folder; choose another --out.")
        if path.is_dir():
            names = set(os.listdir(path))
            if not self._is_ours(names):
                raise FolderError(
                    f"{path} is not empty and holds no earlier audit; nothing was written. Choose another --out."
                )
            self._refuse_links()
            self._check_marker()
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._take_lock()
            self._refuse_links()  # again, now that no other audit can be changing the folder
            self.secret = self._check_marker() or self._write_marker()
            self._repair()
        except BaseException:
            self._release()
            raise
        return self

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._release()

    # -- writing -------------------------------------------------------------------------------------------
    @property
    def cache_path(self) -> Path:
        return self.path / CACHE

    def write(self, name: str, data: str | bytes) -> None:
        """Replace one of our files atomically; `name` is relative ('audit.json', 'sites/x.html')."""
        target = self.path / name
        if target.parent != self.path:
            self.sites_dir()
        write_atomic(target, data)  # os.replace swaps a name, never writes through a link planted there

    def publish(self, tmp: str, name: str) -> None:
        """Move a finished temporary file of ours (made in the folder) into place under `name`."""
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, self.path / name)

    def sites_dir(self) -> Path:
        folder = self.path / SITES
        if folder.is_symlink():
            raise FolderError(f"{folder} is a symbolic link; nothing is written through it. Remove it.")
        folder.mkdir(exist_ok=True)
        return folder

    def read_page(self, name: str) -> bytes | None:
        """The bytes of a page we wrote earlier, if it is still a plain file (a link is never read through)."""
        try:
            fd = os.open(self.path / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return handle.read(50_000_000)

    def prune_pages(self, keep: set[str]) -> None:
        """Delete pages of sites an earlier audit had and this one has not (entries of sites/ only, no link
        followed: a link there is removed itself)."""
        folder = self.sites_dir()
        for entry in os.scandir(folder):
            if entry.name.endswith(".html") and f"{SITES}/{entry.name}" not in keep:
                os.unlink(entry.path)
