"""`listen`: a DICOM Storage SCP (pynetdicom) that a console or a PACS sends a dummy run to, and a folder watcher.

Everything a peer sends lands in the spool (spool.py: safe names, atomic, de-duplicated, bounded); the node
(node.py) decides when a study is complete and checks it. This module only speaks DICOM: which peers may
associate, which objects are accepted (every storage SOP class in every transfer syntax pydicom reads: MR images
are checked, protocol SRs and presentation states are stored and left alone), and the status each store gets
(0x0000 stored, 0xA700 out of resources when the spool's budget is reached).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .node import Node
from .spool import SpoolFull

OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000


@dataclass(frozen=True)
class Peer:
    """An allowed sender: AE title and host ('*' for any), from `--allow AET@HOST`."""

    ae_title: str
    host: str = "*"

    @classmethod
    def parse(cls, text: str) -> Peer:
        aet, _, host = text.partition("@")
        aet = aet.strip()
        if not aet or len(aet) > 16:
            raise ValueError(f"{text!r}: write AET@HOST (an AE title of 1–16 characters, e.g. CONSOLE@10.0.0.5)")
        return cls(aet, host.strip() or "*")

    def admits(self, ae_title: str, host: str) -> bool:
        return self.ae_title in ("*", ae_title) and self.host in ("*", host)


@dataclass
class Association:
    """Progress of one association, printed when it ends."""

    peer: str
    started: float = field(default_factory=time.monotonic)
    stored: int = 0
    duplicates: int = 0
    refused: int = 0


def _ae(ae_title: str):
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title=ae_title)
    for context in AllStoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    ae.maximum_associations = 16
    ae.network_timeout = 60
    ae.acse_timeout = 30
    ae.dimse_timeout = 60
    return ae


class Listener:
    """The Storage SCP around a Node; start() returns at once, stop() ends it cleanly."""

    def __init__(
        self,
        node: Node,
        bind: str = "127.0.0.1",
        port: int = 11112,
        ae_title: str = "OFSEP-PRESETS",
        allow: tuple[Peer, ...] = (),
        say: Callable[[str], None] = print,
    ):
        self.node, self.bind, self.port, self.ae_title, self.allow, self.say = node, bind, port, ae_title, allow, say
        self.associations: dict[int, Association] = {}
        self._server = None
        self._lock = threading.Lock()

    # -- handlers (pynetdicom calls them on each association's thread) --------------------------------------

    def _requested(self, event) -> None:
        requestor = event.assoc.requestor
        primitive = requestor.primitive  # at EVT_REQUESTED the A-ASSOCIATE-RQ is what names the caller
        aet = str(getattr(primitive, "calling_ae_title", "") or requestor.ae_title).strip()
        host = str(requestor.address)
        if self.allow and not any(peer.admits(aet, host) for peer in self.allow):
            self.say(f"refused an association from {aet}@{host} (not in --allow)")
            event.assoc.acse.send_reject(0x01, 0x01, 0x03)  # rejected-permanent, service user, calling AE unknown
            event.assoc.kill()  # as pynetdicom's own rejection does: lets the A-ASSOCIATE-RJ go out first
            return
        with self._lock:
            self.associations[id(event.assoc)] = Association(f"{aet}@{host}")
        self.node.sender_opened(id(event.assoc))

    def _ended(self, event) -> None:
        with self._lock:
            progress = self.associations.pop(id(event.assoc), None)
        self.node.sender_closed(id(event.assoc))
        if progress is not None and (progress.stored or progress.duplicates or progress.refused):
            seconds = time.monotonic() - progress.started
            extra = f", {progress.duplicates} already there" if progress.duplicates else ""
            extra += f", {progress.refused} refused (spool full)" if progress.refused else ""
            self.say(f"{progress.peer}: {progress.stored} instances in {seconds:.1f} s{extra}")

    def _store(self, event) -> int:
        progress = self.associations.get(id(event.assoc))
        try:
            dataset = event.dataset
            study = dataset.get("StudyInstanceUID")
            series = dataset.get("SeriesInstanceUID")
            sop = event.request.AffectedSOPInstanceUID or dataset.get("SOPInstanceUID")
            data = event.encoded_dataset(include_meta=True)
        except Exception:  # noqa: BLE001 - a dataset pydicom cannot decode is refused, the association goes on
            return CANNOT_UNDERSTAND
        try:
            result = self.node.store(id(event.assoc), study, series, sop, data)
        except SpoolFull as full:
            if progress is not None:
                progress.refused += 1
            self.say(f"store refused: {full}")
            return OUT_OF_RESOURCES
        except OSError as error:
            self.say(f"store failed: {error}")
            return OUT_OF_RESOURCES
        if progress is not None:
            if result.new:
                progress.stored += 1
            else:
                progress.duplicates += 1
        return 0x0000

    # -- life cycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        from pynetdicom import evt

        handlers = [
            (evt.EVT_REQUESTED, self._requested),
            (evt.EVT_C_STORE, self._store),
            (evt.EVT_C_ECHO, lambda event: 0x0000),
            (evt.EVT_RELEASED, self._ended),
            (evt.EVT_ABORTED, self._ended),
            (evt.EVT_CONN_CLOSE, self._ended),
        ]
        self._server = _ae(self.ae_title).start_server((self.bind, self.port), block=False, evt_handlers=handlers)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def _dicom_ids(data: bytes) -> tuple[str, str, str] | None:
    """(study, series, SOP instance) UIDs of a DICOM file's bytes, or None when it is not DICOM."""
    import pydicom

    try:
        ds = pydicom.dcmread(
            io.BytesIO(data),
            stop_before_pixels=True,
            specific_tags=["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"],
        )
    except Exception:  # noqa: BLE001 - not DICOM: the watcher skips it and counts it
        return None
    ids = (ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SOPInstanceUID"))
    return None if not all(ids) else (str(ids[0]), str(ids[1]), str(ids[2]))


class Watcher:
    """`listen --watch DIR`: the same spool and study completion for consoles that export to a shared folder.

    A file is taken once its size and modification time have not changed between two looks (a console still
    writing it is left for the next look); it is copied into the spool (never moved: the share is the console's)
    and never read again unless it changes. Only regular files inside DIR are read (no symbolic link is followed).
    """

    MAX_FILE = 2 * 1024**3

    def __init__(self, node: Node, folder: Path, say: Callable[[str], None] = print):
        self.node, self.folder, self.say = node, Path(folder), say
        self.seen: dict[Path, tuple[int, int]] = {}
        self.pending: dict[Path, tuple[int, int]] = {}
        self.skipped = 0
        self.sender = id(self)

    def look(self) -> int:
        """One pass over the folder; returns how many instances it took."""
        taken = 0
        for path in sorted(self.folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            stamp = (stat.st_size, stat.st_mtime_ns)
            if self.seen.get(path) == stamp:
                continue
            if self.pending.get(path) != stamp:
                self.pending[path] = stamp  # look again next time: it may still be being written
                continue
            del self.pending[path]
            self.seen[path] = stamp
            if stat.st_size > self.MAX_FILE:
                self.skipped += 1
                continue
            data = path.read_bytes()
            ids = _dicom_ids(data)
            if ids is None:
                self.skipped += 1
                continue
            try:
                if self.node.store(self.sender, *ids, data).new:
                    taken += 1
            except SpoolFull as full:
                self.say(f"{path.name}: not taken ({full})")
        return taken
