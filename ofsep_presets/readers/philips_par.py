"""Philips PAR files (the .PAR of a PAR/REC pair): the console's research image export, one scan per file.

A PAR file is text (versions 3 to 4.2): a GENERAL INFORMATION block of `.    Label [unit]  :   value` lines,
an IMAGE INFORMATION DEFINITION block naming the columns of the image table (`#  echo_time  (float)`,
`#  diffusion (ap, fh, rl)  (3*float)`), then one line per image. The columns are read by their definitions,
not by position, so a version that adds or drops columns is read the same way (nibabel's parrec.py documents
the versions' columns; dcm2niix reads the same files). The REC beside it holds pixels only and is not read.

What the file states, each value with its line or column as provenance: the protocol name, TR ("Repetition
time [ms]"), the slices ("Max. number of slices/locations"), 2D/3D ("Scan mode": "3D" or multislice "MS"),
the scan's duration, the EPI factor, SPIR, the FoV ("FOV (ap,fh,rl)", as read × phase by the slice orientation
and "Preparation direction") and the acquired matrix ("Scan resolution (x, y)"; see _geometry); per image: the
pixel spacing (the reconstructed voxel), echo times, flip angle, slice thickness and gap, slice orientation
(1 transverse, 2 sagittal, 3 coronal: nibabel's slice_orientation_codes), b-values and the diffusion
directions, averages, turbo factor, inversion delay. A value that does not parse is absent and said.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import limits
from ..acquisition import Acquisition, Inspection, ReadError, scanner_from
from ..families import set_family

FORMAT = "philips-par"
MARK = b"DATA DESCRIPTION FILE"
_GENERAL = re.compile(r"^\.\s+(?P<label>[^:]*?)\s*:\s*(?P<value>.*?)\s*$")
_DEFINITION = re.compile(r"^#\s+(?P<name>\S.*?)\s+\((?:(?P<count>\d+)\*)?(?P<type>integer|float|string)\)\s*$")
ORIENTATIONS = {1: "axial", 2: "sagittal", 3: "coronal"}
# The PAR's patient axes, in the order its (ap,fh,rl) triples list them, and the one each slice orientation's
# normal lies along: a transverse slice's in-plane axes are AP and RL, a sagittal's AP and FH, a coronal's FH and RL.
AXES = ("ap", "fh", "rl")
NORMAL_AXIS = {1: "fh", 2: "rl", 3: "ap"}
# "Preparation direction" is Philips' phase-encoding (P, fold-over) direction; the measurement (M, read) direction
# is the other in-plane axis (a Philips DICOM states the same stack's preparation direction (2005,107B) "RL" where
# its InPlanePhaseEncodingDirection is ROW on axial images).
PREPARATION = {
    "anterior-posterior": "ap",
    "posterior-anterior": "ap",
    "right-left": "rl",
    "left-right": "rl",
    "feet-head": "fh",
    "head-feet": "fh",
}
WHERE = "PAR"


def sniff(path: Path, head: bytes) -> bool:
    return MARK in head[:2048] and b"Repetition time" in head


def read(path: Path) -> Inspection:
    text = limits.read_file(path).decode("latin-1")
    general, columns, rows = _parse(text)
    if not general:
        raise ReadError(f"{path}: a PAR file without its GENERAL INFORMATION block")
    inspection = Inspection(source=str(path), format=FORMAT)
    name = " ".join(general.get("Protocol name", ("", ""))[0].split()) or path.stem
    acq = Acquisition(name)
    src = path.name
    acq.set("manufacturer", "philips", f"{src}: a Philips PAR file (the console's research image export)")
    acq.set("series_description", name, f'{src} Protocol name "{name}"')
    _general(acq, general, src)
    _images(acq, columns, rows, src)
    with acq.reading("FOV and Scan resolution"):
        _geometry(acq, general, _table(columns, rows, src), src)
    with acq.reading("Technique"):
        technique = general.get("Technique", ("", ""))[0]
        set_family(acq, src, sequence_name=technique, description=name)
        if (
            "sequence_family" not in acq.params
            and technique.upper().startswith("T1")
            and technique.upper().endswith(("FFE", "TFE"))
        ):
            # T1-FFE / T1-TFE: Philips' spoiled, T1-weighted field echo, its name for what Siemens calls FLASH
            # and GE SPGR (Siemens' "MRI Acronyms" vendor table): the spoiled gradient echo of its 2D/3D, whatever
            # the TE (not the T2*-weighted echo a long TE makes of an unnamed one).
            family = "spgr" if acq.get("acquisition_type") == "3D" else "gre"
            if acq.get("acquisition_type") in ("2D", "3D"):
                acq.set("sequence_family", family, f"{src} Technique {technique!r}: a T1-weighted (spoiled) field echo")
        if "sequence_family" not in acq.params and technique.upper().endswith(("FFE", "TFE")):
            # Philips' field echoes (T1FFE, FFE, T2FFE...) are gradient echoes: the readout decides with the
            # stated 2D/3D and TE, as a DICOM ScanningSequence GR does.
            set_family(acq, f"{src} Technique {technique!r} (a field echo)", scanning_sequence="GR")
    inspection.acquisitions.append(acq)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, int, str]], list[list[str]]]:
    """{label without its unit: (value, the line as written)}, the image columns (name, count, type), the rows."""
    general: dict[str, tuple[str, str]] = {}
    columns: list[tuple[str, int, str]] = []
    rows: list[list[str]] = []
    section = ""
    cap = limits.get("loop_count")
    for line in text.splitlines():
        if line.startswith("# ==="):
            section = line
            continue
        if line.startswith("."):
            match = _GENERAL.match(line)
            if match:
                label = re.sub(r"\s*(\[.*?\]|\(.*?\)|<.*?>.*|\?)\s*", " ", match["label"]).strip()
                general.setdefault(" ".join(label.split()), (match["value"], line.strip()))
        elif line.startswith("#") and "DEFINITION" in section:
            match = _DEFINITION.match(line)
            if match:
                columns.append((" ".join(match["name"].split()), int(match["count"] or 1), match["type"]))
        elif line.strip() and not line.startswith("#") and "IMAGE INFORMATION" in section and len(rows) < cap:
            rows.append(line.split())
    return general, columns, rows


def _number(text: str) -> float | None:
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def _general(acq: Acquisition, general: dict[str, tuple[str, str]], src: str) -> None:
    def value(label: str) -> tuple[float | None, str]:
        raw, line = general.get(label, ("", ""))
        return _number(raw), f"{src} {line}"

    with acq.reading("Repetition time"):
        tr, where = value("Repetition time")
        acq.set("repetition_time_ms", tr, where)
    with acq.reading("Max. number of slices/locations"):
        slices, where = value("Max. number of slices/locations")
        acq.set("slices", int(slices) if slices and slices.is_integer() else None, where)
    with acq.reading("Scan Duration"):
        duration, where = value("Scan Duration")
        acq.set("duration_s", duration if duration else None, where)
    with acq.reading("Scan mode"):
        raw, line = general.get("Scan mode", ("", ""))
        mode = raw.strip().upper()
        kind = "3D" if mode == "3D" else "2D" if mode in ("MS", "M2D", "2D") else None
        acq.set("acquisition_type", kind, f"{src} {line}")
    with acq.reading("EPI factor"):
        epi, where = value("EPI factor")
        acq.set("echo_train_length", int(epi) if epi and epi > 1 and epi.is_integer() else None, where)
    with acq.reading("SPIR"):
        spir, where = value("SPIR")
        if spir == 1:
            acq.set("fat_suppression", "spir", where)
    with acq.reading("MTC"):
        mtc, where = value("MTC")  # ".    MTC   <0=no 1=yes> ?   :   0" (V4.x general information)
        if mtc in (0, 1):
            acq.set("magnetization_transfer", bool(mtc), where)


def _table(columns: list[tuple[str, int, str]], rows: list[list[str]], src: str):
    """A lookup of the image table by column name: `column(prefix)` gives ([values of each row], provenance) for
    the first column whose definition starts with `prefix`, or None (absent, or a value that is not a number)."""
    width = sum(count for _, count, _ in columns)
    offsets, at = {}, 0
    for name, count, _ in columns:
        offsets[name] = (at, count)
        at += count
    rows = [row for row in rows if len(row) == width]

    def column(prefix: str) -> tuple[list[list[float]], str] | None:
        if not rows:
            return None
        for name, (start, count) in offsets.items():
            if name.lower().startswith(prefix.lower()):
                values = []
                for row in rows:
                    try:
                        values.append([float(v) for v in row[start : start + count]])
                    except ValueError:
                        return None
                return values, f"{src} image column '{name}'"
        return None

    return column


def _images(acq: Acquisition, columns: list[tuple[str, int, str]], rows: list[list[str]], src: str) -> None:
    """The per-image values, each from the column its definition names (`rows` split on whitespace)."""
    column = _table(columns, rows, src)  # a table without rows of its width: every column absent

    def first(prefix: str) -> tuple[float, str] | None:
        found = column(prefix)
        return (found[0][0][0], found[1]) if found else None

    with acq.reading("echo_time"):
        found = column("echo_time")
        if found:
            times = sorted({round(v[0], 4) for v in found[0] if v[0] > 0})
            if times:
                acq.set("echo_time_ms", times[0], found[1])
                if len(times) > 1:
                    acq.set("echo_times_ms", times, found[1])
    for prefix, param in (
        ("image_flip_angle", "flip_angle_deg"),
        ("slice thickness", "slice_thickness_mm"),
        ("slice gap", "slice_gap_mm"),
        ("number of averages", "averages"),
    ):
        with acq.reading(prefix):
            got = first(prefix)
            if got and (got[0] > 0 or param == "slice_gap_mm"):  # an average or angle of 0: not stated
                acq.set(param, got[0], got[1])
    with acq.reading("TURBO factor"):
        got = first("TURBO factor")
        if got and got[0] > 1 and "echo_train_length" not in acq.params:
            acq.set("echo_train_length", int(got[0]), got[1])
    with acq.reading("Inversion delay"):
        got = first("Inversion delay")
        if got and got[0] > 0:
            acq.set("inversion_time_ms", got[0], got[1])
    with acq.reading("slice orientation"):
        found = column("slice orientation")
        if found:
            codes = {int(v[0]) for v in found[0]}
            if len(codes) == 1 and next(iter(codes)) in ORIENTATIONS:
                acq.set("orientation", ORIENTATIONS[codes.pop()], found[1] + " (1 TRA, 2 SAG, 3 COR)")
    with acq.reading("diffusion_b_factor"):
        found = column("diffusion_b_factor")
        if found:
            b_values = sorted({round(v[0], 3) for v in found[0]})
            if any(b_values):
                acq.set("b_values", b_values, found[1])
                vectors = column("diffusion (ap, fh, rl)")
                if vectors:
                    top = max(b_values)
                    directions = {
                        tuple(round(c, 3) for c in vector)
                        for vector, b in zip(vectors[0], found[0], strict=True)
                        if round(b[0], 3) == top and any(vector)
                    }
                    if directions:
                        acq.set("diffusion_directions", len(directions), vectors[1] + f" at b={top:g}")


def _numbers(general: dict[str, tuple[str, str]], label: str) -> tuple[list[float] | None, str]:
    raw, line = general.get(label, ("", ""))
    try:
        return [float(v) for v in raw.split()], line
    except ValueError:
        return None, line


def _geometry(acq: Acquisition, general: dict[str, tuple[str, str]], column, src: str) -> None:
    """FoV [read, phase], the acquired matrix and the reconstructed voxel, where the file states them.

    "FOV (ap,fh,rl) [mm]" lists the stack's extent along the patient axes; the slice orientation column tells
    which of them is through the slab (a transverse stack's FH: its slices' thickness and gaps) and "Preparation
    direction" which in-plane axis is phase, the other being read. "Scan resolution (x, y)" is the console's read
    and phase resolution, y on the read FoV's scale (y = x × the scan percentage column, on rectangular FoVs too:
    DTI.PAR 76 x 62 at 81 %, T1_dual_echo.PAR 256 x 256 at 100 % on FoV FH 256 / AP 224, reconstructed at 1 mm):
    the phase lines over the phase FoV are y × FoV phase / FoV read, as Philips' own "ACQ matrix M x P" counts
    them (the R5.3 ExamCard printout: FoV RL 56 / AP 42, 64 x 47 at 97.9 %). Values that contradict one another
    (a preparation direction through the slab, a y that is not x × the scan percentage) leave the matrix (and the
    FoV, where the plane is in doubt) absent, said; zeros (an anonymised file) are not stated."""
    pixel = column("pixel spacing")
    thickness = acq.get("slice_thickness_mm")
    if pixel and thickness:
        spacings = {tuple(v) for v in pixel[0]}
        if len(spacings) == 1 and min(next(iter(spacings))) > 0:
            x, y = next(iter(spacings))
            acq.set("reconstructed_voxel_mm", [x, y, thickness], f"{pixel[1]} + slice thickness {thickness:g}")
    fov, fov_line = _numbers(general, "FOV")
    scan, scan_line = _numbers(general, "Scan resolution")
    prep_raw, prep_line = general.get("Preparation direction", ("", ""))
    orientation = column("slice orientation")
    codes = {int(v[0]) for v in orientation[0]} if orientation else set()
    if not fov or len(fov) != 3 or min(fov) <= 0 or not scan or len(scan) != 2 or min(scan) <= 0:
        return  # not stated (an anonymised file states zeros)
    if len(codes) != 1 or next(iter(codes)) not in NORMAL_AXIS:
        acq.warn("FoV and matrix: the images lie in several slice orientations (or none stated)")
        return
    code = next(iter(codes))
    phase_axis = PREPARATION.get(" ".join(prep_raw.lower().split()))
    normal = NORMAL_AXIS[code]
    if phase_axis is None or phase_axis == normal:
        acq.warn(
            f"FoV and matrix: preparation direction {prep_raw.strip()!r} is not in the plane of "
            f"{ORIENTATIONS[code]} slices (slice orientation {code})"
        )
        return
    read_axis = next(axis for axis in AXES if axis not in (normal, phase_axis))
    extent = dict(zip(AXES, fov, strict=True))
    fov_read, fov_phase = extent[read_axis], extent[phase_axis]
    x, y = scan
    if not (x.is_integer() and y.is_integer()):
        return
    shown = " ".join(f"{fov_line} ({prep_line})".split())
    where_fov = f"{src} {shown}: read {read_axis.upper()}, phase {phase_axis.upper()}"
    acq.set("fov_mm", [fov_read, fov_phase], where_fov)
    percent = column("scan percentage")
    stated = {v[0] for v in percent[0]} if percent else set()
    if not stated:
        stated = set(_numbers(general, "Scan percentage")[0] or [])  # V3: in the general information
    pct = next(iter(stated)) if len(stated) == 1 else None
    if pct is not None and abs(x * pct / 100 - y) > max(1.0, 0.05 * x * pct / 100):
        # y is the read resolution × the scan percentage, give or take the console's rounding of the phase lines
        # (an EPI's 80 x 78 at 100 %); a y far from it is some other count (an ASL's 76 x 120 at 98 %)
        acq.warn(f"matrix: Scan resolution y={y:g} is not x={x:g} × the scan percentage {pct:g} %")
        return
    if fov_read == fov_phase:
        lines, how = int(y), f"{src} {' '.join(scan_line.split())}"
    elif pct is None:
        acq.warn("matrix: no scan percentage to tell the scale of Scan resolution y on a rectangular FoV")
        return
    else:
        lines = round(y * fov_phase / fov_read)
        how = (
            f"{src} {' '.join(scan_line.split())}: phase lines y {y:g} × FoV phase {fov_phase:g} / FoV read "
            f"{fov_read:g} (y = x × scan percentage {pct:g} %: on the read FoV's scale)"
        )
    acq.set("matrix", [int(x), lines], how)
