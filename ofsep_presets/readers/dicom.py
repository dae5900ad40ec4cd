"""DICOM dummy runs: single files, folders (mixed with anything), classic and enhanced multi-frame.

Pixel data is never read. Every file is read for a few grouping tags; one representative file per series is
read in full (without pixels) for the acquisition parameters; b-values, gradient directions and image types are
collected from every file of the series. Standard tags come first; Siemens CSA/ASCCONV fills what they leave
unsaid. gzip-wrapped files (as some public test sets store them) are opened in memory under a size cap.
Patient tags are never copied into an acquisition.
"""

from __future__ import annotations

import gc
import gzip
import io
import math
import os
import re
import struct
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .. import ascconv, csa, limits
from ..acquisition import (
    Acquisition,
    Inspection,
    ReadError,
    direction_label,
    manufacturer,
    plane_from_iop,
    plane_of_normal,
    scanner_from,
    slice_normal,
)
from ..bshells import nominal_shells
from ..echoes import join_echo_series
from ..families import set_family
from . import dicom_private, dicom_scan, dicom_terms, ge_dicom_protocol
from .archive import Member
from .dicom_private import canonical_tag


def Tag(group: int, element: int) -> int:  # noqa: N802 - pydicom's name, kept so the tag tables read as DICOM
    """A DICOM tag as the int pydicom uses (same value, hash and comparison as pydicom.tag.Tag), without
    importing pydicom (numpy and its pixel handlers: about a second) for a `check` of one protocol export."""
    return (group << 16) | element


FORMAT = "dicom"
GZIP_MAGIC = b"\x1f\x8b"
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
MR_IMAGE_STORAGE = {"1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.4.4"}
ENHANCED = {"1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.4.4"}  # per-frame groups sit past the stop

# The scan of every file stops at this group: every vendor's grouping, ordering and diffusion tags are below it
# (standard (0018,9087/9089), Siemens (0019,100C/E), GE (0019,10BB-BD); GE and Philips also write the standard
# b-value). CSA headers (0029) and Philips' private groups (2001, 2005) are skipped: most of a header's cost.
SCAN_LIMIT = 0x00210000
PIXEL_DATA = 0x7FE00010
PARALLEL_FROM = 400  # files; below this a process pool costs more than it saves
CHUNK = 256  # files per task sent to a worker
ECHO_TIME = 0x00180081
ORIENTATION = 0x00200037  # ImageOrientationPatient: a series whose images lie in several planes (a scout)
ECHO_NUMBERS = 0x00180086  # EchoNumbers: a series holding only a later echo is one echo of an acquisition
# Private elements are keyed by their tag in block 0x10 (dicom_private.canonical_tag) once their creator is checked.
GE_BVALUE = canonical_tag("ge_bvalue")  # slop_int_6: b-value (+1e9 flag on some versions); all a GE b0 states
# A walk to (0043,1039) when GEMS_PARM_01 is at (0043,0010) (the tests compare plan and plain walks with it); the
# scan's walk-on finds the block from the creators first (_walk_on).
GE_LIMIT = 0x00431040
GE_TAGS = frozenset({GE_BVALUE})
# United Imaging (UIH) states each image's b-value and gradient only in private FD elements (dcm2niix's UIH/README.md,
# from UIH: (0065,1009) "BActualValue", (0065,1037) "MRDiffusionGradOrientation"; dcm2niix reads its b-values there):
# a UIH header is walked on to them when the standard b-value is absent.
UIH_BVALUE, UIH_DIRECTION = canonical_tag("uih_bvalue"), canonical_tag("uih_gradient")  # creator "Image Private Header"
UIH_MAKERS = (b"UIH", b"UNITED IMAGING")
# The makers whose images may state their b-value (and gradient) only in a private group past the scan's stop, and
# those elements (dicom_private.PRIVATE names: b-value first, then the gradient if any): a file of theirs without
# the standard b-value is walked (fast scan) or read (pydicom scan) on to them. A GE b0 states its b-value only in
# (0043,xx39) (the SIGNA Pioneer DTI fixture: the two b0 files have no (0018,9087), the b=1000 ones have both).
WALK_ON = {"ge": ("ge_bvalue",), "uih": ("uih_bvalue", "uih_gradient")}
# Canon (Toshiba) classic DWI images state their gradient only in ImageComments, "b=1500(0.895,0.000,0.445)" (the
# Galan 3T V6.0 fixture; dcm2niix parses the same text); read for a Canon image with a b-value and no direction.
IMAGE_COMMENTS = 0x00204000
CANON_TAGS = frozenset({IMAGE_COMMENTS})
_CANON_GRADIENT = re.compile(r"b\s*=\s*[0-9.]+\s*\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)")
CHARSET = 0x00080005
# Character sets the fast path reads past (single values, ASCII-compatible, as pydicom's table names them):
# any other value (a NUL inside, an unknown or bytes-to-bytes codec name, code extensions) is pydicom's to read,
# which may refuse the file (a NUL inside "ISO_IR 100" makes Python's codec lookup raise).
CHARSETS = {b"", b"GB18030", b"GBK"} | {
    b"ISO_IR %d" % n for n in (6, 100, 101, 109, 110, 126, 127, 138, 144, 148, 166, 192)
}
FAST_TAGS = frozenset(
    {
        0x00020002,
        CHARSET,
        ECHO_TIME,
        ORIENTATION,
        ECHO_NUMBERS,
        0x00080016,
        0x00080008,
        0x00080070,
        0x0020000E,
        0x00200013,
        0x00189087,
        0x00189089,
        0x0019100C,
        0x0019100E,
        0x001910BB,
        0x001910BC,
        0x001910BD,
    }
)
# The private elements of the scan, below its stop: found in whichever block their creator took (PS3.5 7.8.1), so
# the walk collects each in every block and the creators of group 0x0019, and keeps those of the right creator.
FAST_PRIVATE = ("siemens_bvalue", "siemens_gradient", "ge_gradient_x", "ge_gradient_y", "ge_gradient_z")
# The private elements the scan uses, by the vendor whose files it reads them in (the others' are never read).
FAST_BY_VENDOR = {"siemens": ("siemens_bvalue", "siemens_gradient"), "ge": FAST_PRIVATE[2:]}
FAST_TAGS = FAST_TAGS | dicom_private.fast_tags_of(FAST_PRIVATE)
PREFIX = 64 * 1024  # bytes the scan reads at most; group 0x0021 starts well within it in real headers
GZIP_READ = 1024 * 1024  # compressed bytes read at most for the fast walk of a gzip-wrapped file
HEAD = 16 * 1024  # bytes read first: a whole real header up to group 0x0021 (and GE's to 0x0043) fits
FAST = True  # the fast header walk (dicom_scan); False reads every file with pydicom (the tests compare both)
SCAN_TAGS = {
    Tag(*t)
    for t in (
        (0x0008, 0x0016),
        (0x0008, 0x0008),
        (0x0008, 0x0070),
        (0x0020, 0x000E),
        (0x0020, 0x0013),
        (0x0018, 0x0081),
        (0x0020, 0x0037),
        (0x0018, 0x0086),
        (0x0018, 0x9087),
        (0x0018, 0x9089),
        (0x0019, 0x100C),
        (0x0019, 0x100E),
        (0x0019, 0x10BB),
        (0x0019, 0x10BC),
        (0x0019, 0x10BD),
        (0x0020, 0x4000),  # ImageComments: a Canon classic DWI's gradient
    )
} | set(dicom_private.tags_of(FAST_PRIVATE))  # a set: pydicom tests every element's tag for membership


def sniff(path: Path, head: bytes) -> bool:
    if head[128:132] == b"DICM":
        return True
    if bare_dataset(head):
        return True
    if head[:2] == GZIP_MAGIC:
        try:
            with path.open("rb") as raw, gzip.open(raw, "rb") as handle:
                return handle.read(132)[128:132] == b"DICM"
        except (OSError, EOFError, ReadError):
            return False
    return False


BARE_PROBE = 6  # elements of a bare data set's start checked before it is taken for DICOM


def bare_dataset(head: bytes) -> bool:
    """Whether `head` opens a DICOM data set stored bare: without the 128-byte preamble, the "DICM" prefix and
    the file meta group that PS3.10 7.1 puts before it in a DICOM File. ACR-NEMA-era exports, old GE and
    Siemens consoles and some archives write the data set alone (dcmtk's `dcmconv --write-dataset`, dcm2niix
    issue 15: "a DICOM dataset without the DICOM file meta information", converted since 2016); pydicom reads
    one when forced, taking the encoding from the first element as here.

    The test is the data set's own structure, not a name: its first element is in group 0008 (every image's
    SOP Common and General Study identification, PS3.3 C.12.1, come first in tag order, PS3.5 7.1 requires
    ascending order), and its first BARE_PROBE elements (or as many as `head` holds) read as whole elements
    with tags in ascending order, in one encoding: implicit VR little endian (the default transfer syntax,
    PS3.5 10.1 and A.1), explicit VR little endian (A.2) or explicit VR big endian (A.3; retired). A text, XML,
    PDF, zip or SQLite file opens with bytes no group-0008 tag reads as."""
    if len(head) < 8:
        return False
    for order in ("<", ">"):
        group = struct.unpack_from(order + "H", head)[0]
        if group != 0x0008:
            continue
        explicit = head[4:6] in dicom_scan.VRS
        if order == ">" and not explicit:
            return False  # big endian is explicit VR only (PS3.5 A.3)
        return _bare_elements(head, order, explicit)
    return False


def _bare_elements(head: bytes, order: str, explicit: bool) -> bool:
    """Whether the first elements of `head` walk as ascending whole elements of one encoding (see above)."""
    at, previous, seen, end = 0, -1, 0, len(head)
    while seen < BARE_PROBE and at + 8 <= end:
        header = dicom_scan.element_header(head, at, not explicit, order)
        if header is None:
            return False
        if header is dicom_scan.SHORT:
            break
        tag, _, length, start = header  # type: ignore[misc]
        if tag <= previous or tag >> 16 == 0xFFFE or tag >> 16 < 0x0008:
            return False
        seen += 1
        if length == dicom_scan.UNDEFINED:
            break  # a sequence of undefined length: its items are pydicom's to walk
        if length % 2:
            return False  # every value has an even length (PS3.5 7.1.1)
        previous, at = tag, start + length
    return seen >= min(2, BARE_PROBE) or (seen == 1 and at == end)


# A file is a Path on disk or an archive.Member (bytes inside a .zip): both `open("rb")`.
Source = Path | Member


class _Inflating(io.RawIOBase):
    """A gzip-wrapped DICOM read as a stream, never inflated whole: pydicom reads the header and stops before
    the pixels; past limit `inflate_bytes` the read is refused (509 KB of gzipped zeros is 500 MB of nothing)."""

    def __init__(self, raw: bytes, where: object):
        self._gz = gzip.GzipFile(fileobj=io.BytesIO(raw))
        self._where, self._cap = where, limits.get("inflate_bytes")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        room = self._cap + 1 - self._gz.tell()
        data = self._gz.read(room if size is None or size < 0 else min(size, max(room, 0)))
        if self._gz.tell() > self._cap:
            raise limits.refusal("inflate_bytes", self._where)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 2:  # pydicom measures a stream's length this way; a gzip stream's is its inflated size
            self._gz.seek(self._cap + 1)
            if self._gz.tell() > self._cap:
                raise limits.refusal("inflate_bytes", self._where)
            return self._gz.seek(offset, 1) if offset else self._gz.tell()
        return self._gz.seek(offset, whence)

    def tell(self) -> int:
        return self._gz.tell()


def _open(path: Source):
    with path.open("rb") as handle:
        magic = handle.read(2)
        if magic != GZIP_MAGIC:
            return path if isinstance(path, Path) else path.open("rb")
        handle.seek(0)
        raw = limits.read_capped(handle, path)
    return _Inflating(raw, path)


DEFLATED = dicom_scan.DEFLATED
META_MAX = 16 * 2**20  # bytes of a file meta group walked at most before pydicom reads the file (checks below)


