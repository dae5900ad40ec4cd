"""A .zip of an exam, read in memory: members are never extracted, names are checked, sizes are capped.

PACS and CD exports arrive zipped. Writing them out to read them would mean a user's archive decides where
files land (`../`, absolute names, links); here a member is only ever bytes in memory. Each member is checked
against the caps before it is inflated, and the inflated length is counted, not taken from the (forgeable)
header: a decompression bomb stops at the `inflate_bytes` limit (ofsep_presets.limits).
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .. import limits
from ..acquisition import ReadError

ZIP_MAGIC = b"PK\x03\x04"
MAX_RATIO = 200  # inflated / stored: DICOM headers and images compress far less than this; bombs far more


def is_zip(head: bytes) -> bool:
    return head[:4] == ZIP_MAGIC


@dataclass(frozen=True)
class Member:
    """One file inside a zip, with the few path-like manners the readers use (`open`, `name`, `stem`)."""

    archive: str
    member: str
    index: int = -1  # position in the central directory: the entry that was checked is the one read
    offset: int = -1  # a truncated zip's entry, found by its local header at this offset (no central directory)

    @property
    def name(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def stem(self) -> str:
        return PurePosixPath(self.member).stem

    def open(self, mode: str = "rb") -> io.BytesIO:
        return io.BytesIO(self.read_bytes())

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
    warnings += [f"{path}: member {name!r} cut short by the end of the file: read as far as it goes" for name in cut]
    warnings += [f"{path}: {len(n)} member(s) not read ({why}), e.g. {n[0]!r}" for why, n in refused.items()]
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
        f"{path}: {len(names)} member(s) not read ({reason}), e.g. {names[0]!r}" for reason, names in refused.items()
    ]
    return safe, warnings


def head(member: Member, size: int) -> bytes:
    if member.offset >= 0:
        return member.read_bytes()[:size]
    with _open_archive(member.archive).open(member._info()) as handle:
        return handle.read(size)
