"""Siemens .edx (VB15-VB17 exam export): one zlib stream of text sections separated by lines of '@'.

Each protocol section (MrEdbType=Prot) names itself in MrEdbName (UTF-7: '+AF8-' is '_') and carries its
XProtocol with an ASCCONV block, mapped by the shared Siemens protocol code. Inflated under a cap.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from ..acquisition import Inspection, ReadError, scanner_from
from .siemens_exar1 import acquisition_from_protocol

FORMAT = "siemens-edx"
MAX_INFLATED = 256 * 1024 * 1024
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


def read(path: Path) -> Inspection:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(path.read_bytes(), MAX_INFLATED)
    except zlib.error as exc:
        raise ReadError(f"{path}: damaged .edx stream ({exc})") from None
    if inflater.unconsumed_tail:
        raise ReadError(f"{path}: inflates past {MAX_INFLATED // 2**20} MiB (the cap); refused")
    inspection = Inspection(source=str(path), format=FORMAT)
    tree: dict[str, str] = {}  # the open folders of the program tree, by section type, outermost first
    body_parts: dict[str, str] = {}
    for section in _SECTION.split(data.decode("latin-1")):
        kind = re.search(r"^MrEdbType=(\w+)\s*$", section, re.M)
        name_match = re.search(r"^MrEdbName=(.*?)\s*$", section, re.M)
        name = _utf7(name_match.group(1)) if name_match else "unnamed"
        if kind and kind.group(1) != "Prot":
            # Sections come in tree order (region, exam, program, then its protocols): a type seen again closes
            # the folders opened after it.
            if kind.group(1) in tree:
                keys = list(tree)
                for later in keys[keys.index(kind.group(1)) :]:
                    del tree[later]
            tree[kind.group(1)] = name
            code = re.search(r"^MrEdbDicomCode=(\S+)\s*$", section, re.M)  # a body part, where the site set one
            if code:
                body_parts[kind.group(1)] = code.group(1)
            else:
                body_parts.pop(kind.group(1), None)
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