def _refuse_bombs(fp, where: object) -> None:
    """What pydicom would read without a bound, checked before it reads: a deflated-transfer-syntax dataset
    (inflated whole and uncapped: 1.5 MB -> 3.1 GB) is measured in chunks against limit `inflate_bytes`; a
    dataset opening with group 0000 (a network command set, never in a stored file) is refused, since pydicom
    reads command elements with no stop callback (500 MB of zeros after DICM: 62 million elements, 101 s)."""
    start = fp.tell()
    head = fp.read(65536)
    fp.seek(start)
    walked = dicom_scan.meta_group(head)
    if walked is dicom_scan.SHORT and len(head) == 65536:  # a meta group past 64 KB (real ones are under 1 KB)
        fp.seek(start + len(head))
        head += fp.read(META_MAX - len(head))
        fp.seek(start)
        walked = dicom_scan.meta_group(head)
        if walked is dicom_scan.SHORT and len(head) == META_MAX:
            raise ReadError(f"{where}: its file meta group runs past {META_MAX // 2**20} MiB; not read")
    if not isinstance(walked, tuple):
        return  # no "DICM", or a file cut short in its meta group: pydicom says so
    at, syntax = walked
    if at + 2 <= len(head) and struct.unpack_from("<H", head, at)[0] == 0x0000:
        raise ReadError(f"{where}: its dataset opens with group 0000 (a network command set); not a DICOM file")
    if syntax == DEFLATED:
        fp.seek(start + at)
        try:
            limits.inflated_size(limits.read_capped(fp, where), where)
        finally:
            fp.seek(start)


def _counting(stop):
    """pydicom's per-element stop callback, also counting elements against limit `elements` (a header of
    zero-length elements is endless work in few bytes)."""
    cap, seen = limits.get("elements"), [0]

    def stop_when(tag, vr, length) -> bool:
        seen[0] += 1
        if seen[0] > cap:
            raise limits.refusal("elements", "a DICOM header")
        return stop(tag, vr, length)

    return stop_when


def _partial(fp, stop, tags=None, where: object = "DICOM"):
    """pydicom's read_partial under the budgets: deflate measured first, elements counted."""
    from pydicom.filereader import read_partial

    _refuse_bombs(fp, where)
    # force: a bare data set (see bare_dataset, the only kind without "DICM" that reaches here) is read from its
    # first byte; a file with the prefix is read exactly as without it.
    return read_partial(fp, stop_when=_counting(stop), specific_tags=tags, force=True)


def _dcmread(path: Source, tags: list | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            source = _open(path)
            if isinstance(source, Path):
                with source.open("rb") as handle:
                    return _partial(handle, _stop_full, tags, path)
            return _partial(source, _stop_full, tags, path)
        except ReadError:
            raise
        except RecursionError:
            raise limits.too_deep(path) from None
        except Exception as exc:  # pydicom raises many types on truncated or malformed files
            raise ReadError(f"{path}: not readable DICOM ({type(exc).__name__}: {exc})") from None


@dataclass
class Series:
    uid: str
    files: list[Source] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    image_types: set[str] = field(default_factory=set)
    b_values: list[float] = field(default_factory=list)
    vectors: list[tuple[float, float, float, float]] = field(default_factory=list)  # (b, x, y, z)
    echo_times: set[float] = field(default_factory=set)
    normals: set[tuple[float, float, float]] = field(default_factory=set)  # the slice normals of its images
    echo_numbers: set[int] = field(default_factory=set)  # the EchoNumbers its images state
    unweighted: int = 0  # files of the series that state no b-value at all


def read(path: Path) -> Inspection:
    return read_many(path, [path])


@dataclass
class FileInfo:
    """What the scan keeps of one file: enough to group, order and count diffusion, and nothing else."""

    path: Source | str  # a folder's files travel by name (see readers._names)
    error: str | None = None
    sop: str = ""
    uid: str = ""
    number: int = 0
    image_types: tuple[str, ...] = ()
    diffusion: tuple[tuple[float, tuple[float, float, float] | None], ...] = ()
    echo_times: tuple[float, ...] = ()
    format: str = FORMAT  # when the scan also sniffed: the reader that takes a file that is not DICOM ("": none)
    normals: tuple[tuple[float, float, float], ...] = ()  # slice normal(s) of its ImageOrientationPatient
    echo_numbers: tuple[int, ...] = ()  # its EchoNumbers (0018,0086)


def _scan_one(path: Source, full: bool = False, sniff: bool = False) -> FileInfo:
    """Read one file's header only as far as the grouping and diffusion tags (group < 0x0021), unless `full`.

    The fast walk first (one read of the header's start, no pydicom); pydicom, under the per-file deadline, for
    whatever it declines. With `sniff`, the file is not known to be DICOM yet: the bytes read for the walk also
    tell its format (`format` of the result), so a folder's files are each opened once.

    Whatever one file holds (a damaged header, an InstanceNumber "abc", a sequence nested 10,000 deep), only that
    file is lost: it comes back as a FileInfo with an error, counted in the warnings, and the folder goes on.
    """
    if FAST and not full:
        try:
            fast = _fast_scan(path, sniff)
        except Exception:  # an unreadable file: the pydicom path below says why, as it always has
            fast = None
        if fast is not None:
            return fast
    if sniff:
        other = _sniff_other(path)
        if other is not None:
            return other
    if isinstance(path, str):
        path = Path(path)
    try:
        with limits.deadline(path):
            return _scan_fields(path, full)
    except ReadError as exc:
        return FileInfo(path, error=str(exc))
    except RecursionError:
        return FileInfo(path, error=str(limits.too_deep(path)))
    except Exception as exc:  # pydicom raises many types on damaged files
        return FileInfo(path, error=f"{path}: not readable DICOM ({type(exc).__name__}: {exc})")


def _sniff_other(path: Source) -> FileInfo | None:
    """The format of a file that is not DICOM (`format` "" when no reader takes it), or None when it is."""
    from . import HEAD_BYTES, reader_for

    try:
        with open(path, "rb") if isinstance(path, str | Path) else path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        reader = reader_for(path if not isinstance(path, str) else Path(path), head)
    except OSError:
        return FileInfo(path, format="")
    if reader is not None and reader.FORMAT == FORMAT:
        return None
    return FileInfo(path, format=reader.FORMAT if reader is not None else "")


def _fast_scan(path: Source | str, sniff: bool) -> FileInfo | None:
    """The scan's FileInfo from the first HEAD bytes of the file (more, up to PREFIX, only when the wanted tags
    run past them); None where pydicom must read it. Bounded without a deadline: at most PREFIX bytes are read
    (GZIP_READ of a gzip-wrapped file, inflated to PREFIX at most) and the walk steps forward through them."""
    if isinstance(path, str | Path):
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, HEAD)
            if data[:2] == GZIP_MAGIC:
                return _fast_gzip(path, data + os.read(fd, GZIP_READ - len(data)), sniff)
            if sniff and data[128:132] != b"DICM":
                return _other(path, data)
            while True:
                info = _fast_walk(path, data)
                if info is not dicom_scan.SHORT:
                    return info
                more = os.read(fd, PREFIX - len(data)) if len(data) < PREFIX else b""
                if not more:
                    return None  # truncated, or its tags run past PREFIX: pydicom's job
                data += more
        finally:
            os.close(fd)
    with path.open("rb") as handle:
        data = handle.read(GZIP_READ)
    if data[:2] == GZIP_MAGIC:
        return _fast_gzip(path, data, sniff)
    data = data[:PREFIX]
    if sniff and data[128:132] != b"DICM":
        return _other(path, data)
    info = _fast_walk(path, data)
    return None if info is dicom_scan.SHORT else info


def _fast_gzip(path: Source | str, compressed: bytes, sniff: bool) -> FileInfo | None:
    """A gzip-wrapped file (as some public test sets store DICOM): its first PREFIX bytes inflated (never more,
    whatever the compression ratio) and walked; None for anything else (pydicom's path inflates it whole under
    limit `inflate_bytes`, or the sniffers tell what it is)."""
    import zlib

    inflater = zlib.decompressobj(wbits=31)  # gzip framing, one member
    data = inflater.decompress(compressed, PREFIX)
    if len(data) < PREFIX and not inflater.eof or inflater.unused_data or data[128:132] != b"DICM":
        return None
    info = _fast_walk(path, data)
    return None if info is dicom_scan.SHORT else info


def _other(path: Source | str, data: bytes) -> FileInfo | None:
    """A file without DICM at byte 128: its format as the readers' sniffers tell it from its head; None for a
    gzip-wrapped DICOM (the pydicom path inflates it)."""
    from . import HEAD_BYTES, reader_for

    reader = reader_for(Path(path) if isinstance(path, str) else path, data[:HEAD_BYTES])
    if reader is not None and reader.FORMAT == FORMAT:
        return None
    return FileInfo(path, format=reader.FORMAT if reader is not None else "")


def _scan_fields(path: Source, full: bool) -> FileInfo:
    from pydicom.filereader import read_partial

    with path.open("rb") as handle:
        prefix = handle.read(PREFIX)
        if prefix[:2] == GZIP_MAGIC:
            source = _open(path)
            ds = _partial(source, _stop_full if full else _stop_scan, where=path)
        elif full:
            handle.seek(0)
            ds = _partial(handle, _stop_full, where=path)
        else:
            # One read of the header's start, parsed in memory: far fewer system calls than pydicom's
            # element-by-element reads. A header whose tags run past the prefix is read from the file.
            try:
                ds = read_partial(io.BytesIO(prefix), stop_when=_stop_scan, specific_tags=SCAN_TAGS, force=True)
                complete = len(prefix) < PREFIX or "SeriesInstanceUID" in ds
            except Exception:
                complete = False
            if not complete:
                handle.seek(0)
                ds = _partial(handle, _stop_scan, SCAN_TAGS, path)
    media = str(ds.file_meta.get("MediaStorageSOPClassUID", "")) if hasattr(ds, "file_meta") else ""
    sop = str(ds.get("SOPClassUID", "") or media)
    if not full and sop in ENHANCED:
        return _scan_one(path, full=True)  # one file holds the whole series: read its frames
    maker = str(ds.get("Manufacturer", ""))
    names = WALK_ON.get(_walk_on_vendor(manufacturer(maker), maker)) if not full else None
    if names and "DiffusionBValue" not in ds:
        _add_private(path, ds, names)  # its b-value (and gradient) only in a private group past the stop
    return FileInfo(
        path,
        sop=sop,
        uid=str(ds.get("SeriesInstanceUID", "")),
        number=_order(ds.get("InstanceNumber")),
        image_types=_image_types(ds.get("ImageType")),
        diffusion=tuple(_diffusion_of(ds)),
        echo_times=tuple(_echo_times_of(ds)),
        normals=tuple(_normals_of(ds)),
        echo_numbers=_echo_numbers(ds.get("EchoNumbers")),
    )


def _image_types(value: Any) -> tuple[str, ...]:
    """ImageType's values, upper case; pydicom gives a single value as a str (not its characters)."""
    if not value:
        return ()
    return (str(value).upper(),) if isinstance(value, str) else tuple(str(t).upper() for t in value)


def _add_private(path: Source, ds, names: tuple[str, ...]) -> None:
    """Read on to the private elements `names` (of one group past the scan's stop: GE's b-value, UIH's) and their
    creators, in whichever block, and add them to the scanned dataset (dicom_private finds them there)."""
    from pydicom.filereader import read_partial

    tags = sorted(dicom_private.tags_of(names))
    limit = ((tags[-1] >> 16) + 1) << 16  # the end of their group: the block is known only from the creators

    def stop(tag, vr, length) -> bool:
        return int.__ge__(tag, limit)

    try:
        source = _open(path)
        with source.open("rb") if isinstance(source, Path) else source as handle:
            more = read_partial(handle, stop_when=stop, specific_tags=tags, force=True)
    except Exception:  # a damaged tail: the file states no more than the scan read
        return
    for tag in tags:
        if tag in more:
            ds[tag] = more[tag]


def _normal(iop: Any) -> tuple[float, float, float] | None:
    """The slice normal of one ImageOrientationPatient, rounded (images of one stack share it to far better)."""
    try:
        normal = slice_normal([float(v) for v in iop]) if iop is not None and len(iop) == 6 else None
    except (TypeError, ValueError):
        return None
    if normal is None or not all(math.isfinite(v) for v in normal):
        return None
    return tuple(round(v, 3) + 0.0 for v in normal)  # + 0.0: no -0.0 beside 0.0


def _echo_numbers(value: Any) -> tuple[int, ...]:
    """EchoNumbers (0018,0086, IS, 1-n) as positive ints; anything else states no echo number."""
    if value is None or value == "":
        return ()
    values = [value] if isinstance(value, str | bytes | int | float) or not hasattr(value, "__iter__") else value
    out = []
    for v in values:
        number = _float(v)
        if number is None or not number.is_integer() or not 0 < number < 1000:
            return ()
        out.append(int(number))
    return tuple(out)


def _normals_of(ds):
    """Slice normals one file states: its ImageOrientationPatient, or each frame's (enhanced: Plane Orientation
    functional group, shared or per frame, PS3.3 C.7.6.16.2.4)."""
    if "ImageOrientationPatient" in ds:
        found = _normal(ds.get("ImageOrientationPatient"))
        if found:
            yield found
        return
    shared = ds.get("SharedFunctionalGroupsSequence")
    seen = set()  # each normal once: thousands of frames share a few
    for group in ((shared[0],) if shared else ()) + tuple(ds.get("PerFrameFunctionalGroupsSequence") or ()):
        for plane in group.get("PlaneOrientationSequence") or []:
            found = _normal(plane.get("ImageOrientationPatient"))
            if found and found not in seen:
                seen.add(found)
                yield found


def _echo_times_of(ds):
    """Echo times one file states: its EchoTime, or each frame's EffectiveEchoTime (enhanced)."""
    frames = ds.get("PerFrameFunctionalGroupsSequence")
    if frames:
        for frame in frames:
            for echo in frame.get("MREchoSequence") or []:
                value = _float(echo.get("EffectiveEchoTime"))
                if value:
                    yield value
        return
    value = _float(ds.get("EchoTime")) if "EchoTime" in ds else None
    if value:
        yield value


def _text(raw: tuple[bytes, bytes] | None) -> str:
    return raw[1].decode("latin-1").strip("\0 ") if raw else ""


# The values the fast path decodes itself, as pydicom would decode them only when they are written as DICOM
# says (PS3.5 table 6.2-1): anything else (leading blanks, NULs, a UID with a backslash, "1.5" as an IS, a
# non-ASCII byte that the character set would decode) goes to pydicom, whose reading is the reference.
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
PLAIN = {
    0x00020002: re.compile(rb"[0-9.]*\Z"),  # UI, after its trailing NUL or space padding
    0x00080016: re.compile(rb"[0-9.]*\Z"),
    0x0020000E: re.compile(rb"[0-9.]*\Z"),
    0x00080008: re.compile(rb"[A-Z0-9_\\]*\Z"),  # CS, multi-valued
    0x00200013: re.compile(rb"(?:[+-]?[0-9]+)?\Z"),  # IS
    ECHO_NUMBERS: re.compile(rb"(?:\s*[+-]?[0-9]+\s*(?:\\\s*[+-]?[0-9]+\s*)*)?\Z"),  # IS, 1-n
    0x0019100C: re.compile(rb"(?:[+-]?[0-9]+)?\Z"),
    GE_BVALUE: re.compile(rb"(?:[+-]?[0-9]+(?:\\[+-]?[0-9]+)*)?\Z"),  # IS, multi-valued
    ECHO_TIME: re.compile(rb"(?:" + _NUMBER.encode() + rb")?\Z"),  # DS
    0x001910BB: re.compile(rb"(?:" + _NUMBER.encode() + rb")?\Z"),
    0x001910BC: re.compile(rb"(?:" + _NUMBER.encode() + rb")?\Z"),
    0x001910BD: re.compile(rb"(?:" + _NUMBER.encode() + rb")?\Z"),
    ORIENTATION: re.compile(rb"(?:\s*%s\s*(?:\\\s*%s\s*){5})?\Z" % ((_NUMBER.encode(),) * 2)),  # DS, 6 values
}


def _fast_info(path: Source, prefix: bytes) -> FileInfo | None:
    """The scan's FileInfo from the fast header walk, or None where only pydicom can read the header."""
    info = _fast_walk(path, prefix)
    return None if info is dicom_scan.SHORT else info


def _fast_walk(path: Source, prefix: bytes) -> FileInfo | str | None:
    """The scan's FileInfo from the fast header walk; None where only pydicom can read the header, SHORT
    where the walk needs more of the file than `prefix`."""
    walked = dicom_scan.walk(prefix, FAST_TAGS, SCAN_LIMIT)
    if walked is None or walked is dicom_scan.SHORT:
        return walked
    found, _, stop = walked
    got = _decoded(found)
    if got is None:
        return None
    names = FAST_BY_VENDOR.get(got.get(0x00080070))
    if names and not dicom_private.in_first_block(found, names):  # one lookup in most files
        found = dicom_private.fast_canonical(found, names)  # another creator's values dropped
        got = _decoded(found) if found is not None else None  # None: the block is elsewhere, pydicom's read
        if got is None:
            return None
    sop = got.get(0x00080016) or got.get(0x00020002, "")
    if sop in ENHANCED:
        return None  # frames live past the stop: the full read handles it
    vendor = got.get(0x00080070)
    b, direction = got.get(0x00189087), got.get(0x00189089)
    if b is None and vendor == "siemens":
        b = got.get(0x0019100C)
    if direction is None and vendor == "siemens":
        direction = got.get(0x0019100E)
    if direction is None and vendor == "ge" and all(t in got for t in GE_DIRECTION):
        direction = tuple(got[t] for t in GE_DIRECTION)
    names = WALK_ON.get(_walk_on_vendor(vendor, found.get(0x00080070, (b"", b""))[1])) if b is None else None
    if names:  # walk on to the private b-value (and gradient) in the prefix already read
        more = _walk_on(prefix, stop, names)
        if more is None or more is dicom_scan.SHORT:
            return more  # past the prefix: read on, or pydicom reads it
        b = more.get(canonical_tag(names[0]))
        if direction is None and len(names) > 1:
            direction = more.get(canonical_tag(names[1]))
    if b is not None and direction is None and vendor == "canon":
        again = dicom_scan.walk(prefix, CANON_TAGS, SCAN_LIMIT)  # this Canon DWI file only: its ImageComments
        if again is None or again is dicom_scan.SHORT:
            return again
        raw = again[0].get(IMAGE_COMMENTS, (b"", b""))[1]
        direction = _canon_gradient(raw.decode("latin-1")) if raw.isascii() else None
    diffusion = ()
    if b is not None:
        usable = direction is not None and all(v is not None for v in direction)
        diffusion = ((b, tuple(direction) if usable else None),)
    echo = got.get(ECHO_TIME)
    normal = got.get(ORIENTATION)
    echo_numbers = got.get(ECHO_NUMBERS, ())
    return FileInfo(
        path,
        sop=sop,
        uid=got.get(0x0020000E, ""),
        number=got.get(0x00200013, 0),
        image_types=got.get(0x00080008, ()),
        diffusion=diffusion,
        echo_times=(echo,) if echo else (),
        normals=(normal,) if normal else (),
        echo_numbers=echo_numbers,
    )


def _walk_on(prefix: bytes, stop: dicom_scan.Resume, names: tuple[str, ...]) -> dict[int, Any] | str | None:
    """The decoded private elements `names` (one group past the scan's stop), keyed by their canonical tags, from a
    walk on from `stop` over the group's creator elements (gggg,0010-00FF) and block 0x10 (dicom_private.
    fast_canonical: another creator's values there are dropped); None where their creator holds another block
    (the pydicom read finds it there) or as dicom_scan.walk, SHORT as dicom_scan.walk."""
    first, limit = _first_walk(names)
    # The creators (gggg,0010-00FF) come before every block's elements (ascending tags): one walk reads them and
    # the elements of block 0x10, where most files keep them; a file whose block is elsewhere goes to pydicom.
    walked = dicom_scan.walk(prefix, first, limit, resume=stop)
    if walked is None or walked is dicom_scan.SHORT:
        return walked
    found = walked[0]
    if not dicom_private.in_first_block(found, names):
        found = dicom_private.fast_canonical(found, names)
        if found is None:
            return None  # a block elsewhere: the pydicom read, creator-aware
    return _decoded(found)


@cache
def _first_walk(names: tuple[str, ...]) -> tuple[frozenset[int], int]:
    """(the tags of the walk on: the group's creators and the block-0x10 elements, its limit)."""
    group = dicom_private.PRIVATE[names[0]][0]
    canonical = {dicom_private.canonical_tag(n) for n in names}
    return dicom_private.creator_tags(group) | canonical, max(canonical) + 1


def _canon_gradient(text: str) -> tuple[float, float, float] | None:
    """The gradient a Canon classic ImageComments states ("b=1500(0.895,0.000,0.445)"), or None."""
    match = _CANON_GRADIENT.search(text or "")
    if not match:
        return None
    try:
        vector = tuple(float(v) for v in match.groups())
    except ValueError:
        return None
    return vector if all(math.isfinite(v) for v in vector) else None


def _walk_on_vendor(vendor: str | None, maker: Any) -> str | None:
    """The WALK_ON key of a file's maker (`vendor` as acquisition.manufacturer names it, `maker` the raw
    Manufacturer value), or None."""
    if vendor == "ge":
        return "ge"
    return "uih" if vendor == "other" and _is_uih(maker) else None


def _is_uih(maker: Any) -> bool:
    """Whether a Manufacturer value (bytes or text) names United Imaging (UIH: "UIH" in dcm_qa_uih's headers)."""
    raw = maker.encode("latin-1", "replace") if isinstance(maker, str) else bytes(maker or b"")
    return raw.strip(b"\0 ").upper().startswith(UIH_MAKERS)


GE_DIRECTION = (0x001910BB, 0x001910BC, 0x001910BD)
_BAD = object()  # a value the fast path does not decode itself (see PLAIN)


def _decode(tag: int, raw: bytes) -> Any:
    """One wanted value as the scan uses it, or _BAD; a function of the tag and the bytes only."""
    if tag == 0x00189087:
        return struct.unpack_from("<d", raw)[0] if len(raw) >= 8 else None
    if tag == 0x00189089:
        return struct.unpack_from("<3d", raw) if len(raw) >= 24 else None
    if tag == 0x0019100E:
        return struct.unpack("<3d", raw) if len(raw) == 24 else None
    if tag == UIH_BVALUE:
        return struct.unpack("<d", raw)[0] if len(raw) == 8 else None
    if tag == UIH_DIRECTION:
        return struct.unpack("<3d", raw) if len(raw) == 24 else None
    if tag == CHARSET:
        return raw.rstrip(b"\0 ").decode("ascii") if raw.rstrip(b"\0 ") in CHARSETS else _BAD
    if not raw.isascii():
        return _BAD
    pattern = PLAIN.get(tag)
    if pattern is not None and not pattern.match(raw.rstrip(b"\0 ")):
        return _BAD
    text = raw.decode("latin-1").strip("\0 ")
    if tag == 0x00080070:
        return manufacturer(text)
    if tag == 0x00080008:
        return tuple(t.strip().upper() for t in text.split("\\")) if text else ()
    if tag == 0x00200013:
        return _order(text)
    if tag == GE_BVALUE:
        return _ge_bvalue(text)
    if tag == ORIENTATION:
        return _normal(text.split("\\")) if text else None
    if tag == ECHO_NUMBERS:
        return _echo_numbers(text.split("\\")) if text else ()
    if tag in (ECHO_TIME, 0x0019100C) or tag in GE_DIRECTION:
        return _float(text)
    return text


_DECODE_CACHE: dict[int, dict[bytes, Any]] = {}  # per tag: raw value -> decoded (or _BAD)
DECODE_CACHE_SIZE = 8192  # values remembered per process and tag (the files of a series repeat most of theirs)


def _decoded(found: dict[int, tuple[bytes, bytes]]) -> dict[int, Any] | None:
    """{tag: decoded value} of a walk's values (remembered per tag: most repeat from file to file, and a plan
    hands out the same bytes objects, whose hash Python keeps), None if one of them is not written plainly."""
    out = {}
    caches = _DECODE_CACHE
    for tag, (_, raw) in found.items():
        cache = caches.get(tag)
        if cache is None:
            cache = caches[tag] = {}
        value = cache.get(raw, _BAD)
        if value is _BAD:
            if raw in cache:
                return None  # remembered as not plain
            value = _decode(tag, raw)
            if len(cache) >= DECODE_CACHE_SIZE:
                cache.clear()
            cache[raw] = value
            if value is _BAD:
                return None
        out[tag] = value
    return out


def _ge_bvalue(text: Any) -> float | None:
    """GE (0043,1039) first value: the b-value, plus 1e9 on the versions that flag it (dcm2niix removes it too)."""
    b = _float(text.split("\\")[0]) if isinstance(text, str) else _float(text)
    if b is not None and b >= 1e9:
        b = b % 1e9
    return b


def _quiet() -> None:
    """pydicom warns about every odd value; the scan reports problems its own way (worker initializer too)."""
    warnings.simplefilter("ignore")


# pydicom's Tag overrides comparison in Python: compare as plain ints, this runs for every element read.
def _stop_scan(tag, vr, length) -> bool:
    return int.__ge__(tag, SCAN_LIMIT)


MODALITY = 0x00080060


def _mr_without_sop_class(path: Source | str) -> bool:
    """Whether a file that states no SOP Class UID (neither (0008,0016) nor the file meta's (0002,0002)) is an MR
    image by its Modality (0008,0060) "MR" and its Rows (0028,0010): ACR-NEMA 2.0 headers, which old consoles wrote
    bare (see bare_dataset), predate SOP classes. Read only for such files."""
    try:
        with limits.deadline(path):
            source = _open(Path(path) if isinstance(path, str) else path)
            with source.open("rb") if isinstance(source, Path) else source as handle, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = _partial(handle, _stop_rows, [MODALITY, ROWS], path)
    except Exception:  # a damaged file: as the scan said, no MR image
        return False
    return str(ds.get("Modality") or "").strip().upper() == "MR" and ROWS in ds


ROWS = 0x00280010


def _stop_rows(tag, vr, length) -> bool:
    return int.__gt__(tag, ROWS)


SERIES_NUMBER = 0x00200011
UNIDENTIFIED_TAGS = [0x0008103E, 0x0020000D, SERIES_NUMBER]


def _stop_identity(tag, vr, length) -> bool:
    return int.__gt__(tag, SERIES_NUMBER)


def _series_without_uid(path: Source | str) -> str | None:
    """The grouping key of an MR image that states no SeriesInstanceUID, or None (then it is taken as truncated).

    SeriesInstanceUID (0020,000E) is Type 1 (PS3.3 C.7.3.1, General Series Module), yet de-identifiers that
    remove UIDs rather than replace them leave images without it (nibabel's decimal_rescale.dcm, a Siemens TrioTim
    image). Such an image still says which series it is: its SeriesNumber (0020,0011, "a number that identifies
    this Series"), SeriesDescription and StudyInstanceUID, which are the key here. An image that does not state
    SeriesNumber either, which comes after SeriesInstanceUID in tag order, is cut short before it: skipped, as
    before. Read only for such images (pydicom, to (0020,0011)): the scan of every other file is unchanged."""
    try:
        with limits.deadline(path):
            source = _open(Path(path) if isinstance(path, str) else path)
            with source.open("rb") if isinstance(source, Path) else source as handle, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = _partial(handle, _stop_identity, UNIDENTIFIED_TAGS, path)
    except Exception:  # a damaged file: no more than the scan said
        return None
    number = ds.get("SeriesNumber")
    if number is None or str(number).strip() == "":
        return None
    study = str(ds.get("StudyInstanceUID") or "")
    description = " ".join(str(ds.get("SeriesDescription") or "").split())
    return f"no SeriesInstanceUID: study {study!r} series {str(number).strip()} {description!r}"


def _stop_full(tag, vr, length) -> bool:
    return int.__eq__(tag, PIXEL_DATA)


@contextmanager
def _gc_paused():
    """Python's cycle collector off while a large input is read: the scan makes tens of thousands of small
    acyclic objects (the values, FileInfos, rows), each allocation counted towards a collection that walks every
    tracked object and finds nothing (10-25% of the scan's CPU); what refcounting does not free is collected
    when it is back on (a damaged file's error path leaves no cycle behind: checked on truncated fixtures)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def scan(
    files: list[Source], progress=None, workers: int | None = None, full: bool = False, sniff: bool = False
) -> list[FileInfo]:
    """Scan headers: in this process for a small input (no pool to start), on every core for a large one
    (header parsing is CPU-bound). Workers get file names in chunks and send back plain tuples: what crosses
    between processes is a few hundred bytes per file."""
    with _gc_paused():
        return _scan(files, progress, workers, full, sniff)


def _scan(files: list, progress, workers: int | None, full: bool, sniff: bool) -> list[FileInfo]:
    names = list(files)
    count = _workers() if workers is None else workers
    results: list[FileInfo] = []
    if _in_worker or count <= 1 or len(names) < PARALLEL_FROM:
        with warnings.catch_warnings():
            _quiet()
            for name in names:
                results.append(_scan_one(name, full, sniff))
                if progress:
                    progress(1)
        return results
    from concurrent.futures import ProcessPoolExecutor

    size = max(16, min(CHUNK, len(names) // (4 * count) or 1))
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    wire = [[str(n) if isinstance(n, Path) else n for n in chunk] for chunk in chunks]
    with ProcessPoolExecutor(max_workers=count, initializer=_worker_start) as pool:
        done = pool.map(_scan_chunk, wire, [full] * len(wire), [sniff] * len(wire))
        if not full:
            _warm()  # the representatives' reading needs pydicom: imported here while the workers scan
        for chunk, rows in zip(chunks, done, strict=True):
            for path, row in zip(chunk, rows, strict=True):
                results.append(FileInfo(path, *row))
            if progress:
                progress(len(chunk))
    return results


def _workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _warm(full: bool = False) -> None:
    """Import what reading a full header needs (pydicom: about a second), so a pool forked later inherits it;
    `full`: also what a representative's acquisition needs (the exam model's digest), or every worker of the
    representatives' pool imports it again."""
    import pydicom.filereader  # noqa: F401

    if full:
        from .. import exams  # noqa: F401


def _scan_chunk(names: list, full: bool, sniff: bool) -> list[tuple]:
    """A worker's share: each file scanned, sent back as a tuple of FileInfo's fields after the path."""
    out = []
    for name in names:
        info = _scan_one(name, full, sniff)
        out.append(
            (info.error, info.sop, info.uid, info.number, info.image_types, info.diffusion, info.echo_times,
             info.format, info.normals, info.echo_numbers)
        )  # fmt: skip
    return out


def read_many(root: Path, files: list[Source], progress=None, infos: list[FileInfo] | None = None) -> Inspection:
    """The DICOM files of one input as acquisitions; `infos`: the files already scanned (a folder's sniffing
    scan), else they are scanned here."""
    with _gc_paused():
        return _read_many(root, files, progress, infos)


def _read_many(root: Path, files: list, progress, infos: list[FileInfo] | None) -> Inspection:
    inspection = Inspection(source=str(root), format=FORMAT)
    series: dict[str, Series] = {}
    others: dict[str, int] = {}  # SOP class -> files
    unidentified: dict[str, int] = {}  # series told by number and description (no SeriesInstanceUID) -> files
    for info in scan(files, progress) if infos is None else infos:
        if info.error:
            inspection.warnings.append(info.error)
            continue
        if info.sop == MEDIA_STORAGE_DIRECTORY:
            continue  # a DICOMDIR indexes the files we walk anyway
        if info.sop not in MR_IMAGE_STORAGE and not (not info.sop and _mr_without_sop_class(info.path)):
            others[info.sop] = others.get(info.sop, 0) + 1  # presentation states, reports, screen saves...
            continue
        uid = info.uid
        if not uid:
            uid = _series_without_uid(info.path)
            if uid is None:
                inspection.warnings.append(f"{info.path}: MR image without SeriesInstanceUID (truncated?); skipped")
                continue
            unidentified[uid] = unidentified.get(uid, 0) + 1
        s = series.get(uid)
        if s is None:  # not setdefault: a Series (two lists, two sets) made for each of 20,000 files costs ~50 ms
            s = series[uid] = Series(uid)
        s.files.append(info.path)
        s.numbers.append(info.number)
        s.image_types.update(info.image_types)
        s.echo_times.update(info.echo_times)
        s.normals.update(info.normals)
        s.echo_numbers.update(info.echo_numbers)
        if not info.diffusion:
            s.unweighted += 1
        for b, vector in info.diffusion:
            _add(s, b, list(vector) if vector else None)
    if unidentified:
        inspection.warnings.append(
            f"{sum(unidentified.values())} MR image(s) state no SeriesInstanceUID (0020,000E; removed by a "
            f"de-identifier?): grouped into {len(unidentified)} series by StudyInstanceUID, SeriesNumber and "
            "SeriesDescription"
        )
    large = (len(infos) if infos is not None else len(files)) >= PARALLEL_FROM
    for found in _acquisitions(list(series.values()), inspection.warnings, large):
        if found is None:
            continue
        representative, acq = found
        if "repetition_time_ms" not in acq.params and "manufacturer" not in acq.params:
            inspection.warnings.append(f"{representative}: header incomplete (truncated?); series skipped")
            continue
        inspection.acquisitions.append(acq)
    join_echo_series(inspection.acquisitions)
    if others:
        inspection.warnings.append(
            f"{sum(others.values())} DICOM object(s) that are not MR images ignored: {_object_kinds(others)}"
        )
    if not inspection.acquisitions and inspection.warnings:
        raise ReadError(f"{root}: no readable DICOM series; first problem: {inspection.warnings[0]}")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


# Roots of the vendors' private SOP classes (their organisation roots, PS3.5 9.1): objects a console stores beside
# the images (Siemens CSA Non-Image "PhoenixZIPReport" / "Phoenix Document", Philips and GE private objects).
PRIVATE_ROOTS = (("1.3.12.2.1107.", "Siemens"), ("1.3.46.670589.", "Philips"), ("1.2.840.113619.", "GE"))


def _object_kinds(counts: dict[str, int]) -> str:
    """What the ignored objects are, by SOP class: its name in the DICOM dictionary (PS3.6: Secondary Capture
    Image Storage for a screen save, Grayscale Softcopy Presentation State Storage, ... SR Storage), or the vendor
    whose private class it is."""
    from pydicom.uid import UID

    out = []
    for sop, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        vendor = next((name for root, name in PRIVATE_ROOTS if sop.startswith(root)), None)
        name = UID(sop).name if sop else ""
        if vendor:
            kind = f"{vendor} private object"
        elif name and name != sop:
            kind = name.removesuffix(" Storage")
        else:
            kind = "object of no stated SOP class" if not sop else "object of another SOP class"
        out.append(f"{count} {kind}")
    return ", ".join(out)


REPRESENTATIVES = 3  # files of one series tried in turn when the first chosen cannot be read
# Series of a large input whose representatives are read on every core from this many: a representative costs
# ~6 ms in process (pydicom's full header, CSA, ASCCONV), a pool of 2 ~0.3 s of CPU to start, send the series
# and bring the acquisitions back (50 series of the 20,000-file benchmark exam: 1.0 s in process, 1.3 s pooled).
PARALLEL_SERIES = 96
_in_worker = False  # a pool worker never starts a pool of its own


def _acquisitions(series: list[Series], warnings_out: list[str], large: bool) -> list:
    """Each series' (representative, acquisition) or None, in series order; the representatives of a large
    input are read on every core (a full header with its CSA protocol costs milliseconds each)."""
    count = _workers()
    if _in_worker or not large or count <= 1 or len(series) < PARALLEL_SERIES:
        return [_series_acquisition(s, warnings_out) for s in series]
    from concurrent.futures import ProcessPoolExecutor

    _warm(full=True)
    out = []
    with ProcessPoolExecutor(max_workers=count, initializer=_worker_start) as pool:
        for found, said in pool.map(_series_task, series):
            warnings_out += said
            out.append(found)
    return out


def _worker_start() -> None:
    global _in_worker
    _in_worker = True
    _quiet()
    gc.disable()  # a worker lives for one input's scan (see _gc_paused)


def _series_task(s: Series) -> tuple:
    said: list[str] = []
    return _series_acquisition(s, said), said


def _series_acquisition(s: Series, warnings_out: list[str]) -> tuple[Source, Acquisition] | None:
    """The series' acquisition read from its first file in instance order; a file that cannot be read (a
    damaged or hostile mutant) is skipped with a warning and the next one is taken, so one file never costs
    its series."""
    numbers = s.numbers if len(s.numbers) == len(s.files) else s.numbers + [0] * (len(s.files) - len(s.numbers))
    order = sorted(range(len(s.files)), key=numbers.__getitem__)
    for i in order[:REPRESENTATIVES]:
        representative = Path(s.files[i]) if isinstance(s.files[i], str) else s.files[i]  # a folder's: by name
        try:
            with limits.deadline(representative):
                acq = _acquisition(representative, s, warnings_out)
                if acq.get("sequence_family") == "epi_dwi" and not s.b_values and not _a_map(acq):
                    # A diffusion series whose b-values are only in private groups past the fast scan's stop
                    # (older Philips): read its files in full once and count again.
                    for info in scan(s.files, full=True):
                        for b, vector in info.diffusion:
                            _add(s, b, list(vector) if vector else None)
                    if s.b_values:
                        acq = _acquisition(representative, s, warnings_out)
        except RecursionError:
            warnings_out.append(f"{limits.too_deep(representative)}; file skipped")
            continue
        except Exception as exc:  # ReadError, or pydicom choking on a crafted value: this file only
            text = str(exc) if isinstance(exc, ReadError) else f"{representative}: {type(exc).__name__}: {exc}"
            warnings_out.append(f"{text}; file skipped")
            continue
        return representative, acq
    return None


_PHILIPS_PREPULSE_DELAY = canonical_tag("philips_prepulse_delay")  # FL, ms: the delay the console shows as TI
_PHILIPS_PREPULSE_TYPE = canonical_tag("philips_prepulse_type")  # CS: INV for an inversion prepulse; NO for none


def _philips_prepulse(ds, acq: Acquisition, src) -> None:
    """A Philips TFE/IR image that states no InversionTime: its inversion time is the private Prepulse Delay
    (2001,101B) when the private Prepulse Type (2001,101C) says the prepulse is an inversion ("INV"). The ADNI
    MPRAGE (Ingenia, classic DICOM): INV, 900 ms, where dcm2niix writes InversionTime 0.9 s. Any other prepulse
    (a saturation, none) is no inversion: absent."""
    kind = dicom_private.element(ds, "philips_prepulse_type")
    delay = dicom_private.element(ds, "philips_prepulse_delay")
    if kind is None or delay is None:
        return
    value = kind.value
    value = value.decode("latin-1", "ignore") if isinstance(value, bytes) else str(value)
    if value.strip("\0 ").upper() != "INV":
        return
    where = dicom_private.tag_text(delay)
    with acq.reading(f"Prepulse Delay {where}"):
        ms = _float(delay.value)
        if ms is not None and ms > 0:
            acq.set("inversion_time_ms", ms, src(f"Philips Prepulse Delay {where}={ms:g} ms, Prepulse Type INV"))


def _philips_slices(ds, acq: Acquisition, src) -> None:
    """The slices of a Philips scan: its private Number of Slices MR (2001,xx18 of "Philips Imaging DD 001", SL),
    one volume's slice locations, as the PAR file's "Max. number of slices/locations" carries it (the PAR ↔ DICOM
    map of bryanfw/fwbsrc philipsDICOMentries.m; dcm2niix reads it as kNumberOfSlicesMrPhilips). Every image of
    the series states it, so a dummy run holding only some of its files still says how many slices it has (the
    Ingenia DTI fixture: 32 slice positions over its 545 files, 32 stated; its ADNI MPRAGE: 170 over 3 files)."""
    element = dicom_private.element(ds, "philips_slices")
    if element is None or "slices" in acq.params:
        return
    where = dicom_private.tag_text(element)
    with acq.reading(f"Number of Slices MR {where}"):
        value = element.value
        if isinstance(value, bytes) and len(value) == 4:  # SL read as UN in an implicit-VR file
            value = struct.unpack("<l", value)[0]
        count = limits.count(value, src(where)) if isinstance(value, int) else None
        if count:
            acq.set("slices", count, src(f"Philips Number of Slices MR {where}={count}"))


def iso_time(tm: str) -> str:
    """DICOM TM (HHMMSS.FFFFFF) -> ISO HH:MM:SS.ffffff, as the canonical model and dcm2niix write it."""
    digits, _, fraction = tm.strip().partition(".")
    if len(digits) != 6 or not digits.isdigit():
        return tm.strip()
    return f"{digits[:2]}:{digits[2:4]}:{digits[4:]}.{(fraction + '000000')[:6]}"


def _float(value: Any) -> float | None:
    try:
        if isinstance(value, bytes):
            value = value.decode("ascii", "ignore").strip("\x00 ").split("\\")[0]
        if isinstance(value, list | tuple) or hasattr(value, "__len__") and not isinstance(value, str):
            value = list(value)[0]
        return float(value)
    except (TypeError, ValueError, IndexError):
        return None


def _order(value: Any) -> int:
    """InstanceNumber as a sort key: a value that is not a finite number ("abc", "1e400") sorts as 0."""
    number = _float(value)
    return int(number) if number is not None and abs(number) < 2**63 else 0


def _vector(value: Any) -> list[float] | None:
    try:
        items = [float(v) for v in value]
        return items if len(items) == 3 else None
    except (TypeError, ValueError):
        return None


def _diffusion_of(ds):
    """(b, direction) pairs stated by one file: enhanced per-frame groups, the standard tags, or vendor tags."""
    frames = ds.get("PerFrameFunctionalGroupsSequence")
    if frames:
        for frame in frames:
            for diff in frame.get("MRDiffusionSequence") or []:
                b = _float(diff.get("DiffusionBValue"))
                direction = None
                for g in diff.get("DiffusionGradientDirectionSequence") or []:
                    direction = _vector(g.get("DiffusionGradientOrientation"))
                if b is not None:
                    yield b, tuple(direction) if direction else None
        return
    b = _float(ds.get("DiffusionBValue")) if "DiffusionBValue" in ds else None
    direction = _vector(ds.get("DiffusionGradientOrientation")) if "DiffusionGradientOrientation" in ds else None
    vendor = manufacturer(str(ds.get("Manufacturer", "")))
    uih = vendor == "other" and _is_uih(str(ds.get("Manufacturer", "")))
    private = dicom_private.element
    if b is None and uih:
        found = private(ds, "uih_bvalue")
        b = _uih_value(found.value, 1) if found is not None else None
    elif b is None:
        found = private(ds, VENDOR_BVALUE[vendor]) if vendor in VENDOR_BVALUE else None
        if found is not None:
            b = _ge_bvalue(found.value) if vendor == "ge" else _float(found.value)
    if direction is None and uih and private(ds, "uih_gradient") is not None:
        direction = _vector(_uih_value(private(ds, "uih_gradient").value, 3))
    if direction is None and b is not None and vendor == "canon" and "ImageComments" in ds:
        found = _canon_gradient(str(ds.get("ImageComments") or ""))
        direction = list(found) if found else None
    if direction is None:
        if vendor == "siemens" and private(ds, "siemens_gradient") is not None:
            direction = _vector(_siemens_vector(private(ds, "siemens_gradient").value))
        elif vendor in VENDOR_GRADIENT:
            parts = [private(ds, name) for name in VENDOR_GRADIENT[vendor]]
            if all(part is not None for part in parts):
                direction = [_float(part.value) for part in parts]
    if b is not None:
        usable = direction is not None and all(v is not None for v in direction)
        yield b, tuple(direction) if usable else None


# The private b-value and gradient (x, y, z) of each vendor that states them only there (dicom_private.PRIVATE).
VENDOR_BVALUE = {"siemens": "siemens_bvalue", "ge": "ge_bvalue", "philips": "philips_bvalue"}
VENDOR_GRADIENT = {
    "ge": ("ge_gradient_x", "ge_gradient_y", "ge_gradient_z"),
    "philips": ("philips_gradient_rl", "philips_gradient_ap", "philips_gradient_fh"),
}


def _uih_value(value: Any, count: int) -> Any:
    """A UIH FD value as pydicom gives it: numbers (explicit VR) or the raw little-endian doubles (implicit VR, a
    private tag pydicom's dictionary does not know)."""
    if isinstance(value, bytes):
        if len(value) != 8 * count:
            return None
        numbers = struct.unpack(f"<{count}d", value)
        return numbers[0] if count == 1 else list(numbers)
    if count == 1:
        return _float(value[0] if isinstance(value, list | tuple) and value else value)
    return value


def _siemens_vector(value: Any) -> Any:
    if isinstance(value, bytes) and len(value) == 24:
        import struct

        return struct.unpack("<3d", value)
    return value


def _add(s: Series, b: float | None, direction: list[float] | None) -> None:
    if b is None:
        return
    s.b_values.append(b)
    if direction and all(v is not None for v in direction):
        s.vectors.append((b, *direction))


def _parallel_mode(ds, acq: Acquisition, src) -> None:
    """The parallel-imaging method an enhanced (or Philips classic) header states: (0018,9077) Parallel
    Acquisition NO is none; YES with (0018,9078) names the method (the Philips fixtures: SENSE, as dcm2niix's
    sidecars' ParallelAcquisitionTechnique)."""
    stated = str(_first(ds, "MRModifierSequence", "ParallelAcquisition") or "").strip().upper()
    if stated == "NO":
        acq.set("parallel_mode", "none", src("ParallelAcquisition=NO"))
    elif stated == "YES":
        technique = str(_first(ds, "MRModifierSequence", "ParallelAcquisitionTechnique") or "").strip().upper()
        for param, value, term in dicom_terms.stated("ParallelAcquisitionTechnique", technique):
            acq.set(param, value, src(f"ParallelAcquisitionTechnique={term} (DICOM defined term)"))


def _first(ds, *path: str):
    """A value from the dataset, else from the enhanced shared/per-frame functional groups (first frame)."""
    name = path[-1]
    if name in ds and ds.get(name) not in (None, ""):
        return ds.get(name)
    # Philips classic images carry an enhanced-style dataset in the private "MR series data" item (2005,140F):
    # the SENSE factor (ParallelReductionFactorInPlane), acquisition steps and MT state are only there.
    series_data = dicom_private.element(ds, "philips_series_data")
    if series_data is not None:
        items = series_data.value
        if items and len(items) and name in items[0] and items[0].get(name) not in (None, ""):
            return items[0].get(name)
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = ds.get(groups)
        if not seq:
            continue
        item = seq[0]
        for macro in path[:-1]:
            sub = item.get(macro)
            if sub:
                value = sub[0].get(name)
                if value not in (None, ""):
                    return value
    return None


# Private elements, as their canonical tags (block 0x10); read through dicom_private, in whichever block.
PHILIPS_SERIES_DATA = canonical_tag("philips_series_data")  # (2005,xx0F) of "Philips MR Imaging DD 005"
GE_ASSET_FACTORS = canonical_tag("ge_asset_factors")  # "Asset R Factors": 1/in-plane, 1/slice acceleration (dcm_qa_ge)
GE_MULTIBAND = canonical_tag("ge_multiband")  # HyperBand: factor, slice FOV shift, calibration (dcm_qa_ge README)
GE_LOCATIONS = canonical_tag("ge_locations")  # "Locations in acquisition": one volume's slices (dcm2niix issue 306)
GE_DIFFUSION_DIRECTIONS = canonical_tag("ge_diffusion_directions")  # GE "User data 24": directions prescribed
SIEMENS_PE_POSITIVE = canonical_tag("siemens_xa_pe_positive")  # XA (VB/VE: in the CSA image header)


def phase_direction(iop: list[float], axis: str, positive: bool) -> tuple[str, str] | None:
    """Canonical phase-encoding direction ('AP' = from anterior to posterior, Siemens "A >> P") and why.

    DICOM ImageOrientationPatient gives the row and column direction cosines in patient LPS coordinates;
    InPlanePhaseEncodingDirection says along which of them the phase is encoded (COL: the column direction);
    the vendor's polarity says which way. Siemens' PhaseEncodingDirectionPositive = 1 runs along the vector
    (the VE11 DTI fixture: axial, COL, positive: dcm2niix "j-", the usual A >> P; the XA30 "DWI_dir80_AP"
    series holds 1 and "DWI_dir80_PA" 0). The label names the patient axis the vector runs along most.
    """
    if len(iop) != 6 or axis not in ("ROW", "COL", "COLUMN"):
        return None
    vector = [float(v) for v in (iop[3:] if axis in ("COL", "COLUMN") else iop[:3])]
    if not positive:
        vector = [-v for v in vector]
    label = direction_label(vector)
    if label is None:
        return None
    return label, f"phase along {'+' if positive else '-'}{'column' if axis != 'ROW' else 'row'} direction"


def _siemens_pe_positive(ds) -> tuple[bool, str] | None:
    """Siemens phase-encoding polarity: CSA image header (VB/VE) or (0021,111C) (XA, also per frame)."""
    csa_image = dicom_private.element(ds, "siemens_csa_image")
    if csa_image is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                items = csa.tags(csa_image.value).get("PhaseEncodingDirectionPositive")
            value = (items or [None])[0]
            if value in (0, 1):
                return bool(value), f"CSA PhaseEncodingDirectionPositive={value}"
        except Exception:  # a damaged CSA header tells nothing
            pass
    candidates = [ds]
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = ds.get(groups)
        if seq:
            for element in seq[0]:
                if element.tag.group == 0x0021 and element.VR == "SQ" and element.value:
                    candidates.append(element.value[0])
    for item in candidates:
        found = dicom_private.element(item, "siemens_xa_pe_positive")
        if found is not None:
            value = _float(found.value)
            if value in (0.0, 1.0):
                return bool(value), f"{dicom_private.tag_text(found)} PhaseEncodingDirectionPositive={value:g}"
    return None


GE_USER_DATA = canonical_tag("ge_user_data")  # "User define data": the raw header's rdb_hdr block (binary, LE)


def _ge_pe_positive(ds) -> tuple[bool, str] | None:
    """GE phase-encoding polarity of an EPI, from the binary user data (0043,102A), as dcm2niix reads it.

    The block starts with the offset of a header whose first float is its version; from version 25.002 (RX25) the
    fields sit 0x4C bytes further and the view-order field 0x8C bytes nearer. At +0x3A bit 0x800 marks an EPI, at
    +0x30 bit 0x4 a flipped phase polarity, and the view order (ky direction) at +0x394 holds 2 for bottom-up,
    which reverses it. Unflipped runs along the column/row vector (dcm2niix "PhaseEncodingPolarityGE": "Unflipped"
    = Siemens PhaseEncodingDirectionPositive 1). Only EPI states it: for other sequences dcm2niix, and we, say none.
    The dcm_qa_ge Ax DWI TENSOR fixture: polarity bit 0, view order 2, dcm2niix "Flipped" and "j".
    """
    element = dicom_private.element(ds, "ge_user_data")
    data = element.value if element is not None else None
    if not isinstance(data, bytes) or len(data) < 26:
        return None
    offset = struct.unpack_from("<H", data, 24)[0]
    if len(data) < offset + 916:
        return None
    version = struct.unpack_from("<f", data, offset)[0]
    if not 5.0 <= version <= 40.0:
        return None
    header, view_order_at = (offset + 0x4C, 0x394 - 0x8C) if version >= 25.002 else (offset, 0x394)
    if header + max(0x3A, view_order_at) + 2 > len(data):
        return None
    if not struct.unpack_from("<H", data, header + 0x3A)[0] & 0x800:
        return None  # not an EPI: the block states no polarity
    flipped = bool(struct.unpack_from("<H", data, header + 0x30)[0] & 0x4)
    bottom_up = struct.unpack_from("<H", data, header + view_order_at)[0] == 2
    if bottom_up:
        flipped = not flipped
    polarity = "flipped" if flipped else "unflipped"
    why = f"GE user data {dicom_private.tag_text(element)} v{version:.3f}: polarity {polarity}"
    return not flipped, why + (" (bottom-up view order reverses the polarity bit)" if bottom_up else "")


def _numbers_of(value: Any) -> list[float]:
    """A private multi-valued tag as floats (text or bytes split at backslashes, or a MultiValue); others skipped."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    parts = str(value).strip("\0 []").replace(",", "\\").split("\\") if isinstance(value, str) else list(value)
    numbers = []
    for part in parts:
        number = _float(part)
        if number is not None:
            numbers.append(number)
    return numbers


def _ge_private(ds, acq: Acquisition, src, kind: str) -> None:
    """GE private tags: ASSET/ARC factors, HyperBand factor (dcm_qa_ge README documents both layouts)."""
    private, where = dicom_private.element, dicom_private.tag_text
    asset = private(ds, "ge_asset_factors")
    if asset is not None and "parallel_factor" not in acq.params:
        factors = _numbers_of(asset.value)
        if factors and 0 < factors[0] <= 1:
            acq.set(
                "parallel_factor",
                round(1 / factors[0], 2),
                src(f"{where(asset)} Asset R factors={factors} (in-plane = 1 / first)"),
            )
        if kind == "3D" and len(factors) > 1 and 0 < factors[1] <= 1:
            acq.set(
                "parallel_factor_slice",
                round(1 / factors[1], 2),
                src(f"{where(asset)} Asset R factors={factors} (slice = 1 / second)"),
            )
    locations = private(ds, "ge_locations")
    if locations is not None and "slices" not in acq.params:
        # GE's count of the acquisition's slice locations: the slices of one volume, which the standard
        # ImagesInAcquisition (0020,1002) is not in a series of several volumes (dcm2niix issue 306 gives this tag
        # precedence; the DWI fixture: 2 locations, 14 images in acquisition).
        value = locations.value
        if isinstance(value, bytes) and len(value) == 2:  # SS (signed short) read as UN in an implicit-VR file
            value = struct.unpack("<h", value)[0]
        count = limits.count(value, src(where(locations))) if isinstance(value, int) else None
        if count:
            acq.set("slices", count, src(f"{where(locations)} Locations in acquisition={count}"))
    multiband = private(ds, "ge_multiband")
    if multiband is not None:
        values = _numbers_of(multiband.value)
        if values and values[0] >= 1 and float(values[0]).is_integer():
            acq.set("multiband_factor", int(values[0]), src(f"{where(multiband)} HyperBand={values} (factor first)"))


# ImageType terms of the maps computed from a diffusion series (Siemens ADC, TRACEW, FA; Philips ADC), which
# older Siemens versions write with ORIGINAL rather than DERIVED (dcm2niix issue 243): kept for the session rules.
MAP_TYPES = ("ADC", "TRACEW", "FA", "TRACE")
# A map named so in its SeriesDescription where its ImageType has no map term: "<protocol>_ADC" / "_TRACEW" /
# "_FA" mark a derived map whatever the ImageType (dcm2niix's reproin emulation, console/reproin.cpp,
# reproinIsDerived), and a series all of whose images are DERIVED named "ADC …" or "Apparent Diffusion
# Coefficient …" is the ADC map a console computed (GE names it so).
MAP_SUFFIX = re.compile(r"_(ADC|TRACEW|TRACE|FA)(?![A-Za-z0-9])", re.I)
MAP_WORDS = re.compile(r"(?<![A-Za-z])(?:ADC|apparent diffusion coefficient)(?![A-Za-z])", re.I)


def _a_map(acq: Acquisition) -> bool:
    """Whether the series is a diffusion map (ADC, TRACEW, FA...), which has no b-values or directions of its own;
    a series that is only DERIVED (GE's corrected images of an acquisition) keeps its acquisition's."""
    return bool(set(acq.get("derived") or []) & set(MAP_TYPES))


def _map_named(description: str, derived: list[str], diffusion: bool = False) -> str | None:
    """The map kind a series' own name states (see MAP_SUFFIX), or None; never for a series holding a map term,
    nor by its words for a series holding several b-values (the diffusion acquisition itself, "DWI … ADC")."""
    if set(derived) & set(MAP_TYPES):
        return None
    found = MAP_SUFFIX.search(description)
    if found:
        return found.group(1).upper()
    if "DERIVED" in derived and not diffusion and MAP_WORDS.search(description):
        return "ADC"
    return None


# A Contrast/Bolus Agent (0018,0010) saying none was given; the attribute is Type 2 (PS3.3 C.7.6.4): present in
# the module, and left empty where the console was told nothing, which says nothing either way.
NO_AGENT = re.compile(r"^(?:none|no|non|nil|n/?a|sans|aucun|keine?|0|-+|no contrast|sans injection)$", re.I)
CONTRAST_TAGS = (  # Contrast/Bolus Module attributes that state an injection when they hold a value (PS3.3 C.7.6.4)
    ("ContrastBolusIngredient", "ContrastBolusIngredient (0018,1048)"),  # IODINE, GADOLINIUM, ...
    ("ContrastBolusVolume", "ContrastBolusVolume (0018,1041)"),
    ("ContrastBolusTotalDose", "ContrastBolusTotalDose (0018,1044)"),
)


def _contrast(ds, acq: Acquisition, src, here: str) -> None:
    """Whether contrast was given for this series, from the Contrast/Bolus Module (PS3.3 C.7.6.4; its enhanced
    form C.7.6.4b). The module is required in an MR image when contrast was used; a console writing its Type 2
    agent attribute empty on every series (Philips does) states nothing, so that is read as an absence (implied),
    which a post-contrast name still outranks. An agent naming none states the absence."""
    administered = str(_first(ds, "ContrastBolusUsageSequence", "ContrastBolusAgentAdministered") or "").upper()
    if administered in ("YES", "NO"):
        # Enhanced MR: the Contrast/Bolus Usage functional group (0018,9341) states per frame whether the agent
        # was administered (0018,9342, YES/NO): the object's own answer.
        acq.set("contrast_agent", administered == "YES", src(f"ContrastBolusAgentAdministered={administered}"))
        return
    agent = str(ds.get("ContrastBolusAgent") or "").strip() if "ContrastBolusAgent" in ds else None
    if agent and NO_AGENT.match(agent):
        acq.set("contrast_agent", False, src("ContrastBolusAgent names no agent"))
        return
    given = "ContrastBolusAgent" if agent else None
    if not given and ds.get("ContrastBolusAgentSequence"):
        given = "ContrastBolusAgentSequence"
    for keyword, label in CONTRAST_TAGS if not given else ():
        value = ds.get(keyword)
        number = _float(value) if keyword != "ContrastBolusIngredient" else None
        if (keyword == "ContrastBolusIngredient" and str(value or "").strip()) or (number and number > 0):
            given = label
            break
    if given:
        # The injection's own start time (0018,1042) after this series' acquisition: the module describes the
        # exam's injection, and this series was acquired before it (a console that files the agent for the exam).
        start, when = _seconds(ds.get("ContrastBolusStartTime")), _seconds(ds.get("AcquisitionTime"))
        if start is not None and when is not None and when < start:
            acq.set(
                "contrast_agent",
                False,
                src(f"{given}, but AcquisitionTime {ds.AcquisitionTime} before ContrastBolusStartTime "
                    f"{ds.ContrastBolusStartTime}"),
            )  # fmt: skip
            return
        acq.set("contrast_agent", True, src(given))
        return
    if agent is not None:
        acq.set("contrast_agent", False, f"implied: ContrastBolusAgent (0018,0010) empty in {here} (Type 2)")
    else:  # PS3.3: the (Enhanced) Contrast/Bolus Module is required in an MR image if contrast was used
        acq.set("contrast_agent", False, f"implied: no Contrast/Bolus module in {here}")


def _seconds(tm: Any) -> float | None:
    """A DICOM TM (HHMMSS.FFFFFF, PS3.5 table 6.2-1) as seconds since midnight; None when not a plain time."""
    text = str(tm or "").strip()
    digits, _, fraction = text.partition(".")
    if len(digits) != 6 or not digits.isdigit() or (fraction and not fraction.isdigit()):
        return None
    return int(digits[:2]) * 3600 + int(digits[2:4]) * 60 + int(digits[4:]) + float(f"0.{fraction or 0}")


def _acquisition(path: Source, s: Series, warnings_out: list[str]) -> Acquisition:
    ds = _dcmread(path)
    name = str(ds.get("SeriesDescription") or ds.get("ProtocolName") or path.stem)
    number = ds.get("SeriesNumber")
    acq = Acquisition(f"{number} {name}".strip() if number is not None else name)
    here = path.name

    def src(tag: str) -> str:
        return f"{here} {tag}"

    vendor = manufacturer(str(ds.get("Manufacturer", "")))
    acq.set("manufacturer", vendor, src(f"Manufacturer={ds.get('Manufacturer')!s}"))
    acq.context.update(_context(ds, path))
    for tag, param in (("ManufacturerModelName", "model"), ("SoftwareVersions", "software_version")):
        value = ds.get(tag)
        if value:
            acq.set(param, "\\".join(value) if not isinstance(value, str) else value, src(tag))
    with acq.reading("MagneticFieldStrength"):
        field = _float(ds.get("MagneticFieldStrength")) if ds.get("MagneticFieldStrength") is not None else None
        if field is not None and 1000 <= field <= 120000:
            # Older GE Signa systems write (0018,0087) in gauss (15000 for 1.5 T), the unit GE's own protocol
            # exports use (session.xml fieldstrength 30000): no magnet is 1000 T.
            acq.set("field_strength_t", field / 10000, src(f"MagneticFieldStrength={field:g} (gauss, ÷ 10 000)"))
        else:
            acq.set("field_strength_t", ds.get("MagneticFieldStrength"), src("MagneticFieldStrength"))
    if ds.get("SeriesDescription"):
        acq.set("series_description", str(ds.SeriesDescription), src("SeriesDescription"))
    with acq.reading("SeriesNumber"):
        acq.set("series_number", number, src("SeriesNumber"))
    if ds.get("AcquisitionTime"):
        acq.set("acquisition_time", iso_time(str(ds.AcquisitionTime)), src(f"AcquisitionTime={ds.AcquisitionTime}"))
    elif ds.get("AcquisitionDateTime"):
        # Enhanced MR objects state no AcquisitionTime but the Acquisition DateTime (0008,002A) of the Enhanced MR
        # Image module (PS3.3 C.8.13.1, YYYYMMDDHHMMSS.FFFFFF&ZZXX): its time of day is the same fact.
        stamp = str(ds.AcquisitionDateTime).strip()
        clock = re.split(r"[+&-]", stamp[8:], maxsplit=1)[0]
        if len(stamp) >= 14 and stamp[:8].isdigit():
            acq.set("acquisition_time", iso_time(clock), src(f"AcquisitionDateTime={stamp}"))
    kind = str(ds.get("MRAcquisitionType", "")).upper()
    if kind in ("2D", "3D"):
        acq.set("acquisition_type", kind, src("MRAcquisitionType"))
    scanning = (
        "\\".join(ds.get("ScanningSequence") or [])
        if not isinstance(ds.get("ScanningSequence"), str)
        else ds.ScanningSequence
    )
    for (macro, tag), param in (
        (("MRTimingAndRelatedParametersSequence", "RepetitionTime"), "repetition_time_ms"),
        (("MREchoSequence", "EffectiveEchoTime"), "echo_time_ms"),
        (("MRTimingAndRelatedParametersSequence", "FlipAngle"), "flip_angle_deg"),
        (("MRTimingAndRelatedParametersSequence", "EchoTrainLength"), "echo_train_length"),
        (("MRAveragesSequence", "NumberOfAverages"), "averages"),
        (("PixelMeasuresSequence", "SliceThickness"), "slice_thickness_mm"),
    ):
        value = _first(ds, macro, tag) if tag != "EffectiveEchoTime" else (ds.get("EchoTime") or _first(ds, macro, tag))
        if _float(value) is not None and _float(value) > 0:
            acq.set(
                param, _float(value), src(tag if tag != "EffectiveEchoTime" or "EchoTime" not in ds else "EchoTime")
            )
    inversion = ds.get("InversionTime")
    if inversion is None:  # enhanced: InversionTimes, which pydicom gives as a float when it holds one value
        inversion = _float(_first(ds, "MRModifierSequence", "InversionTimes"))
    has_ir = "IR" in scanning.upper().split("\\") or str(_first(ds, "MRModifierSequence", "InversionRecovery")) == "YES"
    variant = ds.get("SequenceVariant") or []
    variant = [variant] if isinstance(variant, str) else [str(v) for v in variant]
    # An inversion-prepared gradient echo need not say IR in ScanningSequence: GE IR-FSPGR/BRAVO write "GR" only
    # (spine-generic sub-tokyoSigna1: dcm2niix's InversionTime 1 s beside ScanningSequence GR), others mark the
    # preparation "MP" (magnetization prepared, SequenceVariant). GE writes InversionTime 0 when there is none.
    prepared = "MP" in [v.strip().upper() for v in variant] or vendor == "ge"
    if _float(inversion) and (has_ir or prepared):
        acq.set(
            "inversion_time_ms",
            _float(inversion),
            src("InversionTime" if has_ir else "InversionTime (an inversion-prepared gradient echo)"),
        )
    elif vendor == "philips" and inversion is None:
        _philips_prepulse(ds, acq, src)
    spacing = _first(ds, "PixelMeasuresSequence", "PixelSpacing")
    thickness = acq.get("slice_thickness_mm")
    with acq.reading("PixelSpacing"):
        if spacing and thickness:
            acq.set(
                "reconstructed_voxel_mm",
                [float(spacing[1]), float(spacing[0]), thickness],
                src(f"PixelSpacing={[float(v) for v in spacing]} + SliceThickness={thickness:g}"),
            )
    between = _first(ds, "PixelMeasuresSequence", "SpacingBetweenSlices")
    if _float(between) is not None and thickness is not None and kind == "2D":
        acq.set("slice_gap_mm", round(_float(between) - thickness, 6), src("SpacingBetweenSlices - SliceThickness"))
    iop = _first(ds, "PlaneOrientationSequence", "ImageOrientationPatient")
    with acq.reading("ImageOrientationPatient"):
        if iop:
            plane = plane_from_iop([float(v) for v in iop])
            if plane is not None:
                acq.set("orientation", plane[0], src(f"ImageOrientationPatient: {plane[1]}"))
    stack = None
    if iop and ds.get("PerFrameFunctionalGroupsSequence"):
        with acq.reading("PlanePositionSequence"):
            stack = _frame_stack(ds, [float(v) for v in iop])
    if stack is not None and "slices" not in acq.params:
        acq.set("slices", stack[0], src(f"per-frame ImagePositionPatient: {stack[0]} positions along the normal"))
    if stack is not None and acq.get("slice_gap_mm") is None and thickness is not None and kind == "2D":
        apart = stack[1]
        acq.set(
            "slice_gap_mm",
            round(apart - thickness, 6),
            src(
                f"per-frame ImagePositionPatient: slices {apart:g} mm apart along the slice normal "
                f"- SliceThickness {thickness:g}"
            ),
        )
    matrix = ds.get("AcquisitionMatrix")
    direction = str(
        ds.get("InPlanePhaseEncodingDirection")
        or _first(ds, "MRFOVGeometrySequence", "InPlanePhaseEncodingDirection")
        or ""
    )
    if direction == "COLUMN":  # the enhanced objects' spelling (MR FOV/Geometry macro) of classic "COL"
        direction = "COL"
    if matrix and len(matrix) == 4 and direction in ("ROW", "COL"):
        read, phase = (
            (matrix[1] or matrix[0], matrix[2] or matrix[3])
            if direction == "COL"
            else (matrix[0] or matrix[1], matrix[3] or matrix[2])
        )
        acq.set(
            "matrix", [read, phase], src(f"AcquisitionMatrix={list(matrix)}, InPlanePhaseEncodingDirection={direction}")
        )
    else:  # enhanced MR (Philips, Canon, Siemens XA): the MR FOV/Geometry macro states the acquired steps
        read = _float(_first(ds, "MRFOVGeometrySequence", "MRAcquisitionFrequencyEncodingSteps"))
        phase = _float(_first(ds, "MRFOVGeometrySequence", "MRAcquisitionPhaseEncodingStepsInPlane"))
        if read and phase:
            acq.set(
                "matrix",
                [read, phase],
                src(f"MRAcquisitionFrequencyEncodingSteps={read:g}, MRAcquisitionPhaseEncodingStepsInPlane={phase:g}"),
            )
    mosaic = "MOSAIC" in s.image_types  # Rows × Columns tile many slices: the FoV is not Rows × PixelSpacing
    rows, columns = ds.get("Rows"), ds.get("Columns")
    if spacing and rows and columns and direction in ("ROW", "COL") and not mosaic:
        # The reconstructed FoV; the phase axis runs along the columns (COL: vertical, rows count it) or the rows.
        vertical, horizontal = float(rows) * float(spacing[0]), float(columns) * float(spacing[1])
        read_fov, phase_fov = (horizontal, vertical) if direction == "COL" else (vertical, horizontal)
        acq.set(
            "fov_mm",
            [round(read_fov, 4), round(phase_fov, 4)],
            src(f"Rows={rows}, Columns={columns} × PixelSpacing, InPlanePhaseEncodingDirection={direction}"),
        )
    if iop and direction in ("ROW", "COL") and vendor in ("siemens", "ge"):
        polarity = None
        with acq.reading("phase-encoding polarity"):  # a damaged private block leaves only this value absent
            polarity = _siemens_pe_positive(ds) if vendor == "siemens" else _ge_pe_positive(ds)
        found = phase_direction([float(v) for v in iop], direction, polarity[0]) if polarity else None
        if found:
            acq.set(
                "phase_encoding_direction",
                found[0],
                src(f"InPlanePhaseEncodingDirection={direction} + {polarity[1]} + IOP ({found[1]})"),
            )
    bandwidth = ds.get("PixelBandwidth") or _first(ds, "MRImagingModifierSequence", "PixelBandwidth")
    if _float(bandwidth):
        acq.set("pixel_bandwidth_hz", _float(bandwidth), src("PixelBandwidth"))
    parallel = _first(ds, "MRModifierSequence", "ParallelReductionFactorInPlane")
    if _float(parallel):
        acq.set("parallel_factor", _float(parallel), src("ParallelReductionFactorInPlane"))
    if kind == "3D":
        out_of_plane = _first(ds, "MRModifierSequence", "ParallelReductionFactorOutOfPlane")
        if _float(out_of_plane):
            acq.set("parallel_factor_slice", _float(out_of_plane), src("ParallelReductionFactorOutOfPlane"))
    _parallel_mode(ds, acq, src)
    if vendor == "ge":
        _ge_private(ds, acq, src, kind)
    elif vendor == "philips":
        _philips_slices(ds, acq, src)
    if str(_first(ds, "MRModifierSequence", "PartialFourier") or "").upper() == "NO":
        # Only "NO" tells a fraction (1.0, full k-space); "YES" leaves the fraction unsaid.
        acq.set("partial_fourier", 1.0, src("PartialFourier=NO"))
    transfer = str(_first(ds, "MRImagingModifierSequence", "MagnetizationTransfer") or "").upper()
    if transfer in ("NONE", "ON_RESONANCE", "OFF_RESONANCE"):
        acq.set("magnetization_transfer", transfer != "NONE", src(f"MagnetizationTransfer={transfer}"))
    elif vendor == "ge" and "MT_GEMS" in str(ds.get("ScanOptions") or "").upper():
        acq.set("magnetization_transfer", True, src("ScanOptions contains MT_GEMS"))
    _contrast(ds, acq, src, here)
    derived = sorted(t for t in MAP_TYPES if t in s.image_types)
    if "DERIVED" in s.image_types and "ORIGINAL" not in s.image_types and "MIXED" not in s.image_types:
        # ImageType value 1 (PS3.3 C.7.6.1.1.2): DERIVED = "pixel values have been derived in some manner from
        # the pixel values of one or more other images", in every file of the series (a series mixing original
        # and derived images, as Philips stores a DWI with its trace, stays the acquisition it holds).
        derived.append("DERIVED")
    how = f"{here} ImageType"
    shells = {round(b) for b in s.b_values if b >= 25} | ({0} if any(b < 25 for b in s.b_values) else set())
    named = _map_named(str(ds.get("SeriesDescription") or ""), derived, len(shells) > 1)
    if named:
        derived = sorted(set(derived) | {named})
        how += f" + SeriesDescription naming a {named} map"
    if derived:
        acq.set("derived", derived, how)
    if s.image_types:
        # Every ImageType term the series' files state (the exam model and matching read what kind of derived
        # or partial image it is from it: matching-evidence.yaml `image_types`).
        acq.context["image_type"] = "\\".join(sorted(s.image_types))
    if s.b_values and max(s.b_values) >= 25:  # GE writes b=0 into every series; only a diffusion series has b > 0
        shells = set(nominal_shells(s.b_values))
        how = f"{len(s.files)} file(s): diffusion b-value tags"
        if len(shells) < len({5 * round(b / 5) for b in s.b_values}):
            how += " (grouped into shells: bshells.py)"
        if vendor == "canon" and s.unweighted and 0.0 not in shells:
            # Toshiba/Canon omit the b-value tag from the b=0 images of a diffusion series (dcm2niix reads such a
            # file as b=0 too): a file of the series without one is its b0.
            shells.add(0.0)
            how += f"; {s.unweighted} file(s) without a b-value tag: b=0 (Canon/Toshiba omit it from b0 images)"
        shells = sorted(shells)
        acq.set("b_values", shells, how)
        top = max(shells)
        if top > 0 and s.vectors:
            from .bids import count_directions

            vectors = [v[1:] for v in s.vectors if v[0] > 0.5 * top]
            acq.set(
                "diffusion_directions",
                count_directions(vectors),
                f"{len(s.files)} file(s): gradient directions at b≈{top:g}",
            )
        prescribed = dicom_private.element(ds, "ge_diffusion_directions") if vendor == "ge" else None
        stated = _float(prescribed.value) if prescribed is not None else None
        if top > 0 and stated and stated >= 1 and float(stated).is_integer():
            # The prescription, not the files at hand: a partial export of the series still says how many.
            counted = acq.get("diffusion_directions")
            if counted is not None and counted < stated:
                warnings_out.append(
                    f"{acq.name}: {counted} of {stated:g} prescribed diffusion directions present in the files "
                    f"read (incomplete series?); reporting the header's {stated:g}"
                )
            acq.set(
                "diffusion_directions",
                int(stated),
                src(f"{dicom_private.tag_text(prescribed)} number of diffusion directions={stated:g}"),
            )
    planes = planes_of(s.normals)
    if len(planes) > 1:
        # The images of one series in planes at right angles (ImageOrientationPatient, PS3.3 C.7.6.2.1.1): one
        # stack of slices has one normal; a series holding several is a multi-plane localizer (the GE "3-Plane
        # Localizer" fixture: sagittal and axial images in one series), whatever its name says.
        acq.set(
            "image_planes",
            planes,
            f"{len(s.files)} file(s): ImageOrientationPatient of the images in {len(planes)} planes "
            f"({', '.join(planes)}; slice normals more than {SEVERAL_PLANES_DEG:g}° apart)",
        )
        for key in ("orientation", "phase_encoding_direction"):  # one file's plane is not the series'
            acq.params.pop(key, None)
            acq.provenance.pop(key, None)
    if s.echo_numbers:
        acq.context["echo_numbers"] = ",".join(str(n) for n in sorted(s.echo_numbers))
    if s.echo_times:
        acq.context["series_echo_times"] = "/".join(f"{t:g}" for t in sorted(s.echo_times))
    if s.echo_times:
        times = sorted(s.echo_times)
        acq.set("echo_times_ms", times, f"{len(s.files)} file(s): EchoTime / EffectiveEchoTime values")
    comments = str(ds.get("ImageComments") or "")[:4096]
    mb = re.search(r"\bMB(\d+)\b", comments) if vendor == "siemens" else None
    if mb:  # CMRR multiband sequences state it here ("Unaliased MB3/PE3/LB SENSE1")
        # ImageComments is free text (DICOM PS3.15's basic profile removes it): the factor is read, the text
        # is never copied into provenance or any output.
        acq.set("multiband_factor", int(mb.group(1)), src("ImageComments (free text, not copied)"))
    if vendor == "siemens":
        protocol = _siemens_protocol(ds)
        if protocol:
            fill = Acquisition(acq.name)
            values = ascconv.parse(protocol)
            ascconv.to_acquisition(values, fill, f"{here} CSA ASCCONV")
            coil = ascconv.coils(values)
            if coil:  # region evidence where (0018,1250) is empty (VB/VE classic): the coils the protocol selects
                acq.context.setdefault("coil", coil)
            # A protocol value left absent that the image header states anyway is no loss: not warned about.
            acq.warnings += [
                w for w in fill.warnings if not any(w.startswith(f"{fill.name}: {p} from ") for p in acq.params)
            ]
            counted, prescribed = acq.get("diffusion_directions"), fill.get("diffusion_directions")
            if counted is not None and prescribed is not None and counted < prescribed:
                # Fewer directions in the files than the protocol prescribes: the series is incomplete here.
                acq.params.pop("diffusion_directions")
                warnings_out.append(
                    f"{acq.name}: {counted} of {prescribed} prescribed diffusion directions present "
                    f"in the files read (incomplete series?); reporting the protocol's {prescribed}"
                )
            several = "image_planes" in acq.params  # a multi-plane localizer: the first slice's plane is not its
            for param, value in fill.params.items():
                diffusion = param in ("b_values", "diffusion_directions")
                planar = param in ("orientation", "phase_encoding_direction") and several
                if param not in acq.params and not (diffusion and _a_map(acq)) and not planar:
                    acq.set(param, value, fill.provenance[param])
            _protocol_echoes(acq, fill, s)
    # After the protocol: it names the variant.
    for attribute in ("ScanOptions", "SequenceVariant", "SpectrallySelectedSuppression"):
        for param, value, term in dicom_terms.stated(attribute, ds.get(attribute)):
            if param not in acq.params:
                acq.set(param, value, src(f"{attribute} {term} (DICOM defined term)"))
    set_family(
        acq,
        here,
        scanning_sequence=scanning,
        sequence_variant="\\".join(ds.get("SequenceVariant") or []) if ds.get("SequenceVariant") else "",
        sequence_name=" ".join(
            [str(ds.get(t) or "") for t in ("SequenceName", "PulseSequenceName")]
            + [str(dicom_private.value(ds, name) or "") for name in ("ge_pulse_sequence", "philips_technique")]
        ),
        description=f"{ds.get('SeriesDescription') or ''} {_series_protocol(ds, vendor) or ''}",
    )
    if vendor == "ge":  # after every value the images state: the series protocol fills only what they leave out
        try:
            ge_dicom_protocol.merge(ds, acq, here, warnings_out, _a_map(acq))
        except Exception as exc:  # a crafted block costs its own values only, never the series' images
            warnings_out.append(
                f"{acq.name}: {here} {ge_dicom_protocol.TAG} GE series protocol not read ({type(exc).__name__}); "
                "the images' values stand"
            )
    _acquisition_duration(ds, acq, src)
    return acq


def _acquisition_duration(ds, acq: Acquisition, src) -> None:
    """The acquisition's duration from the DICOM Acquisition Duration (0018,9073, FD, seconds), which Philips
    (classic and enhanced), Canon and Siemens enhanced objects write, where no protocol stated one before: a
    Siemens protocol's lTotalScanTimeSec is the console's TA and stays (88 s on the XA30 DWI fixture, whose
    enhanced images state 91.227 s: the two are not the same measure, and the console's is the one a card sets)."""
    if "duration_s" in acq.params:
        return
    with acq.reading("AcquisitionDuration"):
        seconds = _float(ds.get("AcquisitionDuration"))
        if seconds is not None and 0 < seconds < 86400:
            acq.set("duration_s", round(seconds, 3), src(f"AcquisitionDuration={seconds:g} s"))


def _frame_stack(ds, iop: list[float]) -> tuple[int, float] | None:
    """The slice positions of an enhanced object: each frame's ImagePositionPatient (Plane Position functional
    group, PS3.3 C.7.6.16.2.3: the centre of its first voxel) projected on the slice normal. (How many distinct
    positions, the distance between neighbours) for one evenly spaced stack (every step the same within 0.01
    mm); None otherwise. An enhanced object holds every frame of its acquisition, the volumes of a DWI at the
    same positions, so the positions are its slices (the Canon V6.1 DTI fixture: 520 frames, 13 volumes, 40
    positions)."""
    normal = slice_normal(iop)
    frames = ds.get("PerFrameFunctionalGroupsSequence")
    if normal is None or not frames:
        return None
    where = set()
    for frame in frames:
        for plane in frame.get("PlanePositionSequence") or []:
            position = plane.get("ImagePositionPatient")
            if position is not None and len(position) == 3:
                try:
                    where.add(round(sum(float(p) * n for p, n in zip(position, normal, strict=True)), 3))
                except (TypeError, ValueError):
                    return None
    if len(where) < 2 or not all(math.isfinite(v) for v in where):
        return None
    ordered = sorted(where)
    steps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    if max(steps) - min(steps) > 0.01:
        return None
    return len(ordered), round(sum(steps) / len(steps), 3)


SEVERAL_PLANES_DEG = 45.0  # normals this far apart are two planes, not one stack tilted slab by slab


def planes_of(normals: set[tuple[float, float, float]]) -> list[str]:
    """The planes of a series' slice normals, when they differ: each normal's nearest plane (sagittal, coronal,
    axial), listed only where two normals of the series are more than SEVERAL_PLANES_DEG apart. Stacks tilted
    slab by slab along a spine, or an oblique stack whose normal sits near 45°, are one plane ([])."""
    if len(normals) < 2:
        return []
    unit = []
    for n in normals:
        length = math.sqrt(sum(v * v for v in n))
        if length:
            unit.append([v / length for v in n])
    limit = math.cos(math.radians(SEVERAL_PLANES_DEG))
    cosines = (abs(sum(a * b for a, b in zip(u, v, strict=True))) for i, u in enumerate(unit) for v in unit[:i])
    apart = any(c < limit for c in cosines)
    if not apart:
        return []
    order = ("sagittal", "coronal", "axial")
    named = {found[2] for found in (plane_of_normal(n) for n in unit) if found}
    return [p for p in order if p in named]


def _protocol_echoes(acq: Acquisition, protocol: Acquisition, s: Series) -> None:
    """A Siemens series holding some of its protocol's echoes: the protocol (ASCCONV alTE[0..lContrasts-1])
    states every echo of the acquisition, the files only those stored in this series (one series per echo: XA
    classic may write no EchoNumbers, dcm2niix issue 568). Every echo is the protocol's; where the files state no
    EchoNumbers, their place in the protocol's echoes is their echo number (for joining the echo series)."""
    echoes = protocol.get("echo_times_ms") or []
    own = sorted(s.echo_times)
    if len(echoes) < 2 or not own or not all(any(abs(t - e) < 0.01 for e in echoes) for t in own):
        return
    if len(own) < len(echoes):
        acq.set(
            "echo_times_ms",
            list(echoes),
            f"{protocol.provenance['echo_times_ms']}; this series' files hold echo time(s) "
            f"{'/'.join(f'{t:g}' for t in own)} ms of them",
        )
    if not s.echo_numbers:
        places = sorted({1 + min(range(len(echoes)), key=lambda i: abs(echoes[i] - t)) for t in own})
        acq.context["echo_numbers"] = ",".join(str(n) for n in places)
        acq.context["echo_numbers_from"] = "echo number = place in the CSA protocol's alTE"


def _series_protocol(ds, vendor: str | None) -> str | None:
    """The ProtocolName (0018,1030) where it names the series' own protocol (Siemens, Philips, Canon write the
    step's name there). GE writes the exam's protocol in it, the same for every series of the exam (dcm_qa_ge:
    "Brain Advanced Sequences" on its MP-RAGE and on its DWI; dcm_qa_table: "Jaemin_Test" on a localizer): that
    names the exam, never one series, so it is no sequence evidence (a protocol named "… SWAN …" would make
    every series an SWI), only the exam's, beside its study description."""
    name = ds.get("ProtocolName")
    if not name:
        return None
    if vendor == "ge" and ds.get("SeriesDescription"):
        return None
    return str(name)


def _context(ds, path: Source) -> dict[str, str]:
    """Grouping keys (UIDs and serials only as one-way digests) and region evidence, for the exam model."""
    from ..exams import digest

    out = {"source": str(path)}
    study = str(ds.get("StudyInstanceUID") or "")
    if study:
        out["study"] = digest(study)
    unit = str(ds.get("DeviceSerialNumber") or ds.get("StationName") or "")
    out["scanner"] = (
        f"{ds.get('Manufacturer') or ''}|{ds.get('ManufacturerModelName') or ''}|{digest(unit) if unit else ''}"
    )
    vendor = manufacturer(str(ds.get("Manufacturer", "")))
    for tag, key in (
        ("BodyPartExamined", "body_part"),
        ("StudyDescription", "study_description"),
        ("ProtocolName", "protocol_name" if _series_protocol(ds, vendor) else "exam_protocol"),
    ):
        if ds.get(tag):
            out[key] = str(ds.get(tag))
    coil = ds.get("ReceiveCoilName") or _first(ds, "MRReceiveCoilSequence", "ReceiveCoilName")
    if coil:
        out["coil"] = str(coil)
    region = ds.get("AnatomicRegionSequence") or _first(ds, "FrameAnatomySequence", "AnatomicRegionSequence")
    if region:
        code = region[0].get("CodeValue")
        if code:
            out["anatomy"] = str(code)
    return out


def _siemens_protocol(ds) -> str | None:
    """MrPhoenixProtocol text: CSA series header (VB/VE), XA classic (0021,1019), XA enhanced (nested)."""
    series_header = dicom_private.element(ds, "siemens_csa_series")  # (0029,xx20), in its creator's block
    if series_header is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                header = csa.tags(series_header.value)
            for key in ("MrPhoenixProtocol", "MrProtocol"):
                items = header.get(key)
                if items:
                    return str(items[0])
        except Exception:  # a damaged CSA header: the standard tags still stand
            return None
    candidates = [ds]
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        for item in dicom_private.value(shared[0], "siemens_xa_protocol_item") or []:
            candidates.append(item)
    for item in candidates:
        found = dicom_private.element(item, "siemens_xa_protocol")
        if found is not None:
            value = found.value
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None
