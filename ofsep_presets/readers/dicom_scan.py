"""A fast walk over the start of a DICOM header, for the per-file scan of large exams.

pydicom builds a Python object for every element; the scan needs about ten tags below group 0x0021 from each of
thousands of files. This walks the top-level elements with `struct` (one unpack per element, lengths followed,
values never decoded) and returns the raw values of the wanted tags only. Explicit-VR little endian is the
common case; implicit-VR little endian (GE's usual) is walked too. It declines (DECLINE) on anything else — big
endian, deflate, an unknown VR, a dataset whose first element contradicts its transfer syntax (pydicom would
switch encoding there), a malformed length — and the caller then uses pydicom, which is also the reference the
tests hold this to, file by file. A walk that runs out of the bytes it was given says so (SHORT) so that the
caller can read more of the file and resume, rather than start again. Undefined-length sequences are skipped
item by item; nothing inside them is wanted by the scan.

The walk is bounded by construction: every step moves forward by at least 8 bytes of the buffer it was given.
"""

from __future__ import annotations

import struct
from bisect import bisect_left

EXPLICIT_LE = (
    {"1.2.840.10008.1.2.1"}
    | {f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 57, 70, 80, 81, 90, 91, 92, 93, 100, 101, 102, 103)}
    | {"1.2.840.10008.1.2.5"}
)
IMPLICIT_LE = "1.2.840.10008.1.2"
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
SHORT_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"PN", b"SH", b"SL",
    b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
}  # fmt: skip
# VR -> True when its length is 4 bytes after 2 reserved ones (PS3.5 7.1.2); a VR not here is not walked.
VRS = {vr: True for vr in LONG_VRS} | {vr: False for vr in SHORT_VRS}
_ELEMENT = struct.Struct("<HH2sH")  # group, element, VR, 16-bit length (explicit VR)
_IMPLICIT = struct.Struct("<HHI")  # group, element, 32-bit length (implicit VR; also item tags)
_U32 = struct.Struct("<I")
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
MAX_DEPTH = 16

DECLINE = None  # not a file this walk reads: pydicom's job
SHORT = "short"  # the bytes ran out before the limit: read more of the file and resume

Resume = tuple[int, bool]  # where a walk stopped (offset of the first element at or past its limit), implicit VR
Walked = tuple[dict[int, tuple[bytes, bytes]], str, Resume]


def walk(data: bytes, wanted: set[int], limit: int, resume: Resume | None = None) -> Walked | str | None:
    """({tag: (VR, raw value)} of `wanted` top-level tags below `limit`, the transfer syntax, where the walk
    stopped); DECLINE (None) or SHORT. `resume` (a previous walk's stop) walks on from there instead of from
    the start, so a caller that needs a few tags further on pays only for the elements in between."""
    if resume is not None:
        at, implicit = resume
        found: dict[int, tuple[bytes, bytes]] = {}
        return _templated(data, at, implicit, wanted, limit, found, "")
    if len(data) < 132:
        return SHORT if data[128:132] == b"DICM"[: max(0, len(data) - 128)] else DECLINE
    if data[128:132] != b"DICM":
        return DECLINE
    meta = _meta(data)
    if meta is None or isinstance(meta, str):
        return meta
    at, syntax, found = meta
    if syntax == IMPLICIT_LE:
        implicit = True
    elif syntax in EXPLICIT_LE:
        implicit = False
    else:
        return DECLINE
    if at + 6 > len(data):
        return SHORT
    group, element = _IMPLICIT.unpack_from(data, at)[:2]
    if (group << 16) | element >= limit:
        return found, syntax, (at, implicit)
    # pydicom reads the dataset as the first element's VR bytes say, whatever the transfer syntax claims
    # (filereader._is_implicit_vr): where the two disagree, pydicom's reading is the one to have.
    vr = data[at + 4 : at + 6]
    if (not (0x40 < vr[0] < 0x5B and 0x40 < vr[1] < 0x5B)) != implicit:
        return DECLINE
    return _templated(data, at, implicit, wanted, limit, found, syntax)


def _meta(data: bytes) -> tuple[int, str, dict] | str | None:
    """The file meta group (always explicit VR little endian): where the dataset starts and its syntax."""
    at, end, syntax, declared = 132, len(data), "", None
    found: dict[int, tuple[bytes, bytes]] = {}
    while True:
        if at + 8 > end:
            return SHORT
        group, element, vr, length = _ELEMENT.unpack_from(data, at)
        if group != 0x0002:
            break
        long = VRS.get(vr)
        if long is None:
            return DECLINE  # an implicit or damaged meta group: pydicom has a retry for it
        start = at + 8
        if long:
            if at + 12 > end:
                return SHORT
            length, start = _U32.unpack_from(data, at + 8)[0], at + 12
            if length == UNDEFINED:
                return DECLINE
        if start + length > end:
            return SHORT
        value = data[start : start + length]
        if element == 0x0000 and length == 4:
            declared = (_U32.unpack(value)[0], start + 4)
        elif element == 0x0010:
            syntax = value.rstrip(b"\0 ").decode("ascii", "replace")
        elif element == 0x0002:
            found[0x00020002] = (vr, value)
        at = start + length
    if declared is not None and declared[0] != at - declared[1]:
        return DECLINE  # a group length that disagrees with the elements: an odd file
    return at, syntax, found


