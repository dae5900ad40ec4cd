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

EXPLICIT_LE = (
    {"1.2.840.10008.1.2.1"}
    | {f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 57, 70, 80, 81, 90, 91, 92, 93, 100, 101, 102, 103)}
    | {"1.2.840.10008.1.2.5"}
)
IMPLICIT_LE = "1.2.840.10008.1.2"
DEFLATED = b"1.2.840.10008.1.2.1.99"  # Deflated Explicit VR Little Endian (PS3.5 A.5): the data set one DEFLATE stream
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
    the start, so a caller that needs a few tags further on pays only for the elements in between. The files
    of a layout already walked are read against it (see Plan); the plain walk reads the others and teaches it."""
    wanted = wanted if isinstance(wanted, frozenset) else frozenset(wanted)
    key = (limit, wanted, None if resume is None else resume[1])
    at = FRESH if resume is None else resume[0]
    plans = _templates.get(key) if TEMPLATES else None
    if plans:
        got = _fitted(data, at, limit, plans)
        if got is not None:
            return got
    chain: list[tuple[int, int]] | None = [] if TEMPLATES else None
    meta: list[int] = []
    walked = _plain(data, wanted, limit, resume, chain, meta)
    if chain is not None and isinstance(walked, tuple):
        _learn(data, key, at, meta, chain, walked, wanted)
    return walked


def _plain(
    data: bytes, wanted: frozenset, limit: int, resume: Resume | None, chain: list | None, meta: list[int]
) -> Walked | str | None:
    """The walk element by element; the offsets of the meta elements and the dataset's chain collected."""
    if resume is not None:
        at, implicit = resume
        return _dataset(data, at, implicit, wanted, limit, {}, "", chain)
    if len(data) < 132:
        return SHORT if data[128:132] == b"DICM"[: max(0, len(data) - 128)] else DECLINE
    if data[128:132] != b"DICM":
        return DECLINE
    got = _meta(data, meta)
    if got is None or isinstance(got, str):
        return got
    at, syntax, found = got
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
    return _dataset(data, at, implicit, wanted, limit, found, syntax, chain)


_HEADERS = {
    "<": (struct.Struct("<HH"), struct.Struct("<H"), struct.Struct("<I")),
    ">": (struct.Struct(">HH"), struct.Struct(">H"), struct.Struct(">I")),
}


def element_header(
    data: bytes, at: int, implicit: bool, order: str = "<", lenient: bool = False
) -> tuple[int, bytes, int, int] | str | None:
    """(tag, VR, value length, where the value starts) of the element header at `at` (PS3.5 7.1: implicit VR, a
    4-byte length; explicit VR, a 4-byte length after 2 reserved bytes for LONG_VRS, else a 2-byte one), SHORT
    where the header runs past `data`, None for an explicit VR no table knows (`lenient`: read as a short one, as
    the meta-group checks do). The one decoding of an element header outside the plain walk's own loop, which
    keeps its copy inline: it runs for every element of every file the scan has not learned."""
    tag_of, u16, u32 = _HEADERS[order]
    if at + 8 > len(data):
        return SHORT
    group, element = tag_of.unpack_from(data, at)
    tag = (group << 16) | element
    if implicit:
        return tag, b"", u32.unpack_from(data, at + 4)[0], at + 8
    vr = data[at + 4 : at + 6]
    long = VRS.get(vr)
    if long is None and not lenient:
        return None
    if long:
        if at + 12 > len(data):
            return SHORT
        return tag, vr, u32.unpack_from(data, at + 8)[0], at + 12
    return tag, vr, u16.unpack_from(data, at + 6)[0], at + 8


def _meta(data: bytes, starts: list[int] | None = None) -> tuple[int, str, dict] | str | None:
    """The file meta group (always explicit VR little endian): where the dataset starts and its syntax;
    `starts` collects each element's offset (for a Plan)."""
    at, end, syntax, declared = 132, len(data), "", None
    found: dict[int, tuple[bytes, bytes]] = {}
    while True:
        if at + 8 > end:
            return SHORT
        if _U16.unpack_from(data, at)[0] != 0x0002:
            break
        if starts is not None:
            starts.append(at)
        header = element_header(data, at, False)
        if header is None:
            return DECLINE  # an implicit or damaged meta group: pydicom has a retry for it
        if header is SHORT:
            return SHORT
        tag, vr, length, start = header
        element = tag & 0xFFFF
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


def meta_group(data: bytes) -> tuple[int, bytes] | str | None:
    """(where the data set starts, the transfer syntax UID as written, padding stripped) of a file's meta group;
    None without "DICM" at byte 128, SHORT where the group runs past `data`.

    The one lenient walk of the meta group (always explicit VR little endian, PS3.10 7.1), for the checks made
    before pydicom reads a file (a deflated data set measured, a command set refused): every VR of LONG_VRS has a
    4-byte length after 2 reserved bytes (PS3.5 7.1.2: UR, UC, OD, OL, OV, SV, UV as much as OB), any other VR a
    2-byte one; nothing is declined (an odd meta group still has its syntax read, so still has its check). The
    scan's `_meta` is the strict walk, which declines what pydicom would read differently."""
    if data[128:132] != b"DICM":
        return None
    at, end, syntax = 132, len(data), b""
    while True:
        if at + 8 > end:
            return SHORT
        if _U16.unpack_from(data, at)[0] != 0x0002:
            return at, syntax
        header = element_header(data, at, False, lenient=True)
        if header is SHORT:
            return SHORT
        tag, _, length, start = header  # type: ignore[misc]
        element = tag & 0xFFFF
        if length == UNDEFINED:
            return SHORT  # never in a meta group: no data set start to give
        if start + length > end:
            return SHORT
        if element == 0x0010:
            syntax = data[start : start + length].rstrip(b"\0 ")
        at = start + length


def _disordered_after(data: bytes, at: int, tag: int, implicit: bool) -> bool:
    """Whether the element after the one at `at` (where a walk stops: its tag is past the limit) has a lower tag.
    A conforming dataset ascends (PS3.5 7.1), so nothing wanted can follow the stop; a damaged tag past the limit
    with its group's elements still after it (a flipped byte: (0043,1003) read (0043,103A)) would end the walk
    before a wanted tag that pydicom, reading every element, still finds. One element header is read, at the stop
    only."""
    header = element_header(data, at, implicit)
    if header is None or header is SHORT:
        return False
    _, _, length, start = header  # type: ignore[misc]
    if length == UNDEFINED or start + length + 4 > len(data):
        return False
    group, element = _IMPLICIT.unpack_from(data, start + length)[:2]
    return ((group << 16) | element) < tag


def _dataset(
    data: bytes, at: int, implicit: bool, wanted: set[int], limit: int, found: dict, syntax: str, chain=None
) -> Walked | str | None:
    """Walk top-level elements from `at` to the first tag >= `limit`; `chain` (a list) collects each element's
    offset and tag on the way, for a Template."""
    end = len(data)
    vrs, unpack, unpack32, implicit_unpack = VRS, _ELEMENT.unpack_from, _U32.unpack_from, _IMPLICIT.unpack_from
    previous = -1
    while True:
        if at + 8 > end:
            return SHORT
        if implicit:
            group, element, length = implicit_unpack(data, at)
            tag = (group << 16) | element
            if tag <= previous:
                return DECLINE  # out of ascending order (PS3.5 7.1): not a layout to stop early in, pydicom's
            previous = tag
            if tag >= limit:
                return DECLINE if _disordered_after(data, at, tag, implicit) else (found, syntax, (at, implicit))
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
            if tag <= previous:
                return DECLINE  # out of ascending order (PS3.5 7.1): a wanted tag may still come, pydicom reads on
            previous = tag
            if tag >= limit:
                return DECLINE if _disordered_after(data, at, tag, implicit) else (found, syntax, (at, implicit))
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


# -- Walking a file against a remembered layout --------------------------------------------------------------
#
# The files of one series share their header layout: the same elements in the same order, most of them byte
# for byte (manufacturer, protocol, geometry, timing); only a few differ from file to file (UIDs, instance
# number, times, position, b-value). A Plan is such a layout, learned from the plain walks of the files that
# showed it: the bytes of its elements from byte 128 (or from where a resumed walk starts) to the stop, and
# which elements were seen to differ (volatile). A file is read against a plan in a few comparisons: each run
# of constant elements is one `startswith` (C speed); a volatile element has its header compared (tag, VR) but
# its own length followed (a position written with more digits shifts what comes after) and its value taken
# from the file. Every decision of the plain walk is a function of the header bytes it reads (tags, VRs,
# lengths) and of two values (the transfer syntax, the meta group length, both checked here): a file that agrees
# with the plan in all of them is walked, step by step, as the plan's own file was, so the plan's result with the
# file's own values is the plain walk's. Any disagreement (another layout, damage, a length past the bytes at
# hand, an undefined length) sends the file to the plain walk, whose chain of elements then teaches the plan
# what else differs, or becomes a new plan.

TEMPLATES = True  # False: every file walked element by element (the tests compare both)
MAX_TEMPLATES = 32  # plans remembered per process and key (a few KB each: series, file types of a series)
_U16 = struct.Struct("<H")
_TAG = struct.Struct("<HH")
FRESH = 128  # a fresh walk's plan starts at "DICM"
TRANSFER_SYNTAX, GROUP_LENGTH, MEDIA_SOP_CLASS = 0x00020010, 0x00020000, 0x00020002

# One element of a learned chain: offset and end (relative to the plan's start), where its length field sits
# and how it is unpacked, whether the length is undefined, the tag, the VR the walk records, whether kept.
Element = tuple[int, int, int, object, bool, int, bytes, bool]


class Plan:
    """One learned layout; `meta` and `ops` are the comparisons a file is read with (see _read)."""

    __slots__ = ("data", "elements", "n_meta", "volatile", "syntax", "implicit", "signature", "check_length",
                 "meta", "meta_tail", "ops", "tail", "constant")  # fmt: skip

    def __init__(self, data: bytes, elements: list, n_meta: int, syntax: str, implicit: bool, signature: tuple):
        self.data, self.elements, self.n_meta = data, elements, n_meta
        self.syntax, self.implicit, self.signature = syntax, implicit, signature
        self.volatile = bytearray(len(elements))
        self._compile()

    def _compile(self) -> None:
        """The comparisons: runs of constant bytes between the volatile elements, and the constant values kept."""
        data, elements, volatile, n_meta = self.data, self.elements, self.volatile, self.n_meta
        # The meta group length (element 0 when present, see _elements) as pydicom's check of it sees it.
        self.check_length = bool(n_meta) and _group_length(elements[0])
        self.constant = {}
        for k, (_, end, at, unpack, _, tag, vr, keep) in enumerate(elements):
            if keep and not volatile[k]:
                head = at + (4 if unpack is _U32 else 2)
                self.constant[tag] = (vr, data[head:end])

        def ops(lo: int, hi: int, start: int, end: int) -> tuple[list, bytes]:
            out = []
            for k in range(lo, hi):
                if not volatile[k]:
                    continue
                offset, after, at, unpack, undefined, tag, vr, keep = elements[k]
                run = data[start:offset]
                fixed = at - offset + (2 if k == 0 and self.check_length else 0)  # its length compared too
                size = at - offset + (4 if unpack is _U32 else 2)
                out.append((run, len(run), data[offset : offset + fixed], at - offset, unpack.unpack_from, size, tag,
                            vr, keep))  # fmt: skip
                start = after
            return out, data[start:end]

        meta_end = elements[n_meta - 1][1] if n_meta else 4
        self.meta, self.meta_tail = ops(0, n_meta, 0, meta_end) if n_meta else ([], b"")
        self.ops, self.tail = ops(n_meta, len(elements), meta_end if n_meta else 0, len(data))

    def read(self, data: bytes, at: int, limit: int) -> tuple[dict, int] | None:
        """(the kept values, the stop) of `data` walked from `at` against this plan; None where it departs."""
        found = dict(self.constant)
        try:
            if self.n_meta:
                at = _read(data, at, self.meta, self.meta_tail, found)
                if at < 0 or self.check_length and _U32.unpack_from(data, FRESH + 12)[0] != at - (FRESH + 16):
                    return None
            at = _read(data, at, self.ops, self.tail, found)
            if at < 0 or at + 8 > len(data):
                return None
            group, element = _TAG.unpack_from(data, at)
        except struct.error:  # a length field past the bytes read
            return None
        if (group << 16) | element < limit or group == 0x0002:
            return None  # more elements before the stop (or meta ones, for a low limit): the plain walk reads them
        return found, at


def _read(data: bytes, at: int, ops: list, tail: bytes, found: dict) -> int:
    """Offset past `ops` and `tail` read from `at`, the volatile values kept into `found`; -1 where it departs."""
    startswith, size = data.startswith, len(data)
    for run, n, head, lengthat, unpack, header, tag, vr, keep in ops:
        if n:
            if not startswith(run, at):
                return -1
            at += n
        if not startswith(head, at):
            return -1
        length = unpack(data, at + lengthat)[0]
        if length == UNDEFINED:
            return -1
        start = at + header
        at = start + length
        if keep:
            if at > size:
                return -1
            found[tag] = (vr, data[start:at])
    if not startswith(tail, at):
        return -1
    return at + len(tail)


_templates: dict[tuple, list[Plan]] = {}  # per (limit, wanted tags, resumed VR or None): most recently fitted first
_signatures: dict[tuple, dict[tuple, Plan]] = {}  # per key: the plan of each element layout, to learn into


def _fitted(data: bytes, at: int, limit: int, plans: list[Plan]) -> Walked | None:
    """The walk of `data` from `at` read against the first plan it fits, or None."""
    for n, plan in enumerate(plans):
        got = plan.read(data, at, limit)
        if got is not None:
            if n:
                plans.insert(0, plans.pop(n))  # the next file is most likely of the same series and type
            return got[0], plan.syntax, (got[1], plan.implicit)
    return None


def _elements(data: bytes, origin: int, meta: list[int], chain: list[tuple[int, int]], stop: int, implicit: bool,
              wanted: frozenset) -> list[Element] | None:  # fmt: skip
    """The walked chain (meta group then dataset, absolute offsets) as Elements relative to `origin`."""
    out: list[Element] = []
    starts = meta + [at for at, _ in chain]
    tags = [_TAG.unpack_from(data, at) for at in meta]
    tags = [(g << 16) | e for g, e in tags] + [tag for _, tag in chain]
    if len(set(tags)) != len(tags):
        return None  # a repeated tag: the plain walk keeps the last one; not worth a plan
    if GROUP_LENGTH in tags[1 : len(meta)]:
        return None  # a group length after other meta elements: checked only where it is first
    for k, at in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else stop
        explicit = k < len(meta) or not implicit
        if explicit:
            vr = data[at + 4 : at + 6]
            long = VRS[vr]
            lengthat, unpack = (at + 8, _U32) if long else (at + 6, _U16)
        else:
            vr, lengthat, unpack = b"", at + 4, _U32
        length = unpack.unpack_from(data, lengthat)[0]
        undefined = length == UNDEFINED
        header = lengthat + (4 if unpack is _U32 else 2)
        if not undefined and header + length != end:
            return None  # not a chain of adjacent elements (cannot happen): no plan
        keep = not undefined and (tags[k] == MEDIA_SOP_CLASS if k < len(meta) else tags[k] in wanted)
        out.append((at - origin, end - origin, lengthat - origin, unpack, undefined, tags[k], vr, keep))
    return out


def _learn(data: bytes, key: tuple, origin: int, meta: list[int], chain: list, walked: Walked, wanted: frozenset):
    """Teach the plan of this file's layout what differs in it, or remember the layout as a new plan."""
    found, syntax, (stop, implicit) = walked
    elements = _elements(data, origin, meta, chain, stop, implicit, wanted)
    if elements is None:
        return
    mine = data[origin:stop]
    signature = (len(meta), implicit, syntax) + tuple(
        (tag, mine[offset:at], undefined) for offset, _, at, _, undefined, tag, _, _ in elements
    )
    plans = _templates.setdefault(key, [])
    known = _signatures.setdefault(key, {})
    plan = known.get(signature)
    if plan is not None and plan in plans:
        grown = _grown(plan, mine, elements)
        if grown is not None:
            if grown:
                plan._compile()
            if plans[0] is not plan:
                plans.remove(plan)
                plans.insert(0, plan)
            return
    plan = Plan(mine, elements, len(meta), syntax, implicit, signature)
    known[signature] = plan
    plans.insert(0, plan)
    for dropped in plans[MAX_TEMPLATES:]:
        known.pop(dropped.signature, None)
    del plans[MAX_TEMPLATES:]


def _grown(plan: Plan, mine: bytes, elements: list[Element]) -> bool | None:
    """Mark the elements where `mine` differs from the plan's file volatile: True if any was new, False if none,
    None where one differs that must stay constant (the transfer syntax, an undefined length, the group length
    unless first and 4 bytes, an implicit dataset's first element: the walk decides on their bytes)."""
    theirs, volatile, new = plan.data, plan.volatile, []
    for k, (element, other) in enumerate(zip(plan.elements, elements, strict=True)):
        if volatile[k] or theirs[element[0] : element[1]] == mine[other[0] : other[1]]:
            continue
        tag, undefined = element[5], element[4]
        movable = tag != GROUP_LENGTH or plan.check_length and _group_length(other)
        if undefined or tag == TRANSFER_SYNTAX or not movable:
            return None
        if plan.implicit and plan.n_meta and k == plan.n_meta:
            return None  # its length's bytes are where pydicom looks for a VR
        new.append(k)
    for k in new:
        volatile[k] = 1
    return bool(new)


def _group_length(element: Element) -> bool:
    """Whether a meta element is a group length the walk checks (4 bytes long: _meta's `declared`)."""
    offset, end, at, unpack, undefined, tag, vr, keep = element
    return tag == GROUP_LENGTH and not undefined and end - at - (4 if unpack is _U32 else 2) == 4
