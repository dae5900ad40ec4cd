"""The Philips parameter sheet as the console prints an ExamCard ("Philips MRI Protocol Dump"): rows per scan.

A Philips console prints each scan's parameters as label / value rows under the ExamCard's pages (INFO PAGE,
GEOMETRY, CONTRAST, MOTION), sub-parameters indented under their parent ("Halfscan yes" > "factor 0.75",
"TFE prepulse invert" > "delay" / "(ms) 1000"), FOV per patient axis ("FOV RL (mm)" / "AP (mm)") along the
stack's orientation and fold-over direction. This module turns one card (`sheets.SequenceView`) into those rows,
with the printout's own labels (the R5.3 printout in ../shared/fixtures/vendor-exports/philips), so that the
printout reader reads the sheet as it reads a console's print. Values are the card's own display texts (units
already converted by `units` through the card's fields); only the layout is decided here.

What the printout can only state with something the card does not say (the SENSE factor is printed along the
fold-over axis; a non-square FOV needs the fold-over direction to be placed on axes) is not printed as a row: it
goes into the scan's notes, in words, so that nothing is guessed and nothing is lost for the engineer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import units
from .sheets import SequenceView

# The axis a stack's slices are stacked along, by the card's orientation; the other two are in the plane.
NORMAL = {"axial": "FH", "sagittal": "RL", "coronal": "AP"}
AXES = ("RL", "AP", "FH")
FOLD_OVER = {"AP": "AP", "PA": "AP", "RL": "RL", "LR": "RL", "HF": "FH", "FH": "FH"}
# What the console calls the scan's technique and fast-imaging mode, by sequence family (the ExamCard's
# EX_ACQ_imaging_sequence / EX_ACQ_fast_imaging_mode as the R5.3 printout prints them). A family missing here
# (FLAIR, DIR, STIR, Dixon: inversion or Dixon variants of either) is printed without them.
TECHNIQUE = {
    "mprage": "FFE",
    "mp2rage": "FFE",
    "spgr": "FFE",
    "t2star": "FFE",
    "gre": "FFE",
    "swi": "FFE",
    "tse": "SE",
    "space": "SE",
    "epi_dwi": "SE",
}
FAST_MODE = {
    "mprage": "TFE",
    "mp2rage": "TFE",
    "tse": "TSE",
    "space": "TSE",
    "flair": "TSE",
    "dir": "TSE",
    "stir": "TSE",
    "epi_dwi": "EPI",
    "t2star": "none",
    "gre": "none",
    "swi": "none",
    "spgr": "none",
}
FACTOR_LABEL = {"TFE": "TFE factor", "TSE": "TSE factor", "EPI": "EPI factor"}
# Diffusion directional resolution: the R5 ExamCard's choices (protocol_spec/vendors/enums/philips.yaml) and the
# counts of its named schemes (low 6, medium 15, high 32: dcm2niix's Philips notes, rordenlab/dcm2niix).
OPT_DIRECTIONS = (6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128)
NAMED_DIRECTIONS = {15: "medium"}


@dataclass
class PrintedRow:
    label: str
    value: str
    indent: int = 0  # 1: a sub-parameter, printed under its parent
    note: str = ""  # the value's basis and source, printed to its right (no reader of the format reads it)


@dataclass
class PrintedScan:
    name: str
    pages: list[tuple[str, list[PrintedRow]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what no printout row can state without a guess, in words
    unprinted: dict[str, str] = field(default_factory=dict)  # parameter -> its note (tests read it back)


def _number(value: Any, decimals: int | None = None) -> str:
    return units.format_number(value, decimals)


def scan(view: SequenceView, family: str | None, after_injection: bool = False) -> PrintedScan:
    """One card as the printout's rows, page by page.

    A printout records no injection (the ExamCard's contrast flag is not printed): a scan after the exam's
    injection step says so in its name (" +Gd", as sites name post-contrast scans), the only place the printout
    has for it, so that a reader of the printout can still tell which scans come after the injection."""
    rows = {}
    for row in view.rows:
        if row.has_value:
            rows.setdefault(row.param, row)

    def note(param: str) -> str:
        row = rows[param]
        return f"[{row.basis}: {row.source}]" if row.basis else ""

    def value(param: str) -> Any:
        return rows[param].canonical_value if param in rows else None

    out = PrintedScan(" ".join(view.step_name.split()) + (" +Gd" if after_injection else ""))

    def unprinted(param: str, text: str, why: str = "") -> None:
        line = f"{text} {note(param)}" + (f": {why}" if why else "")
        out.notes.append(line)
        out.unprinted[param] = line

    info: list[PrintedRow] = []
    geometry: list[PrintedRow] = []
    contrast: list[PrintedRow] = []
    motion: list[PrintedRow] = []
    fast = FAST_MODE.get(family or "")
    epi = fast == "EPI"

    if "matrix" in rows:
        info.append(PrintedRow("ACQ matrix M x P", rows["matrix"].value, note=note("matrix")))
    if "voxel_size_mm" in rows:
        info.append(PrintedRow("ACQ voxel MPS (mm)", rows["voxel_size_mm"].value, note=note("voxel_size_mm")))
    if "repetition_time_ms" in rows and "echo_time_ms" in rows:
        text = f"{rows['repetition_time_ms'].value} / {rows['echo_time_ms'].value}"
        info.append(PrintedRow("Act. TR/TE (ms)", text, note=note("repetition_time_ms")))
    elif "repetition_time_ms" in rows:
        info.append(PrintedRow("Act. TR (ms)", rows["repetition_time_ms"].value, note=note("repetition_time_ms")))
    elif "echo_time_ms" in rows:
        info.append(PrintedRow("Act. TE (ms)", rows["echo_time_ms"].value, note=note("echo_time_ms")))
    if "pixel_bandwidth_hz" in rows:
        bandwidth = _number(value("pixel_bandwidth_hz"), 1)
        if epi:
            info.append(PrintedRow("BW in EPI freq. dir. (Hz)", bandwidth, note=note("pixel_bandwidth_hz")))
        else:
            text = f"{rows['pixel_bandwidth_hz'].value} / {bandwidth}"
            info.append(PrintedRow("Act. WFS (pix) / BW (Hz)", text, note=note("pixel_bandwidth_hz")))
    factor_row = None
    if "echo_train_length" in rows:
        if fast in FACTOR_LABEL:
            factor_row = PrintedRow(FACTOR_LABEL[fast], rows["echo_train_length"].value, note=note("echo_train_length"))
            if epi:
                info.append(factor_row)  # an EPI's factor is on the INFO PAGE (R5.3 DWI "EPI factor 47")
        else:
            unprinted("echo_train_length", f"echo train length {rows['echo_train_length'].value}")

    # GEOMETRY: FOV per patient axis, from the stack's orientation and the fold-over (phase-encoding) axis.
    normal = NORMAL.get(str(value("orientation")))
    phase = FOLD_OVER.get(str(value("phase_encoding_direction")))
    fov = value("fov_mm")
    if fov is not None:
        in_plane = [axis for axis in AXES if axis != normal] if normal else []
        if normal and phase in in_plane:
            [read] = [axis for axis in in_plane if axis != phase]
            placed = [(read, fov[0]), (phase, fov[1])]
        elif normal and fov[0] == fov[1]:
            placed = [(axis, fov[0]) for axis in in_plane]  # square: the same on both axes, whichever is phase
        else:
            placed = []
            unprinted(
                "fov_mm",
                f"FOV {_number(fov[0], 0)} (read) x {_number(fov[1], 0)} (phase) mm",
                "no source states the fold-over direction, so it is not placed on patient axes",
            )
        for index, (axis, size) in enumerate(placed):
            label = f"FOV {axis} (mm)" if index == 0 else f"{axis} (mm)"
            geometry.append(PrintedRow(label, _number(size, 0), indent=min(index, 1), note=note("fov_mm")))
    if "slice_thickness_mm" in rows:
        geometry.append(
            PrintedRow("Slice thickness (mm)", rows["slice_thickness_mm"].value, note=note("slice_thickness_mm"))
        )
    factor = value("parallel_factor")
    if factor is not None:
        if float(factor) == 1.0:
            geometry.append(PrintedRow("SENSE", "no", note=note("parallel_factor")))
        elif phase:
            geometry.append(PrintedRow("SENSE", "yes"))
            geometry.append(
                PrintedRow(
                    f"P reduction ({phase})", rows["parallel_factor"].value, indent=1, note=note("parallel_factor")
                )
            )
        else:
            unprinted(
                "parallel_factor",
                f"SENSE P reduction {rows['parallel_factor'].value}",
                "along the fold-over direction, which no source states",
            )
    for param, what in (("multiband_factor", "MB SENSE factor"), ("parallel_factor_slice", "SENSE S reduction")):
        if param in rows:
            # The R5.3 printout prints "MB SENSE no" and "S reduction (RL) 1" only: the rows of a card with a
            # factor (and the reader's names for them) are not known from a real printout.
            unprinted(param, f"{what} {rows[param].value}", "no printout in the fixtures shows this row set")
    stack = []
    if "slices" in rows:
        stack.append(PrintedRow("slices", rows["slices"].value, indent=1, note=note("slices")))
    three_d = value("acquisition_type") == "3D"
    if "slice_gap_mm" in rows and not three_d:
        stack.append(PrintedRow("gap (mm)", rows["slice_gap_mm"].value, indent=1, note=note("slice_gap_mm")))
    elif "slice_gap_mm" in rows and float(value("slice_gap_mm")) != 0.0:
        # A 3D stack's partitions are contiguous (the console prints no gap for it): a source's negative "gap"
        # is the reconstruction's overlap, a setting of its own.
        unprinted(
            "slice_gap_mm",
            f"slice gap {rows['slice_gap_mm'].value} mm",
            "a 3D stack has no gap; this is the source's reconstruction overlap",
        )
    if "orientation" in rows:
        stack.append(PrintedRow("slice orientation", rows["orientation"].value, indent=1, note=note("orientation")))
    if phase:
        stack.append(
            PrintedRow(
                "fold-over direction",
                rows["phase_encoding_direction"].value,
                indent=1,
                note=note("phase_encoding_direction"),
            )
        )
    if stack:
        geometry.append(PrintedRow("Stacks", "1"))
        geometry.extend(stack)

    # CONTRAST
    if "acquisition_type" in rows:
        contrast.append(PrintedRow("Scan mode", rows["acquisition_type"].value, note=note("acquisition_type")))
        if family in TECHNIQUE:
            contrast.append(PrintedRow("technique", TECHNIQUE[family], indent=1))
    if fast:
        contrast.append(PrintedRow("Fast Imaging mode", fast))
        if factor_row is not None and not epi:
            contrast.append(PrintedRow(factor_row.label, factor_row.value, indent=1, note=factor_row.note))
    if "flip_angle_deg" in rows:
        contrast.append(PrintedRow("Flip angle (deg)", rows["flip_angle_deg"].value, note=note("flip_angle_deg")))
    partial = value("partial_fourier")
    if partial is not None:
        if float(partial) >= 1.0:
            contrast.append(PrintedRow("Halfscan", "no", note=note("partial_fourier")))
        else:
            contrast.append(PrintedRow("Halfscan", "yes"))
            contrast.append(PrintedRow("factor", rows["partial_fourier"].value, indent=1, note=note("partial_fourier")))
    fat = value("fat_suppression")
    if fat == "dixon":
        contrast.append(PrintedRow("mDIXON", "yes", note=note("fat_suppression")))
    elif fat == "stir":  # the R5 ExamCard's fat suppression has no STIR: a STIR is an inversion-recovery TSE
        unprinted("fat_suppression", "STIR", "an inversion-recovery TSE with a short TI, not a fat suppression choice")
    elif fat is not None:
        contrast.append(PrintedRow("Fat suppression", rows["fat_suppression"].value, note=note("fat_suppression")))
    if "inversion_time_ms" in rows:
        if fast == "TFE":
            contrast.append(PrintedRow("TFE prepulse", "invert"))
            contrast.append(PrintedRow("delay", "user defined", indent=1))
            contrast.append(
                PrintedRow("(ms)", rows["inversion_time_ms"].value, indent=1, note=note("inversion_time_ms"))
            )
        else:
            unprinted(
                "inversion_time_ms",
                f"TI (IR delay) {rows['inversion_time_ms'].value} ms",
                "the printout in the fixtures has no inversion-recovery scan to take the row's label from",
            )
    if view.diffusion:
        directions = value("diffusion_directions")
        mode = "DTI" if directions else "DWI"
        contrast.append(PrintedRow("Diffusion mode", mode))
        if directions:
            count = int(directions)
            scheme = f"opt {count}" if count in OPT_DIRECTIONS else NAMED_DIRECTIONS.get(count)
            if scheme:
                contrast.append(
                    PrintedRow("directional resolution", scheme, indent=1, note=note("diffusion_directions"))
                )
            else:
                unprinted(
                    "diffusion_directions",
                    f"{count} diffusion directions",
                    "no directional resolution of the console has that many (user defined)",
                )
        b_values = value("b_values")
        if b_values:
            # Each b-factor with its averages, as the console prints them; no source states the averages per b.
            text = ", ".join(f"({_number(b, 0)}) -" for b in b_values)
            contrast.append(PrintedRow("b-factor averages", text, indent=1, note=note("b_values")))
    if "averages" in rows:
        motion.append(PrintedRow("NSA", rows["averages"].value, note=note("averages")))
    out.pages = [
        (name, page)
        for name, page in (("INFO PAGE", info), ("GEOMETRY", geometry), ("CONTRAST", contrast), ("MOTION", motion))
        if page
    ]
    return out
