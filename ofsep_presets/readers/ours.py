"""Our own machine-readable sheets (render --format sheet), read back through each vendor's vocabulary.

Only the Canon sheet is still in a format of our own (no public Canon protocol export exists): the Siemens, GE and
Philips sheets are in the consoles' own layouts, read by those formats' readers.

The round trip `render` -> `inspect` exercises the inverse of every vendor conversion: values are read from
the vendor's labels, words and units, not from the canonical annotations the sheets also carry (those only
name the parameter a line belongs to, which a console label alone cannot always tell).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .. import limits
from ..acquisition import Inspection, ReadError, scanner_from
from ..vendors import all_vendors
from .vocabulary import acquisition_from_vendor_values

MARKERS = {
    b"ofsep-canon-sheet": "canon",
}
FORMAT = "ofsep-sheet"  # refined per vendor in the Inspection: ofsep-siemens-sheet, ...


def sniff(path: Path, head: bytes) -> bool:
    return b"ofsep-presets" in head and any(marker in head for marker in MARKERS)


def read(path: Path) -> Inspection:
    data = limits.read_file(path)
    vendor_id = next((v for marker, v in MARKERS.items() if marker in data[:4096]), None)
    if vendor_id is None:
        raise ReadError(f"{path}: not an ofsep-presets sheet")
    vendor = all_vendors()[vendor_id]
    text = data.decode("utf-8")
    field = _field_strength(text)
    program = _program(text[:4096])
    lines = {"canon": _canon}[vendor_id](data, text)
    inspection = Inspection(source=str(path), format=vendor.document["format"])
    injected = None  # a sheet without an injection step says nothing about contrast
    if INJECTION in lines:
        injected = False
    for seq_id, entries in lines.items():
        if seq_id == INJECTION:
            injected = True
            continue
        acq = acquisition_from_vendor_values(seq_id, entries, vendor, field, path.name)
        if injected is not None and "contrast_agent" not in acq.params:
            where = "after" if injected else "before"
            acq.set("contrast_agent", injected, f"{path.name}: {where} the sheet's gadolinium injection step")
        acq.program = program
        inspection.acquisitions.append(acq)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _program(head: str) -> str | None:
    """The sheet's header names its spec, exam and variant ("exam = brain; variant = reduced"): the program."""
    found = re.search(r"\bexam\W+([\w.-]+)\W+variant\W+([\w.-]+)", head)
    return f"{found.group(1)} {found.group(2)}" if found else None


def _field_strength(text: str) -> float | None:
    match = re.search(r'(?:fieldStrength="|field strength = |field |"field )(\d+(?:\.\d+)?)', text)
    return float(match.group(1)) if match else None


# Each parser returns {sequence id: [(param, vendor label, value text)]} in document order, with the key
# INJECTION where the sheet places the gadolinium injection step.
Entries = dict[str, list[tuple[str, str, str]]]
INJECTION = "gadolinium"


def _canon(data: bytes, text: str) -> Entries:
    rows = [line for line in text.splitlines() if not line.startswith(('"#', "#"))]
    out: Entries = {}
    for row in csv.DictReader(io.StringIO("\n".join(rows))):
        if row["sequence_id"] == INJECTION:
            out.setdefault(INJECTION, [])
            continue
        if not row["param"]:
            continue
        entries = out.setdefault(row["sequence_id"], [])
        if not entries and row["product"]:
            entries.append(("sequence_family", "product", row["product"]))
        entries.append((row["param"], row["label"], row["value"]))
    return out
