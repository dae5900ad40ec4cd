"""Philips ExamCard printouts ("Philips MRI Protocol Dump", printed to PDF, or its text), scan by scan.

Each scan's pages start with the ExamCard's breadcrumb ("InBox (1) | card (7) 25:06.7 | T1w 04:22.0") and show its
parameters in three columns (INFO PAGE, GEOMETRY, CONTRAST, MOTION, DIFFUSION, ...), indented under their parent
("Stacks" > "slices", "SENSE" > "P reduction (AP)"). The rows name the ExamCard's own parameters in words, so each
is mapped back to its parameter (protocol_spec/vendors/printouts/philips-printout.yaml) and the scan is read like
the ExamCard itself (`philips_examcard.acquisition`). What the printout states in words only ("TE shortest") stays
absent, as it does in the ExamCard.
"""

from __future__ import annotations

import contextlib
import re
from functools import cache
from typing import Any, Protocol

from ..acquisition import Inspection, ReadError, scanner_from
from ..resources import spec_dir
from ..yamlload import load_yaml
from .philips_examcard import acquisition
from .printout_layout import Cell, pairs, reading_order, same_line, split_glued

MARKER = "Philips MRI Protocol Dump"
_SCAN = re.compile(r"^(.+?) (?:\d+:)?\d\d:\d\d\.\d$")  # "T1w 04:22.0": a scan and its duration
# The ExamCard's own breadcrumb cell: its name, its scan count, and (when the console computed it) its duration,
# "spine_generic_philips_R53_2020_09_29 (7) 25:06.7 |". The scan after it is the line's last cell.
_CARD = re.compile(r"^(.+) \(\d+\)(?: (?:\d+:)?\d\d:\d\d\.\d)? \|$")


@cache
def _printout() -> dict:
    return load_yaml(spec_dir() / "vendors" / "printouts" / "philips-printout.yaml")


def norm(text: str) -> str:
    """A printed label as the label map keys it: blanks collapsed, case folded."""
    return " ".join(text.split()).casefold()


def is_philips(cells: list[Cell]) -> bool:
    return any(c.text.startswith(MARKER) for c in cells) or {"INFO PAGE", "GEOMETRY", "CONTRAST"} <= {
        c.text for c in cells
    }


def _scan_starts(cells: list[Cell]) -> list[tuple[Cell, str, str | None]]:
    """The breadcrumb cells naming a scan: "name mm:ss.s" right after a cell ending in "|"; or, where no duration
    was computed (a printout of a card no console has timed), the line's last cell right after the ExamCard's
    own "name (N) |" cell. Each with the ExamCard's name, where the breadcrumb prints it."""
    starts = []
    ordered = reading_order(cells)
    for index, (before, cell) in enumerate(zip(ordered, ordered[1:], strict=False)):
        if not (before.text.endswith("|") and same_line(before, cell)):
            continue
        match = _SCAN.match(cell.text)
        card = _CARD.match(before.text)
        if match:
            starts.append((cell, match.group(1), card.group(1) if card else None))
            continue
        after = ordered[index + 2] if index + 2 < len(ordered) else None
        last = after is None or not same_line(cell, after)
        if last and card and not cell.text.endswith("|"):
            starts.append((cell, cell.text.strip(), card.group(1)))
    return starts


def value(key: str, printed: str) -> Any:
    """The ExamCard parameter `key`'s value as the printout prints it; None where it prints a word for a number."""
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


_AXIS = re.compile(r"^(?:(.+?) )?(RL|AP|FH) \(mm\)$")  # "FOV RL (mm)", "AP (mm)", "stack AP (mm)"
_NORMAL = {"TRANSVERSAL": "FH", "SAGITTAL": "RL", "CORONAL": "AP"}  # the axis a stack's slices are stacked along


def _is_label(text: str, labels: dict[str, str]) -> bool:
    """A row's label: one the map knows, the last part of an indented one ("factor"), a wrapped "(ms)", an axis."""
    name = norm(text)
    return name in labels or name in _tails(labels) or name == "(ms)" or bool(_AXIS.match(text))


@cache
def _tails_of(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.rsplit(" > ", 1)[1] for name in names if " > " in name)


def _tails(labels: dict[str, str]) -> frozenset[str]:
    return _tails_of(tuple(labels))


def _above(page: list[Cell], cell: Cell) -> Cell | None:
    """The cell right above, at the same left edge: the first line of a label wrapped onto two ("delay" / "(ms)")."""
    near = [c for c in page if 0 < cell.top - c.top <= 1.8 * cell.height and abs(c.x0 - cell.x0) <= 2.0]
    return max(near, key=lambda c: c.top, default=None)


def _qualified(pair, body: list[Cell], labels: dict[str, str]) -> str:
    """The row's name as the label map knows it: "parent > label" for an indented row, else the label."""
    label, parent = pair.label, pair.parent
    if norm(label) == "(ms)":
        first = _above([c for c in body if c.page == pair.cell.page], pair.cell)
        if first is None:
            return norm(label)
        label = f"{first.text} (ms)"
        parent = None
        for other in pairs([c for c in body if c.page == first.page], lambda t: t == first.text):
            if other.cell is first:
                parent = other.parent
    if parent and norm(f"{parent} > {label}") in labels:
        return norm(f"{parent} > {label}")
    return norm(label)


class LabelledRow(Protocol):
    """A printed row: its label and the label it is indented under (a PDF's pair, a text line)."""

    label: str
    parent: str | None


