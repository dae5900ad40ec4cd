"""A .zip, .tar or .tar.gz of an exam, read in memory: members are never extracted, names checked, sizes capped.

PACS and CD exports arrive zipped, XNAT and PACS downloads and public DICOM sets tarred. Writing them out to
read them would mean a user's archive decides where files land (`../`, absolute names, links); here a member is
only ever bytes in memory. Each member is checked against the caps before it is inflated, and the inflated length
is counted, not taken from the (forgeable) header: a decompression bomb stops at the `inflate_bytes` limit (a zip
member) or `inflate_archive` (a whole .tar.gz) (ofsep_presets.limits).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .. import limits
from ..acquisition import ReadError
from ..textsafe import shortened

ZIP_MAGIC = b"PK\x03\x04"
MAX_NAME = 4096  # characters of a member's name: a path no file system holds (Linux PATH_MAX) is no exam's file
MAX_RATIO = 200  # inflated / stored: DICOM headers and images compress far less than this; bombs far more
# A .tar.gz is held inflated, within limit `inflate_archive` (a real exam's size, GiB): past this many bytes
# inflated, a stream inflating more than MAX_RATIO times the bytes read of it is a bomb, refused before the bound
# (a 2 MB gzip of zeros would otherwise cost 2 GiB of memory). A real exam's .tar.gz inflates about 3 times.
RATIO_AFTER = 64 * limits.MiB


def _quoted(name: str) -> str:
    """A member's name as a warning quotes it: cut (a tar's GNU or pax name may be megabytes of hostile text)."""
    return repr(shortened(name))


def is_zip(head: bytes) -> bool:
    return head[:4] == ZIP_MAGIC


class _InArchive:
    """The few path-like manners the readers use of a file (`open`, `name`, `stem`), for a member of an archive:
    `member` is its name inside, `read_bytes()` its bytes."""

    member: str

    @property
    def name(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def stem(self) -> str:
        return PurePosixPath(self.member).stem

    def open(self, mode: str = "rb") -> io.BytesIO:
        return io.BytesIO(self.read_bytes())

    def read_bytes(self, limit: int | None = None) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True)
class Member(_InArchive):
    """One file inside a zip, with the few path-like manners the readers use (`open`, `name`, `stem`)."""

    archive: str
    member: str
    index: int = -1  # position in the central directory: the entry that was checked is the one read
    offset: int = -1  # a truncated zip's entry, found by its local header at this offset (no central directory)

    def read_bytes(self, limit: int | None = None) -> bytes:
        limit = limits.get("inflate_bytes") if limit is None else limit
        if self.offset >= 0:
            return _local_data(self.archive, self.offset, limit, self)
        with _open_archive(self.archive).open(self._info()) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise limits.refusal("inflate_bytes", self)
        return data

    def _info(self) -> zipfile.ZipInfo | str:
        """The entry itself, not its name: a zip may hold two entries of one name (the ratio check read one,
        zipfile's by-name lookup would open the last)."""
        if self.index < 0:
            return self.member
        return _open_archive(self.archive).infolist()[self.index]

    def __str__(self) -> str:
        return f"{self.archive}:{self.member}"


@lru_cache(maxsize=4)
def _open_archive(path: str) -> zipfile.ZipFile:
    """One open ZipFile per archive and process: re-reading the central directory per member would be O(n²)."""
    return zipfile.ZipFile(path)


def _refusal(info: zipfile.ZipInfo) -> str | None:
    """Why a member is not read, or None when it is safe to inflate."""
    name = PurePosixPath(info.filename)
    if not info.filename:
        return "no name"  # a damaged local header (zipfile's is_dir() would fail on it)
    if info.is_dir():
        return "folder"
    if len(info.filename) > MAX_NAME:
        return "unsafe name"
    if name.is_absolute() or ".." in name.parts or "\\" in info.filename or ":" in info.filename:
        return "unsafe name"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "link"
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.file_size > limits.get("inflate_bytes"):
        return "larger than the cap"
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        return "compression ratio of a decompression bomb"
    return None


LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # PK\3\4, version, flags, method, time, date, crc, sizes, lengths


def _local_entries(path: Path, problem: str) -> tuple[list[Member], list[str]]:
    """A zip cut short (its central directory, at the end, lost): the entries found by walking the local file
    headers from the start. Each deflated entry is inflated to its stream's own end (under the same caps) and
    one cut inside its data is left out; the zip's central-directory checks (links, duplicates) cannot be made,
    and names are checked as ever. What could be read is said to come from an incomplete .zip."""
    data = limits.read_file(path)
    found: list[Member] = []
    refused: dict[str, list[str]] = {}
    cut: list[str] = []
    at = 0
    while at + LOCAL_HEADER.size <= len(data) and data[at : at + 4] == ZIP_MAGIC:
        _, _, flags, method, _, _, _, stored, _, name_len, extra_len = LOCAL_HEADER.unpack_from(data, at)
        start = at + LOCAL_HEADER.size + name_len + extra_len
        name = data[at + LOCAL_HEADER.size : at + LOCAL_HEADER.size + name_len].decode("utf-8", "replace")
        limits.check("members", len(found) + 1, path)
        end = _entry_end(data, start, method, stored, flags)
        info = zipfile.ZipInfo(name)
        info.flag_bits = flags
        reason = "encrypted" if flags & 0x1 else _refusal(info)
        if method not in (0, 8):
            reason = "compression method not read"
        if reason and reason != "folder":
            refused.setdefault(reason, []).append(name)
        elif not reason and not PurePosixPath(name).name.startswith("._"):
            found.append(Member(str(path), name, offset=at))
        if end is None:  # the file ends inside this entry: what it holds up to the break is read, as far as it goes
            if not reason:
                cut.append(name)
            break
        at = end + (16 if flags & 0x8 and data[end : end + 4] == b"PK\x07\x08" else 12 if flags & 0x8 else 0)
    warnings = [f"{path}: not a complete .zip ({problem}): {len(found)} member(s) found by their local headers"]
    warnings += [
        f"{path}: member {_quoted(name)} cut short by the end of the file: read as far as it goes" for name in cut
    ]
    warnings += [f"{path}: {len(n)} member(s) not read ({why}), e.g. {_quoted(n[0])}" for why, n in refused.items()]
    return found, warnings


def _entry_end(data: bytes, start: int, method: int, stored: int, flags: int) -> int | None:
    """Where an entry's data ends, or None when the file ends inside it."""
    if not flags & 0x8:  # sizes in the local header
        return start + stored if start + stored <= len(data) else None
    if method != 8:
        return None  # stored with a data descriptor: its end cannot be told
    inflater = zlib.decompressobj(-15)
    budget = limits.get("inflate_bytes")
    position = start
    while not inflater.eof:
        if position >= len(data):
            return None
        chunk = data[position : position + 65536]
        position += len(chunk)
        budget -= len(inflater.decompress(chunk, 65536 * MAX_RATIO))
        while inflater.unconsumed_tail and not inflater.eof:
            budget -= len(inflater.decompress(inflater.unconsumed_tail, 65536 * MAX_RATIO))
        if budget < 0:
            return None
    return position - len(inflater.unused_data)


def _local_data(archive_path: str, offset: int, limit: int, member: object) -> bytes:
    """One entry of a truncated zip, by its local header, inflated under `limit` and the bomb ratio."""
    with open(archive_path, "rb") as handle:
        handle.seek(offset)
        header = handle.read(LOCAL_HEADER.size)
        _, _, flags, method, _, _, _, stored, _, name_len, extra_len = LOCAL_HEADER.unpack(header)
        handle.seek(offset + LOCAL_HEADER.size + name_len + extra_len)
        raw = handle.read(stored if not flags & 0x8 else limits.get("read_bytes"))
    if method == 0:
        if len(raw) > limit:
            raise limits.refusal("inflate_bytes", member)
        return raw
    inflater = zlib.decompressobj(-15)
    data = inflater.decompress(raw, limit + 1)
    if len(data) > limit:
        raise limits.refusal("inflate_bytes", member)
    if raw and len(data) / max(1, len(raw) - len(inflater.unused_data)) > MAX_RATIO:
        raise ReadError(f"{member}: compression ratio of a decompression bomb; not read")
    return data


def members(path: Path) -> tuple[list[Member], list[str]]:
    """The safe members of a zip, and one warning per kind of member refused."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        found, warnings = _local_entries(path, str(exc))
        if not found:
            raise ReadError(f"{path}: not a readable .zip ({exc}; no whole member before the break)") from None
        return found, warnings
    except OSError as exc:
        raise ReadError(f"{path}: not a readable .zip ({exc})") from None
    with archive:
        infos = archive.infolist()
    limits.check("members", len(infos), path)
    safe: list[Member] = []
    refused: dict[str, list[str]] = {}
    names: set[str] = set()
    for index, info in enumerate(infos):
        reason = _refusal(info)
        if reason is None and info.filename in names:
            reason = "a second entry of the same name"
        names.add(info.filename)
        if reason == "folder" or PurePosixPath(info.filename).name.startswith("._"):
            continue
        if reason:
            refused.setdefault(reason, []).append(info.filename)
        else:
            safe.append(Member(str(path), info.filename, index))
    if not safe and "encrypted" in refused:  # say why nothing can be read, not "no DICOM file inside"
        raise ReadError(f"{path}: encrypted zip: cannot be read, export without a password")
    warnings = [
        f"{path}: {len(names)} member(s) not read ({reason}), e.g. {_quoted(names[0])}"
        for reason, names in refused.items()
    ]
    return safe, warnings


# --- tar and tar.gz -----------------------------------------------------------------------------------------------
# PACS and XNAT downloads, OpenNeuro and the dcm_qa repositories ship DICOM as .tar / .tar.gz. Read as a zip is:
# in memory, never extracted. A plain tar's members are read from the file at their offsets (an exam of any size,
# one member at a time); a gzipped tar (a gzip stream has no index to seek by) is inflated once into one buffer in
# memory, counted while it inflates against limit `inflate_archive`, its own bound for a whole archive (a real exam
# is past the per-member `inflate_bytes`; a gzip bomb stops at the bound), then read as a plain tar from that buffer.

TAR_MAGIC = b"ustar"  # at offset 257 of a POSIX (ustar, pax) or GNU tar header
GZIP_MAGIC = b"\x1f\x8b"
_GZIP_PROBE = 65536  # compressed bytes inflated to see whether a gzip stream opens with a tar header


def is_tar(head: bytes) -> bool:
    """Whether `head` opens with a tar header ("ustar" at offset 257; a DICOM file's "DICM" at 128 never is)."""
    return len(head) > 262 and head[257:262] == TAR_MAGIC and head[128:132] != b"DICM"


def tar_kind(path: Path | str, head: bytes | None = None) -> str | None:
    """Whether a file is a "tar" or a "tar.gz", by content (a tar header first, or a gzip stream whose first 512
    inflated bytes are one); None for anything else: the name is never asked."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_GZIP_PROBE) if head is None or head[:2] == GZIP_MAGIC else head
    except OSError:
        return None
    if is_tar(head):
        return "tar"
    if head[:2] != GZIP_MAGIC:
        return None
    try:
        first = zlib.decompressobj(wbits=31).decompress(head, 512)
    except zlib.error:
        return None
    return "tar.gz" if is_tar(first) else None


def tar_refusal(info: tarfile.TarInfo, cap: int) -> str | None:
    """Why a tar member is not read ("folder" and AppleDouble `._*` are passed over without a word), or None when
    it is a regular file with a safe relative name within `cap` bytes. Shared by every reader of a tar."""
    name = PurePosixPath(info.name)
    if info.isdir():
        return "folder"
    if not info.name:
        return "no name"
    if name.name.startswith("._"):
        return "AppleDouble"
    if name.is_absolute() or ".." in name.parts or len(info.name) > MAX_NAME:
        return "unsafe name"
    if info.issym() or info.islnk():
        return "link"
    if info.ischr() or info.isblk() or info.isfifo():
        return "device or FIFO"
    if not info.isreg():
        return "not a regular file"
    if info.issparse():
        return "sparse"
    if info.size > cap:
        return "larger than the cap"
    return None


SILENT = ("folder", "AppleDouble")  # members that are part of any tar, not inputs left unread


class _CappedReads:
    """A file object whose every read is refused past limit `read_bytes`: tarfile reads a pax or GNU long-name
    header's data whole (`fileobj.read(size)` with the size the header states); a 10 GB "header" is refused,
    not read into memory. Seeks (how tarfile passes over members' data) pass through."""

    def __init__(self, raw, where: object):
        self._raw, self._where, self._cap = raw, where, limits.get("read_bytes")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self._cap:
            raise limits.refusal("read_bytes", self._where)
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


class TarWalk:
    """The members of an open tar, each checked by `tar_refusal` and counted against limit `members`; iterating
    gives the safe ones. What was refused (per reason) and where a cut-short tar ended are kept, for the reader to
    say. A tar cut short ends the walk (tarfile raises at the broken header): the members before it stand."""

    def __init__(self, archive: tarfile.TarFile, where: object, cap: int):
        self.archive, self.where, self.cap = archive, where, cap
        self.refused: dict[str, list[str]] = {}
        self.cut: str | None = None

    def __iter__(self) -> Iterator[tarfile.TarInfo]:
        count = 0
        members = iter(self.archive)
        while True:
            try:
                info = next(members)
            except StopIteration:
                return
            except tarfile.TarError as exc:
                self.cut = str(exc)
                return
            count += 1
            limits.check("members", count, self.where)
            reason = tar_refusal(info, self.cap)
            if reason is None:
                yield info
            elif reason not in SILENT:
                self.refused.setdefault(reason, []).append(info.name)

    def warnings(self, where: object) -> list[str]:
        return [
            f"{where}: {len(n)} member(s) not read ({why}), e.g. {_quoted(n[0])}" for why, n in self.refused.items()
        ]


def open_tar(raw, where: object) -> tarfile.TarFile:
    """A plain tar ("r:": never inflated behind the caller's back) over `raw`, every read of it bounded."""
    return tarfile.open(fileobj=_CappedReads(raw, where), mode="r:")


@dataclass(frozen=True)
class TarMember(_InArchive):
    """One regular file inside a tar: its data's offset and size in the (inflated) tar, read on demand. Pickled
    as these few fields: a worker process re-reads the member from the archive (a gzipped one inflated again,
    once per process, under the same cap)."""

    archive: str
    member: str
    offset: int
    size: int
    gzipped: bool = False

    def open(self, mode: str = "rb") -> io.BufferedReader | io.BytesIO:
        """The member as a file: a plain tar's is a window onto the tar on disk (a header scan reads its first
        bytes, not the whole member: a 20,000-file tar is read like its folder), a gzipped one's its bytes."""
        if self.gzipped:
            return io.BytesIO(self.read_bytes())
        return io.BufferedReader(_Window(self.archive, self.offset, self.size, str(self)))

    def read_bytes(self, limit: int | None = None) -> bytes:
        limit = limits.get("read_bytes") if limit is None else limit
        if self.size > limit:
            raise limits.refusal("read_bytes", self)
        return self.head(self.size)

    def head(self, size: int) -> bytes:
        size = min(size, self.size)
        if self.gzipped:
            data = bytes(_inflated(self.archive)[self.offset : self.offset + size])  # the member's bytes only
        else:
            with open(self.archive, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(size)
        if len(data) < size:
            raise ReadError(f"{self}: cut short by the end of the tar ({len(data)} of {self.size} bytes)")
        return data

    def __str__(self) -> str:
        return f"{self.archive}:{self.member}"


class _Window(io.RawIOBase):
    """Bytes `offset` to `offset + size` of a file, read on demand and never past the end of the window."""

    def __init__(self, path: str, offset: int, size: int, name: str):
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the window
        self._start, self._size, self._at = offset, size, 0
        self.name = name  # what pydicom names the file by

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self._size - self._at)
        if count <= 0:
            return 0
        self._file.seek(self._start + self._at)
        data = self._file.read(count)
        buffer[: len(data)] = data
        self._at += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._at, 2: self._size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def tell(self) -> int:
        return self._at

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def _inflated(path: str) -> memoryview:
    """A gzip file's inflated bytes (every member of a concatenated gzip), cached per file and process: a read-only
    view of the one buffer they were inflated into (slices of it are views, not copies)."""
    status = os.stat(path)
    return _inflate_cached(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=1)
def _inflate_cached(path: str, mtime_ns: int, size: int) -> memoryview:
    """Inflated in chunks into one growing buffer, never past limit `inflate_archive` plus one byte: the count is
    of bytes inflated, not the size a header states, so a bomb stops while it inflates (and, past RATIO_AFTER, at a
    bomb's compression ratio, long before the bound). The buffer is never copied
    (the whole-archive bound is large, a real exam's size: a second copy would double it). Trailing bytes after
    the last gzip member are left; a stream cut short gives what it holds (the tar walk then says where it ends);
    a damaged one is refused."""
    cap = limits.get("inflate_archive")
    out = bytearray()
    inflater = zlib.decompressobj(wbits=31)
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            while chunk:
                try:
                    out += inflater.decompress(chunk, min(1 << 22, cap + 1 - len(out)))
                except zlib.error as exc:
                    if not out:
                        raise ReadError(f"{path}: not a readable .tar.gz ({exc})") from None
                    return memoryview(out).toreadonly()  # damaged after a start: what came before it is walked
                if len(out) > cap:
                    raise limits.refusal("inflate_archive", path)
                if len(out) > RATIO_AFTER and len(out) > MAX_RATIO * handle.tell():
                    raise ReadError(f"{path}: compression ratio of a decompression bomb; not read")
                if inflater.eof:
                    chunk = inflater.unused_data
                    if chunk[:2] != GZIP_MAGIC:
                        return memoryview(out).toreadonly()
                    inflater = zlib.decompressobj(wbits=31)  # the next member of a concatenated gzip
                else:
                    chunk = inflater.unconsumed_tail
    return memoryview(out).toreadonly()


class _Buffer:
    """A read-only file over a buffer, without copying it (io.BytesIO copies any buffer but a bytes object): what
    tarfile walks a gzipped tar's inflated bytes through. Each read gives a copy of the bytes asked for only."""

    def __init__(self, view: memoryview):
        self._view, self._at = view, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._at + size)
        data = bytes(self._view[self._at : end])
        self._at = max(self._at, end)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._at, 2: len(self._view)}[whence]
        self._at = max(0, base + offset)
        return self._at

    def tell(self) -> int:
        return self._at

    def __enter__(self) -> _Buffer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def tar_members(path: Path) -> tuple[list[TarMember], list[str]]:
    """The safe members of a .tar or .tar.gz (by content), and one warning per kind of member refused."""
    gzipped = tar_kind(path) == "tar.gz"
    names: set[str] = set()
    safe: list[TarMember] = []
    try:
        raw = _Buffer(_inflated(str(path))) if gzipped else open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ReadError(f"{path}: not a readable tar ({exc.strerror or exc})") from None
    with raw:
        end = raw.seek(0, 2)
        raw.seek(0)
        try:
            archive = open_tar(raw, path)
        except tarfile.TarError as exc:
            raise ReadError(f"{path}: not a readable tar ({exc})") from None
        walk = TarWalk(archive, path, limits.get("read_bytes"))
        for info in walk:
            key = str(PurePosixPath(info.name))  # "./exam/a.dcm" and "exam/a.dcm" are one file
            if info.offset_data + info.size > end:
                walk.cut = f"member {_quoted(info.name)} cut short by the end of the file"
                break
            if key in names:
                walk.refused.setdefault("a second entry of the same name", []).append(info.name)
                continue
            names.add(key)
            safe.append(TarMember(str(path), info.name, info.offset_data, info.size, gzipped))
        if walk.cut is None:
            # tarfile ends its walk without a word at a damaged header past the first: the next block is looked at
            raw.seek(archive.offset)
            if raw.read(512).strip(b"\0"):
                walk.cut = f"bytes that are not a tar header at offset {archive.offset:,}"
    warnings = walk.warnings(path)
    if walk.cut:
        warnings.insert(0, f"{path}: not a complete tar ({walk.cut}): the {len(safe)} member(s) before it read")
    return safe, warnings


def archive_kind(path: Path | str) -> str | None:
    """ "zip", "tar" or "tar.gz" when a file is one by content (a few bytes read; a gzip stream probed), else None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    if is_zip(head):
        return "zip"
    if is_tar(head):
        return "tar"
    if head[:2] != GZIP_MAGIC:
        return None
    try:  # a .dcm.gz is no tar: told from its first 4 KB, mostly (tar_kind probes further when they do not tell)
        first = zlib.decompressobj(wbits=31).decompress(head, 512)
    except zlib.error:
        return None
    return ("tar.gz" if is_tar(first) else None) if len(first) == 512 else tar_kind(path)


def member_names(path: Path | str) -> list[str]:
    """Every member's name in a .zip, .tar or .tar.gz, read or refused (links, unsafe names...), for the shareable
    redactor: a report quotes them (provenance, "e.g." in refusals) and PACS exports name them after the patient
    and the SOP Instance UID. Names only: no member is read; the walk is bounded as the readers' are (limit
    `members`, every tar header read capped) and stops quietly where the archive does not read further."""
    kind = archive_kind(path)
    names: list[str] = []
    cap = limits.get("members")
    try:
        if kind == "zip":
            try:
                with zipfile.ZipFile(path) as opened:
                    return opened.namelist()[:cap]
            except zipfile.BadZipFile:
                return _local_names(limits.read_file(path), cap)
        if kind in ("tar", "tar.gz"):
            raw = _Buffer(_inflated(str(path))) if kind == "tar.gz" else open(path, "rb")  # noqa: SIM115
            with raw:
                walk = iter(open_tar(raw, path))
                while len(names) < cap:
                    names.append(next(walk).name)
    except (StopIteration, OSError, tarfile.TarError, ReadError, EOFError, zlib.error):
        pass
    return names


def _local_names(data: bytes, cap: int) -> list[str]:
    """The names in a zip's local file headers (a zip whose central directory is lost), in order."""
    names: list[str] = []
    at = 0
    while at + LOCAL_HEADER.size <= len(data) and data[at : at + 4] == ZIP_MAGIC and len(names) < cap:
        _, _, flags, method, _, _, _, stored, _, name_len, extra_len = LOCAL_HEADER.unpack_from(data, at)
        names.append(data[at + LOCAL_HEADER.size : at + LOCAL_HEADER.size + name_len].decode("utf-8", "replace"))
        end = _entry_end(data, at + LOCAL_HEADER.size + name_len + extra_len, method, stored, flags)
        if end is None:
            break
        at = end + (16 if flags & 0x8 and data[end : end + 4] == b"PK\x07\x08" else 12 if flags & 0x8 else 0)
    return names


def head(member: Member | TarMember, size: int) -> bytes:
    if isinstance(member, TarMember):
        return member.head(size)
    if member.offset >= 0:
        return member.read_bytes()[:size]
    with _open_archive(member.archive).open(member._info()) as handle:
        return handle.read(size)
