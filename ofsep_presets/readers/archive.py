"""A .zip of an exam, read in memory: members are never extracted, names are checked, sizes are capped.

PACS and CD exports arrive zipped. Writing them out to read them would mean a user's archive decides where
files land (`../`, absolute names, links); here a member is only ever bytes in memory. Each member is checked
against the caps before it is inflated, and the inflated length is counted, not taken from the (forgeable)
header: a decompression bomb stops at `MAX_MEMBER`.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..acquisition import ReadError

ZIP_MAGIC = b"PK\x03\x04"
MAX_MEMBER = 512 * 1024 * 1024  # bytes inflated from one member, at most (one DICOM file is far smaller)
MAX_MEMBERS = 200_000
MAX_RATIO = 200  # inflated / stored: DICOM headers and images compress far less than this; bombs far more


def is_zip(head: bytes) -> bool:
    return head[:4] == ZIP_MAGIC


@dataclass(frozen=True)
class Member:
    """One file inside a zip, with the few path-like manners the readers use (`open`, `name`, `stem`)."""

    archive: str
    member: str

    @property
    def name(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def stem(self) -> str:
        return PurePosixPath(self.member).stem

    def open(self, mode: str = "rb") -> io.BytesIO:
        return io.BytesIO(self.read_bytes())

    def read_bytes(self, limit: int = MAX_MEMBER) -> bytes:
        archive = _open_archive(self.archive)
        with archive.open(self.member) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ReadError(f"{self}: inflates past {limit / 2**20:g} MiB (the cap); refused")
        return data

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
    if info.file_size > MAX_MEMBER:
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
    if len(infos) > MAX_MEMBERS:
        raise ReadError(f"{path}: more than {MAX_MEMBERS} members; refused")
    safe: list[Member] = []
    refused: dict[str, list[str]] = {}
    for info in infos:
        reason = _refusal(info)
        if reason == "folder" or PurePosixPath(info.filename).name.startswith("._"):
            continue
        if reason:
            refused.setdefault(reason, []).append(info.filename)
        else:
            safe.append(Member(str(path), info.filename))
    if not safe and "encrypted" in refused:  # say why nothing can be read, not "no DICOM file inside"
        raise ReadError(f"{path}: encrypted zip: cannot be read, export without a password")
    warnings = [
        f"{path}: {len(names)} member(s) not read ({reason}), e.g. {names[0]!r}" for reason, names in refused.items()
    ]
    return safe, warnings


def head(member: Member, size: int) -> bytes:
    archive = _open_archive(member.archive)
    with archive.open(member.member) as handle:
        return handle.read(size)