def axis_row(pair: LabelledRow) -> tuple[str, str] | None:
    """(group, axis) of a row printed per patient axis, e.g. ("fov", "AP") for "AP (mm)" under "FOV FH (mm)"."""
    groups = {norm(k): v for k, v in _printout()["axes"].items()}
    match = _AXIS.match(pair.label)
    if not match:
        return None
    head = match.group(1)
    if head is None and pair.parent:  # an indented row: its group is its parent's
        parent = _AXIS.match(pair.parent)
        head = parent.group(1) if parent else None
    group = groups.get(norm(head or ""))
    return (group, match.group(2)) if group else None


def _from_axes(values: dict[str, Any], axes: dict[tuple[str, str], float]) -> None:
    """The ExamCard's FOV [read, phase] and a 3D slice thickness from the rows printed per patient axis."""
    normal = _NORMAL.get(str(values.get("EX_GEO_stacks_orientations")))
    phase = str(values.get("EX_GEO_stacks_prep_dirs", ""))  # the fold-over (preparation) direction
    if normal is not None and "EX_GEO_stacks_prep_dirs" not in values:
        # No fold-over direction printed: the FOV is [read, phase] still where both in-plane axes print the same
        # size (whichever of them is phase); a non-square FOV without it tells neither half.
        in_plane = [axis for axis in ("RL", "AP", "FH") if axis != normal]
        sizes = {axes.get(("fov", axis)) for axis in in_plane}
        if len(sizes) == 1 and None not in sizes:
            [size] = sizes
            values.setdefault("EX_GEO_fov", size)
            values.setdefault("EX_GEO_fov_p", size)
    if normal is not None and values.get("EX_ACQ_scan_mode") == "3D" and ("acquired_voxel", normal) in axes:
        values.setdefault("EX_GEO_slice_thickness", axes[("acquired_voxel", normal)])
    if "EX_GEO_stacks_prep_dirs" not in values:
        return
    if normal is None or phase not in ("RL", "AP", "FH") or phase == normal:
        return
    [read] = [axis for axis in ("RL", "AP", "FH") if axis not in (normal, phase)]
    if ("fov", read) in axes and ("fov", phase) in axes:
        values.setdefault("EX_GEO_fov", axes[("fov", read)])
        values.setdefault("EX_GEO_fov_p", axes[("fov", phase)])


def finish(values: dict[str, Any], axes: dict[tuple[str, str], float]) -> None:
    """What a scan's rows say together: the FOV from the per-axis rows, an "Act. TE" row joined to its TR."""
    _from_axes(values, axes)
    actual_te = values.pop("IF_act_echo_time", None)
    if actual_te and re.fullmatch(r"[\d.]+", str(values.get("IF_act_rep_time_echo_time", ""))):
        values["IF_act_rep_time_echo_time"] = f"{values['IF_act_rep_time_echo_time']} / {actual_te}"
    elif actual_te and "IF_act_rep_time_echo_time" not in values and re.fullmatch(r"\d+(?:\.\d+)?", actual_te):
        values.setdefault("EX_ACQ_first_echo_time", float(actual_te))  # "Act. TE (ms)" without a TR row


def labels() -> dict[str, str]:
    """The printed labels (normalised, "parent > label" for an indented row) and the ExamCard parameter of each."""
    return {norm(k): v for k, v in _printout()["labels"].items()}


def read_cells(cells: list[Cell], source: str, fmt: str, where: str) -> Inspection:
    inspection = Inspection(source=source, format=fmt)
    by_label = labels()
    axis_rows = [
        f"{head}{axis} (mm)" for head in ("", *(f"{g} " for g in _printout()["axes"])) for axis in _NORMAL.values()
    ]
    cells = split_glued(cells, [k for k in _printout()["labels"] if " " in k] + axis_rows)
    starts = _scan_starts(cells)
    if not starts:
        raise ReadError(f"{source}: a Philips printout without any scan (no 'card | scan mm:ss.s' line)")
    # A scan runs from its breadcrumb to the next scan's (its pages repeat the same breadcrumb).
    order = {id(c): i for i, c in enumerate(sorted(cells, key=lambda c: (c.page, c.top, c.x0)))}
    bounds: list[tuple[str, int]] = []
    cards: dict[str, str] = {}
    for cell, name, card in starts:
        if not bounds or bounds[-1][0] != name:
            bounds.append((name, order[id(cell)]))
        if card:
            cards.setdefault(name, card)
    ordered = sorted(cells, key=lambda c: order[id(c)])
    for index, (name, first) in enumerate(bounds):
        last = bounds[index + 1][1] if index + 1 < len(bounds) else len(ordered)
        body = ordered[first:last]
        values: dict[str, Any] = {}
        axes: dict[tuple[str, str], float] = {}
        for pair in pairs(body, lambda t: _is_label(t, by_label), wrap=lambda v: v.endswith(("/", ","))):
            axis = axis_row(pair)
            if axis is not None:
                if pair.value and (axis[0], axis[1]) not in axes:
                    with contextlib.suppress(ValueError):  # "shortest" and the like: no size
                        axes[axis] = float(pair.value)
                continue
            key = by_label.get(_qualified(pair, body, by_label))
            found = value(key, pair.value) if key and pair.value else None
            if found is not None and key not in values:
                values[key] = found
        finish(values, axes)
        if not values:
            inspection.warnings.append(f"scan {name!r}: no parameter could be read; skipped")
            continue
        acq = acquisition(name, values, None, where)
        if name in cards:  # the ExamCard the scan is filed in, as the ExamCard reader states it (its <name>)
            acq.context["program"] = cards[name]
        inspection.acquisitions.append(acq)
    if not inspection.acquisitions:
        raise ReadError(f"{source}: a Philips printout without any readable scan")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection
