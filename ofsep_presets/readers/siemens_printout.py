"""Siemens print-protocol printouts (syngo VB / VE / XA "Print" to PDF, or its text): the cards as printed.

Each step starts with its program path (\\\\USER\\...\\T1w) and a header line (TA, voxel size, PAT); then come the
cards (Routine, Contrast, Resolution, Geometry, System, Physio, Sequence, Diff) as label/value columns, the same
labels and values the print-to-XML form carries, so both are read through one mapping (`siemens_printxml`) and the
Siemens vocabulary. In a slice group the rows are indented under "Slice group N": only group 1 is read, as in the
XML. The table of contents (the program tree printed first) names the steps but prints no parameter.
"""

from __future__ import annotations

import re

from ..acquisition import Inspection, ReadError, scanner_from
from ..vendors import all_vendors
from .printout_layout import Cell, pairs, reading_order, same_line
from .siemens_printout_extras import extra_labels
from .siemens_printxml import acquisition_from_card

MARKER = re.compile(r"^SIEMENS MAGNETOM\b")
_GROUP = re.compile(r"^(?:slice|slab) group\s*(\d*)$", re.I)
_SEQUENCE = re.compile(r"(?:^|\s)(?:[A-Z]+)?:\s*([A-Za-z]\w*)\s*$")
_FOOTER = re.compile(r"-\s*\d+\s*-|\d+/\+")  # page numbers: VE/XA "- 3 -", VB "3/+" (not a value such as "7/8")
_B_VALUE = re.compile(r"^b-value(?:\s+\d+)?$", re.I)  # "b-value 2  800 s/mm²"; without a unit it is averages


def is_siemens(cells: list[Cell]) -> bool:
    return any(MARKER.match(c.text) for c in cells) and any(c.text.startswith("\\\\") for c in cells)


def _labels() -> set[str]:
    fields = all_vendors()["siemens"].fields()
    names = {n for f in fields for n in (f.label, *f.aliases) if n}
    return {" ".join(n.split()).casefold() for n in names} | {"slice group", "slab group"} | extra_labels()


def _is_label(text: str, labels: set[str]) -> bool:
    return " ".join(text.split()).casefold() in labels or bool(_B_VALUE.match(text))


def read_cells(cells: list[Cell], source: str, fmt: str, where: str) -> Inspection:
    inspection = Inspection(source=source, format=fmt)
    labels = _labels()
    ordered = reading_order(cells)
    title = next((c.text for c in ordered if MARKER.match(c.text)), "")
    steps: list[tuple[Cell, list[Cell]]] = []
    for cell in ordered:
        if cell.text.startswith("\\\\"):
            steps.append((cell, []))
        elif steps and not MARKER.match(cell.text) and not _FOOTER.fullmatch(cell.text):
            steps[-1][1].append(cell)
    for path_cell, body in steps:
        labelled = _labelled(body, labels)
        if not labelled:  # a table-of-contents entry or a path without cards
            continue
        header = _header_line(body)
        sequence = _SEQUENCE.search(header)  # VB/VE end the header with the sequence: "SIEMENS: tfl", ": fl"
        inspection.acquisitions.append(
            acquisition_from_card(path_cell.text, labelled, title, header, where, sequence.group(1) if sequence else "")
        )
    if not inspection.acquisitions:
        raise ReadError(f"{source}: a Siemens printout without any protocol card that could be read")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _header_line(body: list[Cell]) -> str:
    """The line under the path: TA, voxel size, PAT, SNR and (VB/VE) the sequence."""
    first = next((c for c in body[:12] if c.text.startswith("TA:")), None)
    if first is None:
        return ""
    return " ".join(c.text for c in body if same_line(c, first))


def _labelled(body: list[Cell], labels: set[str]) -> list[tuple[str, str]]:
    def is_label(text: str) -> bool:
        return _is_label(text, labels)

    found, b_values, group_slices = [], [], {}
    for pair in pairs(body, is_label, wrap=lambda value: value.endswith(",")):
        group = _GROUP.match(pair.parent or "")
        number = (group.group(1) or (pair.parent_value or "").strip()) if group else None
        if group and pair.label.casefold() == "slices":  # the step's slices are those of all its groups
            group_slices.setdefault(number, pair.value)
            continue
        if number not in (None, "", "1") or _GROUP.match(pair.label):
            continue
        if _B_VALUE.match(pair.label):
            b_value = re.fullmatch(r"(-?[\d.]+)\s*s/mm²", pair.value)
            if b_value and b_value.group(1) not in b_values:
                b_values.append(b_value.group(1))
            continue
        found.append((pair.label, pair.value))
    counts = [v for v in group_slices.values() if v.isdigit()]
    if counts and len(counts) == len(group_slices):
        found.append(("Slices", str(sum(int(v) for v in counts))))
    if b_values:  # one row per diffusion weighting: together they are the b-values
        found.append(("b-values", ", ".join(b_values) + " s/mm²"))
    return found
