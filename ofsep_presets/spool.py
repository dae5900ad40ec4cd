"""Where a DICOM node keeps what a console sends: OUT/spool/<study>/<series>/<instance>.dcm, written safely.

The spool is the one place `listen`, `listen --watch` and `check pacs://` write received instances. Its rules are
those of any store a hostile peer can write into:
- a name comes from a UID only when the UID is a real DICOM UID (digits and dots, at most 64 characters, PS3.5
  §9.1); anything else (`../../etc`, `/abs`, NUL, 10 kB of text) is stored under a digest of it, so no sender can
  choose a path, and nothing is ever written outside the spool;
- an instance is written to a temporary name in its series folder, then linked to its final name: a reader never
  sees half a file, a sender that disconnects leaves nothing, an existing instance is never replaced (a duplicate
  is counted once);
- a byte budget and a free-space floor: past either, the store is refused (the node answers "out of resources")
  instead of filling the disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")
MAX_UID = 64


class SpoolFull(Exception):
    """Storing this instance would pass the spool's byte budget or its free-space floor."""


def safe_name(uid: object) -> str:
    """A file-system name for a UID: the UID itself when it is a valid DICOM UID, else a digest of it."""
    text = str(uid or "").strip().rstrip("\x00").strip()
    if text and len(text) <= MAX_UID and UID.fullmatch(text):
        return text
    return "x-" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass
class StoreResult:
    path: Path
    new: bool  # False: this SOP instance was already in the spool (a duplicate is counted once)


@dataclass
class Spool:
    """A spool folder with a byte budget; thread-safe (one association per thread stores into it)."""

    root: Path
    max_bytes: int = 50 * 1024**3
    min_free_bytes: int = 1 * 1024**3
    stored_bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if self.root.is_symlink():
            raise OSError(f"{self.root} is a symbolic link: give the real folder as --out")
        self.root.mkdir(parents=True, exist_ok=True)
        self.stored_bytes = sum(p.stat().st_size for p in self.root.rglob("*.dcm") if p.is_file())

    def study_dir(self, study_uid: object) -> Path:
        return self.root / safe_name(study_uid)

    def store(self, study_uid: object, series_uid: object, sop_uid: object, data: bytes) -> StoreResult:
        """Write one encoded instance (a DICOM file: preamble, meta, dataset) atomically; never replace one."""
        folder = self.study_dir(study_uid) / safe_name(series_uid)
        final = folder / f"{safe_name(sop_uid)}.dcm"
        with self._lock:
            if final.exists():
                return StoreResult(final, False)
            if self.stored_bytes + len(data) > self.max_bytes:
                raise SpoolFull(f"the spool holds {self.stored_bytes} bytes; its budget is {self.max_bytes}")
            free = shutil.disk_usage(self.root).free
            if free - len(data) < self.min_free_bytes:
                raise SpoolFull(f"only {free} bytes free on the spool's disk (floor {self.min_free_bytes})")
            self.stored_bytes += len(data)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=folder)
        try:
            # No fsync per instance (thousands a minute): the link below makes the file whole-or-absent for every
            # reader and after any process kill; only a power cut could leave a recent instance to be sent again.
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            try:
                os.link(tmp, final)  # fails if the name exists: another association stored it meanwhile
                new = True
            except FileExistsError:
                new = False
        except BaseException:
            with self._lock:
                self.stored_bytes -= len(data)
            raise
        finally:
            Path(tmp).unlink(missing_ok=True)
        if not new:
            with self._lock:
                self.stored_bytes -= len(data)
        return StoreResult(final, new)

    def remove_study(self, study_uid: object) -> None:
        """Delete a checked study's instances (`--delete-after-check`); reports elsewhere are kept."""
        folder = self.study_dir(study_uid)
        if folder.is_dir() and not folder.is_symlink():
            size = sum(p.stat().st_size for p in folder.rglob("*.dcm") if p.is_file())
            shutil.rmtree(folder)
            with self._lock:
                self.stored_bytes -= size
