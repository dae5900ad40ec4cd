"""A single Siemens protocol as text: a .pro file (XProtocol + ASCCONV) or a bare ASCCONV block."""

from __future__ import annotations

from pathlib import Path

from .. import limits, xmlsafe
from ..acquisition import Inspection, ReadError, scanner_from
from .siemens_exar1 import acquisition_from_protocol

FORMAT = "siemens-ascconv"


def sniff(path: Path, head: bytes) -> bool:
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 byte-order mark before <XProtocol>
    return b"### ASCCONV BEGIN" in head or (start.startswith(b"<XProtocol>") and path.suffix.lower() == ".pro")


def decode_text(data: bytes) -> str:
    """Protocol text as written: XA consoles write UTF-8 (the cestineers XA .pro names hold "µT"), VB/VE ones
    an 8-bit code page; UTF-8 when the bytes are UTF-8 (a byte-order mark dropped), else Latin-1, which decodes
    any byte."""
    try:
        return xmlsafe.as_utf8(data).decode("utf-8-sig")  # UTF-16 ("Unicode" saved on Windows) as its text
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read(path: Path) -> Inspection:
    text = decode_text(limits.read_file(path))
    if "### ASCCONV BEGIN" not in text:
        raise ReadError(f"{path}: no ASCCONV block in this protocol")
    inspection = Inspection(source=str(path), format=FORMAT)
    acq = acquisition_from_protocol(path.stem, text, f"{path.name} ASCCONV", named_by_file=True)
    inspection.acquisitions.append(acq)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection
