"""A fast walk over the start of a DICOM header, for the per-file scan of large exams.

pydicom builds a Python object for every element; the scan needs about ten tags below group 0x0021 from each of
thousands of files. This walks explicit-VR little-endian elements with `struct` and returns the raw values of the
wanted tags only. Implicit-VR little endian (GE's usual) is walked too. It declines (returns None) on anything else
— big endian, deflate, a malformed length — and the caller then uses pydicom, which is also the reference the
tests hold this to, file by file. Undefined-length sequences are skipped item by item; nothing inside
them is wanted by the scan.
"""

from __future__ import annotations

import struct

EXPLICIT_LE = (
    {"1.2.840.10008.1.2.1"}
    | {f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 57, 70, 80, 81, 90, 91, 92, 93, 100, 101, 102, 103)}
    | {"1.2.840.10008.1.2.5"}
)
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
IMPLICIT_LE = "1.2.840.10008.1.2"
_HEAD = struct.Struct("<HH2s")
_IMPLICIT = struct.Struct("<HHI")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


Resume = tuple[int, bool]  # where a walk stopped (offset of the first element at or past its limit), implicit VR


def walk(
    data: bytes, wanted: set[int], limit: int, resume: Resume | None = None
) -> tuple[dict[int, tuple[bytes, bytes]], str, Resume] | None:
    """{tag: (VR, raw value)} of `wanted` tags below `limit`, the transfer syntax and where the walk stopped;
    None to decline. `resume` (a previous walk's stop) walks on from there instead of from the start, so a
    caller that needs a few tags further on pays only for the elements in between."""
    if len(data) < 132 or data[128:132] != b"DICM":
        return None
    found: dict[int, tuple[bytes, bytes]] = {}
    syntax = ""
    at = 132
    end = len(data)
    in_meta = True
    implicit = False
    if resume is not None:
        at, implicit = resume
        in_meta = False
    while at + 8 <= end:
        group, element, vr = _HEAD.unpack_from(data, at)
        tag = (group << 16) | element
        if in_meta and group != 0x0002:
            in_meta = False
            if syntax == IMPLICIT_LE:
                implicit = True
            elif syntax not in EXPLICIT_LE:
                return None
        if tag >= limit:
            return found, syntax, (at, implicit)
        header = _element_header(data, at, implicit)
        if header is None:
            return None
        vr, length, start = header
        if length == 0xFFFFFFFF:
            if not implicit and vr not in (b"SQ", b"UN"):
                return None
            after = _skip_undefined(data, start, implicit)
            if after is None:
                return None
            at = after
            continue
        if start + length > end:
            return None  # past the prefix: pydicom's job
        if in_meta and tag == 0x00020010:
            syntax = data[start : start + length].rstrip(b"\0 ").decode("ascii", "replace")
        if tag in wanted:
            found[tag] = (vr, data[start : start + length])
        at = start + length
    return None  # ran out of prefix before the limit


def _element_header(data: bytes, at: int, implicit: bool) -> tuple[bytes, int, int] | None:
    """(VR, value length, value offset) of the element at `at`; None when it is not a sane header."""
    if implicit:
        return b"", _IMPLICIT.unpack_from(data, at)[2], at + 8
    vr = data[at + 4 : at + 6]
    if not vr.isalpha() or not vr.isupper():
        return None
    if vr in LONG_VRS:
        if at + 12 > len(data):
            return None
        return vr, _U32.unpack_from(data, at + 8)[0], at + 12
    return vr, _U16.unpack_from(data, at + 6)[0], at + 8


ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
MAX_DEPTH = 16


def _skip_undefined(data: bytes, at: int, implicit: bool, depth: int = 0) -> int | None:
    """Offset just past an undefined-length sequence starting at `at` (its first item), or None."""
    end = len(data)
    if depth > MAX_DEPTH:
        return None
    while at + 8 <= end:
        group, element, length = _IMPLICIT.unpack_from(data, at)
        tag = (group << 16) | element
        at += 8
        if tag == SEQUENCE_END:
            return at
        if tag != ITEM:
            return None
        if length != 0xFFFFFFFF:
            at += length
            continue
        # An undefined-length item: its elements run to an item delimiter.
        while True:
            if at + 8 > end:
                return None
            group, element, vr = _HEAD.unpack_from(data, at)
            tag = (group << 16) | element
            if tag == ITEM_END:
                at += 8
                break
            header = _element_header(data, at, implicit)
            if header is None:
                return None
            _, length, at = header
            if length == 0xFFFFFFFF:
                after = _skip_undefined(data, at, implicit, depth + 1)
                if after is None:
                    return None
                at = after
            else:
                at += length
    return None