def _dataset(
    data: bytes, at: int, implicit: bool, wanted: set[int], limit: int, found: dict, syntax: str, chain=None
) -> Walked | str | None:
    """Walk top-level elements from `at` to the first tag >= `limit`; `chain` (a list) collects each element's
    offset and tag on the way, for a Template."""
    end = len(data)
    vrs, unpack, unpack32, implicit_unpack = VRS, _ELEMENT.unpack_from, _U32.unpack_from, _IMPLICIT.unpack_from
    while True:
        if at + 8 > end:
            return SHORT
        if implicit:
            group, element, length = implicit_unpack(data, at)
            tag = (group << 16) | element
            if tag >= limit:
                return found, syntax, (at, implicit)
            if chain is not None:
                chain.append((at, tag))
            vr, start = b"", at + 8
            if length == UNDEFINED:
                after = _skip_undefined(data, start, implicit, 0)
                if after is None or isinstance(after, str):
                    return after
                at = after
                continue
        else:
            group, element, vr, length = unpack(data, at)
            tag = (group << 16) | element
            if tag >= limit:
                return found, syntax, (at, implicit)
            if chain is not None:
                chain.append((at, tag))
            long = vrs.get(vr)
            if long is None:
                return DECLINE
            start = at + 8
            if long:
                if at + 12 > end:
                    return SHORT
                length, start = unpack32(data, at + 8)[0], at + 12
                if length == UNDEFINED:
                    if vr != b"SQ":
                        return DECLINE  # an undefined-length UN/OB: pydicom's business
                    after = _skip_undefined(data, start, implicit, 0)
                    if after is None or isinstance(after, str):
                        return after
                    at = after
                    continue
        at = start + length
        if tag in wanted:
            if at > end:
                return SHORT
            found[tag] = (vr, data[start:at])


def _skip_undefined(data: bytes, at: int, implicit: bool, depth: int) -> int | str | None:
    """Offset just past an undefined-length sequence starting at `at` (its first item), DECLINE or SHORT."""
    end = len(data)
    if depth > MAX_DEPTH:
        return DECLINE
    unpack_item, unpack = _IMPLICIT.unpack_from, _ELEMENT.unpack_from
    while True:
        if at + 8 > end:
            return SHORT
        group, element, length = unpack_item(data, at)
        tag = (group << 16) | element
        at += 8
        if tag == SEQUENCE_END:
            return at
        if tag != ITEM:
            return DECLINE
        if length != UNDEFINED:
            at += length
            continue
        # An undefined-length item: its elements run to an item delimiter.
        while True:
            if at + 8 > end:
                return SHORT
            group, element, length = unpack_item(data, at)
            tag = (group << 16) | element
            if tag == ITEM_END:
                at += 8
                break
            if group == 0xFFFE:
                return DECLINE
            if implicit:
                at += 8
            else:
                group, element, vr, length = unpack(data, at)
                long = VRS.get(vr)
                if long is None:
                    return DECLINE  # an implicit item inside an explicit dataset (pydicom allows it): its job
                at += 8
                if long:
                    if at + 4 > end:
                        return SHORT
                    length = _U32.unpack_from(data, at)[0]
                    at += 4
            if length == UNDEFINED:
                after = _skip_undefined(data, at, implicit, depth + 1)
                if after is None or isinstance(after, str):
                    return after
                at = after
            else:
                at += length


# -- Walking a file against a template ---------------------------------------------------------------------
#
# The files of one series share their header layout: the same elements in the same order, most of them byte
# for byte (manufacturer, protocol, geometry, timing); only a few differ from file to file (UIDs, instance
# number, times, position, b-value). A Template is one walked header's chain of top-level elements. A file
# is walked against it by comparing bytes: where a run of the file's bytes equals the template's run between
# two element boundaries, the walk from the same boundary would read the same elements (the walk is a
# function of the bytes it reads), so the run is crossed in one comparison (C speed) and its wanted values
# are the template's. Elements seen to differ are marked volatile and decoded one by one, each checked to be
# the template's tag; a file that departs from the layout is walked on element by element from the last
# boundary both agree on. The result is, by construction, the plain walk's.

TEMPLATES = True  # False: every file walked element by element (the tests compare both)
MAX_TEMPLATES = 32  # layouts remembered per process and key (a few KB each: series, file types of a series)
MAX_LEARNED = 16  # elements newly seen to differ before a file is taken as another series' layout


class Template:
    """The top-level chain of one walked header, from `origin` to its stop, with the wanted values in it."""

    __slots__ = ("data", "starts", "tags", "index", "volatile", "values", "wanted_at", "key")

    def __init__(self, data: bytes, chain: list[tuple[int, int]], stop: int, found: dict, key: tuple):
        self.data = data[:stop]
        self.starts = [at for at, _ in chain] + [stop]
        self.tags = [tag for _, tag in chain]
        self.index = {tag: i for i, tag in enumerate(self.tags)}
        self.volatile = bytearray(len(chain) + 1)
        self.volatile[len(chain)] = 1  # the stop is always checked in the file itself
        self.values = {i: found[tag] for i, tag in enumerate(self.tags) if tag in found}
        self.wanted_at = sorted(self.values)
        self.key = key


