"""Philips PAR files (the .PAR of a PAR/REC pair): the console's research image export, one scan per file.

A PAR file is text (versions 3 to 4.2): a GENERAL INFORMATION block of `.    Label [unit]  :   value` lines,
an IMAGE INFORMATION DEFINITION block naming the columns of the image table (`#  echo_time  (float)`,
`#  diffusion (ap, fh, rl)  (3*float)`), then one line per image. The columns are read by their definitions,
not by position, so a version that adds or drops columns is read the same way (nibabel's parrec.py documents
the versions' columns; dcm2niix reads the same files). The REC beside it holds pixels only and is not read.

What the file states, each value with its line or column as provenance: the protocol name, TR ("Repetition
time [ms]"), the slices ("Max. number of slices/locations"), 2D/3D ("Scan mode": "3D" or multislice "MS"),
the scan's duration, the EPI factor, SPIR; per image: echo times, flip angle, slice thickness and gap, slice
orientation (1 transverse, 2 sagittal, 3 coronal: nibabel's slice_orientation_codes), b-values and the
diffusion directions, averages, turbo factor, inversion delay. A value that does not parse is absent and said.
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
    with acq.reading("Technique"):
        technique = general.get("Technique", ("", ""))[0]
        set_family(acq, src, sequence_name=technique, description=name)
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


def _images(acq: Acquisition, columns: list[tuple[str, int, str]], rows: list[list[str]], src: str) -> None:
    """The per-image values, each from the column its definition names (`rows` split on whitespace)."""
    width = sum(count for _, count, _ in columns)
    offsets, at = {}, 0
    for name, count, _ in columns:
        offsets[name] = (at, count)
        at += count
    rows = [row for row in rows if len(row) == width]
    if not columns or not rows:
        return

    def column(prefix: str) -> tuple[list[list[float]], str] | None:
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
