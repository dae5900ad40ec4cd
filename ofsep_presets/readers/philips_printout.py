"""Philips ExamCard printouts ("Philips MRI Protocol Dump", printed to PDF, or its text), scan by scan.

Each scan's pages start with the ExamCard's breadcrumb ("InBox (1) | card (7) 25:06.7 | T1w 04:22.0") and show its
parameters in three columns (INFO PAGE, GEOMETRY, CONTRAST, MOTION, DIFFUSION, ...), indented under their parent
("Stacks" > "slices", "SENSE" > "P reduction (AP)"). The rows name the ExamCard's own parameters in words, so each
is mapped back to its parameter (protocol_spec/vendors/printouts/philips-printout.yaml) and the scan is read like
the ExamCard itself (`philips_examcard.acquisition`). What the printout states in words only ("TE shortest") stays
absent, as it does in the ExamCard.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ..acquisition import Inspection, ReadError, scanner_from
from ..resources import spec_dir
from ..yamlload import load_yaml
from .philips_examcard import acquisition
from .printout_layout import Cell, pairs, reading_order, same_line, split_glued

MARKER = "Philips MRI Protocol Dump"
_SCAN = re.compile(r"^(.+?) (?:\d+:)?\d\d:\d\d\.\d$")  # "T1w 04:22.0": a scan and its duration


@cache
def _printout() -> dict:
    return load_yaml(spec_dir() / "vendors" / "printouts" / "philips-printout.yaml")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def is_philips(cells: list[Cell]) -> bool:
    return any(c.text.startswith(MARKER) for c in cells) or {"INFO PAGE", "GEOMETRY", "CONTRAST"} <= {
        c.text for c in cells
    }


def _scan_starts(cells: list[Cell]) -> list[tuple[Cell, str]]:
    """The breadcrumb cells naming a scan: "name mm:ss.s" right after a cell ending in "|"."""
    starts = []
    ordered = reading_order(cells)
    for before, cell in zip(ordered, ordered[1:], strict=False):
        match = _SCAN.match(cell.text)
        if match and before.text.endswith("|") and same_line(before, cell):
            starts.append((cell, match.group(1)))
    return starts


def _value(key: str, printed: str) -> Any:
    data = _printout()
    text = " ".join(printed.split())
    if key == "EX_DIFF_array_b":
        found = [float(b) for b in re.findall(r"\((\d+(?:\.\d+)?)\)", text)]
        return found or None
    if key in data["numbers"] or key in data["integers"]:
        try:
            number = float(text)
        except ValueError:
            return None  # "shortest", "user defined": the console decides, the printout does not say
        return int(number) if key in data["integers"] and number.is_integer() else number
    words = {k.casefold(): v for k, v in data["words"].get(key, {}).items()}
    if key.startswith("IF_"):
        return text  # the INFO PAGE strings, as the ExamCard stores them ("7.8 / 3.5")
    return words.get(text.casefold(), text.upper().replace(" ", ""))


def read_cells(cells: list[Cell], source: str, fmt: str, where: str) -> Inspection:
    inspection = Inspection(source=source, format=fmt)
    labels = {_norm(k): v for k, v in _printout()["labels"].items()}
    cells = split_glued(cells, [k for k in _printout()["labels"] if " " in k])
    starts = _scan_starts(cells)
    if not starts:
        raise ReadError(f"{source}: a Philips printout without any scan (no 'card | scan mm:ss.s' line)")
    # A scan runs from its breadcrumb to the next scan's (its pages repeat the same breadcrumb).
    order = {id(c): i for i, c in enumerate(sorted(cells, key=lambda c: (c.page, c.top, c.x0)))}
    bounds: list[tuple[str, int]] = []
    for cell, name in starts:
        if not bounds or bounds[-1][0] != name:
            bounds.append((name, order[id(cell)]))
    ordered = sorted(cells, key=lambda c: order[id(c)])
    for index, (name, first) in enumerate(bounds):
        last = bounds[index + 1][1] if index + 1 < len(bounds) else len(ordered)
        body = ordered[first:last]
        values: dict[str, Any] = {}
        for pair in pairs(body, lambda t: _norm(t) in labels, wrap=lambda v: v.endswith(("/", ","))):
            key = labels[_norm(pair.label)]
            value = _value(key, pair.value) if pair.value else None
            if value is not None and key not in values:
                values[key] = value
        if not values:
            inspection.warnings.append(f"scan {name!r}: no parameter could be read; skipped")
            continue
        inspection.acquisitions.append(acquisition(name, values, None, where))
    if not inspection.acquisitions:
        raise ReadError(f"{source}: a Philips printout without any readable scan")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection
