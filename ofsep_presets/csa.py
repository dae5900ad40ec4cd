"""Siemens CSA headers ((0029,xx10) image, (0029,xx20) series): each tag's name and items.

Read as nibabel's `nicom.csareader.read` reads them (the CSA1 and CSA2 layouts as SPM describes them), item for
item and quirk for quirk: a name or item without a NUL stays bytes, a number item converted by its VR, the same
refusals. nibabel is not imported for it: its package imports some 70 modules (~0.1 s) for every input with a
Siemens series, and a CSA header is a few struct reads. The tests hold this to nibabel on every fixture header
and on damaged ones.
"""

from __future__ import annotations

import struct
from typing import Any

MAX_ITEMS = 1000  # tags per header and items per tag, as nibabel bounds them
_CONVERTERS = {"FL": float, "FD": float, "DS": float, "SS": int, "US": int, "SL": int, "UL": int, "IS": int}
_COUNTS = struct.Struct("<2I")  # number of tags, a check value
_TAG = struct.Struct("<64si4s3i")  # name, VM, VR, syngo data type, number of items, 3 unused
_ITEM = struct.Struct("<4i")  # CSA1: x0 - items of tag 1 is the length; CSA2: x1 is


class CSAError(ValueError):
    """A CSA header that cannot be read (nibabel's CSAReadError cases)."""


def _text(raw: bytes) -> str | bytes:
    """Up to the first NUL, Latin-1; without a NUL the bytes themselves (nibabel's nt_str)."""
    zero = raw.find(b"\x00")
    return raw if zero == -1 else raw[:zero].decode("latin-1")


def tags(csa: bytes) -> dict[Any, list]:
    """{tag name: its items} of one CSA header; raises on a header nibabel would not read."""
    size = len(csa)
    if csa[:4] == b"SV10":  # CSA2
        kind, at = 2, 8
    else:  # CSA1
        kind, at = 1, 0
    count, _ = _COUNTS.unpack_from(csa, at)
    at += _COUNTS.size
    if not 0 < count <= MAX_ITEMS:
        raise CSAError(f"CSA header: {count} tags (0 < tags <= {MAX_ITEMS})")
    out: dict[Any, list] = {}
    first_items = None  # CSA1 lengths count from the items of tag 1
    for number in range(count):
        name, vm, vr, _, n_items, _ = _TAG.unpack_from(csa, at)
        at += _TAG.size
        vr, name = _text(vr), _text(name)
        values = n_items if vm == 0 else vm
        convert = _CONVERTERS.get(vr)
        if number == 1:
            first_items = n_items
        if n_items > MAX_ITEMS:
            raise CSAError(f"CSA header: {n_items} items (at most {MAX_ITEMS})")
        items: list = []
        for index in range(n_items):
            x0, x1, _, _ = _ITEM.unpack_from(csa, at)
            at += _ITEM.size
            if kind == 1:
                if first_items is None:
                    raise CSAError("CSA1 header: an item before tag 1 states its length")  # nibabel: unbound
                length = x0 - first_items
                if length < 0 or at + length > size:
                    if index < vm:
                        items.append("")
                    break
            else:
                length = x1
                if at + length > size:
                    raise CSAError("CSA header: an item runs past the header")
            if index >= values:
                if length != 0:
                    raise CSAError("CSA header: an item past the tag's values has a length")  # nibabel asserts
                continue
            end = size if length == -1 else at + length  # nibabel's read(-1): the rest of the header
            item: Any = _text(csa[at:end])
            at = end
            if convert:
                if length == 0:  # fewer real items than stated: the first empty one ends them
                    values = index
                    continue
                item = convert(item)
            items.append(item)
            if length % 4:
                at += 4 - length % 4  # items are padded to 4 bytes
        out[name] = items
    return out