_templates: dict[tuple, list[Template]] = {}  # per (implicit VR, limit, wanted tags): most recently fitted first


def _templated(
    data: bytes, at: int, implicit: bool, wanted: set[int], limit: int, found: dict, syntax: str
) -> Walked | str | None:
    """The plain walk's result, reached through the remembered layouts where they fit."""
    if not TEMPLATES:
        return _dataset(data, at, implicit, wanted, limit, found, syntax)
    key = (implicit, limit, wanted if isinstance(wanted, frozenset) else frozenset(wanted))
    mine = _templates.get(key)
    if mine is None:
        mine = _templates[key] = []
    origin, before = at, dict(found)
    if mine:
        t, i = mine[0], 0
        for _ in range(len(mine)):
            got = _follow(data, at, implicit, t, i, wanted, found)
            if got is None:
                break  # declined or short somewhere: the plain walk from the start says which
            at, departed = got
            if departed is None:  # at the template's stop: the plain walk goes on from there (more elements?)
                if mine[0] is not t and t in mine:
                    mine.remove(t)
                    mine.insert(0, t)  # the next file is most likely of the same series and type
                return _dataset(data, at, implicit, wanted, limit, found, syntax)
            # The file departs from this layout at a true element boundary: on with the layout that holds
            # the element found there (another file type of the same series: b0 and b1000, echo 1 and 2).
            other = next((u for u in mine if u is not t and departed in u.index), None)
            if other is None:
                if len(mine) < MAX_TEMPLATES:
                    break  # a new layout: remember it
                return _dataset(data, at, implicit, wanted, limit, found, syntax)
            t, i = other, other.index[departed]
        found.clear()
        found.update(before)
    chain: list[tuple[int, int]] = []
    walked = _dataset(data, origin, implicit, wanted, limit, found, syntax, chain)
    tags = [tag for _, tag in chain]
    if walked is not None and not isinstance(walked, str) and chain and len(set(tags)) == len(tags):
        stop = walked[2][0]
        rebased = [(offset - origin, tag) for offset, tag in chain]
        mine.insert(0, Template(data[origin:stop], rebased, stop - origin, found, key))
        del mine[MAX_TEMPLATES:]
    return walked


def _follow(
    data: bytes, at: int, implicit: bool, t: Template, i: int, wanted: set[int], found: dict
) -> tuple[int, int | None] | None:
    """Walk `data` from `at` (a true element boundary) against template `t` from its element `i`:
    (offset of the template's stop in the file, None), with the wanted values in `found`; (offset, tag) when
    the file holds another element (`tag`) there, or has differed in too many values (`tag` 0); None when the
    walk would decline or run short (the caller then walks the file plainly, which says which)."""
    tdata, starts, tags, volatile, values, wanted_at = t.data, t.starts, t.tags, t.volatile, t.values, t.wanted_at
    unpack, unpack32, unpack_implicit, vrs = _ELEMENT.unpack_from, _U32.unpack_from, _IMPLICIT.unpack_from, VRS
    n, size = len(tags), len(data)
    learned: list[int] = []
    while i < n:
        if not volatile[i]:
            v = volatile.find(1, i)  # the next element known to differ (the stop is marked)
            a, b = starts[i], starts[v]
            if data[at : at + b - a] == tdata[a:b]:
                k = bisect_left(wanted_at, i)
                while k < len(wanted_at) and wanted_at[k] < v:
                    found[tags[wanted_at[k]]] = values[wanted_at[k]]
                    k += 1
                at += b - a
                i = v
                continue
        # Element i decoded from the file itself (inline: this runs for every element that differs).
        try:
            if implicit:
                group, element, length = unpack_implicit(data, at)
                vr, start = b"", at + 8
            else:
                group, element, vr, length = unpack(data, at)
                long = vrs.get(vr)
                if long is None:
                    return None
                start = at + 8
                if long:
                    length, start = unpack32(data, start)[0], at + 12
        except struct.error:  # past the end of the bytes read
            return None
        tag = (group << 16) | element
        if tag != tags[i]:
            return at, tag
        if length == UNDEFINED:
            if vr not in (b"", b"SQ"):
                return None
            after = _skip_undefined(data, start, implicit, 0)
            if after is None or isinstance(after, str):
                return None
            start = None  # the plain walk keeps no value of an undefined-length sequence
        else:
            after = start + length
            if after > size:
                return None
        if not volatile[i] and data[at:after] != tdata[starts[i] : starts[i + 1]]:
            volatile[i] = 1
            learned.append(i)
            if len(learned) > MAX_LEARNED:  # another series' values in this layout: not worth following
                for k in learned:
                    volatile[k] = 0  # and not what this template's own files differ in
                return at, 0
        if start is not None and tag in wanted:
            found[tag] = (vr, data[start:after])
        at = after
        i += 1
    return at, None
