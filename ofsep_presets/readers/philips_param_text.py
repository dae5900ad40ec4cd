"""Philips scan parameters as text: one "Label =  value;" line per parameter, a line indented under another its
sub-parameter ("SENSE = "yes";" / "    P reduction (AP) = 2;"), a unit line under a word its value ("TE =
"user defined";" / "    (ms) = 79;"). shared/notes/vendor-formats.md ("Text/PDF printouts: `Label = value;`
lines, indentation marks a sub-parameter") and format-excerpts/07_philips_examcard_printout_txt.txt.

The labels are the printout's (the same words as the PDF's rows), so each line maps to its ExamCard parameter
through protocol_spec/vendors/printouts/philips-printout.yaml and the scan is read like the ExamCard
(`philips_examcard.acquisition`). A top-level label seen again starts the next scan; the file names the first
(no line names a scan).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

from ..acquisition import Inspection, ReadError, scanner_from
from . import philips_printout
from .philips_examcard import acquisition

FORMAT = "philips-printout"
# The value is greedy up to the line's end (the line is stripped at its end first): a lazy value before a run of
# blanks at the end would retry that run at every character (quadratic on a long line of spaces).
_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<label>[^=;\n]*?\S)[ \t]*=(?:[ \t]+(?P<value>.*))?$")
# Labels of the scan's first lines in every such file seen (3 T and 7 T, R5.x): enough of them is this format.
_MARKS = re.compile(
    rb"(?m)^[ \t]*(?:Coil selection|Uniformity|Fold-over suppression|Reconstruction matrix|Slice thickness \(mm\)|"
    rb"Stacks|Scan mode|SENSE|Recon voxel size \(mm\))[ \t]*=[ \t]+[^\n]*;[ \t]*\r?$"
)
_UNIT = re.compile(r"^\([^()]*\)$")  # "(ms)", "(pixels)": the unit line of the parameter above


@dataclass
class _Row:
    label: str
    parts: list[str]  # the value, then each line continuing it: joined once (appending to a str is quadratic)
    parent: str | None
    indent: int

    @property
    def value(self) -> str:
        return " ".join(self.parts)


def sniff(head: bytes) -> bool:
    return len(_MARKS.findall(head)) >= 3


def _rows(text: str) -> list[list[_Row]]:
    """The lines as rows, per scan: each with its parent (the nearest line above indented less)."""
    scans: list[list[_Row]] = [[]]
    stack: list[_Row] = []
    top_seen: set[str] = set()
    for raw in text.splitlines():
        line = raw.expandtabs(8).rstrip()
        match = _LINE.match(line) if "=" in line else None  # a continuation line: no need to try the pattern
        if match is None:
            if scans[-1] and line.strip():  # a value continued on the next line ("(16) "yes"," / "(16) "no";")
                scans[-1][-1].parts.append(line.strip())
            continue
        indent = len(match.group("indent"))
        label = " ".join(match.group("label").split())
        while stack and stack[-1].indent >= indent:
            stack.pop()
        if not stack:
            if label in top_seen and scans[-1]:
                scans.append([])
                top_seen = set()
            top_seen.add(label)
        row = _Row(label, [match.group("value") or ""], stack[-1].label if stack else None, indent)
        scans[-1].append(row)
        stack.append(row)
    return [scan for scan in scans if scan]


def _clean(value: str) -> str:
    value = value.strip().rstrip(";").strip()
    return " ".join(value.replace('"', " ").split()).rstrip(",").strip()


def _values(rows: list[_Row]) -> dict[str, Any]:
    labels = philips_printout.labels()
    norm = philips_printout.norm
    values: dict[str, Any] = {}
    axes: dict[tuple[str, str], float] = {}
    for row in rows:
        printed = _clean(row.value)
        if not printed:
            continue
        axis = philips_printout.axis_row(row)
        if axis is not None:
            with contextlib.suppress(ValueError):  # "shortest" and the like: no size
                axes.setdefault(axis, float(printed))
            continue
        names = []
        if row.parent:
            names.append(norm(f"{row.parent} > {row.label}"))
            if _UNIT.match(row.label):
                names += [norm(f"{row.parent} {row.label}"), norm(row.parent)]
        names.append(norm(row.label))
        key = next((labels[n] for n in names if n in labels), None)
        if key is None:
            continue
        found = philips_printout.value(key, printed)
        if found is not None and (key not in values or _UNIT.match(row.label)):
            values[key] = found  # a unit line's number replaces the word above it ("user defined")
    philips_printout.finish(values, axes)
    return values


def read_text(text: str, source: str, name: str, warnings: list[str]) -> Inspection:
    inspection = Inspection(source=source, format=FORMAT)
    stem = name.rsplit(".", 1)[0] or name
    for index, rows in enumerate(_rows(text)):
        values = _values(rows)
        scan = stem if index == 0 else f"{stem} ({index + 1})"
        if not values:
            inspection.warnings.append(f"scan {scan!r}: no parameter could be read; skipped")
            continue
        inspection.acquisitions.append(acquisition(scan, values, None, name))
    if not inspection.acquisitions:
        raise ReadError(f"{source}: Philips parameter text without any readable scan")
    inspection.scanner = scanner_from(inspection.acquisitions)
    inspection.warnings[:0] = warnings
    return inspection
