"""A single Siemens protocol as text: a .pro file (XProtocol + ASCCONV) or a bare ASCCONV block."""

from __future__ import annotations

from pathlib import Path

from .. import limits
from ..acquisition import Inspection, ReadError, scanner_from
from .siemens_exar1 import acquisition_from_protocol

FORMAT = "siemens-ascconv"


def sniff(path: Path, head: bytes) -> bool:
    return b"### ASCCONV BEGIN" in head or (head.lstrip().startswith(b"<XProtocol>") and path.suffix.lower() == ".pro")


def read(path: Path) -> Inspection:
    text = limits.read_file(path).decode("latin-1")
    if "### ASCCONV BEGIN" not in text:
        raise ReadError(f"{path}: no ASCCONV block in this protocol")
    inspection = Inspection(source=str(path), format=FORMAT)
    name = path.stem
    inspection.acquisitions.append(acquisition_from_protocol(name, text, f"{path.name} ASCCONV"))
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection
