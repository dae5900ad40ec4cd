"""Siemens .edx (VB15-VB17 exam export): one zlib stream of text sections separated by lines of '@'.

Each protocol section (MrEdbType=Prot) names itself in MrEdbName (UTF-7: '+AF8-' is '_') and carries its
XProtocol with an ASCCONV block, mapped by the shared Siemens protocol code. Inflated under a cap.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from .. import limits
from ..acquisition import Inspection, ReadError, scanner_from
from .siemens_exar1 import acquisition_from_protocol

FORMAT = "siemens-edx"
_SECTION = re.compile(r"\r?\n@{10,}\r?\n")


def sniff(path: Path, head: bytes) -> bool:
    if len(head) < 2 or head[0] != 0x78:
        return False
    try:
        return zlib.decompressobj().decompress(head, 64).startswith(b"MrEdxFile")
    except zlib.error:
        return False


def _utf7(name: str) -> str:
    try:
        return name.encode("ascii").decode("utf-7")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return name


def _header_fields(section: str) -> dict[str, str]:
    """`MrEdb...=value` lines of a section, split with string operations (linear, whatever the line holds)."""
    fields: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("MrEdb"):
            key, _, value = line.partition("=")
            fields.setdefault(key, value.strip())
    return fields


def read(path: Path) -> Inspection:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(limits.read_file(path), limits.get("inflate_bytes"))
    except zlib.error as exc:
        raise ReadError(f"{path}: damaged .edx stream ({exc})") from None
    if inflater.unconsumed_tail:
        raise limits.refusal("inflate_bytes", path)
    inspection = Inspection(source=str(path), format=FORMAT)
    tree: dict[str, str] = {}  # the open folders of the program tree, by section type, outermost first
    body_parts: dict[str, str] = {}
    for section in _SECTION.split(data.decode("latin-1")):
        fields = _header_fields(section)
        kind = fields.get("MrEdbType")
        name = _utf7(fields["MrEdbName"]) if "MrEdbName" in fields else "unnamed"
        if kind and kind != "Prot":
            # Sections come in tree order (region, exam, program, then its protocols): a type seen again closes
            # the folders opened after it.
            if kind in tree:
                keys = list(tree)
                for later in keys[keys.index(kind) :]:
                    del tree[later]
            tree[kind] = name
            code = fields.get("MrEdbDicomCode")  # a body part, where the site set one
            if code:
                body_parts[kind] = code.split()[0]
            else:
                body_parts.pop(kind, None)
            continue
        if not kind:
            continue
        if "### ASCCONV BEGIN" not in section:
            inspection.warnings.append(f"protocol {name!r}: no ASCCONV block; skipped")
            continue
        acq = acquisition_from_protocol(name, section, f"{path.name} protocol {name!r} ASCCONV")
        acq.context["source"] = str(path)
        if tree:
            acq.context["program"] = "\\" + "\\".join(tree.values())
            parts = [body_parts[k] for k in tree if k in body_parts]
            if parts:
                acq.context["body_part"] = parts[-1]
        inspection.acquisitions.append(acq)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection
