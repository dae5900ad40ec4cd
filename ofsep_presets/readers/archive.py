"""A .zip of an exam, read in memory: members are never extracted, names are checked, sizes are capped.

PACS and CD exports arrive zipped. Writing them out to read them would mean a user's archive decides where
files land (`../`, absolute names, links); here a member is only ever bytes in memory. Each member is checked
against the caps before it is inflated, and the inflated length is counted, not taken from the (forgeable)
header: a decompression bomb stops at the `inflate_bytes` limit (ofsep_presets.limits).
"""

from __future__ import annotations

import io
import stat
import zipfile
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


def members(path: Path) -> tuple[list[Member], list[str]]:
    """The safe members of a zip, and one warning per kind of member refused."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
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
    with _open_archive(member.archive).open(member._info()) as handle:
        return handle.read(size)
