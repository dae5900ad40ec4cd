"""A DICOM node's bookkeeping: which studies are arriving, when one is complete, and checking it.

Shared by the network listener (`listen`), the folder watcher (`listen --watch`) and nothing else knows about
associations. A study is complete when no association that sent to it is still open and nothing has arrived for
it for `settle` seconds (a console sends a study over one or several associations, sometimes with pauses); it is
then checked exactly as `check` checks a folder, and its report (HTML and JSON) is written to OUT/reports/.
Instances that arrive for a study after its check re-open it: it is checked again and its report replaced.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spool import Spool, StoreResult


@dataclass
class StudyState:
    uid: str
    label: str
    received: int = 0
    duplicates: int = 0
    last: float = 0.0
    senders: set[int] = field(default_factory=set)
    checked_at: int = 0  # `received` when last checked


@dataclass
class Checked:
    """What one study's check gave: the line printed for it and where its reports are."""

    study: str
    line: str
    html: Path
    json: Path
    status: str


def study_label(uid: str) -> str:
    """A short stable name for a study in file names and lines (no UID: UIDs can carry dates and serials)."""
    return "study-" + hashlib.sha256(uid.encode("utf-8", "surrogateescape")).hexdigest()[:10]


class Node:
    def __init__(
        self,
        out: Path,
        spec: Any,
        settle: float = 10.0,
        max_bytes: int = 50 * 1024**3,
        min_free_bytes: int = 1024**3,
        delete_after_check: bool = False,
        say: Callable[[str], None] = print,
    ):
        self.out = Path(out)
        self.spool = Spool(self.out / "spool", max_bytes=max_bytes, min_free_bytes=min_free_bytes)
        self.reports = self.out / "reports"
        self.reports.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self.settle = settle
        self.delete_after_check = delete_after_check
        self.say = say
        self.studies: dict[str, StudyState] = {}
        self.open_senders: set[int] = set()
        self.checked: list[Checked] = []
        self._lock = threading.RLock()
        self._check_lock = threading.Lock()

    # -- arrivals --------------------------------------------------------------------------------------------

    def sender_opened(self, sender: int) -> None:
        with self._lock:
            self.open_senders.add(sender)

    def sender_closed(self, sender: int) -> None:
        with self._lock:
            self.open_senders.discard(sender)
            for state in self.studies.values():
                if sender in state.senders:
                    state.last = time.monotonic()

    def store(self, sender: int, study: str, series: str, sop: str, data: bytes) -> StoreResult:
        """Spool one instance (raises SpoolFull) and note it for its study."""
        result = self.spool.store(study, series, sop, data)
        key = str(study)
        with self._lock:
            state = self.studies.get(key)
            if state is None:
                state = self.studies[key] = StudyState(key, study_label(key))
            state.senders.add(sender)
            state.last = time.monotonic()
            if result.new:
                state.received += 1
            else:
                state.duplicates += 1
        return result

    # -- completion ------------------------------------------------------------------------------------------

    def due(self, now: float | None = None) -> list[str]:
        """Studies complete now: new instances since their last check, no sender open, quiet for `settle` s."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return [
                s.uid
                for s in self.studies.values()
                if s.received > s.checked_at and not (s.senders & self.open_senders) and now - s.last >= self.settle
            ]

    def check_due(self, force: bool = False) -> list[Checked]:
        """Check every complete study (every study with new instances, with force: Ctrl-C, or on demand)."""
        with self._lock:
            uids = [s.uid for s in self.studies.values() if s.received > s.checked_at] if force else self.due()
        return [c for uid in uids if (c := self.check_study(uid)) is not None]

    def check_study(self, uid: str) -> Checked | None:
        from .check import check
        from .exams import as_one
        from .output import write_atomic
        from .readers import inspect_path
        from .report import write

        with self._check_lock:
            with self._lock:
                state = self.studies[uid]
                upto = state.received
            folder = self.spool.study_dir(uid)
            try:
                documents = inspect_path(folder)
            except Exception as error:  # noqa: BLE001 - a study that cannot be read is reported, the node goes on
                self.say(f"{state.label}: cannot be read ({error})")
                with self._lock:
                    state.checked_at = upto
                return None
            for document in documents:
                document.source = state.label
            report = check(documents, self.spec)
            report.exam = as_one(documents)  # the report names the exam (or how many were joined) and its regions
            html = self.reports / f"{state.label}.html"
            doc = self.reports / f"{state.label}.json"
            write_atomic(doc, write(report, "json"))
            write_atomic(html, write(report, "html"))
            scanner = " ".join(
                str(report.scanner[k]) for k in ("manufacturer", "model", "software_version") if report.scanner.get(k)
            )
            line = (
                f"{state.label}: {scanner or 'scanner unknown'}, {state.received} instances — "
                f"{report.status.upper()} — {html}"
            )
            with self._lock:
                state.checked_at = upto
            checked = Checked(uid, line, html, doc, report.status)
            self.checked.append(checked)
            self.say(line)
            if self.delete_after_check:
                self.spool.remove_study(uid)
            return checked

    def run_checker(self, stop: threading.Event, every: float = 0.5) -> threading.Thread:
        """A background thread that checks studies as they complete, until `stop` is set."""

        def loop() -> None:
            while not stop.wait(every):
                self.check_due()

        thread = threading.Thread(target=loop, name="ofsep-presets-checker", daemon=True)
        thread.start()
        return thread
